//! A guard against YAML that costs far more to parse than its size: aliases and deep nesting.
//!
//! An alias (`*name`) repeats its anchored node wherever it appears, so a 1 MB file with a 1 MB
//! anchored string and a thousand aliases deserializes into gigabytes (measured: 49 s and 7.8 GB
//! for 2,000). Policies have `extends` to share rules, so aliases are refused outright, in
//! policies, policy test files and template catalogs; anchors alone are harmless and allowed.
//!
//! The YAML scanner keeps one pending "simple key" per open flow collection (`[`, `{`) and looks
//! at all of them for every token, so a file of `n` nested brackets takes time in `n²`: 100,000
//! of them (200 kB) take over 20 s. No policy needs more than a few levels, and the deserializer
//! refuses more than 128 anyway, so this scan refuses a file that opens more than
//! [`MAX_FLOW_DEPTH`] before the parser sees it.
//!
//! The scan follows YAML's lexical rules only as far as depth needs: comments, quoted scalars
//! (which open only where a value starts, as in YAML, so `don't` inside a plain scalar is not a
//! quote), and brackets, which open a collection where a value starts or anywhere inside a flow
//! collection (plain scalars there cannot hold them).

/// The most YAML flow collections a policy may nest.
pub const MAX_FLOW_DEPTH: usize = 100;

/// Why a YAML text is refused before parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A flow collection opens deeper than [`MAX_FLOW_DEPTH`].
    TooDeep,
    /// An alias (`*name`).
    Alias,
}

impl Refusal {
    /// What is wrong, for a diagnostic.
    pub fn message(self) -> String {
        match self {
            Refusal::TooDeep => format!(
                "flow collections (`[`, `{{`) are nested more than {MAX_FLOW_DEPTH} levels deep"
            ),
            Refusal::Alias => "YAML aliases (`*name`) are not accepted, because each one copies \
                its anchored node again; write the value out (a policy can share rules with \
                `extends`)"
                .to_owned(),
        }
    }
}

/// The first reason to refuse `text`, if any, with its 1-based line and column (in characters).
pub fn check(text: &str) -> Option<(usize, usize, Refusal)> {
    scan(text).map(|(at, refusal)| {
        let (line, column) = crate::locate::line_col(text, at);
        (line, column, refusal)
    })
}

/// The first reason to refuse `text` and the byte offset it is at, if any.
pub fn scan(text: &str) -> Option<(usize, Refusal)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // Whether the next non-blank character starts a node (a key or a value).
    let mut value_start = true;
    let mut line_start = 0usize;
    // The column of the node that a block scalar or a plain scalar's continuation lines belong
    // to: the last key or `-` entry on this line, or the line's indentation.
    let mut node_col = 0usize;
    // The column where the token being read began, when it began a node.
    let mut token_col = 0usize;
    // A plain scalar value is open: lines indented more than this continue it.
    let mut plain_parent: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let col = i - line_start;
        match b {
            b'\n' => {
                line_start = i + 1;
                if depth == 0 {
                    let indent = count_spaces(bytes, line_start);
                    let next = bytes.get(line_start + indent).copied();
                    let blank = matches!(next, None | Some(b'\n' | b'\r'));
                    match plain_parent {
                        // A continuation line of a plain scalar holds no indicators.
                        Some(parent) if blank || indent > parent => value_start = false,
                        _ => {
                            value_start = true;
                            plain_parent = None;
                        }
                    }
                    node_col = indent;
                    token_col = indent;
                }
            }
            b' ' | b'\t' | b'\r' => {}
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                // A comment runs to the end of the line.
                i = line_end(bytes, i);
                continue;
            }
            b'-' | b'.' if col == 0 && is_document_marker(&bytes[i..]) => {
                i += 3;
                value_start = true;
                continue;
            }
            b'\'' | b'"' if value_start => {
                token_col = col;
                plain_parent = None;
                i = quoted_end(bytes, i);
                value_start = false;
                continue;
            }
            b'&' | b'!' if value_start => {
                // An anchor or a tag: the node itself follows it.
                while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
                    i += 1;
                }
                continue;
            }
            // A plain scalar cannot start with `*`: where a node starts, it is an alias.
            b'*' if value_start => return Some((i, Refusal::Alias)),
            b'|' | b'>' if value_start && depth == 0 => {
                // A block scalar: its lines are text, whatever they hold.
                i = block_scalar_end(bytes, i, node_col);
                plain_parent = None;
                continue;
            }
            b'[' | b'{' if value_start || depth > 0 => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some((i, Refusal::TooDeep));
                }
                plain_parent = None;
                value_start = true;
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                value_start = false;
            }
            b',' if depth > 0 => value_start = true,
            b':' if depth > 0 || is_blank_at(bytes, i + 1) => {
                // A value indicator (inside a flow collection, any `:` is one).
                node_col = token_col;
                plain_parent = None;
                value_start = true;
            }
            b'-' | b'?' if value_start && is_blank_at(bytes, i + 1) => {
                node_col = col;
                token_col = col;
            }
            _ => {
                if value_start {
                    token_col = col;
                    if depth == 0 {
                        plain_parent = Some(node_col);
                    }
                }
                value_start = false;
            }
        }
        i += 1;
    }
    None
}

