//! Lint exceptions: `lint.allow` entries, matched by rule and by template id or path glob.

use std::borrow::Cow;

use crate::raw::RawAllow;

/// The default placeholder shapes: `{{name}}`, `${name}`, `{name}`, `%s`/`%d`, `[FirstName]`,
/// `<name>`, `%NAME%`.
pub const DEFAULT_PLACEHOLDERS: &[&str] = &[
    r"\{\{\s*[A-Za-z_][A-Za-z0-9_.]*\s*\}\}",
    r"\$\{[A-Za-z_][A-Za-z0-9_.]*\}",
    r"\{[A-Za-z_][A-Za-z0-9_.]*\}",
    r"\B%[sd]\b",
    r"\[(First|Last|Full|Customer|Company|Business|Agent|Store)?\s?(Name|FirstName|LastName)\]",
    r"\[[A-Z][a-z]+[A-Z][A-Za-z]*\]",
    r"<[A-Za-z_][A-Za-z0-9_]*(\s[A-Za-z_][A-Za-z0-9_]*)?>",
    r"%[A-Z][A-Z0-9_]{1,30}%",
];

/// Characters a placeholder is assumed to take when counting segments, unless the policy says.
pub const DEFAULT_PLACEHOLDER_LENGTH: u32 = 12;

/// Whether `code` (a finding's code: `rule.<id>` or a fixed code) is the rule an entry names,
/// or under the dotted prefix it names.
pub fn rule_applies(entry_rule: &str, code: &str) -> bool {
    fn strip(s: &str) -> &str {
        s.strip_prefix("rule.").unwrap_or(s)
    }
    let (want, have) = (strip(entry_rule), strip(code));
    // `have` starts with `want`, so `want.len()` is a character boundary of it.
    have == want || (have.starts_with(want) && have[want.len()..].starts_with('.'))
}

/// Whether an allow entry covers a finding `code` on template `id` in file `path`.
// Asked for every finding and every entry until one covers it: it allocates nothing unless a
// path has a backslash (2,000 entries took a lint of 20,000 templates from 0.22 to 8.7 s when
// each call copied the rule, the path and every glob's characters).
pub fn allows(entry: &RawAllow, code: &str, id: &str, path: &str) -> bool {
    if !rule_applies(&entry.rule, code) {
        return false;
    }
    if entry.templates.iter().any(|g| glob(g, id)) {
        return true;
    }
    if entry.paths.is_empty() {
        return false;
    }
    let path: Cow<'_, str> = if path.contains('\\') {
        Cow::Owned(path.replace('\\', "/"))
    } else {
        Cow::Borrowed(path)
    };
    let path = path.strip_prefix("./").unwrap_or(&path);
    entry.paths.iter().any(|g| glob(g, path))
}

/// Glob matching: `**` any run of characters, `*` any run without `/`, `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    // The literal characters before the first wildcard and after the last must open and end
    // the text: most globs of a long list are refused by that, without the search below.
    let wild = |c: char| c == '*' || c == '?';
    let head = pattern.find(wild).unwrap_or(pattern.len());
    if head == pattern.len() {
        return pattern == text;
    }
    let tail = pattern.rfind(wild).map_or(pattern.len(), |i| i + 1);
    if !text.starts_with(&pattern[..head]) || !text.ends_with(&pattern[tail..]) {
        return false;
    }
    let t: Vec<char> = text.chars().collect();
    // Which text positions the pattern read so far can end at, a row for each step of the
    // pattern: linear in the product of their lengths, no backtracking blow-up on hostile
    // globs, and two rows held at a time.
    let mut reach = vec![false; t.len() + 1];
    let mut next = vec![false; t.len() + 1];
    reach[0] = true;
    let mut p = pattern.chars().peekable();
    while let Some(c) = p.next() {
        let double = c == '*' && p.next_if_eq(&'*').is_some();
        next.fill(false);
        for j in 0..=t.len() {
            if !reach[j] {
                continue;
            }
            match c {
                '*' => {
                    next[j] = true;
                    let mut k = j;
                    while k < t.len() && (double || t[k] != '/') {
                        k += 1;
                        next[k] = true;
                    }
                }
                '?' if j < t.len() && t[j] != '/' => next[j + 1] = true,
                c if j < t.len() && t[j] == c => next[j + 1] = true,
                _ => {}
            }
        }
        std::mem::swap(&mut reach, &mut next);
    }
    reach[t.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("promo.*", "promo.spring"));
        assert!(!glob("promo.*", "welcome"));
        assert!(glob("legacy/**", "legacy/a/b.txt"));
        assert!(!glob("legacy/*", "legacy/a/b.txt"));
        assert!(glob("**/*.yaml", "x/y/z.yaml"));
        assert!(glob("t?st", "test"));
        assert!(glob("*", "anything"));
        assert!(!glob("", "x"));
    }

    /// The glob as it was written first: a table of every pattern and text position.
    fn glob_by_table(pattern: &str, text: &str) -> bool {
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = text.chars().collect();
        let mut reach = vec![vec![false; t.len() + 1]; p.len() + 1];
        reach[0][0] = true;
        let mut i = 0;
        while i < p.len() {
            let double = p[i] == '*' && p.get(i + 1) == Some(&'*');
            let step = if double { 2 } else { 1 };
            for j in 0..=t.len() {
                if !reach[i][j] {
                    continue;
                }
                match p[i] {
                    '*' => {
                        reach[i + step][j] = true;
                        let mut k = j;
                        while k < t.len() && (double || t[k] != '/') {
                            k += 1;
                            reach[i + step][k] = true;
                        }
                    }
                    '?' if j < t.len() && t[j] != '/' => reach[i + 1][j + 1] = true,
                    c if j < t.len() && t[j] == c => reach[i + 1][j + 1] = true,
                    _ => {}
                }
            }
            i += step;
        }
        reach[p.len()][t.len()]
    }

    /// Every string of up to `max` characters of `alphabet`.
    fn strings(alphabet: &[char], max: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn globs_match_as_the_table_does_for_every_short_pattern_and_text() {
        let patterns = strings(&['a', 'é', '/', '*', '?'], 4);
        let texts = strings(&['a', 'é', 'b', '/'], 4);
        for p in &patterns {
            for t in &texts {
                assert_eq!(glob(p, t), glob_by_table(p, t), "{p:?} {t:?}");
            }
        }
    }

    #[test]
    fn paths_with_backslashes_or_a_leading_dot_slash_are_matched_as_written_with_slashes() {
        let entry = RawAllow {
            rule: "link".into(),
            templates: vec![],
            paths: vec!["legacy/**".into()],
            reason: "r".into(),
        };
        for path in [
            "legacy/a.json",
            "./legacy/a.json",
            "legacy\\a.json",
            ".\\legacy\\b\\c.yaml",
        ] {
            assert!(
                allows(&entry, "rule.link.public_shortener", "t", path),
                "{path}"
            );
        }
        assert!(!allows(&entry, "rule.links", "t", "legacy/a.json"));
        assert!(!allows(
            &entry,
            "rule.link.public_shortener",
            "t",
            "new/a.json"
        ));
    }

    #[test]
    fn rules_by_id_prefix_or_code() {
        assert!(rule_applies("prohibited", "rule.prohibited.alcohol"));
        assert!(rule_applies(
            "rule.link.public_shortener",
            "rule.link.public_shortener"
        ));
        assert!(rule_applies("content.unclassified", "content.unclassified"));
        assert!(!rule_applies("prohibited.alc", "rule.prohibited.alcohol"));
    }
}
