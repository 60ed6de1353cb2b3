//! Exact positions for problems in policy files.
//!
//! The YAML deserializer marks a value's error at the start of the mapping or sequence that holds
//! it, and the JSON deserializer just after the value; neither keeps spans. So a value that
//! refuses itself leaves a [`Detail`] saying which key and token it was, and [`refine`] walks from
//! the parser's mark to that token. Problems found after parsing (a duplicate id, a threshold no
//! rule can reach) are located by parsing the file again with a probe that makes the n-th value
//! of one kind refuse itself ([`locate`]), which yields its position the same way.

use std::cell::{Cell, RefCell};

/// Values whose positions can be probed, each counted in document order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A key of `use_cases`.
    UseCaseKey,
    /// A use case's `threshold`.
    Threshold,
    /// A keyword's `phrase`.
    Phrase,
    /// A pattern's `id`.
    PatternId,
    /// The `extends` value.
    Extends,
    /// A content rule's `id`.
    RuleId,
    /// A key of `severities`.
    SeverityKey,
    /// The `rule` of a use case's `content_rules` entry.
    EvidenceRule,
}

const KINDS: usize = 8;

impl Kind {
    fn index(self) -> usize {
        self as usize
    }
}

/// What a refusing value knows about itself: the key it sits under and its text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detail {
    /// The mapping key the value sits under (`threshold`, `regex`, ...), if any.
    pub key: Option<String>,
    /// The value's (or a key's) text, to find it in the source.
    pub token: Option<String>,
    /// Skip this many earlier occurrences of the token (a duplicate key is the second one).
    pub skip: usize,
    /// A byte offset inside the value to point at (a regex error's position in the pattern).
    pub offset_in_value: Option<usize>,
    /// A suggested fix.
    pub help: Option<String>,
}

thread_local! {
    static DETAIL: RefCell<Option<Detail>> = const { RefCell::new(None) };
    static PROBE: Cell<Option<(Kind, usize)>> = const { Cell::new(None) };
    static COUNTS: RefCell<[usize; KINDS]> = const { RefCell::new([0; KINDS]) };
    static PROBES_LEFT: Cell<usize> = const { Cell::new(MAX_PROBES) };
    static TRUSTED: Cell<bool> = const { Cell::new(false) };
}

/// Run `parse` on a source whose values are known good (`trusted`: an embedded policy, which
/// its tests hold valid), so checks that only repeat later work can be skipped.
pub(crate) fn with_trust<T>(trusted: bool, parse: impl FnOnce() -> T) -> T {
    let before = TRUSTED.with(|t| t.replace(trusted));
    let out = parse();
    TRUSTED.with(|t| t.set(before));
    out
}

/// Whether the source being parsed is trusted ([`with_trust`]).
pub(crate) fn trusted() -> bool {
    TRUSTED.with(Cell::get)
}

/// Problems found after parsing that are located per load. Each costs a parse of the file, so a
/// file with thousands of problems would take minutes; past this many, problems are reported
/// with their entry path but without line and column.
pub const MAX_PROBES: usize = 64;

/// Start a load with a full budget of probing parses.
pub(crate) fn reset_probe_budget() {
    PROBES_LEFT.with(|p| p.set(MAX_PROBES));
}

/// Take one probing parse from the budget; false when it is spent.
pub(crate) fn take_probe() -> bool {
    PROBES_LEFT.with(|p| {
        let left = p.get();
        p.set(left.saturating_sub(1));
        left > 0
    })
}

/// Record why the value being deserialized refuses itself.
pub(crate) fn set_detail(detail: Detail) {
    DETAIL.with(|d| *d.borrow_mut() = Some(detail));
}

/// Take the detail the last refusing value left, if any.
pub(crate) fn take_detail() -> Option<Detail> {
    DETAIL.with(|d| d.borrow_mut().take())
}

/// Start counting values for a fresh parse.
pub(crate) fn reset() {
    COUNTS.with(|c| *c.borrow_mut() = [0; KINDS]);
    DETAIL.with(|d| *d.borrow_mut() = None);
}

