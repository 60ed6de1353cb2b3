//! Phrases that are not words only ("sign-in", "don't miss", "code:"), found from one byte of
//! each that is not a lowercase letter, digit or space (its anchor) and the byte after it.
//!
//! Every occurrence of a phrase holds its anchor, and the byte after, at the same offset, so
//! looking at each place the text holds an anchor byte, and comparing the phrases anchored
//! there on the same next byte, finds every occurrence. An automaton over these phrases walks a
//! state per byte of every message; here lowercase letters, digits and spaces, which no
//! phrase is anchored on, are passed over 8 bytes at a time by integer tests, other bytes cost
//! a table load, and an anchor byte a bit test, then a comparison with each phrase on its key
//! (found by the key's rank among the keys). With the default policy's 160
//! such phrases, `check --batch` ran 1,450 fewer instructions a message (callgrind, 20,000
//! messages) and its start-up 7 million fewer (no automaton to build).

use std::ops::Range;

use crate::classify::at_word_boundaries;
use crate::swar;

/// Phrases on one key (an anchor byte and the byte after it, or an anchor byte that ends its
/// phrases) at most: past this, a phrase goes to the automaton, so that a text full of one
/// key never costs more than this many comparisons per byte.
const MAX_PER_KEY: usize = 32;

/// Bytes that ordinary text holds often: a phrase is anchored on one of them only when it has
/// no other.
const COMMON: &[u8] = b".,:!?/'";

/// One phrase, with where its anchor is.
#[derive(Clone, Debug)]
struct Entry {
    /// The phrase's index in the policy.
    phrase: u32,
    /// Bytes from the phrase's start to its anchor.
    offset: usize,
    /// The folded phrase.
    text: Box<[u8]>,
}

/// A range of the entries: those anchored on one byte value that end at their anchor, or
/// those of one key.
#[derive(Clone, Debug, Default)]
struct Bucket {
    start: u32,
    end: u32,
}

/// The anchored phrases of a policy.
#[derive(Clone, Debug)]
pub(crate) struct AnchoredPhrases {
    /// Whether a byte value anchors any phrase: the one look most bytes get.
    anchors: [bool; 256],
    /// Which anchor bytes and next bytes key a phrase, as bits `anchor << 8 | next`: most
    /// anchor bytes of a text ("." before a space) key none.
    keys: Vec<u64>,
    /// For each word of `keys`, the keys in the words before it: a key's rank among the keys
    /// is that and the bits below it in its word.
    ranks: Vec<u32>,
    /// The entries of each key, by rank.
    keyed: Vec<Bucket>,
    /// For each byte value, its entries that end at it.
    by_byte: Vec<Bucket>,
    entries: Vec<Entry>,
}

impl AnchoredPhrases {
    /// Anchor what can be anchored of `phrases` (folded, with their indices); the rest is
    /// returned, for the automaton.
    pub(crate) fn new<'a>(
        phrases: impl IntoIterator<Item = (&'a str, u32)>,
    ) -> (AnchoredPhrases, Vec<(&'a str, u32)>) {
        // Per anchor byte: the entries that end at it, and those keyed by their next byte.
        let mut ending: Vec<Vec<Entry>> = vec![Vec::new(); 256];
        let mut keyed: Vec<Vec<Vec<Entry>>> = vec![Vec::new(); 256];
        let mut rest = Vec::new();
        let mut keys = vec![0u64; (256 * 256) / 64];
        for (text, phrase) in phrases {
            let bytes = text.as_bytes();
            let taken = |k: usize| -> usize {
                let b = usize::from(bytes[k]);
                match bytes.get(k + 1) {
                    Some(&n) => keyed[b].get(usize::from(n)).map_or(0, Vec::len),
                    None => ending[b].len(),
                }
            };
            // The rarest kind of byte first, then one with a next byte (fewer phrases share
            // a key), then the emptiest key.
            let best = (0..bytes.len())
                .filter(|&k| {
                    let b = bytes[k];
                    !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' ')
                })
                .filter(|&k| taken(k) < MAX_PER_KEY)
                .min_by_key(|&k| (COMMON.contains(&bytes[k]), k + 1 == bytes.len(), taken(k)));
            let Some(offset) = best else {
                rest.push((text, phrase));
                continue;
            };
            let b = usize::from(bytes[offset]);
            let entry = || Entry {
                phrase,
                offset,
                text: bytes.into(),
            };
            match bytes.get(offset + 1) {
                Some(&n) => {
                    let per_next = &mut keyed[b];
                    if per_next.is_empty() {
                        per_next.resize(256, Vec::new());
                    }
                    per_next[usize::from(n)].push(entry());
                    let key = b << 8 | usize::from(n);
                    keys[key / 64] |= 1 << (key % 64);
                }
                None => ending[b].push(entry()),
            }
        }
        let mut ranks = Vec::with_capacity(keys.len());
        let mut below = 0;
        for word in &keys {
            ranks.push(below);
            below += word.count_ones();
        }
        let mut table = AnchoredPhrases {
            anchors: [false; 256],
            keys,
            ranks,
            keyed: Vec::with_capacity(below as usize),
            by_byte: Vec::with_capacity(256),
            entries: Vec::new(),
        };
        // Keys in rising order, anchor byte then next byte: their order of rank.
        for (b, (end_here, per_next)) in ending.into_iter().zip(keyed).enumerate() {
            let start = table.entries.len() as u32;
            table.entries.extend(end_here);
            let end = table.entries.len() as u32;
            table.by_byte.push(Bucket { start, end });
            for on_next in per_next.into_iter().filter(|e| !e.is_empty()) {
                let start = table.entries.len() as u32;
                table.entries.extend(on_next);
                let end = table.entries.len() as u32;
                table.keyed.push(Bucket { start, end });
            }
            table.anchors[b] = start < table.entries.len() as u32;
        }
        (table, rest)
    }

