//! Phrases made only of words, found by looking up the message's own words and word runs.
//!
//! Most keywords of a policy (all of a learned layer's) are one or two whole words. Finding them
//! with the keyword automaton costs a state walk per byte, a report per occurrence of every
//! phrase that is a suffix of the text so far, and a word-boundary check per report. Looking up
//! each word of the folded text, and each run of words separated by single spaces, in a hash
//! table finds exactly the same matches (a word-only phrase at word boundaries starts where a
//! word starts and ends where one ends) for one lookup per word, and builds in well under a
//! millisecond instead of tens.

use std::collections::HashMap;
use std::ops::Range;

use foldhash::fast::FixedState;

use crate::swar;

/// Whether `c` is a word character: a match must not continue a word on either side.
pub(crate) fn is_word_char(c: char) -> bool {
    is_alphanumeric(c) || c == '_'
}

/// `c.is_alphabetic()`. The standard test searches a table for every character beyond ASCII,
/// and normalising text in Cyrillic asked it 6 to 8 times a character: 40% of the time of a
/// Russian message, which took ten times an English one. The letters of the scripts most SMS
/// text is written in are answered by their ranges (an exhaustive test holds this to the
/// standard test for every character).
#[inline]
pub(crate) fn is_alphabetic(c: char) -> bool {
    match c as u32 {
        0..=0x7F => c.is_ascii_alphabetic(),
        // Latin-1 letters, Latin Extended-A and -B, IPA
        0xC0..=0xD6 | 0xD8..=0xF6 | 0xF8..=0x2C1
        // Greek and Cyrillic
        | 0x38E..=0x3A1 | 0x3A3..=0x3F5 | 0x3F7..=0x481 | 0x48A..=0x52F
        // Hebrew, Arabic, Devanagari, Thai
        | 0x5D0..=0x5EA | 0x620..=0x657 | 0x8F0..=0x93B | 0xE01..=0xE3A
        // Latin Extended Additional (Vietnamese), Greek Extended's first letters
        | 0x1E00..=0x1F15
        // Hiragana, Katakana, CJK ideographs and Yi, Hangul syllables
        | 0x3041..=0x3096 | 0x30A1..=0x30FA | 0x4E00..=0xA48C | 0xAC00..=0xD7A3 => true,
        _ => c.is_alphabetic(),
    }
}

/// `c.is_alphanumeric()`, with [`is_alphabetic`]'s ranges.
#[inline]
pub(crate) fn is_alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        is_alphabetic(c) || c.is_numeric()
    }
}

/// Whether a folded phrase is words separated by single spaces (and so can be looked up).
pub(crate) fn is_word_phrase(folded: &str) -> bool {
    // One pass, not a split at spaces: it runs for every phrase at start-up.
    let mut word = 0usize;
    for c in folded.chars() {
        if c == ' ' {
            if word == 0 {
                return false;
            }
            word = 0;
        } else if is_word_char(c) {
            word += 1;
        } else {
            return false;
        }
    }
    word > 0
}

/// A run of words that begins some phrase, a node of the word trie, as its number and what the
/// search needs of it: the phrase it completes ([`NO_PHRASE`] when none), and [`EXTENDS`] when
/// some longer phrase continues it with another word. Both live in the slot that a lookup
/// finds the node by, so following a run loads no second table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Node {
    id: u32,
    info: u32,
}

/// In [`Node::info`]: no phrase ends here.
const NO_PHRASE: u32 = EXTENDS - 1;
/// In [`Node::info`]: a longer phrase continues the run.
const EXTENDS: u32 = 1 << 31;

/// A word of the text that some phrase holds: where it is, and its node in the table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Word {
    at: Range<u32>,
    node: Node,
}

/// Every word-only phrase, as a trie over word numbers: one string lookup per word of the
/// text, then integer lookups to follow a run of words.
#[derive(Clone, Debug, Default)]
pub(crate) struct WordTable {
    /// Each word of any phrase, and its number; number `n` is also the trie node of the run
    /// made of that word alone.
    vocabulary: Vocabulary,
    /// (node, next word) → the node of the longer run.
    edges: IntMap,
}