/// Count one value of `kind`; true when the probe targets it, in which case the detail is set and
/// the caller must refuse the value.
pub(crate) fn probe_hit(kind: Kind, key: Option<&str>, token: &str) -> bool {
    let n = COUNTS.with(|c| {
        let mut c = c.borrow_mut();
        let n = c[kind.index()];
        c[kind.index()] += 1;
        n
    });
    if PROBE.with(Cell::get) == Some((kind, n)) {
        set_detail(Detail {
            key: key.map(str::to_owned),
            token: Some(token.to_owned()),
            ..Detail::default()
        });
        true
    } else {
        false
    }
}

/// The message a probed value refuses itself with.
pub(crate) const PROBE_MESSAGE: &str = "smslint position probe";

/// Run `parse` with a probe on the `ordinal`-th value of `kind`; `parse` returns the parser's
/// position of its error.
pub(crate) fn with_probe<T>(kind: Kind, ordinal: usize, parse: impl FnOnce() -> T) -> T {
    PROBE.with(|p| p.set(Some((kind, ordinal))));
    reset();
    let out = parse();
    PROBE.with(|p| p.set(None));
    out
}

/// Byte offset of 1-based `line` and `column` (characters) in `text`.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset
                + l.char_indices()
                    .nth(column.saturating_sub(1))
                    .map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

/// 1-based line and column (characters) of byte `offset` in `text` (of the character it falls
/// in, when it falls inside one).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_boundary(text, offset);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

/// Where each line of a text starts, for many positions in one text: each [`LineIndex::line_col`]
/// then costs a binary search and at most [`MARK`] bytes of counting, where [`line_col`] counts
/// the whole text before it (a catalog of 20,000 templates took 12 s to lint, almost all of it
/// counting lines; a minified one is a single line, as long as the file).
#[derive(Clone, Debug, Default)]
pub struct LineIndex {
    /// The byte offset of each line's start: 0, then one past each `\n`.
    starts: Vec<usize>,
    /// The number of characters before each multiple of [`MARK`] bytes (floored to a character
    /// boundary).
    marks: Vec<usize>,
}

/// Bytes between the character counts a [`LineIndex`] keeps.
const MARK: usize = 4096;

impl LineIndex {
    /// The index of `text`'s lines.
    pub fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut marks = Vec::with_capacity(text.len() / MARK + 1);
        let (mut at, mut chars) = (0, 0);
        for k in 0..=text.len() / MARK {
            let next = floor_boundary(text, k * MARK);
            chars += text[at..next].chars().count();
            marks.push(chars);
            at = next;
        }
        LineIndex { starts, marks }
    }

    /// The number of characters of `text` before byte `offset` (a character boundary).
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let k = (offset / MARK).min(self.marks.len().saturating_sub(1));
        let from = floor_boundary(text, k * MARK).min(offset);
        self.marks.get(k).copied().unwrap_or(0) + text[from..offset].chars().count()
    }

    /// [`line_col`] of byte `offset` in `text`, the text this index was made from.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_boundary(text, offset);
        // The lines that start at or before the offset: the last of them holds it.
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).map_or(0, |&s| s.min(offset));
        let column = if offset - start <= MARK {
            text[start..offset].chars().count()
        } else {
            self.chars_before(text, offset) - self.chars_before(text, start)
        };
        (line, column + 1)
    }

    /// The byte offset where line `line` (1-based) starts.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.checked_sub(1)?).copied()
    }

    /// Line `line` (1-based) of `text`, without its `\n`.
    pub fn line<'t>(&self, text: &'t str, line: usize) -> Option<&'t str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self.starts.get(line).map_or(text.len(), |&next| next - 1);
        text.get(start..end)
    }
}

/// The last character boundary of `text` at or before `at` (its end when `at` is past it).
pub fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The first character boundary of `text` at or after `at` (its end when `at` is past it): the
/// searches below take offsets that callers work out by arithmetic, one byte past a character
/// that may be wider.
pub fn ceil_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// libyaml's 1-based `line` and `column` (characters) as this crate counts them. libyaml also
/// breaks lines at a lone `\r`, NEL, LS and PS; diagnostics break them at `\n` only, as
/// [`offset_of`] and [`line_col`] do, so a file with any of those would be located on the wrong
/// line, or past the end of one.
pub fn yaml_position(text: &str, line: usize, column: usize) -> (usize, usize) {
    line_col(text, yaml_offset(text, line, column))
}