/// Whether the byte at `i` is a blank, a line end or the end of the text.
fn is_blank_at(bytes: &[u8], i: usize) -> bool {
    matches!(bytes.get(i), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

/// Whether a line starts with `---` or `...` followed by a blank.
fn is_document_marker(line: &[u8]) -> bool {
    (line.starts_with(b"---") || line.starts_with(b"...")) && is_blank_at(line, 3)
}

/// The number of spaces at `from`.
fn count_spaces(bytes: &[u8], from: usize) -> usize {
    bytes[from.min(bytes.len())..]
        .iter()
        .take_while(|&&b| b == b' ')
        .count()
}

/// The offset of the newline that ends the block scalar whose header is at `from`: its content
/// is every following line that is blank or indented more than `parent`.
fn block_scalar_end(bytes: &[u8], from: usize, parent: usize) -> usize {
    let mut end = line_end(bytes, from);
    while end < bytes.len() {
        let next = end + 1;
        let indent = count_spaces(bytes, next);
        let blank = matches!(bytes.get(next + indent), None | Some(b'\n' | b'\r'));
        if !(blank || indent > parent) {
            break;
        }
        end = line_end(bytes, next);
    }
    end
}

/// The offset of the newline that ends the line `from` is on (the text's length on the last).
fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// The offset just past the quoted scalar that opens at `from`.
fn quoted_end(bytes: &[u8], from: usize) -> usize {
    let quote = bytes[from];
    let mut i = from + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            // In single quotes, '' is an escaped quote.
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> String {
        format!("name: {}{}\n", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn refuses_deep_flow_collections() {
        assert_eq!(scan(&nested(MAX_FLOW_DEPTH)), None);
        assert_eq!(
            scan(&nested(MAX_FLOW_DEPTH + 1)),
            Some(("name: ".len() + MAX_FLOW_DEPTH, Refusal::TooDeep))
        );
        let mixed = format!("a: {}\n", "{x: [".repeat(60));
        assert_eq!(scan(&mixed).map(|r| r.1), Some(Refusal::TooDeep));
    }

    #[test]
    fn refuses_aliases_but_not_anchors_or_stars_in_scalars() {
        let text = "description: &d text\nname: *d\n";
        assert_eq!(
            scan(text),
            Some((text.find('*').unwrap_or(0), Refusal::Alias))
        );
        assert_eq!(
            scan("brand_names: [a, *d]\n").map(|r| r.1),
            Some(Refusal::Alias)
        );
        assert_eq!(scan("list:\n  - *d\n").map(|r| r.1), Some(Refusal::Alias));
        for text in [
            "description: &d text\n",
            "regex: a*b\n",
            "regex: '*a'\n",
            "phrase: \"*bold*\"\n",
            "# *not an alias\n",
            "text: 5 * 3\n",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }

    #[test]
    fn brackets_in_scalars_and_comments_do_not_count() {
        let brackets = "[".repeat(500);
        for text in [
            format!("regex: a{brackets}\n"),
            format!("regex: '{brackets}'\n"),
            format!("regex: \"\\\"{brackets}\"\n"),
            format!("# {brackets}\nname: x\n"),
            format!("name: don't {brackets}\n"),
            format!("list:\n  - '{brackets}'\n  - \"it''s\"\n"),
            format!("flow: ['a''{brackets}', \"{brackets}\"]\n"),
        ] {
            assert_eq!(scan(&text), None, "{text}");
        }
    }

    #[test]
    fn a_plain_quote_does_not_hide_what_follows() {
        // `don't` is inside a plain scalar, so the brackets on the next line are real.
        let text = format!("a: b - don't\nc: {}\n", "[".repeat(200));
        assert_eq!(scan(&text).map(|r| r.1), Some(Refusal::TooDeep));
    }

    #[test]
    fn block_scalars_and_plain_continuations_are_text() {
        for text in [
            "text: |\n  *Terms apply\n  [Acme] your code\n  'quoted\nnext: x\n",
            "- id: a\n  text: >-\n    *bold*\n\n    {{name}}\n- id: b\n",
            "text: Big sale\n  *terms apply\nnext: x\n",
            "- Big sale\n  *terms apply\n",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
        // Lines at the parent's indentation end a block scalar and are read again.
        let text = "- text: |\n    body\n  other: *a\n";
        assert_eq!(scan(text).map(|r| r.1), Some(Refusal::Alias), "{text}");
        let text = "text: plain\nnext: *a\n";
        assert_eq!(scan(text).map(|r| r.1), Some(Refusal::Alias), "{text}");
    }

    #[test]
    fn anchors_tags_and_markers_do_not_hide_what_follows() {
        let deep = "[".repeat(MAX_FLOW_DEPTH + 1);
        for text in [
            format!("a: &x {deep}\n"),
            format!("a: !!seq {deep}\n"),
            format!("--- {deep}\n"),
            format!("{{\"a\":{deep}\n"),
        ] {
            assert_eq!(scan(&text).map(|r| r.1), Some(Refusal::TooDeep), "{text}");
        }
        assert_eq!(scan("a: &x *y\n").map(|r| r.1), Some(Refusal::Alias));
    }

    #[test]
    fn policies_that_ship_pass() {
        assert_eq!(scan(crate::load::BASE_POLICY_YAML), None);
    }
}