impl WordTable {
    /// A table of `phrases` (folded, word-only), each standing for its index (below
    /// [`NO_PHRASE`]; a phrase past it is left out).
    pub(crate) fn new<'a>(phrases: impl IntoIterator<Item = (&'a str, u32)>) -> WordTable {
        let mut t = WordTable::default();
        let phrases: Vec<(&str, u32)> = phrases
            .into_iter()
            .filter(|&(_, index)| index < NO_PHRASE)
            .collect();
        // Sized once, so that building does not rehash as the maps grow: at most one new word
        // per phrase on average (a learned layer's pairs reuse its words), one edge per pair.
        let pairs = phrases.iter().filter(|(p, _)| p.contains(' ')).count();
        t.vocabulary.short = IntMap::with_capacity(phrases.len());
        t.edges = IntMap::with_capacity(pairs);
        // What each node's slots will say, by node number.
        let mut infos: Vec<u32> = Vec::new();
        // Number the words first, so that a word's number is its one-word node; keep each
        // phrase's word numbers for the runs.
        let mut numbers: Vec<u32> = Vec::with_capacity(phrases.len() + pairs);
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(phrases.len());
        for (phrase, _) in &phrases {
            let start = numbers.len();
            for word in phrase.split(' ') {
                let fresh = infos.len() as u32;
                let id = t.vocabulary.number(word, fresh);
                if id == fresh {
                    infos.push(NO_PHRASE);
                }
                numbers.push(id);
            }
            spans.push((start, numbers.len()));
        }
        for ((_, index), (start, end)) in phrases.into_iter().zip(spans) {
            let mut node = None;
            for &id in &numbers[start..end] {
                node = Some(match node {
                    None => id,
                    Some(parent) => {
                        infos[parent as usize] |= EXTENDS;
                        let fresh = infos.len() as u32;
                        let child = t.edges.get_or_insert(edge(parent, id), fresh);
                        if child == fresh {
                            infos.push(NO_PHRASE);
                        }
                        child
                    }
                });
            }
            if let Some(node) = node {
                let info = &mut infos[node as usize];
                *info = *info & EXTENDS | index;
            }
        }
        let info_of = |id: u32| infos.get(id as usize).copied().unwrap_or(NO_PHRASE);
        t.vocabulary.short.set_infos(info_of);
        for node in t.vocabulary.long.values_mut() {
            node.info = info_of(node.id);
        }
        t.edges.set_infos(info_of);
        t
    }

    /// [`WordTable::find_with`] without a call for each word.
    #[cfg(test)]
    pub(crate) fn find(
        &self,
        folded: &str,
        words: &mut Vec<Word>,
        found: impl FnMut(u32, Range<usize>),
    ) {
        self.find_with(folded, words, |_| {}, found);
    }

    /// Call `found(phrase, start..end)` for every occurrence of a phrase in `folded`, by byte
    /// range, in order of start; `words` is scratch for the text's words. `each_word(end)` is
    /// called with the end of every word of the text as it is split off, before the runs of
    /// words are followed (nothing is split when no phrase is made of words).
    // Never inlined: in a function of its own, the split, the lookups and the pattern walk a
    // caller runs along with them reload fewer values from the stack at each byte of the walk
    // than inside `classify_into`: 26,276 -> 26,144 instructions a message, the same wall clock.
    #[inline(never)]
    pub(crate) fn find_with(
        &self,
        folded: &str,
        words: &mut Vec<Word>,
        mut each_word: impl FnMut(usize),
        mut found: impl FnMut(u32, Range<usize>),
    ) {
        if self.vocabulary.is_empty() {
            return;
        }
        words.clear();
        let bytes = folded.as_bytes();
        for at in Split::new(folded) {
            each_word(at.end as usize);
            // Bytes, not `str`: a `str` range checks both ends for character boundaries, which
            // the split already keeps to.
            let word = bytes
                .get(at.start as usize..at.end as usize)
                .unwrap_or_default();
            // Only the words some phrase holds: a run of words needs each of them, and a word
            // left out between two others leaves a gap that the run's next test sees.
            if let Some(node) = self.vocabulary.get(word) {
                words.push(Word { at, node });
            }
        }
        for (i, first) in words.iter().enumerate() {
            let (mut node, mut end) = (first.node, first.at.end as usize);
            let mut rest = words[i + 1..].iter();
            loop {
                let phrase = node.info & !EXTENDS;
                if phrase != NO_PHRASE {
                    found(phrase, first.at.start as usize..end);
                }
                if node.info & EXTENDS == 0 {
                    break;
                }
                // A longer phrase needs a known word next, after exactly one space.
                let Some(next) = rest.next() else { break };
                if next.at.start as usize != end + 1 || bytes[end] != b' ' {
                    break;
                }
                let Some(child) = self.edges.get(edge(node.id, next.node.id)) else {
                    break;
                };
                (node, end) = (child, next.at.end as usize);
            }
        }
    }
}