/// Byte offset of libyaml's `line` and `column` in `text`: the end of that line when the column
/// is past it, the end of the text when the line is.
fn yaml_offset(text: &str, line: usize, column: usize) -> usize {
    let (mut at_line, mut at_column) = (1, 1);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let on_line = at_line == line;
        if on_line && at_column == column {
            return i;
        }
        if matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}') {
            if on_line {
                return i;
            }
            // `\r\n` is one break.
            if c == '\r' {
                chars.next_if(|&(_, next)| next == '\n');
            }
            at_line += 1;
            at_column = 1;
        } else {
            at_column += 1;
        }
    }
    text.len()
}

/// The position of the token a detail describes, searching from the parser's mark: forward for
/// YAML (marks are container starts), backward then forward for JSON (marks follow the value).
pub fn refine(
    text: &str,
    json: bool,
    line: usize,
    column: usize,
    detail: &Detail,
) -> (usize, usize) {
    let mark = offset_of(text, line, column);
    let mut skip = detail.skip;
    let start = if json {
        // The value ends at the mark: its key is the last one before it.
        match detail.key.as_deref() {
            Some(key) => text[..mark].rfind(&format!("\"{key}\"")).unwrap_or(mark),
            // A key's error (an unknown or a duplicate one) is marked on its closing quote,
            // which the search takes in.
            None => match (detail.token.as_deref())
                .and_then(|t| text[..ceil_boundary(text, mark + 1)].rfind(&format!("\"{t}\"")))
            {
                // The last one up to the mark is the one a duplicate key's error is about.
                Some(at) => {
                    skip = 0;
                    at
                }
                None => mark,
            },
        }
    } else {
        mark
    };
    // Search near the mark only: a key far below belongs to another entry.
    let mut end = text.len().min(start + 600);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let window = &text[..end];
    // A key written twice (`skip` 1): YAML marks its mapping, whose second such key is the one.
    let second = (!json && detail.skip == 1)
        .then(|| second_yaml_key(text, mark, detail.token.as_deref()?))
        .flatten();
    let found = second.or_else(|| {
        detail
            .key
            .as_deref()
            .and_then(|key| find_key(window, start, key, 0).map(|k| value_start(text, k)))
            .or_else(|| {
                detail
                    .token
                    .as_deref()
                    .and_then(|token| find_token(window, start, token, skip))
            })
            // A value without a key (a list item) starts at the mark itself.
            .or_else(|| detail.offset_in_value.map(|_| mark))
    });
    let Some(mut at) = found else {
        return (line, column);
    };
    if let Some(offset) = detail.offset_in_value {
        at = inside_value(text, at, offset);
    }
    line_col(text, at)
}

/// A help for libyaml's error at byte `offset` of `text` when a tab stands where YAML takes
/// only spaces, as editors insert: libyaml says only that a character cannot start a token.
pub fn tab_help(text: &str, offset: usize, message: &str) -> Option<&'static str> {
    (message.contains("cannot start any token")
        && text.get(offset..).is_some_and(|t| t.starts_with('\t')))
    .then_some("YAML indents with spaces; a tab cannot start a token")
}

/// The key a parser's message says is written twice: serde's ``duplicate field `key` `` (a
/// struct's field) or YAML's `duplicate entry with key "key"` (a map's key), unquoted.
pub fn duplicate_key(message: &str) -> Option<&str> {
    if let Some(rest) = message.split("duplicate field `").nth(1) {
        return rest.rfind('`').map(|end| &rest[..end]);
    }
    let key = message.rsplit_once("duplicate entry with key ")?.1;
    Some(key.strip_prefix('"')?.strip_suffix('"').unwrap_or(key))
}