    /// Call `found(phrase, start..end)` for every occurrence of an anchored phrase in `folded`,
    /// in order of anchor position, at word boundaries. The occurrences of one
    /// phrase come in order of start.
    pub(crate) fn find(&self, folded: &str, mut found: impl FnMut(u32, Range<usize>)) {
        let text = folded.as_bytes();
        let mut check = |e: &Entry, at: usize| {
            let Some(start) = at.checked_sub(e.offset) else {
                return;
            };
            let end = start + e.text.len();
            // The first byte rules out most phrases that share a key, without a call to compare.
            // The bytes match a whole phrase, which is valid UTF-8, so its ends are character
            // boundaries of the text.
            if text.get(start) == e.text.first()
                && text.get(start..end) == Some(&e.text[..])
                && at_word_boundaries(folded, start, end)
            {
                found(e.phrase, start..end);
            }
        };
        let mut visit = |at: usize| {
            let b = text[at];
            let Some(bucket) = self.by_byte.get(usize::from(b)) else {
                return;
            };
            let ending = self.entries.get(bucket.start as usize..bucket.end as usize);
            for e in ending.unwrap_or_default() {
                check(e, at);
            }
            let Some(&next) = text.get(at + 1) else {
                return;
            };
            let key = usize::from(b) << 8 | usize::from(next);
            let Some(&word) = self.keys.get(key / 64) else {
                return;
            };
            let bit = 1u64 << (key % 64);
            if word & bit == 0 {
                return;
            }
            // The key's entries by its rank, not by a search among the anchor byte's entries
            // (a binary search by next byte, a chain of dependent loads and selects, was
            // almost a third of this scan's time).
            let rank = self.ranks.get(key / 64).copied().unwrap_or_default()
                + (word & (bit - 1)).count_ones();
            let Some(keyed) = self
                .keyed
                .get(rank as usize)
                .and_then(|k| self.entries.get(k.start as usize..k.end as usize))
            else {
                return;
            };
            for e in keyed {
                check(e, at);
            }
        };
        // Anchors are never lowercase letters, digits or spaces, most of any text: 8 bytes
        // are tested for those a step, in one integer, and only the other bytes looked up.
        let mut base = 0;
        while let Some(word) = text.get(base..).and_then(swar::load) {
            let mut others = other_bytes(word);
            while others != 0 {
                let at = base + others.trailing_zeros() as usize / 8;
                others &= others - 1;
                if self.anchors[usize::from(text[at])] {
                    visit(at);
                }
            }
            base += 8;
        }
        for (at, &b) in text.iter().enumerate().skip(base) {
            if self.anchors[usize::from(b)] {
                visit(at);
            }
        }
    }
}