fn edge(node: u32, word: u32) -> u64 {
    u64::from(node) << 32 | u64::from(word)
}

/// Words and their nodes. Most words are at most 8 bytes: those are keyed by the bytes packed
/// into an integer, so a lookup hashes one integer and compares one, with no string comparison.
/// (A word holds no NUL byte, so zero padding cannot make two words equal.)
#[derive(Clone, Debug, Default)]
struct Vocabulary {
    short: IntMap,
    long: HashMap<Box<[u8]>, Node, FixedState>,
}

impl Vocabulary {
    // Inlined into the per-word loop: left to itself the compiler has called it, at about 27
    // instructions a word (`#[inline]` alone did not change that: callgrind, 40,615 per message
    // against 39,804).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn get(&self, word: &[u8]) -> Option<Node> {
        match pack(word) {
            Some(key) => self.short.get(key),
            None => self.long.get(word).copied(),
        }
    }

    /// The number of `word`, which becomes `fresh` when it has none yet.
    fn number(&mut self, word: &str, fresh: u32) -> u32 {
        let word = word.as_bytes();
        if let Some(key) = pack(word) {
            return self.short.get_or_insert(key, fresh);
        }
        if let Some(node) = self.long.get(word) {
            return node.id;
        }
        self.long.insert(
            word.into(),
            Node {
                id: fresh,
                info: NO_PHRASE,
            },
        );
        fresh
    }

    fn is_empty(&self) -> bool {
        self.short.len == 0 && self.short.vacant_key.is_none() && self.long.is_empty()
    }
}

/// A map from integers to trie nodes for the lookups of every word of every message: open
/// addressing in one array, at most half full, so a lookup is a multiply, a load and mostly one
/// compare (a general hash map spent about 60 instructions on each).
#[derive(Clone, Debug, Default)]
struct IntMap {
    /// Key and node; [`VACANT`] marks a free slot. The length is zero or a power of two.
    slots: Vec<(u64, Node)>,
    len: usize,
    /// The node of the key [`VACANT`] itself, which no slot can hold.
    vacant_key: Option<Node>,
}

/// The key of a free slot.
const VACANT: u64 = u64::MAX;

impl IntMap {
    /// A map that holds `n` keys without growing.
    fn with_capacity(n: usize) -> IntMap {
        IntMap {
            slots: vec![(VACANT, Node::default()); (n * 2).next_power_of_two().max(16)],
            ..IntMap::default()
        }
    }

