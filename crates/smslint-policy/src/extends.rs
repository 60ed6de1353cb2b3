//! `extends`: reading the chain of policies a policy builds on, and merging it.
//!
//! Precedence, from the extended policy (the base) to the extending one (the child):
//!
//! * `name` and `description`: the child's when given.
//! * `decision`: field by field, the child's when given.
//! * `use_cases`: a use case only the base has is kept as it is; one only the child has is
//!   added (it needs a `threshold`); for one both have, the child's `threshold` and
//!   `description` replace the base's when given, `remove_keywords`, `remove_patterns` and
//!   `remove_content_rules` drop base rules (each entry must drop one), then each child keyword
//!   replaces the base keyword with the same folded phrase or is added, each child pattern
//!   replaces the base pattern with the same id or is added, each child `content_rules` entry
//!   replaces the base's entry for the same rule or is added, and the child's `examples`, when
//!   given, replace the base's.
//!
//! Chains are followed to any depth (`a` extends `b` extends `builtin:default`, which extends
//! `builtin:base`); a cycle is an
//! error at the `extends` that closes it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use smslint_core::normalize::fold;

use crate::diagnostic::{DiagnosticCode, PolicyDiagnostic, PolicyError};
use crate::load::builtin;
use crate::locate::Kind;
use crate::raw::{At, RawPolicy};
use crate::source::{Format, Source};

/// The largest policy file read, in bytes (the embedded default is under 1 MiB).
pub const MAX_POLICY_FILE_BYTES: usize = 64 << 20;

/// The files of a load (the policy named first), and each parsed, base last.
pub struct Chain {
    /// Every file read, in the order read: the named policy first.
    pub sources: Vec<Source>,
    /// The parsed files, in the same order.
    pub policies: Vec<RawPolicy>,
}

/// A source for `name`: an embedded policy (`builtin:default`, `builtin:base`), or a file path.
pub fn read_source(name: &str, path: Option<&Path>) -> Result<Source, String> {
    if let Some((text, format)) = builtin(name) {
        return Ok(Source {
            name: name.to_owned(),
            path: None,
            text: Cow::Borrowed(text),
            format,
        });
    }
    let path = path.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    let text = read_limited(&path)?;
    let format = Format::from_path(&path).unwrap_or_else(|| Format::sniff(&text));
    Ok(Source {
        name: name.to_owned(),
        path: Some(path),
        text: Cow::Owned(text),
        format,
    })
}

/// Read a policy file of at most [`MAX_POLICY_FILE_BYTES`]; a longer one (or an endless one,
/// such as `/dev/zero`) is refused after that many bytes rather than read into memory whole.
fn read_limited(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > MAX_POLICY_FILE_BYTES {
        return Err(format!(
            "the file is larger than {} MiB, the most a policy may be",
            MAX_POLICY_FILE_BYTES >> 20
        ));
    }
    let mark = drop_byte_order_mark(&mut bytes);
    String::from_utf8(bytes)
        .map_err(|e| format!("the file {}", not_utf8(e.as_bytes(), e.utf8_error(), mark)))
}

/// What is wrong with `bytes`, which are not UTF-8 (`error`), after a byte order mark of
/// `mark` bytes was dropped from them: where, as a line and column and a byte offset, and what
/// the file is likely to be.
pub fn not_utf8(bytes: &[u8], error: std::str::Utf8Error, mark: usize) -> String {
    // The bytes before the error are UTF-8 by the error's own account.
    let valid = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default();
    let line = valid.matches('\n').count() + 1;
    let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
    let column = valid[line_start..].chars().count() + 1;
    let hint =
        if mark == 0 && (bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF])) {
            "; it opens with a UTF-16 byte order mark: save it as UTF-8"
        } else {
            "; save it as UTF-8"
        };
    format!(
        "is not valid UTF-8: line {line}, column {column} (byte offset {}){hint}",
        error.valid_up_to() + mark
    )
}

/// `text` without the byte order mark that opens it, if one does: Notepad and PowerShell
/// write one, and it is neither YAML nor JSON (YAML took it for a second document).
pub(crate) fn without_byte_order_mark(text: &str) -> Option<&str> {
    text.strip_prefix('\u{FEFF}')
}

/// Remove the UTF-8 byte order mark that opens a file's `bytes`, if one does (see
/// `without_byte_order_mark`); the number of bytes removed.
pub fn drop_byte_order_mark(bytes: &mut Vec<u8>) -> usize {
    const MARK: &[u8] = "\u{FEFF}".as_bytes();
    if bytes.starts_with(MARK) {
        bytes.drain(..MARK.len());
        MARK.len()
    } else {
        0
    }
}

