//! Reading what the user points at: message text, snapshots, policies.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use smslint_core::{is_e164, parse_snapshot, ConsentRecords, NumberProfile, Policy};
use smslint_policy::{load_default, load_path, load_str, Format, LoadedPolicy};

use crate::args::TextSource;

/// The largest snapshot or consent file read whole (`/dev/zero` would otherwise fill
/// memory before anything could refuse it).
pub const MAX_DATA_FILE: u64 = 256 << 20;

/// Read a file, or stdin for `-`, as UTF-8; at most [`MAX_DATA_FILE`] bytes.
pub fn read_path(path: &Path) -> Result<String> {
    read_path_limited(path, MAX_DATA_FILE)
}

/// Read a file, or stdin for `-`, as UTF-8, refusing one longer than `limit` bytes after reading
/// only that many (so an endless input such as `/dev/zero` cannot fill memory).
pub fn read_path_limited(path: &Path, limit: u64) -> Result<String> {
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .context("cannot read stdin")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut buf))
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    if buf.len() as u64 > limit {
        bail!(
            "{} is larger than {} bytes, the most accepted here",
            display_name(path),
            limit
        );
    }
    // A byte order mark says the file is UTF-8 (Notepad and PowerShell write one); it is not
    // part of the text, the JSON or the YAML.
    let mark = smslint_policy::extends::drop_byte_order_mark(&mut buf);
    String::from_utf8(buf).map_err(|e| {
        anyhow::anyhow!(
            "{} {}",
            display_name(path),
            smslint_policy::extends::not_utf8(e.as_bytes(), e.utf8_error(), mark)
        )
    })
}

/// Refuse two inputs that both read stdin (`-`): the first would take it all and the second
/// read nothing, so a batch read after a snapshot came out empty and exited 0. `inputs` names
/// each option with its path, if given.
pub fn one_stdin<'a>(inputs: impl IntoIterator<Item = (&'a str, Option<&'a Path>)>) -> Result<()> {
    let readers: Vec<&str> = inputs
        .into_iter()
        .filter(|(_, path)| path.is_some_and(|p| p == Path::new("-")))
        .map(|(name, _)| name)
        .collect();
    if readers.len() > 1 {
        bail!(
            "{} read stdin (`-`), but only one input can: give all but one as files",
            readers.join(" and ")
        );
    }
    Ok(())
}

/// How a path is named in messages.
pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".into()
    } else {
        path.display().to_string()
    }
}

/// The message text from `--text` or `--file`; a file of more than `max_bytes` bytes (a
/// batch line's limit, `--max-line-bytes`) is refused, as checking a text holds about 30
/// bytes of memory for each of its bytes.
pub fn message_text(source: &TextSource, max_bytes: usize) -> Result<String> {
    match (&source.text, &source.file) {
        (Some(t), _) => Ok(t.clone()),
        (None, Some(path)) => {
            let mut text = read_path_limited(path, max_bytes as u64)?;
            // A file's final newline ends the file, not the message.
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            Ok(text)
        }
        (None, None) => bail!("give the message with --text, --file or --batch"),
    }
}

/// The policy named by `--policy`, or the embedded default.
pub fn policy(path: Option<&Path>) -> Result<LoadedPolicy> {
    let loaded = match path {
        // A policy piped in has no extension to go by: sniff JSON from YAML.
        Some(p) if p == Path::new("-") => {
            let text = read_path_limited(p, smslint_policy::extends::MAX_POLICY_FILE_BYTES as u64)?;
            load_str(&text, "<stdin>", Format::sniff(&text))
        }
        Some(p) => load_path(p),
        None => load_default(),
    }
    .map_err(|e| anyhow::anyhow!("the policy cannot be used:\n{e}"))?;
    Ok(loaded)
}

/// The policy for a command that uses it until the process ends: never dropped, so the
/// process does not spend a tenth of its start-up freeing the policy's tens of thousands of
/// keywords on the way out.
pub fn policy_for_the_process(path: Option<&Path>) -> Result<std::mem::ManuallyDrop<LoadedPolicy>> {
    policy(path).map(std::mem::ManuallyDrop::new)
}

/// The compiled policy alone, for a batch, which holds it until the process ends: what it was
/// compiled from (the merged policy as data, and the files' texts) is freed before the first
/// message, so that the stream's peak memory does not carry it (2.8 MB of heap for the default
/// policy). The policy itself is never dropped, as in [`policy_for_the_process`].
pub fn engine_only(loaded: std::mem::ManuallyDrop<LoadedPolicy>) -> std::mem::ManuallyDrop<Policy> {
    let LoadedPolicy {
        policy,
        raw,
        warnings,
        name,
        sources,
    } = std::mem::ManuallyDrop::into_inner(loaded);
    drop((raw, warnings, name, sources));
    std::mem::ManuallyDrop::new(policy)
}

/// Consent records from a file.
pub fn consents(path: &Path) -> Result<ConsentRecords> {
    let text = read_path(path)?;
    ConsentRecords::parse(&text)
        .map_err(|e| anyhow::anyhow!("cannot read consents {}: {e}", display_name(path)))
}

/// An E.164 number given on the command line.
pub fn e164<'a>(flag: &str, value: Option<&'a str>) -> Result<Option<&'a str>> {
    match value {
        Some(v) if !is_e164(v) => bail!(
            "{flag} {v:?} is not an E.164 number (a '+', a country code and up to 15 digits, \
             no spaces, for example +16501112345)"
        ),
        v => Ok(v),
    }
}

/// The numbers a snapshot file holds.
pub fn snapshot(path: &Path) -> Result<Vec<NumberProfile>> {
    let text = read_path(path)?;
    let profiles = parse_snapshot(&text)
        .map_err(|e| anyhow::anyhow!("cannot read snapshot {}: {e}", display_name(path)))?;
    if profiles.is_empty() {
        bail!("snapshot {} holds no numbers", display_name(path));
    }
    Ok(profiles)
}
