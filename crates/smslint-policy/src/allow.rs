//! Lint exceptions: `lint.allow` entries, matched by rule and by template id or path glob.

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
    let strip = |s: &str| s.strip_prefix("rule.").unwrap_or(s).to_owned();
    let (want, have) = (strip(entry_rule), strip(code));
    have == want || (have.starts_with(&want) && have[want.len()..].starts_with('.'))
}

/// Whether an allow entry covers a finding `code` on template `id` in file `path`.
pub fn allows(entry: &RawAllow, code: &str, id: &str, path: &str) -> bool {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    rule_applies(&entry.rule, code)
        && (entry.templates.iter().any(|g| glob(g, id))
            || entry.paths.iter().any(|g| glob(g, path)))
}

/// Glob matching: `**` any run of characters, `*` any run without `/`, `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Dynamic programming over (pattern index, text index): linear in their product, no
    // backtracking blow-up on hostile globs.
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