/// The offset of the second `key:` of the YAML mapping that starts at `start` (its `{`, or the
/// first key of a block mapping, whose keys are indented as that one is), where YAML marks an
/// error about a key written twice: the one to point at. Keys of the mappings inside it, and
/// text in quoted values and comments, are passed over; `None` past the mapping's end or for a
/// key written otherwise.
pub fn second_yaml_key(text: &str, start: usize, key: &str) -> Option<usize> {
    let start = ceil_boundary(text, start);
    if text[start..].starts_with('{') {
        return second_flow_key(text, start, key);
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    second_block_key(text, start, text[line_start..start].chars().count(), key)
}

/// The offset of the second `key:` of the flow mapping (`{a: 1, a: 2}`) whose `{` is at
/// `start`: a key of its own, not of a mapping inside it nor inside a quoted value or a comment;
/// `None` past its `}` or for keys written otherwise.
fn second_flow_key(text: &str, start: usize, key: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut seen) = (0usize, 0usize);
    // Whether the mapping's next key starts at the next token, and the last byte before this
    // one that is not a space: a quote opens a quoted scalar only where a token starts
    // (`don't` is a plain scalar).
    let (mut key_next, mut last) = (false, b'{');
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        let space = matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        if key_next && depth == 1 && !space && b != b'#' {
            key_next = false;
            if opens_with_key(&text[i..], key) {
                seen += 1;
                if seen == 2 {
                    return Some(i);
                }
            }
        }
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return None;
                }
            }
            b',' => key_next = depth == 1,
            // A quoted scalar, to its closing quote (`\\"` and `''` stay inside it).
            b'"' | b'\'' if matches!(last, b'{' | b'[' | b',' | b':') => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    if c == b && !(b == b'\'' && bytes.get(i + 1) == Some(&b'\'')) {
                        break;
                    }
                    let pair = (b == b'"' && c == b'\\') || (b == b'\'' && c == b'\'');
                    i += if pair { 2 } else { 1 };
                }
            }
            // A comment, after a space, to the line's end.
            b'#' if matches!(bytes.get(i.wrapping_sub(1)), Some(b' ' | b'\t' | b'\n')) => {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                continue;
            }
            _ => {}
        }
        if i == start {
            key_next = true;
        }
        if !space {
            last = b;
        }
        i += 1;
    }
    None
}

/// The offset of the second `key:` of the block mapping that starts at `start`, its keys
/// indented by `indent` columns; `None` past the mapping's end or for keys written otherwise.
fn second_block_key(text: &str, start: usize, indent: usize, key: &str) -> Option<usize> {
    let is_key = |content: &str| opens_with_key(content, key);
    // The mapping's first line from its first key (a list item's `- ` comes before it).
    let first_end = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    let mut seen = usize::from(is_key(&text[start..first_end]));
    let mut at = first_end;
    for line in text[first_end..].split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let content = body.trim_start_matches(' ');
        let depth = body.len() - content.len();
        if !content.is_empty() && !content.starts_with('#') {
            if depth < indent {
                return None;
            }
            if depth == indent && is_key(content) {
                seen += 1;
                if seen == 2 {
                    return Some(at + depth);
                }
            }
        }
        at += line.len();
    }
    None
}

/// Whether `rest` opens with `key` written as a mapping key: plain, `"key"` or `'key'`, then `:`.
fn opens_with_key(rest: &str, key: &str) -> bool {
    let after = match rest.as_bytes().first() {
        Some(&quote @ (b'"' | b'\'')) => rest[1..]
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix(char::from(quote))),
        _ => rest.strip_prefix(key),
    };
    after.is_some_and(|r| r.trim_start_matches([' ', '\t']).starts_with(':'))
}

/// The offset of `key` used as a mapping key (`key:` or `"key":`) at or after `from`.
pub fn find_key(text: &str, from: usize, key: &str, skip: usize) -> Option<usize> {
    // An empty key is found everywhere and the search below would never advance.
    if key.is_empty() {
        return None;
    }
    let mut seen = 0;
    let mut at = ceil_boundary(text, from);
    while let Some(i) = text[at..].find(key).map(|i| i + at) {
        let before = text[..i].chars().next_back();
        let after = &text[i + key.len()..];
        let quoted = matches!(before, Some('"' | '\'')) && after.starts_with(['"', '\'']);
        let rest = if quoted { &after[1..] } else { after };
        let bounded = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if bounded && rest.trim_start_matches([' ', '\t']).starts_with(':') {
            if seen == skip {
                return Some(if quoted { i - 1 } else { i });
            }
            seen += 1;
        }
        at = i + key.len();
    }
    None
}

/// Where the value after the key at `key_at` starts.
pub fn value_start(text: &str, key_at: usize) -> usize {
    let key_at = ceil_boundary(text, key_at);
    let colon = text[key_at..].find(':').map_or(key_at, |i| key_at + i + 1);
    let rest = &text[colon..];
    colon + (rest.len() - rest.trim_start_matches([' ', '\t']).len())
}

