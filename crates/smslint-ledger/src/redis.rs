//! The Redis ledger: one server shared by workers on many machines.
//!
//! A small RESP2 client over one TCP connection: the ledger needs AUTH, SELECT, EVAL, SCAN,
//! MGET and DEL, with every wait bounded, and nothing else, so a full client library would be
//! mostly unused weight.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::{Day, Entry, Ledger, LedgerError, Reservation};

/// Count one message while under the cap, atomically (Redis runs a script alone). The counter
/// expires a day after its day ends.
const RESERVE: &str = "\
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return {0, n} end
n = redis.call('INCR', KEYS[1])
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return {1, n}";

/// Every counter's key starts with this, then the campaign, `:`, and the day.
const PREFIX: &str = "smslint:volume:";

/// Where and how to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
    db: u32,
    user: Option<String>,
    password: Option<String>,
}

impl Target {
    fn parse(url: &str) -> Result<Self, LedgerError> {
        let bad = |why: &str| {
            LedgerError::Url(format!(
                "{url:?}: {why} (expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB])"
            ))
        };
        let rest = url
            .strip_prefix("redis://")
            .ok_or_else(|| bad("not redis://"))?;
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((auth, rest)) => (Some(auth), rest),
            None => (None, rest),
        };
        let (user, password) = match auth {
            None => (None, None),
            Some(a) => match a.split_once(':') {
                Some((u, p)) => ((!u.is_empty()).then(|| u.to_owned()), Some(p.to_owned())),
                None => (None, Some(a.to_owned())),
            },
        };
        let (hostport, db) = match rest.split_once('/') {
            Some((hp, "")) => (hp, 0),
            Some((hp, db)) => (
                hp,
                db.parse()
                    .map_err(|_| bad("the database is not a number"))?,
            ),
            None => (rest, 0),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
                (h, p.parse().map_err(|_| bad("the port is not a number"))?)
            }
            _ => (hostport, 6379),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Target {
            host: host.to_owned(),
            port,
            db,
            user,
            password,
        })
    }

    fn address(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.db)
    }
}

/// One reply.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<Reply> {
        let mut buf = Vec::with_capacity(64 + args.iter().map(|a| a.len() + 16).sum::<usize>());
        let _ = write!(buf, "*{}\r\n", args.len());
        for a in args {
            let _ = write!(buf, "${}\r\n", a.len());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&buf)?;
        read_reply(&mut self.reader, 0)
    }
}

