//! Reading message templates for `smslint lint`: walking paths, the file formats, and where each
//! template's text sits in its file (so findings point at file lines and columns).
//!
//! * `.txt`: one template per file; its id is the file stem.
//! * `.yaml`, `.yml`, `.json`: a catalog, either a list of entries or a map from id to entry; an
//!   entry is `{id|name, text|body, useCase?}` (extra keys are ignored) or, in a map, the text
//!   itself.
//! * `.jsonl`: one entry object per line.

use std::collections::hash_map::Entry as Slot;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use smslint_policy::locate::{ceil_boundary, find_key, inside_value, value_start, LineIndex};

/// The largest template file read; a longer one is refused after this many bytes.
const MAX_TEMPLATE_FILE: u64 = 64 << 20;

/// A template file, read.
#[derive(Debug)]
pub struct TemplateFile {
    /// The path as shown (`/`-separated).
    pub path: String,
    /// The file's text.
    pub text: String,
    /// Where its lines start, for the positions of its templates' findings.
    pub lines: LineIndex,
}

impl TemplateFile {
    /// The file at `path` (as shown), read as `text`.
    pub fn new(path: String, text: String) -> TemplateFile {
        let lines = LineIndex::new(&text);
        TemplateFile { path, text, lines }
    }
}

/// How a template's text maps onto its file.
#[derive(Debug, Clone)]
enum Locator {
    /// The text is the file's bytes from this offset.
    Direct(usize),
    /// The text is a quoted scalar starting (at its quote) at this offset.
    Quoted(usize),
    /// A plain or block scalar: (text offset, file offset) where each run of the text that
    /// the file holds as it is starts, in order; between runs YAML folded line breaks and
    /// indentation into the text's whitespace.
    Runs(Vec<(usize, usize)>),
}

/// One message template.
#[derive(Debug)]
pub struct Template {
    /// Index of its file.
    pub file: usize,
    /// Its id: the entry's id or name, the map key, the file stem, or `line N`.
    pub id: String,
    /// The text.
    pub text: String,
    /// The use case it declares, as written.
    pub declared: Option<String>,
    locator: Locator,
}

impl Template {
    /// The byte offset in its file of byte `offset` of the text.
    pub fn file_offset(&self, file: &TemplateFile, offset: usize) -> usize {
        let file = file.text.as_str();
        match &self.locator {
            Locator::Direct(base) => base + offset,
            Locator::Quoted(start) => inside_value(file, *start, offset),
            Locator::Runs(runs) => {
                let run = runs.partition_point(|&(text_at, _)| text_at <= offset);
                let (text_at, file_at) = runs.get(run.wrapping_sub(1)).copied().unwrap_or((0, 0));
                file_at + (offset - text_at)
            }
        }
    }
}

/// Every template under `paths`: files as given, folders walked (hidden folders and `target/`
/// skipped, files of other kinds ignored, policy files skipped).
pub fn collect(paths: &[PathBuf]) -> Result<(Vec<TemplateFile>, Vec<Template>)> {
    let mut files = Vec::new();
    let mut folders = HashSet::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files, &mut folders)?;
        } else if path.exists() {
            if kind(path).is_none() {
                bail!(
                    "{}: not a template file (expected .txt, .yaml, .yml, .json or .jsonl)",
                    path.display()
                );
            }
            files.push((path.clone(), true));
        } else {
            bail!("{}: no such file or folder", path.display());
        }
    }
    // A file reached twice (named and inside a named folder, or through a link) is linted once,
    // as named if it was.
    let mut first: HashMap<PathBuf, usize> = HashMap::new();
    let mut unique: Vec<(PathBuf, bool)> = Vec::with_capacity(files.len());
    for (path, explicit) in files {
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        match first.entry(real) {
            Slot::Occupied(at) => unique[*at.get()].1 |= explicit,
            Slot::Vacant(slot) => {
                slot.insert(unique.len());
                unique.push((path, explicit));
            }
        }
    }
    let mut read = Vec::new();
    let mut templates = Vec::new();
    for (path, explicit) in unique {
        let text = crate::input::read_path_limited(&path, MAX_TEMPLATE_FILE)?;
        let shown = path.display().to_string().replace('\\', "/");
        let shown = shown.strip_prefix("./").unwrap_or(&shown).to_owned();
        let Some(found) = templates_in(read.len(), &path, &shown, explicit, &text)? else {
            continue;
        };
        templates.extend(found);
        read.push(TemplateFile::new(shown, text));
    }
    Ok((read, templates))
}