/// The offset of `token` (bare or quoted) at or after `from`, skipping `skip` occurrences.
fn find_token(text: &str, from: usize, token: &str, skip: usize) -> Option<usize> {
    // An empty token is found everywhere and the search below would never advance.
    if token.is_empty() {
        return None;
    }
    let mut seen = 0;
    let mut at = ceil_boundary(text, from);
    while let Some(i) = text[at..].find(token).map(|i| i + at) {
        let before = text[..i].chars().next_back();
        let after = text[i + token.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !word(before) && !word(after) {
            if seen == skip {
                return Some(if matches!(before, Some('"' | '\'')) {
                    i - 1
                } else {
                    i
                });
            }
            seen += 1;
        }
        at = i + token.len();
    }
    None
}

/// The source offset of byte `offset` of the decoded scalar that starts at `at`, following its
/// quoting (`'...'` with `''`, `"..."` with YAML's and JSON's backslash escapes, or plain) and
/// YAML's folding of line breaks inside it.
pub fn inside_value(text: &str, at: usize, offset: usize) -> usize {
    let at = ceil_boundary(text, at);
    let rest = &text[at..];
    let bytes = rest.as_bytes();
    let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''));
    let hex = |from: usize, digits: usize| {
        rest.get(from..from + digits)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut decoded = 0usize;
    let mut i = usize::from(quote.is_some());
    while let Some(c) = rest[i..].chars().next() {
        // An escaped line break joins the lines: it and the next line's indent decode to
        // nothing, so what follows it is where the next byte is.
        if quote == Some('"') && c == '\\' && matches!(bytes.get(i + 1), Some(b'\n' | b'\r')) {
            let after = &rest[i + 1..];
            let after = after
                .strip_prefix("\r\n")
                .or_else(|| after.strip_prefix(['\n', '\r']))
                .unwrap_or(after);
            i = rest.len() - after.trim_start_matches([' ', '\t']).len();
            continue;
        }
        if decoded >= offset {
            return at + i;
        }
        match c {
            '\'' if quote == Some('\'') && bytes.get(i + 1) == Some(&b'\'') => {
                decoded += 1;
                i += 2;
            }
            _ if Some(c) == quote => return at + i,
            '\\' if quote == Some('"') => {
                let Some(escaped) = rest[i + 1..].chars().next() else {
                    return at + rest.len();
                };
                let (width, len) = match escaped {
                    'x' => (4, hex(i + 2, 2).map_or(1, |u| if u < 0x80 { 1 } else { 2 })),
                    'U' => (
                        10,
                        hex(i + 2, 8)
                            .and_then(char::from_u32)
                            .map_or(1, char::len_utf8),
                    ),
                    'u' => match hex(i + 2, 4) {
                        // A high surrogate and its low half (`\uD83D\uDE00`) make one 4-byte
                        // character.
                        Some(0xD800..=0xDBFF) if rest.get(i + 6..i + 8) == Some("\\u") => (12, 4),
                        Some(u) => (6, char::from_u32(u).map_or(3, char::len_utf8)),
                        None => (2, 1),
                    },
                    // U+0085, U+00A0, U+2028 and U+2029.
                    'N' | '_' => (2, 2),
                    'L' | 'P' => (2, 3),
                    // `\n`, `\"`, `\\`, `\t`, `\/`, `\0`, ...: one byte each.
                    other => (1 + other.len_utf8(), 1),
                };
                // An escape's digits may be other characters where the value is not the
                // scalar it was taken for.
                i = ceil_boundary(rest, (i + width).min(rest.len()));
                decoded += len;
            }
            ' ' | '\t' | '\n' | '\r' => {
                // Whitespace around line breaks folds: spaces before a break are dropped, one
                // break becomes a space, and each further (blank) line a line feed.
                let run = &rest[i..];
                let end = run.len() - run.trim_start_matches([' ', '\t', '\n', '\r']).len();
                let run = &run[..end];
                let breaks = run.matches('\n').count() + run.matches('\r').count()
                    - run.matches("\r\n").count();
                if breaks == 0 {
                    decoded += 1;
                    i += 1;
                } else {
                    decoded += breaks.saturating_sub(1).max(1);
                    if decoded > offset {
                        // An offset inside the folded run is where the run starts.
                        return at + i;
                    }
                    i += end;
                }
            }
            _ => {
                decoded += c.len_utf8();
                i += c.len_utf8();
            }
        }
    }
    at + rest.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_round_trip() {
        let text = "ab\ncdé\nf";
        for (line, col) in [(1, 1), (2, 3), (3, 1)] {
            assert_eq!(line_col(text, offset_of(text, line, col)), (line, col));
        }
    }

    #[test]
    fn a_line_index_gives_what_line_col_and_lines_give() {
        for text in ["", "\n", "ab\ncdé\n\nf🎉g\r\n", "one line", "x\n\n"] {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    index.line_col(text, offset),
                    line_col(text, offset),
                    "{text:?} {offset}"
                );
            }
            for (n, want) in text.split('\n').enumerate() {
                assert_eq!(index.line(text, n + 1), Some(want), "{text:?} {n}");
            }
            assert_eq!(index.line(text, 0), None);
            assert_eq!(index.line(text, text.split('\n').count() + 1), None);
        }
    }

    #[test]
    fn a_line_index_counts_long_lines_from_its_marks() {
        // Lines longer than the marks' spacing, with characters of every width across them.
        let unit = "ab🎉cé\u{301}限 ";
        let long = unit.repeat(3 * MARK / unit.len() + 7);
        for text in [
            long.clone(),
            format!("{long}\n{long}"),
            format!("x\n{long}\r\n\n{long}é"),
        ] {
            let index = LineIndex::new(&text);
            for offset in (0..=text.len() + 2)
                .step_by(97)
                .chain([text.len(), MARK, MARK + 1])
            {
                assert_eq!(
                    index.line_col(&text, offset),
                    line_col(&text, offset),
                    "{} {offset}",
                    text.len()
                );
            }
        }
    }

    #[test]
    fn yaml_positions_count_lines_at_newlines_only() {
        // Without other breaks, libyaml's positions are this crate's.
        let text = "ab\r\ncdé\nf";
        for (line, col) in [(1, 1), (1, 3), (2, 3), (3, 1), (3, 2)] {
            assert_eq!(yaml_position(text, line, col), (line, col));
        }
        // A lone `\r`, NEL, LS and PS break libyaml's lines, not these.
        let text = "a\rb\u{85}c\u{2028}d\u{2029}e\nf";
        assert_eq!(yaml_position(text, 2, 1), (1, 3));
        assert_eq!(yaml_position(text, 3, 1), (1, 5));
        assert_eq!(yaml_position(text, 5, 1), (1, 9));
        assert_eq!(yaml_position(text, 6, 1), (2, 1));
        // Past the end of a line: its end; past the last line: the text's end.
        assert_eq!(yaml_position(text, 1, 40), (1, 2));
        assert_eq!(yaml_position(text, 9, 1), (2, 2));
    }

    #[test]
    fn refines_yaml_marks_to_the_value() {
        let text = "use_cases:\n  X:\n    patterns:\n      - { id: a, regex: 'a[b', weight: 1 }\n";
        let d = Detail {
            key: Some("regex".into()),
            offset_in_value: Some(1),
            ..Detail::default()
        };
        // The parser marks the flow mapping at line 4, column 9.
        assert_eq!(refine(text, false, 4, 9, &d), (4, 27));
    }

    #[test]
    fn refines_json_marks_backwards() {
        let text = "{\"a\": {\"threshold\": 0, \"b\": 1}}";
        let d = Detail {
            key: Some("threshold".into()),
            ..Detail::default()
        };
        assert_eq!(refine(text, true, 1, 23, &d), (1, 21));
        let text = "{\"regex\": \"\\\\d(x\"}";
        let d = Detail {
            key: Some("regex".into()),
            offset_in_value: Some(2),
            ..Detail::default()
        };
        // `\\d(x`: decoded offset 2 is `(`, which sits after the two-character escape.
        assert_eq!(refine(text, true, 1, 18, &d), (1, 15));
    }

    #[test]
    fn maps_offsets_through_json_escapes() {
        let text = r#"{"text": "caf\u00e9 \ud83d\ude00 \"hi\" bit.ly"}"#;
        let at = text.find("\"caf").unwrap();
        let decoded = "café 😀 \"hi\" bit.ly";
        let offset = decoded.find("bit.ly").unwrap();
        let src = inside_value(text, at, offset);
        assert_eq!(&text[src..src + 6], "bit.ly");
    }

    #[test]
    fn maps_offsets_through_yaml_escapes_and_folded_lines() {
        // Each: the YAML source of one scalar, its decoded text, and a token of both.
        let cases = [
            (
                r#""FREE \x41 \u00e9 \U0001F600 \N\_\L\P\t\/ bit.ly""#,
                "FREE A é 😀 \u{85}\u{a0}\u{2028}\u{2029}\t/ bit.ly",
            ),
            (
                "\"Your order is here and   \n  your link is bit.ly\"",
                "Your order is here and your link is bit.ly",
            ),
            ("\"one\r\n\r\n   two \\\r\n   bit.ly\"", "one\ntwo bit.ly"),
            ("'it''s here\n\n\n  at bit.ly'", "it's here\n\nat bit.ly"),
            (
                "plain words\n  over lines bit.ly",
                "plain words over lines bit.ly",
            ),
        ];
        for (source, decoded) in cases {
            let value: String = serde_yaml::from_str(source).unwrap_or_default();
            assert_eq!(value, decoded, "{source:?}");
            let src = inside_value(source, 0, decoded.find("bit.ly").unwrap_or(0));
            assert_eq!(source.get(src..src + 6), Some("bit.ly"), "{source:?}");
            for word in ["two", "at", "over", "your"] {
                if let (Some(offset), Some(_)) = (decoded.find(word), source.find(word)) {
                    let src = inside_value(source, 0, offset);
                    assert_eq!(source.get(src..src + word.len()), Some(word), "{source:?}");
                }
            }
        }
    }

    #[test]
    fn escapes_cut_short_by_wide_characters_stay_on_boundaries() {
        for text in [
            "\"\\x☕\"",
            "\"\\u12☕x\"",
            "\"\\U0001☕☕\"",
            "\"\\uD83D\\u☕☕☕\"",
            "\"\\",
        ] {
            for offset in 0..=text.len() + 2 {
                let at = inside_value(text, 0, offset);
                assert!(text.is_char_boundary(at), "{text:?} {offset} {at}");
            }
        }
    }

    #[test]
    fn the_second_key_of_a_flow_mapping_is_found_past_quotes_comments_and_inner_mappings() {
        let cases = [
            ("{id: a, text: x, text: y}", Some(17)),
            ("{\"text\": \"a, text: b\", 'text' : y}", Some(23)),
            ("{text: don't, text: y}", Some(14)),
            ("{text: 'it''s, text: z', text: y}", Some(25)),
            ("{meta: {text: a, x: 1}, text: b, text: c}", Some(33)),
            (
                "{list: [text, b], text: 1, # text: old\n text: 2}",
                Some(40),
            ),
            ("{text: a}\ntext: b", None),
            ("{text: a, other: {text: b}}", None),
            ("{text: \"unclosed", None),
        ];
        for (text, want) in cases {
            assert_eq!(second_flow_key(text, 0, "text"), want, "{text}");
            if let Some(at) = want {
                assert!(
                    text[at..]
                        .trim_start_matches(['"', '\''])
                        .starts_with("text"),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn finds_the_second_occurrence_of_a_duplicate_key() {
        let text = "m:\n  Marketing: 1\n  Marketing: 2\n";
        let d = Detail {
            token: Some("Marketing".into()),
            skip: 1,
            ..Detail::default()
        };
        assert_eq!(refine(text, false, 1, 1, &d), (3, 3));
    }

    #[test]
    fn empty_keys_and_tokens_are_not_searched_for() {
        let text = "ab: 1\ncd: 2\n";
        assert_eq!(find_key(text, 0, "", 0), None);
        assert_eq!(find_token(text, 0, "", 3), None);
        let d = Detail {
            token: Some(String::new()),
            skip: 2,
            ..Detail::default()
        };
        assert_eq!(refine(text, false, 1, 2, &d), (1, 2));
    }

    #[test]
    fn the_search_window_ends_on_a_character_boundary() {
        // The window's 600th byte falls inside a 4-byte character.
        let text = format!("a: {}\u{e0704} x\n", "y".repeat(595));
        let d = Detail {
            token: Some("x".into()),
            ..Detail::default()
        };
        assert_eq!(refine(&text, false, 1, 1, &d), (1, 1));
    }
}