fn protocol(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

/// Deep enough for any reply the ledger asks for; a deeper one is a protocol error, not a stack
/// overflow.
const MAX_DEPTH: usize = 8;
/// No bulk string the ledger reads is anywhere near this long.
const MAX_BULK: usize = 1 << 20;

fn read_reply(r: &mut impl BufRead, depth: usize) -> std::io::Result<Reply> {
    if depth > MAX_DEPTH {
        return Err(protocol("reply nested too deeply"));
    }
    let mut line = Vec::new();
    std::io::Read::take(&mut *r, 64 * 1024).read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\r\n") || line.len() < 3 {
        return Err(protocol("truncated reply"));
    }
    let body = std::str::from_utf8(&line[1..line.len() - 2])
        .map_err(|_| protocol("reply is not UTF-8"))?;
    let int = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| protocol("bad integer in reply"))
    };
    match line[0] {
        b'+' => Ok(Reply::Status(body.to_owned())),
        b'-' => Ok(Reply::Error(body.to_owned())),
        b':' => Ok(Reply::Int(int(body)?)),
        b'$' => {
            let n = int(body)?;
            if n < 0 {
                return Ok(Reply::Bulk(None));
            }
            let n = usize::try_from(n).map_err(|_| protocol("bad length"))?;
            if n > MAX_BULK {
                return Err(protocol("bulk reply too long"));
            }
            let mut data = vec![0; n + 2];
            r.read_exact(&mut data)?;
            data.truncate(n);
            Ok(Reply::Bulk(Some(data)))
        }
        b'*' => {
            let n = int(body)?;
            if n < 0 {
                return Ok(Reply::Array(None));
            }
            let n = usize::try_from(n).map_err(|_| protocol("bad length"))?;
            if n > 1 << 20 {
                return Err(protocol("array reply too long"));
            }
            let mut items = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                items.push(read_reply(r, depth + 1)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        _ => Err(protocol("unknown reply type")),
    }
}

/// A ledger on a Redis server.
pub struct RedisLedger {
    target: Target,
    timeout: Duration,
    conn: Option<Connection>,
}

impl RedisLedger {
    /// Parse the URL and connect; `timeout` bounds the connection and every reply.
    pub fn open(url: &str, timeout: Duration) -> Result<Self, LedgerError> {
        let mut ledger = RedisLedger {
            target: Target::parse(url)?,
            timeout,
            conn: None,
        };
        ledger.connection()?;
        Ok(ledger)
    }

    fn error(&self, message: impl Into<String>) -> LedgerError {
        LedgerError::Redis {
            address: self.target.address(),
            message: message.into(),
        }
    }

    /// The open connection, connecting (and authenticating, selecting the database) when
    /// there is none: after an error the connection is dropped, so the next call starts clean.
    fn connection(&mut self) -> Result<&mut Connection, LedgerError> {
        if self.conn.is_none() {
            let conn = self.connect().map_err(|e| self.error(e))?;
            self.conn = Some(conn);
        }
        self.conn.as_mut().ok_or_else(|| LedgerError::Redis {
            address: String::new(),
            message: "no connection".into(),
        })
    }

    fn connect(&self) -> Result<Connection, String> {
        let t = &self.target;
        let addrs = (t.host.as_str(), t.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", t.host))?;
        let mut last = String::from("no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(stream) => {
                    let setup = |s: &TcpStream| {
                        s.set_read_timeout(Some(self.timeout))?;
                        s.set_write_timeout(Some(self.timeout))?;
                        s.set_nodelay(true)
                    };
                    setup(&stream).map_err(|e| e.to_string())?;
                    let mut conn = Connection {
                        reader: BufReader::new(stream),
                    };
                    if let Some(password) = &t.password {
                        let mut args: Vec<&[u8]> = vec![b"AUTH"];
                        if let Some(user) = &t.user {
                            args.push(user.as_bytes());
                        }
                        args.push(password.as_bytes());
                        expect_ok(conn.command(&args), "AUTH")?;
                    }
                    if t.db != 0 {
                        let db = t.db.to_string();
                        expect_ok(conn.command(&[b"SELECT", db.as_bytes()]), "SELECT")?;
                    }
                    return Ok(conn);
                }
                Err(e) => last = format!("cannot connect to {addr}: {e}"),
            }
        }
        Err(last)
    }

    /// Run a command; any failure drops the connection and becomes an error.
    fn run(&mut self, args: &[&[u8]]) -> Result<Reply, LedgerError> {
        let result = self.connection()?.command(args);
        match result {
            Ok(Reply::Error(e)) => Err(self.error(format!("the server refused: {e}"))),
            Ok(reply) => Ok(reply),
            Err(e) => {
                self.conn = None;
                Err(self.error(e.to_string()))
            }
        }
    }

    /// Every key with the prefix and, when given, the campaign.
    fn keys(&mut self, campaign: Option<&str>) -> Result<Vec<String>, LedgerError> {
        let pattern = match campaign {
            Some(c) => format!("{PREFIX}{}:*", glob_escape(c)),
            None => format!("{PREFIX}*"),
        };
        let mut keys = Vec::new();
        let mut cursor = String::from("0");
        loop {
            let reply = self.run(&[
                b"SCAN",
                cursor.as_bytes(),
                b"MATCH",
                pattern.as_bytes(),
                b"COUNT",
                b"1000",
            ])?;
            let Reply::Array(Some(parts)) = reply else {
                return Err(self.error("unexpected SCAN reply"));
            };
            let [Reply::Bulk(Some(next)), Reply::Array(Some(found))] = parts.as_slice() else {
                return Err(self.error("unexpected SCAN reply"));
            };
            for k in found {
                if let Reply::Bulk(Some(k)) = k {
                    keys.push(String::from_utf8_lossy(k).into_owned());
                }
            }
            cursor = String::from_utf8_lossy(next).into_owned();
            if cursor == "0" {
                break;
            }
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}

fn expect_ok(reply: std::io::Result<Reply>, what: &str) -> Result<(), String> {
    match reply {
        Ok(Reply::Status(_)) => Ok(()),
        Ok(Reply::Error(e)) => Err(format!("{what} refused: {e}")),
        Ok(other) => Err(format!("{what}: unexpected reply {other:?}")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// A campaign id as a literal in a SCAN pattern.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Ledger for RedisLedger {
    fn reserve(&mut self, campaign: &str, day: &Day, cap: u64) -> Result<Reservation, LedgerError> {
        let key = format!("{PREFIX}{campaign}:{}", day.name);
        let (cap, expires) = (cap.to_string(), day.expires_at.to_string());
        let reply = self.run(&[
            b"EVAL",
            RESERVE.as_bytes(),
            b"1",
            key.as_bytes(),
            cap.as_bytes(),
            expires.as_bytes(),
        ])?;
        match reply {
            Reply::Array(Some(parts)) => match parts.as_slice() {
                [Reply::Int(1), Reply::Int(n)] => Ok(Reservation::Reserved {
                    count: u64::try_from(*n).unwrap_or(0),
                }),
                [Reply::Int(0), Reply::Int(n)] => Ok(Reservation::Full {
                    count: u64::try_from(*n).unwrap_or(0),
                }),
                _ => Err(self.error("unexpected reply to the reserve script")),
            },
            _ => Err(self.error("unexpected reply to the reserve script")),
        }
    }

    fn entries(&mut self, campaign: Option<&str>) -> Result<Vec<Entry>, LedgerError> {
        let keys = self.keys(campaign)?;
        let mut entries = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(500) {
            let mut args: Vec<&[u8]> = vec![b"MGET"];
            args.extend(chunk.iter().map(String::as_bytes));
            let Reply::Array(Some(values)) = self.run(&args)? else {
                return Err(self.error("unexpected MGET reply"));
            };
            for (key, value) in chunk.iter().zip(values) {
                // A key that expired between SCAN and MGET reads as nil: skip it.
                let Reply::Bulk(Some(v)) = value else {
                    continue;
                };
                let Some((campaign, day)) = key
                    .strip_prefix(PREFIX)
                    .and_then(|rest| rest.rsplit_once(':'))
                else {
                    continue;
                };
                entries.push(Entry {
                    campaign: campaign.to_owned(),
                    day: day.to_owned(),
                    sent: String::from_utf8_lossy(&v).trim().parse().unwrap_or(0),
                });
            }
        }
        Ok(entries)
    }

    fn reset(&mut self, campaign: &str) -> Result<u64, LedgerError> {
        let keys = self.keys(Some(campaign))?;
        let mut removed = 0;
        for chunk in keys.chunks(500) {
            let mut args: Vec<&[u8]> = vec![b"DEL"];
            args.extend(chunk.iter().map(String::as_bytes));
            match self.run(&args)? {
                Reply::Int(n) => removed += u64::try_from(n).unwrap_or(0),
                _ => return Err(self.error("unexpected DEL reply")),
            }
        }
        Ok(removed)
    }

    fn describe(&self) -> String {
        format!("redis://{}", self.target.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("redis://localhost").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.host.as_str(), t.port, t.db), ("localhost", 6379, 0));
        let t = Target::parse("redis://:s3cret@10.0.0.5:6380/2").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.host.as_str(), t.port, t.db, t.user, t.password.as_deref()),
            ("10.0.0.5", 6380, 2, None, Some("s3cret"))
        );
        let t = Target::parse("redis://app:pw@[::1]:7000/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_deref()),
            ("::1", 7000, Some("app"))
        );
        for bad in ["redis://", "redis://h:port", "redis://h:1/x"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies() {
        let mut r: &[u8] = b"*2\r\n:1\r\n:42\r\n$3\r\nabc\r\n$-1\r\n+OK\r\n-ERR no\r\n";
        assert_eq!(
            read_reply(&mut r, 0).ok(),
            Some(Reply::Array(Some(vec![Reply::Int(1), Reply::Int(42)])))
        );
        assert_eq!(
            read_reply(&mut r, 0).ok(),
            Some(Reply::Bulk(Some(b"abc".to_vec())))
        );
        assert_eq!(read_reply(&mut r, 0).ok(), Some(Reply::Bulk(None)));
        assert_eq!(read_reply(&mut r, 0).ok(), Some(Reply::Status("OK".into())));
        assert_eq!(
            read_reply(&mut r, 0).ok(),
            Some(Reply::Error("ERR no".into()))
        );
        // Truncated, unknown, and absurdly nested replies are errors, not panics.
        for bad in [&b"$5\r\nab"[..], b"?x\r\n", b":12", &b"*1\r\n".repeat(20)] {
            let mut r = bad;
            assert!(read_reply(&mut r, 0).is_err());
        }
    }

    #[test]
    fn an_unreachable_server_is_an_error_within_the_timeout() {
        // A port nothing listens on: bind one, note it, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_or(1, |a| a.port());
        let started = std::time::Instant::now();
        let r = RedisLedger::open(&format!("redis://127.0.0.1:{port}"), Duration::from_secs(2));
        assert!(matches!(r, Err(LedgerError::Redis { .. })));
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn campaign_ids_are_literal_in_patterns() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