/// The templates of file number `index`, read from `path` (shown as `shown`) as `text`; `None`
/// for a file that holds none to lint (another kind, or a policy met while walking a folder).
pub fn templates_in(
    index: usize,
    path: &Path,
    shown: &str,
    explicit: bool,
    text: &str,
) -> Result<Option<Vec<Template>>> {
    Ok(Some(match kind(path) {
        Some(Kind::Text) => vec![text_template(index, path, text)],
        Some(Kind::Catalog) => {
            if !explicit && looks_like_policy(text) {
                return Ok(None);
            }
            catalog(index, shown, path, text)?
        }
        Some(Kind::Lines) => jsonl(index, shown, text)?,
        None => return Ok(None),
    }))
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Catalog,
    Lines,
}

fn kind(path: &Path) -> Option<Kind> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "txt" => Some(Kind::Text),
        "yaml" | "yml" | "json" => Some(Kind::Catalog),
        "jsonl" => Some(Kind::Lines),
        _ => None,
    }
}

/// The template files under `dir`, in name order; `folders` holds the folders already walked
/// (as their real paths), so that a link back up the tree is not followed round and round.
fn walk(dir: &Path, out: &mut Vec<(PathBuf, bool)>, folders: &mut HashSet<PathBuf>) -> Result<()> {
    let real = std::fs::canonicalize(dir)
        .with_context(|| format!("cannot read folder {}", dir.display()))?;
    if !folders.insert(real) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if name != "target" {
                walk(&path, out, folders)?;
            }
        } else if kind(&path).is_some() && path.is_file() {
            // Only regular files: reading a named pipe met on the way would wait forever.
            out.push((path, false));
        }
    }
    Ok(())
}

/// A policy (or policy test file) met while walking a folder is not a template catalog.
fn looks_like_policy(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("version:") || l.trim_start().starts_with("\"version\""))
        && (text.contains("use_cases") || text.contains("extends"))
}

fn text_template(file: usize, path: &Path, text: &str) -> Template {
    let mut body = text;
    // A file's final newline ends the file, not the message.
    if let Some(b) = body.strip_suffix('\n') {
        body = b.strip_suffix('\r').unwrap_or(b);
    }
    Template {
        file,
        id: path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned(),
        text: body.to_owned(),
        declared: None,
        locator: Locator::Direct(0),
    }
}

/// One catalog entry, read from YAML or JSON.
struct Entry {
    id: Option<String>,
    key: Option<&'static str>,
    text: String,
    declared: Option<String>,
}

fn catalog(file: usize, shown: &str, path: &Path, text: &str) -> Result<Vec<Template>> {
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let value: serde_json::Value = if json {
        serde_json::from_str::<JsonCatalog>(text)
            // Column 0 is serde_json's end of a text that ends with a newline; positions are
            // 1-based.
            .map_err(|e| {
                let message = smslint_core::snapshot::strip_position(&e.to_string());
                anyhow!("{shown}:{}:{}: {message}", e.line(), e.column().max(1))
            })?
            .0
    } else {
        if let Some((line, column, refusal)) = smslint_policy::yaml_guard::check(text) {
            bail!("{shown}:{line}:{column}: {}", refusal.message());
        }
        let v: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
            use smslint_policy::locate;
            let mut message = smslint_core::snapshot::strip_position(&e.to_string());
            let Some(l) = e.location() else {
                return anyhow!("{shown}: {message}");
            };
            let (mut line, mut column) = locate::yaml_position(text, l.line(), l.column());
            let mark = locate::offset_of(text, line, column);
            if let Some(help) = locate::tab_help(text, mark, &message) {
                message = format!("{message} ({help})");
            }
            // A duplicate key is reported where its mapping starts; the second one is the
            // line to fix.
            if let Some(second) = locate::duplicate_key(&message)
                .and_then(|key| locate::second_yaml_key(text, mark, key))
            {
                (line, column) = LineIndex::new(text).line_col(text, second);
            }
            anyhow!("{shown}:{line}:{column}: {message}")
        })?;
        serde_json::to_value(v).map_err(|e| anyhow!("{shown}: {e}"))?
    };
    let items: Vec<(Option<String>, serde_json::Value)> = match value {
        serde_json::Value::Array(items) => items.into_iter().map(|v| (None, v)).collect(),
        serde_json::Value::Object(map) => map.into_iter().map(|(k, v)| (Some(k), v)).collect(),
        serde_json::Value::Null => Vec::new(),
        _ => bail!("{shown}: a template catalog is a list of entries or a map from id to entry"),
    };
    let mut cursor = 0;
    let mut out = Vec::new();
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    for (n, (map_key, value)) in items.into_iter().enumerate() {
        let mut key_at = None;
        if let Some(k) = &map_key {
            key_at = find_key(text, cursor, k, 0);
            if let Some(at) = key_at {
                cursor = at + k.len();
            }
        }
        let mut e = entry(&value).map_err(|problem| {
            // Where the entry is: its key in a map; in a list, the first key of an entry
            // object (an item of another kind cannot be told from the text around it).
            let at = key_at.or_else(|| {
                let first = value.as_object()?.keys().next()?;
                find_key(text, cursor, first, 0)
            });
            let which = map_key
                .as_ref()
                .map_or_else(|| format!("item {}", n + 1), |k| format!("`{k}`"));
            match at {
                Some(at) => {
                    let (line, column) = LineIndex::new(text).line_col(text, at);
                    anyhow!("{shown}:{line}:{column}: {which} {problem}")
                }
                None => anyhow!("{shown}: {which} {problem}"),
            }
        })?;
        if let Some(k) = &map_key {
            e.id.get_or_insert_with(|| k.clone());
        }
        let start = match e.key {
            Some(key) => find_key(text, cursor, key, 0).map(|k| value_start(text, k)),
            None => Some(value_start(text, cursor.saturating_sub(1))),
        };
        let start = start.unwrap_or(cursor);
        let locator = locator(text, start, &e.text);
        // Past the value's first character, which may be wider than a byte.
        cursor = ceil_boundary(text, start + 1);
        out.push(Template {
            file,
            id: e.id.unwrap_or_else(|| format!("{stem}#{}", n + 1)),
            text: e.text,
            declared: e.declared,
            locator,
        });
    }
    Ok(out)
}