    fn get(&self, key: u64) -> Option<Node> {
        if key == VACANT {
            return self.vacant_key;
        }
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = slot_of(key) & mask;
        loop {
            let (k, v) = *self.slots.get(i)?;
            if k == key {
                return Some(v);
            }
            if k == VACANT {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// The node number of `key`, inserting `id` first when it has none.
    fn get_or_insert(&mut self, key: u64, id: u32) -> u32 {
        let node = Node {
            id,
            info: NO_PHRASE,
        };
        self.entry(key, node).id
    }

    /// The node of `key`, inserting `node` first when it has none.
    fn entry(&mut self, key: u64, node: Node) -> Node {
        if key == VACANT {
            return *self.vacant_key.get_or_insert(node);
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = slot_of(key) & mask;
        loop {
            let (k, v) = self.slots[i];
            if k == key {
                return v;
            }
            if k == VACANT {
                self.slots[i] = (key, node);
                self.len += 1;
                return node;
            }
            i = (i + 1) & mask;
        }
    }

    /// Give every node its info, by node number.
    fn set_infos(&mut self, info_of: impl Fn(u32) -> u32) {
        for (key, node) in &mut self.slots {
            if *key != VACANT {
                node.info = info_of(node.id);
            }
        }
        if let Some(node) = &mut self.vacant_key {
            node.info = info_of(node.id);
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![(VACANT, Node::default()); size]);
        self.len = 0;
        for (k, v) in old {
            // Whole nodes, info and all, whenever the map grows.
            if k != VACANT {
                self.entry(k, v);
            }
        }
    }
}

/// Where `key` starts probing: the high and low halves of a 128-bit product folded together,
/// so every bit of the key reaches the low bits that pick the slot.
fn slot_of(key: u64) -> usize {
    let product = u128::from(key) * 0x9E37_79B9_7F4A_7C15;
    (product as u64 ^ (product >> 64) as u64) as usize
}

/// The bytes of a word of 1 to 8 bytes, little-endian in an integer.
fn pack(b: &[u8]) -> Option<u64> {
    let n = b.len();
    // Two reads that overlap when the word is shorter than twice their size: the overlapping
    // bytes are the same bytes at the same places, so OR-ing them is exact (a variable-length
    // copy would call memcpy for every word of every message).
    Some(match n {
        4..=8 => {
            let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
            u64::from(lo) | u64::from(hi) << (8 * (n - 4))
        }
        1..=3 => {
            u64::from(b[0])
                | u64::from(b[n / 2]) << (8 * (n / 2))
                | u64::from(b[n - 1]) << (8 * (n - 1))
        }
        _ => return None,
    })
}

/// The byte ranges of the words of `text`: maximal runs of word characters (letters, digits,
/// `_`), the units keyword boundaries are drawn between.
pub fn word_ranges(text: &str) -> Vec<(usize, usize)> {
    Split::new(text)
        .map(|at| (at.start as usize, at.end as usize))
        .collect()
}

/// What a byte says about word characters: an ASCII word character, another ASCII byte, or
/// part of a non-ASCII character, which must be decoded.
const ASCII_OTHER: u8 = 0;
const ASCII_WORD: u8 = 1;
const NON_ASCII: u8 = 2;

static BYTE_CLASS: [u8; 256] = {
    let mut t = [NON_ASCII; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = if b.is_ascii_alphanumeric() || b == b'_' {
            ASCII_WORD
        } else {
            ASCII_OTHER
        };
        i += 1;
    }
    t
};

/// Whether the character at byte `i` of `text` (a character boundary) is a word character,
/// and its length in bytes.
fn char_at(text: &str, i: usize) -> (bool, usize) {
    match text[i..].chars().next() {
        Some(c) => (is_word_char(c), c.len_utf8()),
        None => (false, 1),
    }
}

/// The byte ranges of the maximal runs of word characters of a text, in order.
// Eight bytes a step: where they are all ASCII, integer tests mark the word characters and the
// places where a run starts or stops, and only those places are visited (callgrind, 50,000
// messages: 30,850 -> 30,621 instructions a message against a table look at every byte).
// Other bytes are decoded a character at a time. An iterator, so that the caller's work on
// each word is written, and inlined, once.
struct Split<'a> {
    text: &'a str,
    /// The next byte to look at.
    at: usize,
    /// Where the current run started, when `in_word`.
    start: usize,
    in_word: bool,
    /// The starts and stops not yet visited in the 8 bytes from `base`, as high bits.
    changes: u64,
    base: usize,
}

impl<'a> Split<'a> {
    fn new(text: &'a str) -> Split<'a> {
        Split {
            text,
            at: 0,
            start: 0,
            in_word: false,
            changes: 0,
            base: 0,
        }
    }
}

impl Iterator for Split<'_> {
    type Item = Range<u32>;

    #[inline]
    fn next(&mut self) -> Option<Range<u32>> {
        let bytes = self.text.as_bytes();
        loop {
            while self.changes != 0 {
                let at = self.base + (self.changes.trailing_zeros() / 8) as usize;
                self.changes &= self.changes - 1;
                self.in_word = !self.in_word;
                if self.in_word {
                    self.start = at;
                } else {
                    return Some(self.start as u32..at as u32);
                }
            }
            let Some(&b) = bytes.get(self.at) else {
                if self.in_word {
                    self.in_word = false;
                    return Some(self.start as u32..bytes.len() as u32);
                }
                return None;
            };
            // The last bytes, fewer than 8, go one at a time below.
            let chunk = swar::load(&bytes[self.at..]).unwrap_or(swar::HIGH);
            if chunk & swar::HIGH == 0 {
                let words = ascii_word_bytes(chunk);
                // A byte whose kind differs from the byte before it starts or stops a run.
                self.changes = words ^ (words << 8 | if self.in_word { 0x80 } else { 0 });
                self.base = self.at;
                self.at += 8;
                continue;
            }
            let (is_word, len) = match BYTE_CLASS[usize::from(b)] {
                ASCII_WORD => (true, 1),
                ASCII_OTHER => (false, 1),
                _ => char_at(self.text, self.at),
            };
            let at = self.at;
            self.at += len;
            if is_word != self.in_word {
                self.in_word = is_word;
                if is_word {
                    self.start = at;
                } else {
                    return Some(self.start as u32..at as u32);
                }
            }
        }
    }
}

/// The word characters (ASCII letters, digits, `_`) among 8 ASCII bytes, as high bits.
fn ascii_word_bytes(chunk: u64) -> u64 {
    // What `swar::in_range` and `swar::equal` test, without their masks for non-ASCII bytes.
    // Each byte is under 0x80, so no sum carries into the next byte; setting bit 5 maps
    // exactly the letters, of either case, onto `a..=z`.
    use swar::ONES;
    let at_least = |v: u64, lo: u8| v + ONES * u64::from(0x80 - lo);
    let in_range = |v: u64, lo: u8, hi: u8| at_least(v, lo) & !at_least(v, hi + 1);
    let lower = chunk | (ONES * 0x20);
    let underscore = !((chunk ^ (ONES * u64::from(b'_'))) + ONES * 0x7F);
    (in_range(lower, b'a', b'z') | in_range(chunk, b'0', b'9') | underscore) & swar::HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_by_their_ranges_are_what_the_standard_tests_say_for_every_character() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            assert_eq!(is_alphabetic(c), c.is_alphabetic(), "{:#X}", c as u32);
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{:#X}", c as u32);
        }
    }

    fn found(table: &WordTable, text: &str) -> Vec<(u32, &'static str)> {
        let mut words = Vec::new();
        let mut out = Vec::new();
        table.find(text, &mut words, |p, r| {
            out.push((p, &*String::from(&text[r]).leak()));
        });
        out
    }

    #[test]
    fn finds_words_and_runs_of_words_at_word_boundaries() {
        let t = WordTable::new([
            ("order", 0),
            ("out for delivery", 1),
            ("for", 2),
            ("café", 3),
        ]);
        assert_eq!(
            found(
                &t,
                "your order is out for delivery, reorder at café_x or café."
            ),
            [
                (0, "order"),
                (1, "out for delivery"),
                (2, "for"),
                (3, "café")
            ]
        );
    }

    #[test]
    fn a_run_of_words_needs_single_spaces() {
        let t = WordTable::new([("out for", 0)]);
        assert!(found(&t, "out, for").is_empty());
        assert!(found(&t, "out  for").is_empty());
        // A word no phrase holds, between two that one does, breaks the run.
        assert!(found(&t, "out xyz for").is_empty());
        assert_eq!(
            found(&t, "out for out for"),
            [(0, "out for"), (0, "out for")]
        );
    }

    #[test]
    fn packs_words_of_up_to_8_bytes_as_their_bytes() {
        for word in [
            "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "é", "ñé",
        ] {
            let mut buf = [0u8; 8];
            buf[..word.len()].copy_from_slice(word.as_bytes());
            assert_eq!(
                pack(word.as_bytes()),
                Some(u64::from_le_bytes(buf)),
                "{word}"
            );
        }
        assert_eq!(pack(b""), None);
        assert_eq!(pack(b"abcdefghi"), None);
    }

    #[test]
    fn marks_the_ascii_word_bytes_exactly() {
        crate::swar::tests::each_word(|bytes| {
            if bytes.iter().all(u8::is_ascii) {
                let want =
                    crate::swar::tests::want(bytes, |b| b.is_ascii_alphanumeric() || b == b'_');
                assert_eq!(
                    ascii_word_bytes(u64::from_le_bytes(bytes)),
                    want,
                    "{bytes:?}"
                );
            }
        });
    }

    #[test]
    fn tells_word_phrases() {
        assert!(is_word_phrase("out for delivery"));
        assert!(is_word_phrase("niño_2"));
        assert!(!is_word_phrase("% off"));
        assert!(!is_word_phrase("t.co"));
        assert!(!is_word_phrase("a  b"));
        assert!(!is_word_phrase(""));
        assert!(!is_word_phrase(" a"));
        assert!(!is_word_phrase("a "));
        assert!(!is_word_phrase("a b-c"));
        assert!(is_word_phrase("a b c"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::classify::at_word_boundaries;

    /// Every occurrence of each phrase at word boundaries, found the slow way.
    fn naive(phrases: &[String], text: &str) -> Vec<(u32, Range<usize>)> {
        let mut out = Vec::new();
        for (i, p) in phrases.iter().enumerate() {
            // Overlapping occurrences too ("b b" twice in "b b b").
            for (at, _) in text.char_indices() {
                if text[at..].starts_with(p.as_str()) && at_word_boundaries(text, at, at + p.len())
                {
                    out.push((i as u32, at..at + p.len()));
                }
            }
        }
        out.sort_by_key(|(p, r)| (r.start, r.end, *p));
        out
    }

    proptest! {
        // Keys that share their low bits (small ones, and multiples of 2^32 as edges make),
        // and the key that marks a free slot, against the standard map.
        #[test]
        fn the_integer_map_answers_as_a_hash_map_does(
            inserts in prop::collection::vec(
                (prop_oneof![0u64..64, (0u64..64).prop_map(|k| k << 32), Just(VACANT), any::<u64>()], any::<u32>()),
                0..200,
            ),
            probes in prop::collection::vec(
                prop_oneof![0u64..128, (0u64..128).prop_map(|k| k << 32), Just(VACANT), any::<u64>()],
                0..50,
            ),
        ) {
            let mut map = IntMap::default();
            let mut want = HashMap::new();
            for &(k, v) in &inserts {
                prop_assert_eq!(map.get_or_insert(k, v), *want.entry(k).or_insert(v));
            }
            for k in probes.iter().chain(inserts.iter().map(|(k, _)| k)) {
                prop_assert_eq!(map.get(*k).map(|n| n.id), want.get(k).copied());
            }
            prop_assert!(map.slots.is_empty() || map.len * 2 <= map.slots.len());
        }
    }

    proptest! {
        // Runs of word characters of many lengths, broken by ASCII and non-ASCII characters of
        // both kinds.
        #[test]
        fn splits_where_word_characters_start_and_stop(
            text in "([a-zA-Z0-9_]{0,12}|[ ,.'`@\\[{-]|é|·|—|🎉|ß){0,24}",
        ) {
            prop_assert_eq!(word_ranges(&text), split_by_characters(&text));
        }

        // ASCII texts: every ASCII byte, and words of many lengths, then maybe a non-ASCII
        // character.
        #[test]
        fn splits_ascii_text_as_by_characters(
            text in "[\\x00-\\x7f]{0,80}|([a-zA-Z0-9_]{0,12}[ -/:-@\\[-`{-~]){0,10}(é|🎉)?[a-z_ ]{0,20}",
        ) {
            prop_assert_eq!(word_ranges(&text), split_by_characters(&text));
        }
    }

    /// Word ranges found character by character: the reference.
    fn split_by_characters(text: &str) -> Vec<(usize, usize)> {
        let mut want = Vec::new();
        let mut start = None;
        for (at, c) in text.char_indices() {
            match (is_word_char(c), start) {
                (true, None) => start = Some(at),
                (false, Some(s)) => {
                    want.push((s, at));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            want.push((s, text.len()));
        }
        want
    }

    proptest! {
        // Words of up to 8 bytes are looked up as integers and longer ones as strings
        // ("babababa" is 8 bytes, "ababababé" 10): the phrases and texts hold both.
        #[test]
        fn finds_what_a_search_at_word_boundaries_finds(
            phrases in prop::collection::btree_set(
                "(ab|b|ba|é|_|babababa|ababababé)( (ab|b|ba|é|_|babababa|ababababé)){0,2}",
                1..8,
            ),
            text in "((ab|b|ba|é|_|x|babababa|ababababé)( |  |,|-|·|)){0,16}",
        ) {
            let phrases: Vec<String> = phrases.into_iter().collect();
            let table = WordTable::new(phrases.iter().enumerate().map(|(i, p)| (p.as_str(), i as u32)));
            let mut got = Vec::new();
            table.find(&text, &mut Vec::new(), |p, r| got.push((p, r)));
            got.sort_by_key(|(p, r)| (r.start, r.end, *p));
            prop_assert_eq!(got, naive(&phrases, &text));
        }
    }
}