/// The high bit of each byte of `word` (8 bytes of text) that is not a lowercase ASCII letter,
/// digit or space.
fn other_bytes(word: u64) -> u64 {
    let plain = swar::in_range(word, b'a', b'z')
        | swar::in_range(word, b'0', b'9')
        | swar::equal(word, b' ');
    !plain & swar::HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(table: &AnchoredPhrases, text: &str) -> Vec<(u32, Range<usize>)> {
        let mut out = Vec::new();
        table.find(text, |p, r| out.push((p, r)));
        out
    }

    #[test]
    fn other_bytes_are_the_bytes_that_are_not_lowercase_digits_or_spaces() {
        let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' ';
        swar::tests::each_word(|bytes| {
            let want = swar::tests::want(bytes, |c| !plain(c));
            assert_eq!(other_bytes(u64::from_le_bytes(bytes)), want, "{bytes:?}");
        });
    }

    #[test]
    fn anchors_on_the_rarest_byte_and_leaves_unanchorable_phrases() {
        let (table, rest) =
            AnchoredPhrases::new([("sign-in", 0), ("code:", 1), ("a  b", 2), ("don't-", 3)]);
        assert_eq!(rest, vec![("a  b", 2)]);
        // "don't-" is anchored on its hyphen, not its apostrophe.
        let anchor = |phrase: u32| {
            let e = table.entries.iter().position(|e| e.phrase == phrase)? as u32;
            table
                .by_byte
                .iter()
                .position(|r| (r.start..r.end).contains(&e))
        };
        assert_eq!(anchor(3), Some(usize::from(b'-')));
        assert_eq!(anchor(1), Some(usize::from(b':')));
        assert_eq!(
            found(&table, "new sign-in: code: 12, sign-ins, code:x"),
            vec![(0, 4..11), (1, 13..18), (1, 33..38)]
        );
    }

    #[test]
    fn every_key_finds_its_own_phrases() {
        // One phrase a key, for keys all over the key bitset: a key's rank names its entries.
        let mut phrases = Vec::new();
        for anchor in ['-', '.', ':', '\'', '/', '&', '#'] {
            for next in ('a'..='z').chain('0'..='9') {
                phrases.push(format!("x{anchor}{next}y"));
            }
        }
        let (table, rest) = AnchoredPhrases::new(
            phrases
                .iter()
                .enumerate()
                .map(|(i, p)| (p.as_str(), i as u32)),
        );
        assert!(rest.is_empty());
        let text = phrases.join(" ");
        let mut at = 0;
        let want: Vec<(u32, Range<usize>)> = phrases
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let r = at..at + p.len();
                at += p.len() + 1;
                (i as u32, r)
            })
            .collect();
        assert_eq!(found(&table, &text), want);
    }

    #[test]
    fn a_crowded_key_sends_the_rest_to_the_automaton() {
        let phrases: Vec<String> = (0..MAX_PER_KEY + 3).map(|i| format!("x{i}-y")).collect();
        let (table, rest) = AnchoredPhrases::new(
            phrases
                .iter()
                .enumerate()
                .map(|(i, p)| (p.as_str(), i as u32)),
        );
        assert_eq!(table.entries.len(), MAX_PER_KEY);
        assert_eq!(rest.len(), 3);
    }
}

#[cfg(test)]
mod properties {
    use aho_corasick::{AhoCorasick, MatchKind};
    use proptest::prelude::*;

    use super::*;

    proptest! {
        // Against the automaton the anchors stand in for: the same occurrences, and for each
        // phrase the same first one.
        #[test]
        fn finds_what_the_automaton_finds(
            phrases in prop::collection::btree_set("(a|b|-|'|é|:| |\\.){1,6}", 1..12),
            text in "(a|b|-|'|é|:| |\\.|x){0,40}",
        ) {
            let phrases: Vec<String> = phrases
                .into_iter()
                .filter(|p| !p.starts_with(' ') && !p.ends_with(' '))
                .collect();
            let (table, rest) =
                AnchoredPhrases::new(phrases.iter().enumerate().map(|(i, p)| (p.as_str(), i as u32)));
            let mut got = Vec::new();
            table.find(&text, |p, r| got.push((p, r)));
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&phrases)
                .unwrap_or_else(|e| panic!("{e}"));
            let anchored = |p: u32| rest.iter().all(|&(_, i)| i != p);
            let mut want: Vec<(u32, Range<usize>)> = ac
                .find_overlapping_iter(&text)
                .filter(|m| at_word_boundaries(&text, m.start(), m.end()))
                .map(|m| (m.pattern().as_u32(), m.range()))
                .filter(|(p, _)| anchored(*p))
                .collect();
            let firsts = |v: &[(u32, Range<usize>)]| {
                let mut f: Vec<(u32, Range<usize>)> = Vec::new();
                for (p, r) in v {
                    if f.iter().all(|(q, _)| q != p) {
                        f.push((*p, r.clone()));
                    }
                }
                f.sort_by_key(|(p, _)| *p);
                f
            };
            prop_assert_eq!(firsts(&got), firsts(&want));
            let key = |(p, r): &(u32, Range<usize>)| (r.start, r.end, *p);
            got.sort_by_key(key);
            want.sort_by_key(key);
            prop_assert_eq!(got, want);
        }
    }
}