/// A JSON catalog whose map of entries has each id once: `serde_json` would keep the last of
/// two entries with one id and drop the other unseen (YAML refuses them).
struct JsonCatalog(serde_json::Value);

impl<'de> serde::Deserialize<'de> for JsonCatalog {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> serde::de::Visitor<'de> for Top {
            type Value = serde_json::Value;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of entries or a map from id to entry")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = serde_json::Map::new();
                while let Some(id) = map.next_key::<String>()? {
                    if entries.contains_key(&id) {
                        return Err(serde::de::Error::custom(format!(
                            "the template id {id:?} is used twice; give each entry its own"
                        )));
                    }
                    let entry = map.next_value()?;
                    entries.insert(id, entry);
                }
                Ok(serde_json::Value::Object(entries))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(serde_json::Value::Array(items))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(serde_json::Value::Null)
            }
        }
        d.deserialize_any(Top).map(JsonCatalog)
    }
}

/// One entry of a catalog or a JSON Lines file, or what is wrong with it.
fn entry(value: &serde_json::Value) -> Result<Entry, &'static str> {
    match value {
        serde_json::Value::String(text) => Ok(Entry {
            id: None,
            key: None,
            text: text.clone(),
            declared: None,
        }),
        serde_json::Value::Object(map) => {
            let get = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            let (key, text) = match (get("text"), get("body")) {
                (Some(t), _) => ("text", t),
                (None, Some(b)) => ("body", b),
                (None, None) => return Err("has no \"text\" or \"body\" string"),
            };
            let id = get("id").or_else(|| get("name")).or_else(|| {
                map.get("id")
                    .and_then(serde_json::Value::as_u64)
                    .map(|n| n.to_string())
            });
            Ok(Entry {
                id,
                key: Some(key),
                text,
                declared: get("useCase").or_else(|| get("use_case")),
            })
        }
        _ => Err("is neither a text nor an entry with \"text\""),
    }
}

/// Where a scalar's text lives in the file, from where its value starts.
fn locator(file: &str, start: usize, text: &str) -> Locator {
    let start = ceil_boundary(file, start);
    if matches!(file[start..].chars().next(), Some('"' | '\'')) {
        Locator::Quoted(start)
    } else {
        // A block scalar's text starts on the line after its header (`|`, `>-`, a comment).
        let start = if file[start..].starts_with(['|', '>']) {
            file[start..]
                .find(['\n', '\r'])
                .map_or(file.len(), |i| start + i + 1)
        } else {
            start
        };
        Locator::Runs(runs(file, start, text))
    }
}

