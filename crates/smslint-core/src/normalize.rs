//! Folding message text for keyword matching, with a map back to the original bytes.
//!
//! One pass over the text, character by character:
//!
//! 1. compatibility decomposition (the "K" of NFKC: fullwidth `Ａ` → `A`, `ﬁ` → `fi`, `²` → `2`);
//! 2. combining marks dropped, which strips accents (`é` → `e`);
//! 3. lowercasing (Unicode, so `Ä` → `a` and `Σ` → `σ`);
//! 4. zero-width and other invisible format characters removed;
//! 5. every run of whitespace collapsed to one ASCII space.
//!
//! Keywords go through the same function when the policy is compiled, so a keyword matches any
//! spelling that folds to the same text. Because marks are dropped, composition (the "C" of NFKC)
//! would change nothing that matching sees, so it is skipped.
//!
//! Each folded byte remembers the original character it came from, so a match in the folded
//! text maps back to a [`Span`] of whole characters of the original.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use crate::span::Span;

/// A message's text, folded for matching, with the way back to the original bytes.
#[derive(Clone, Debug)]
pub struct NormalizedText<'a> {
    original: &'a str,
    folded: String,
    /// For each byte of `folded`, the original byte range of the character it came from.
    /// Empty when folding kept every byte in place (ASCII text without whitespace runs).
    map: Vec<(u32, u32)>,
}

impl<'a> NormalizedText<'a> {
    /// Fold `original` for matching.
    pub fn new(original: &'a str) -> Self {
        if original.is_ascii() && !has_whitespace_run(original.as_bytes()) {
            // ASCII without whitespace runs folds byte for byte: no map needed.
            let folded = original
                .bytes()
                .map(|b| {
                    if b.is_ascii_whitespace() {
                        ' '
                    } else {
                        char::from(b.to_ascii_lowercase())
                    }
                })
                .collect();
            return NormalizedText {
                original,
                folded,
                map: Vec::new(),
            };
        }
        let mut folded = String::with_capacity(original.len());
        let mut map = Vec::with_capacity(original.len());
        let mut last_space = false;
        for (start, c) in original.char_indices() {
            let end = start + c.len_utf8();
            let span = (start as u32, end as u32);
            let mut push = |ch: char, folded: &mut String, map: &mut Vec<(u32, u32)>| {
                if ch.is_whitespace() {
                    if last_space {
                        return;
                    }
                    last_space = true;
                    folded.push(' ');
                    map.push(span);
                    return;
                }
                last_space = false;
                folded.push(ch);
                for _ in 0..ch.len_utf8() {
                    map.push(span);
                }
            };
            if c.is_ascii() {
                push(c.to_ascii_lowercase(), &mut folded, &mut map);
                continue;
            }
            if is_invisible(c) {
                continue;
            }
            if is_combining_mark(c) {
                // A mark dropped after its base letter still belongs to it: widen the base's
                // span so a match never ends between a letter and its accent.
                if let Some(&prev) = map.last() {
                    for m in map.iter_mut().rev().take_while(|m| **m == prev) {
                        m.1 = end as u32;
                    }
                }
                continue;
            }
            if c.is_whitespace() {
                push(' ', &mut folded, &mut map);
                continue;
            }
            decompose_compatible(c, |d| {
                if is_combining_mark(d) {
                    return;
                }
                for l in d.to_lowercase() {
                    if !is_combining_mark(l) && !is_invisible(l) {
                        push(l, &mut folded, &mut map);
                    }
                }
            });
        }
        NormalizedText {
            original,
            folded,
            map,
        }
    }

    /// The text as given.
    pub fn original(&self) -> &'a str {
        self.original
    }

    /// The folded text that keywords are matched against.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// The original span of folded bytes `start..end` (whole original characters).
    pub fn to_original(&self, start: usize, end: usize) -> Span {
        if self.map.is_empty() {
            return Span::new(start, end);
        }
        if start >= end || start >= self.map.len() {
            let at = self
                .map
                .get(start)
                .map_or(self.original.len() as u32, |m| m.0);
            return Span { start: at, end: at };
        }
        let first = self.map[start];
        let last = self.map[(end - 1).min(self.map.len() - 1)];
        Span {
            start: first.0,
            end: last.1,
        }
    }
}

/// Fold a phrase the way message text is folded, for compiling keywords.
pub fn fold(text: &str) -> String {
    NormalizedText::new(text).folded.trim().to_owned()
}

fn has_whitespace_run(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .any(|w| w[0].is_ascii_whitespace() && w[1].is_ascii_whitespace())
}

/// Characters that render as nothing and are used to split words invisibly.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'              // soft hyphen
        | '\u{034F}'            // combining grapheme joiner
        | '\u{061C}'            // Arabic letter mark
        | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}' // zero-width space, joiners, direction marks
        | '\u{202A}'..='\u{202E}' // bidi embeddings
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{206F}'
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FEFF}'            // zero-width no-break space
        | '\u{E0000}'..='\u{E007F}' // tags
        | '\u{E0100}'..='\u{E01EF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        NormalizedText::new(s).folded().to_owned()
    }

    #[test]
    fn folds_case_accents_width_and_invisibles() {
        assert_eq!(folded("Café CRÈME"), "cafe creme");
        assert_eq!(folded("ＦＲＥＥ ｇｉｆｔ"), "free gift");
        assert_eq!(folded("fr\u{200B}ee"), "free");
        assert_eq!(folded("out \t\n  for\u{00A0}delivery"), "out for delivery");
        assert_eq!(folded("ﬁnal"), "final");
    }

    #[test]
    fn ascii_without_runs_is_identity_mapped() {
        let n = NormalizedText::new("Out For Delivery");
        assert_eq!(n.folded(), "out for delivery");
        assert!(n.map.is_empty());
        assert_eq!(n.to_original(4, 7), Span::new(4, 7));
    }

    #[test]
    fn maps_back_to_original_characters() {
        let text = "Ｓａｌｅ:  Crème  brûlée";
        let n = NormalizedText::new(text);
        assert_eq!(n.folded(), "sale: creme brulee");
        let at = n.folded().find("creme brulee").unwrap();
        let span = n.to_original(at, at + "creme brulee".len());
        assert_eq!(&text[span.range()], "Crème  brûlée");
        let span = n.to_original(0, 4);
        assert_eq!(&text[span.range()], "Ｓａｌｅ");
    }

    #[test]
    fn decomposed_accents_map_to_the_base_and_mark() {
        let text = "cafe\u{0301} ok";
        let n = NormalizedText::new(text);
        assert_eq!(n.folded(), "cafe ok");
        let span = n.to_original(0, 4);
        // The combining mark is dropped but stays inside the span of its base letter.
        assert_eq!(&text[span.range()], "cafe\u{0301}");
    }
}