fn identity(source: &Source) -> String {
    source
        .path
        .as_ref()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map_or_else(|| source.name.clone(), |p| p.display().to_string())
}

/// Read `first` and every policy it extends.
pub fn read_chain(first: Source) -> Result<Chain, PolicyError> {
    let one = |d: PolicyDiagnostic| PolicyError {
        diagnostics: vec![d],
    };
    let mut chain = Chain {
        sources: Vec::new(),
        policies: Vec::new(),
    };
    let mut seen = vec![identity(&first)];
    let mut next = Some(first);
    while let Some(source) = next.take() {
        let index = chain.sources.len();
        let raw = source.parse(index).map_err(|d| one(*d))?;
        if let Some(ext) = &raw.extends {
            let target = resolve(&source, &ext.0);
            let located = |code, message: String| {
                source.diagnostic(
                    code,
                    Kind::Extends,
                    At {
                        source: index,
                        ordinal: 0,
                    },
                    message,
                )
            };
            let parent_name = target
                .as_ref()
                .map_or_else(|| ext.0.clone(), |t| t.display().to_string());
            let parent = read_source(&parent_name, target.as_deref()).map_err(|e| {
                one(located(
                    DiagnosticCode::ExtendsUnresolved,
                    format!("cannot read the extended policy `{}`: {e}", ext.0),
                ))
            })?;
            let id = identity(&parent);
            if let Some(start) = seen.iter().position(|s| *s == id) {
                let mut names: Vec<&str> = chain.sources[start..]
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect();
                names.push(&source.name);
                names.push(&parent.name);
                return Err(one(located(
                    DiagnosticCode::ExtendsCycle,
                    format!("extends cycle: {}", names.join(" → ")),
                )));
            }
            seen.push(id);
            next = Some(parent);
        }
        chain.sources.push(source);
        chain.policies.push(raw);
    }
    Ok(chain)
}

/// The path `reference` names, relative to the extending file's folder.
fn resolve(from: &Source, reference: &str) -> Option<PathBuf> {
    if builtin(reference).is_some() {
        return None;
    }
    let base = from
        .path
        .as_ref()
        .and_then(|p| p.parent())
        .map_or_else(PathBuf::new, Path::to_path_buf);
    Some(base.join(reference))
}