/// The runs of a plain or block scalar's `text` as the file holds it from `start`: each
/// character where the file has it next; whitespace of the text where the file has other
/// whitespace (a line break and indent folded into a space, a block's indent dropped); and a
/// character the file does not have next looked for further on.
fn runs(file: &str, start: usize, text: &str) -> Vec<(usize, usize)> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut runs = vec![(0, start)];
    let mut at = start;
    for (offset, c) in text.char_indices() {
        let rest = &file[at..];
        if rest.starts_with(c) {
            at += c.len_utf8();
            continue;
        }
        let skipped = rest.len() - rest.trim_start_matches(is_space).len();
        if is_space(c) {
            // The file's whitespace here, however long, is this character's.
            at += skipped;
            runs.push((offset + c.len_utf8(), at));
            continue;
        }
        let Some(found) = (if rest[skipped..].starts_with(c) {
            Some(skipped)
        } else {
            rest.find(c)
        }) else {
            // Not in the file (a value the locator cannot follow): the rest stays where it is.
            break;
        };
        runs.push((offset, at + found));
        at += found + c.len_utf8();
    }
    runs
}

fn jsonl(file: usize, shown: &str, text: &str) -> Result<Vec<Template>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let line_no = n + 1;
        let body = line.trim_end_matches(['\n', '\r']);
        let base = offset;
        offset += line.len();
        if body.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(body).map_err(|e| {
            let message = smslint_core::snapshot::strip_position(&e.to_string());
            anyhow!("{shown}:{line_no}:{}: {message}", e.column().max(1))
        })?;
        let e =
            entry(&value).map_err(|problem| anyhow!("{shown}:{line_no}:1: the line {problem}"))?;
        let start = e
            .key
            .and_then(|k| find_key(text, base, k, 0))
            .map_or(base, |k| value_start(text, k));
        out.push(Template {
            file,
            id: e.id.unwrap_or_else(|| format!("line {line_no}")),
            locator: locator(text, start, &e.text),
            text: e.text,
            declared: e.declared,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fmt::Write as _;

    /// A catalog entry's text as YAML or JSON writes it, in one of the styles authors use.
    fn scalar(text: &str, style: u8, eol: &str) -> String {
        match style % 4 {
            0 => text.to_owned(),
            1 => serde_json::to_string(text).unwrap_or_default(),
            2 => format!("'{}'", text.replace('\'', "''")),
            _ => {
                let mut block = String::from("|");
                for line in text.split('\n') {
                    block.push_str(eol);
                    block.push_str("  ");
                    block.push_str(line);
                }
                block
            }
        }
    }

    /// `text` as a YAML quoted scalar over several lines: double-quoted with every character
    /// outside ASCII escaped (`\xE9`, `\u2615`, `\U0001F600`), single-quoted, or double-quoted
    /// with escaped line breaks (`\` at a line's end, which joins the lines).
    fn quoted(text: &str, variant: u8, eol: &str) -> String {
        let brk = format!("{eol}  ");
        match variant % 3 {
            0 => {
                let mut out = String::from("\"");
                for c in folded(text, &brk).chars() {
                    let _ = match c {
                        '"' | '\\' => write!(out, "\\{c}"),
                        '\u{80}'..='\u{ff}' => write!(out, "\\x{:02X}", c as u32),
                        '\u{100}'..='\u{ffff}' => write!(out, "\\u{:04x}", c as u32),
                        '\u{10000}'.. => write!(out, "\\U{:08X}", c as u32),
                        _ => write!(out, "{c}"),
                    };
                }
                out + "\""
            }
            1 => format!("'{}'", folded(&text.replace('\'', "''"), &brk)),
            _ => {
                let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{}\"", folded(&escaped, &format!(" \\{brk}")))
            }
        }
    }

    /// `text` with each space between two letters or digits written as `brk`, a line break
    /// and indent that YAML folds back into the space.
    fn folded(text: &str, brk: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let between = i > 0
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric())
                && chars[i - 1].is_alphanumeric();
            if c == ' ' && between {
                out.push_str(brk);
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Every template of a catalog has a position for every offset of its text.
    fn positions_hold(text: &str, templates: &[Template]) -> Result<(), TestCaseError> {
        let lines = text.split('\n').count();
        let file = TemplateFile::new("t".into(), text.to_owned());
        for t in templates {
            for offset in 0..=t.text.len() + 2 {
                let (line, column) = file
                    .lines
                    .line_col(&file.text, t.file_offset(&file, offset));
                prop_assert!(
                    line >= 1 && line <= lines && column >= 1,
                    "{file:?} {offset}"
                );
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn every_offset_of_every_template_has_a_position(
            entries in proptest::collection::vec(
                ("[a-zé]{1,3}", "[a-zé☕ü\"'\\\\:#, -]{0,10}(\n[a-zé ]{1,6})?", 0u8..4),
                1..4,
            ),
            eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            listed in any::<bool>(),
        ) {
            let mut yaml = String::new();
            let mut jsonl = String::new();
            for (key, text, style) in &entries {
                // A block scalar (style 3) only as a map's value: in a flow mapping it is not.
                let _ = if listed {
                    let value = scalar(text, *style % 3, eol);
                    write!(yaml, "- {{ id: {key}, text: {value} }}{eol}")
                } else {
                    write!(yaml, "{key}: {}{eol}", scalar(text, *style, eol))
                };
                let line = serde_json::json!({ "id": key, "text": text });
                let _ = write!(jsonl, "{line}{eol}");
            }
            let map: std::collections::BTreeMap<_, _> =
                entries.iter().map(|(k, t, _)| (k, t)).collect();
            let json = serde_json::to_string_pretty(&map).unwrap_or_default();
            for (name, file) in [("t.yaml", &yaml), ("t.json", &json)] {
                if let Ok(templates) = catalog(0, name, Path::new(name), file) {
                    positions_hold(file, &templates)?;
                }
            }
            if let Ok(templates) = super::jsonl(0, "t.jsonl", &jsonl) {
                positions_hold(&jsonl, &templates)?;
            }
            let text = text_template(0, Path::new("t.txt"), &yaml);
            positions_hold(&yaml, std::slice::from_ref(&text))?;
        }

        #[test]
        fn each_character_of_a_template_is_found_where_its_position_says(
            entries in proptest::collection::vec(
                ("[a-z]{1,3}", "[A-Za-zé☕][A-Za-z0-9é☕.!?$%&()/\"'\\\\ -]{0,14}[A-Za-z0-9é☕.!?]", 0u8..9),
                1..5,
            ),
            eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            shape in 0u8..4,
        ) {
            // Texts without line breaks: each character of the text is written as itself or,
            // in a double-quoted style, as an escape, so the file must hold it (or the escape's
            // backslash) at its position.
            let mut entries = entries;
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|a, b| a.0 == b.0);
            let mut file = String::new();
            let name = match shape {
                0 => {
                    for (key, text, style) in &entries {
                        let value = match style % 9 {
                            // A plain scalar over several lines, and a folded block: YAML folds
                            // each line break between words into a space.
                            4 => folded(text, &format!("{eol}  ")),
                            5 => format!(">-{eol}  {}", folded(text, &format!("{eol}  "))),
                            6..=8 => quoted(text, *style, eol),
                            _ => scalar(text, *style, eol),
                        };
                        let _ = write!(file, "{key}: {value}{eol}");
                    }
                    "t.yaml"
                }
                1 => {
                    for (key, text, style) in &entries {
                        let value = if *style >= 6 {
                            quoted(text, *style, eol)
                        } else {
                            scalar(text, *style % 3, eol)
                        };
                        let _ = write!(file, "- {{ id: {key}, text: {value} }}{eol}");
                    }
                    "t.yaml"
                }
                2 => {
                    let map: std::collections::BTreeMap<_, _> =
                        entries.iter().map(|(k, t, _)| (k, t)).collect();
                    file = serde_json::to_string_pretty(&map).unwrap_or_default();
                    "t.json"
                }
                _ => {
                    // JSON Lines end at LF (a lone CR is not a line end there).
                    let eol = if eol == "\r" { "\n" } else { eol };
                    for (key, text, _) in &entries {
                        let line = serde_json::json!({ "id": key, "text": text });
                        let _ = write!(file, "{line}{eol}");
                    }
                    "t.jsonl"
                }
            };
            let templates = if name == "t.jsonl" {
                super::jsonl(0, name, &file)
            } else {
                catalog(0, name, Path::new(name), &file)
            };
            let templates = templates.map_err(|e| TestCaseError::fail(format!("{e}: {file:?}")))?;
            prop_assert_eq!(templates.len(), entries.len());
            for (t, (_, text, _)) in templates.iter().zip(&entries) {
                // A literal block keeps its last line break.
                prop_assert_eq!(t.text.trim_end_matches('\n'), text, "{:?}", file);
            }
            let shown = TemplateFile::new("t".into(), file.clone());
            let lines: Vec<&str> = file.split('\n').collect();
            for t in &templates {
                // Line breaks and the spaces folded from them are the scalar's style, not the
                // file's characters.
                for (offset, c) in t.text.char_indices().filter(|(_, c)| !c.is_whitespace()) {
                    let (line, column) = shown.lines.line_col(&shown.text, t.file_offset(&shown, offset));
                    let at = lines.get(line - 1).and_then(|l| l.chars().nth(column - 1));
                    // An escaped character is found at its escape's backslash.
                    let escaped = !c.is_ascii_alphanumeric() && at == Some('\\');
                    prop_assert!(at == Some(c) || escaped, "{:?} offset {} at {}:{} in {:?}", t.text, offset, line, column, file);
                }
            }
        }
    }
}