/// Merge a chain's policies (the named one first, as [`Chain::policies`]) into one policy
/// without `extends` or removals; problems with removals are returned as diagnostics. Takes
/// the policies whole: a learned layer's thousands of keywords move instead of being copied.
pub fn merge(policies: Vec<RawPolicy>, sources: &[Source]) -> (RawPolicy, Vec<PolicyDiagnostic>) {
    let mut diagnostics = Vec::new();
    let mut policies = policies.into_iter().enumerate().rev();
    let Some((_, mut merged)) = policies.next() else {
        unreachable!("a chain holds at least the policy named");
    };
    for (index, child) in policies {
        let source = &sources[index];
        if child.name.is_some() {
            merged.name.clone_from(&child.name);
        }
        if child.description.is_some() {
            merged.description.clone_from(&child.description);
        }
        for rule in &child.rules {
            match merged.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(existing) => *existing = rule.clone(),
                None => merged.rules.push(rule.clone()),
            }
        }
        for (key, level) in &child.severities.0 {
            match merged.severities.0.iter_mut().find(|(k, _)| k == key) {
                Some(existing) => existing.1 = *level,
                None => merged.severities.0.push((key.clone(), *level)),
            }
        }
        if !child.brand_names.is_empty() {
            merged.brand_names.clone_from(&child.brand_names);
        }
        if let Some(child_lint) = &child.lint {
            let lint = merged.lint.get_or_insert_with(Default::default);
            if child_lint.placeholders.is_some() {
                lint.placeholders.clone_from(&child_lint.placeholders);
            }
            if child_lint.placeholder_length.is_some() {
                lint.placeholder_length = child_lint.placeholder_length;
            }
            lint.allow.extend(child_lint.allow.iter().cloned());
        }
        merged.decision = Some(match (&merged.decision, &child.decision) {
            (Some(b), Some(c)) => b.clone().overlaid(c),
            (b, c) => c.clone().or_else(|| b.clone()).unwrap_or_default(),
        });
        for (key, cuc) in child.use_cases.0 {
            let Some((_, buc)) = merged.use_cases.0.iter_mut().find(|(k, _)| *k == key) else {
                merged.use_cases.0.push((key, cuc));
                continue;
            };
            if cuc.threshold.is_some() {
                buc.threshold = cuc.threshold;
                buc.threshold_at = cuc.threshold_at;
            }
            if cuc.description.is_some() {
                buc.description.clone_from(&cuc.description);
            }
            buc.key_at = cuc.key_at;
            for removed in &cuc.remove_keywords {
                let folded = fold(removed);
                if !dropped(&mut buc.keywords, |k| k.phrase.folded() == folded) {
                    let d = unmatched(source, "remove_keywords", removed, &key, "keyword");
                    diagnostics.push(d);
                }
            }
            for removed in &cuc.remove_patterns {
                if !dropped(&mut buc.patterns, |p| p.id.0 == *removed) {
                    let d = unmatched(source, "remove_patterns", removed, &key, "pattern");
                    diagnostics.push(d);
                }
            }
            for removed in &cuc.remove_content_rules {
                if !dropped(&mut buc.content_rules, |e| e.rule.0 == *removed) {
                    let d = unmatched(
                        source,
                        "remove_content_rules",
                        removed,
                        &key,
                        "content rule",
                    );
                    diagnostics.push(d);
                }
            }
            // By each phrase's folded form, kept since it was read: a learned layer replaces or
            // adds thousands of keywords. First where each of the child's keywords goes (the
            // place of the keyword it replaces, or a new one at the end), then the moves.
            let base = std::mem::take(&mut buc.keywords);
            let places: Vec<usize> = {
                let mut by_phrase: HashMap<&str, usize, foldhash::fast::RandomState> =
                    HashMap::with_capacity_and_hasher(
                        base.len() + cuc.keywords.len(),
                        foldhash::fast::RandomState::default(),
                    );
                for (i, k) in base.iter().enumerate() {
                    // The first of duplicate phrases is the one replaced, as before.
                    by_phrase.entry(k.phrase.folded()).or_insert(i);
                }
                let mut next = base.len();
                cuc.keywords
                    .iter()
                    .map(|kw| {
                        *by_phrase.entry(kw.phrase.folded()).or_insert_with(|| {
                            next += 1;
                            next - 1
                        })
                    })
                    .collect()
            };
            buc.keywords = base;
            // At most every child keyword is new: one growth, not one per doubling.
            buc.keywords.reserve(cuc.keywords.len());
            for (kw, at) in cuc.keywords.into_iter().zip(places) {
                match buc.keywords.get_mut(at) {
                    Some(replaced) => *replaced = kw,
                    None => buc.keywords.push(kw),
                }
            }
            for p in &cuc.patterns {
                match buc.patterns.iter_mut().find(|b| b.id == p.id) {
                    Some(existing) => *existing = p.clone(),
                    None => buc.patterns.push(p.clone()),
                }
            }
            for e in &cuc.content_rules {
                match buc.content_rules.iter_mut().find(|b| b.rule == e.rule) {
                    Some(existing) => *existing = e.clone(),
                    None => buc.content_rules.push(e.clone()),
                }
            }
            if cuc.examples.is_some() {
                buc.examples.clone_from(&cuc.examples);
            }
        }
    }
    merged.extends = None;
    for (_, uc) in &mut merged.use_cases.0 {
        uc.remove_keywords.clear();
        uc.remove_patterns.clear();
        uc.remove_content_rules.clear();
    }
    (merged, diagnostics)
}

/// Drop the entries of `list` that `gone` picks; whether any was.
fn dropped<T>(list: &mut Vec<T>, gone: impl Fn(&T) -> bool) -> bool {
    let before = list.len();
    list.retain(|item| !gone(item));
    list.len() != before
}

fn unmatched(
    source: &Source,
    list: &str,
    entry: &str,
    use_case: &impl std::fmt::Display,
    what: &str,
) -> PolicyDiagnostic {
    let d = PolicyDiagnostic::error(
        DiagnosticCode::RemoveUnmatched,
        &source.name,
        format!("{list} entry {entry:?} removes nothing: the extended policy's {use_case} has no such {what}"),
    )
    .with_path(format!("use_cases.{use_case}.{list}"));
    match source.position_after_key(list, entry) {
        Some((line, column)) => d.at(&source.text, line, column),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::not_utf8;

    #[test]
    fn text_that_is_not_utf8_is_placed_by_line_and_column() {
        for (bytes, mark, want) in [
            (&b"a\nb\xc3\xa9c\xe9\n"[..], 0, "line 2, column 4 (byte offset 6); save it as UTF-8"),
            (&b"caf\xe9"[..], 3, "line 1, column 4 (byte offset 6); save it as UTF-8"),
            (
                &b"\xff\xfea\x00"[..],
                0,
                "line 1, column 1 (byte offset 0); it opens with a UTF-16 byte order mark: save it as UTF-8",
            ),
        ] {
            let Err(e) = std::str::from_utf8(bytes) else {
                panic!("{bytes:?} is UTF-8");
            };
            assert_eq!(
                not_utf8(bytes, e, mark),
                format!("is not valid UTF-8: {want}")
            );
        }
    }
}
