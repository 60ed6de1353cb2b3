//! Folding message text for keyword matching, with a map back to the original bytes.
//!
//! One pass over the text, character by character:
//!
//! 1. compatibility decomposition (the "K" of NFKC: fullwidth `Ａ` → `A`, `ﬁ` → `fi`, `²` → `2`);
//! 2. combining marks dropped, which strips accents (`é` → `e`);
//! 3. lowercasing (Unicode, so `Ä` → `a` and `Σ` → `σ`);
//! 4. zero-width and other invisible format characters removed;
//! 5. every run of whitespace collapsed to one ASCII space;
//! 6. evasions undone: letters spaced out with one separator (`f.r.e.e`, `c a s h`) joined;
//!    Cyrillic and Greek lookalikes in a word that has a Latin letter (or only lookalikes)
//!    read as Latin (`ѕаle` → `sale`); and in a word with letters, the digits and symbols used as
//!    letters read as letters (`fr33` → `free`, `c4$h` → `cash`). A number alone stays a number.
//!
//! Keywords go through the same function when the policy is compiled, so a keyword matches any
//! spelling that folds to the same text. Because marks are dropped, composition (the "C" of NFKC)
//! would change nothing that matching sees, so it is skipped.
//!
//! Each folded byte remembers the original character it came from, so a match in the folded
//! text maps back to a [`Span`] of whole characters of the original.

use std::borrow::Cow;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use crate::span::Span;
use crate::swar;
use crate::words::{is_alphabetic, is_alphanumeric};

/// A message's text, folded for matching, with the way back to the original bytes.
#[derive(Clone, Debug)]
pub struct NormalizedText<'a> {
    original: &'a str,
    folded: String,
    /// For each byte of `folded`, the original byte range of the character it came from.
    /// Empty when folding kept every character in place: ASCII text without whitespace runs,
    /// and text whose other characters each fold to one of the same length (emoji, quotes).
    map: Vec<(u32, u32)>,
    /// Whether, with an empty map, the text has characters of more than one byte, which a
    /// span must not cut.
    wide: bool,
}

impl<'a> NormalizedText<'a> {
    /// Fold `original` for matching.
    pub fn new(original: &'a str) -> Self {
        Self::with_buffers(original, String::new(), Vec::new())
    }

    /// Fold `original` into the given buffers (cleared first), so a stream of messages reuses
    /// the same allocations ([`NormalizedText::into_buffers`] gives them back).
    pub fn with_buffers(original: &'a str, folded: String, mut map: Vec<(u32, u32)>) -> Self {
        map.clear();
        let mut out = folded.into_bytes();
        // Most texts fold byte for byte: ASCII, and text whose other characters fold to
        // themselves or to one of their length (emoji, quotes, dashes). No map is needed then,
        // unless a whitespace run or an evasion other than leetspeak (which is ASCII for
        // ASCII, inside words of ASCII letters) makes the general path rewrite the text. The
        // rare cases are checked exactly after the cheap pass says they may be there. Both look
        // at the folded bytes, as the general path does: a tab or a newline is a space there,
        // so `a\tb c` is spaced out on either path.
        if let Some(others) = fold_in_place(original, &mut out) {
            let flags = ascii_flags(&out);
            let evasions = if flags.runs {
                Evasions::Other
            } else {
                evasions(&out, flags, others)
            };
            if evasions != Evasions::Other {
                if evasions == Evasions::Leet {
                    fold_ascii_leet(&mut out);
                }
                return NormalizedText {
                    original,
                    folded: folded_string(out),
                    map,
                    wide: others.any,
                };
            }
        }
        Self::slow(original, out, map)
    }

    /// The general path: character by character, with the map back to the original. `out` is
    /// a buffer to fold into (cleared first).
    fn slow(original: &'a str, out: Vec<u8>, map: Vec<(u32, u32)>) -> Self {
        let (folded, map) = first_pass(original, out, map);
        // Most non-ASCII text (accents, emoji) holds no evasion: skip the second pass then.
        let bytes = folded.as_bytes();
        let others = swar::NonAscii::new(&folded).fold(Others::default(), |o, (_, c)| o.with(c));
        let (folded, map) = match evasions(bytes, ascii_flags(bytes), others) {
            Evasions::Other => undo_evasions(original, &folded, &map),
            Evasions::Leet => {
                let mut out = folded.into_bytes();
                fold_ascii_leet(&mut out);
                (folded_string(out), map)
            }
            Evasions::None => (folded, map),
        };
        NormalizedText {
            original,
            folded,
            map,
            wide: false,
        }
    }

    /// The buffers, for the next message.
    pub fn into_buffers(self) -> (String, Vec<(u32, u32)>) {
        (self.folded, self.map)
    }

    /// The text as given.
    pub fn original(&self) -> &'a str {
        self.original
    }

    /// Where, in the original, what the first `end` bytes of the folded text came from ends.
    #[inline]
    pub(crate) fn original_end(&self, end: usize) -> usize {
        if self.map.is_empty() {
            return end;
        }
        end.checked_sub(1)
            .and_then(|last| self.map.get(last))
            .map_or(0, |m| m.1 as usize)
    }

    /// The folded text that keywords are matched against.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// The original span of folded bytes `start..end` (whole original characters).
    #[inline]
    pub fn to_original(&self, start: usize, end: usize) -> Span {
        if self.map.is_empty() {
            // Folded in place: the same characters at the same places. In ASCII no span cuts
            // a character; elsewhere a match's span, the common case, keeps to their
            // boundaries already.
            let text = self.original;
            if !self.wide {
                return Span::new(start, end);
            }
            if start < end
                && end <= text.len()
                && text.is_char_boundary(start)
                && text.is_char_boundary(end)
            {
                return Span::new(start, end);
            }
            return self.widened(start, end);
        }
        self.mapped(start, end)
    }

    /// [`NormalizedText::to_original`] of text folded in place, for a span that cuts a
    /// character (widened to it, as the map would) or is empty (kept empty, as there).
    fn widened(&self, start: usize, end: usize) -> Span {
        let text = self.original;
        let floor = |i: usize| {
            let mut i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let ceil = |i: usize| {
            let mut i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i += 1;
            }
            i
        };
        if start >= end {
            return Span::new(floor(start), floor(start));
        }
        Span::new(floor(start), ceil(end))
    }

    /// [`NormalizedText::to_original`] by the map.
    fn mapped(&self, start: usize, end: usize) -> Span {
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

/// What the second pass must do to text that steps 1 to 5 folded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Evasions {
    /// Nothing: no evasion.
    None,
    /// Leetspeak alone, among words of ASCII letters only (the non-ASCII characters left are
    /// symbols and emoji, outside every word): the byte rule ([`fold_ascii_leet`]) gives what
    /// the general pass would, byte for byte, so a map stays as it is.
    Leet,
    /// Spaced-out letters, lookalikes, or leetspeak beside non-ASCII letters: [`undo_evasions`].
    Other,
}

/// What the second pass needs to know of the characters of folded text that are not ASCII.
#[derive(Clone, Copy, Debug, Default)]
struct Others {
    /// Any such character.
    any: bool,
    /// A Cyrillic or Greek lookalike of a Latin letter.
    lookalikes: bool,
    /// A letter or digit.
    alphanumeric: bool,
}

impl Others {
    /// These facts with folded character `c` added.
    fn with(self, c: char) -> Others {
        Others {
            any: true,
            lookalikes: self.lookalikes || confusable(c).is_some(),
            alphanumeric: self.alphanumeric || is_alphanumeric(c),
        }
    }
}

/// The evasions in folded text (steps 1 to 5 done), given its [`ascii_flags`] and what its
/// other characters are.
fn evasions(folded: &[u8], flags: AsciiFlags, others: Others) -> Evasions {
    // The byte tests look at ASCII bytes only (the bytes of other characters have no class),
    // so they hold for any folded text (a property test runs the general path against its
    // earlier, plain form).
    let spaced = flags.spaced && has_spaced_run(folded);
    if spaced || others.lookalikes || (flags.leet && others.alphanumeric) {
        Evasions::Other
    } else if flags.leet {
        Evasions::Leet
    } else {
        Evasions::None
    }
}

/// Folding steps 1 to 5 into `out` byte for byte, when every character keeps its place: ASCII
/// by the byte fold, and each other character folding to one character of its own length (not
/// whitespace); with what the second pass needs to know of those. `None`, with `out` half
/// written, when a character does not; whitespace runs are left for the caller to find
/// ([`AsciiFlags::runs`]).
fn fold_in_place(original: &str, out: &mut Vec<u8>) -> Option<Others> {
    out.clear();
    // The byte fold leaves the bytes of other characters as they are.
    out.extend(original.bytes().map(fold_ascii_byte));
    let mut others = Others::default();
    // Most texts are ASCII, which a word-wide test tells faster than the search below.
    if original.is_ascii() {
        return Some(others);
    }
    for (at, c) in swar::NonAscii::new(original) {
        let f = fold_char_alone(c).filter(|f| f.len_utf8() == c.len_utf8())?;
        f.encode_utf8(out.get_mut(at..at + f.len_utf8())?);
        others = others.with(f);
    }
    Some(others)
}

/// What steps 1 to 4 fold `c` to when it is a Cyrillic or Greek letter without a
/// decomposition: itself, or its lowercase a fixed offset on. The general fold decomposes each
/// character and searches the case tables; text in those scripts took most of its time there
/// (a test holds this to the general fold for every character it answers).
#[inline]
fn fold_by_offset(c: char) -> Option<char> {
    let u = c as u32;
    let folded = match u {
        // а..я and А..Я, not й and Й, which decompose to и and a breve.
        0x430..=0x44F if u != 0x439 => u,
        0x410..=0x42F if u != 0x419 => u + 0x20,
        // α..ω and Α..Ω (U+03A2 is unassigned).
        0x3B1..=0x3C9 => u,
        0x391..=0x3A9 if u != 0x3A2 => u + 0x20,
        _ => return None,
    };
    char::from_u32(folded)
}

/// The one character that `c` (not ASCII) folds to by steps 1 to 4 as [`first_pass`] folds
/// it, when it folds to exactly one that is not whitespace; `None` otherwise.
fn fold_char_alone(c: char) -> Option<char> {
    if let Some(l) = fold_by_offset(c) {
        return Some(l);
    }
    if is_invisible(c) || is_combining_mark(c) || c.is_whitespace() {
        return None;
    }
    if ('\u{1F300}'..='\u{1FAFF}').contains(&c) {
        return Some(c);
    }
    let (mut one, mut count) = (None, 0);
    decompose_compatible(c, |d| {
        if is_combining_mark(d) {
            return;
        }
        for l in d.to_lowercase() {
            if !is_combining_mark(l) && !is_invisible(l) {
                one = Some(l);
                count += 1;
            }
        }
    });
    one.filter(|l| count == 1 && !l.is_whitespace())
}

/// Folding steps 1 to 5 (decomposition, marks, case, invisible characters, whitespace), with
/// one map entry per folded byte; the evasions of step 6 are left for [`undo_evasions`].
fn first_pass(
    original: &str,
    mut out: Vec<u8>,
    mut map: Vec<(u32, u32)>,
) -> (String, Vec<(u32, u32)>) {
    // Bytes, so that ASCII goes in without a character's encoding; valid UTF-8 throughout.
    out.clear();
    map.clear();
    // Exactly: a buffer kept from a shorter text would otherwise double, and for a long text
    // the map is 8 bytes a byte (a 1 MB text's took 15.5 MB where 8 do).
    out.reserve_exact(original.len());
    map.reserve_exact(original.len());
    let mut last_space = false;
    let bytes = original.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        // ASCII runs, the bulk of most non-ASCII texts, take the byte path.
        if bytes[start].is_ascii() {
            let run_end = bytes[start..]
                .iter()
                .position(|b| !b.is_ascii())
                .map_or(bytes.len(), |p| start + p);
            let run = &bytes[start..run_end];
            let space = |b: u8| CLASS[usize::from(b)] & WS != 0;
            let collapses =
                (last_space && space(run[0])) || run.windows(2).any(|w| space(w[0]) && space(w[1]));
            if collapses {
                for (i, &b) in (start..).zip(run) {
                    if space(b) && last_space {
                        continue;
                    }
                    last_space = space(b);
                    out.push(ASCII_FOLD[usize::from(b)]);
                    map.push((i as u32, i as u32 + 1));
                }
            } else {
                // Byte for byte: copies of known length, without a check per byte.
                out.extend(run.iter().map(|&b| ASCII_FOLD[usize::from(b)]));
                map.extend((start as u32..run_end as u32).map(|k| (k, k + 1)));
                last_space = run.last().is_some_and(|&b| space(b));
            }
            start = run_end;
            continue;
        }
        let Some(c) = original[start..].chars().next() else {
            break;
        };
        let end = start + c.len_utf8();
        let span = (start as u32, end as u32);
        start = end;
        let mut push = |ch: char, out: &mut Vec<u8>, map: &mut Vec<(u32, u32)>| {
            if ch.is_whitespace() {
                if last_space {
                    return;
                }
                last_space = true;
                out.push(b' ');
                map.push(span);
                return;
            }
            last_space = false;
            let mut buffer = [0; 4];
            let encoded = ch.encode_utf8(&mut buffer).as_bytes();
            out.extend_from_slice(encoded);
            let encoded = encoded.len();
            map.extend(std::iter::repeat_n(span, encoded));
        };
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
            push(' ', &mut out, &mut map);
            continue;
        }
        // Emoji and pictographs have no compatibility decomposition, no case and no marks:
        // kept as they are without the table lookups.
        if ('\u{1F300}'..='\u{1FAFF}').contains(&c) {
            push(c, &mut out, &mut map);
            continue;
        }
        if let Some(l) = fold_by_offset(c) {
            push(l, &mut out, &mut map);
            continue;
        }
        decompose_compatible(c, |d| {
            if is_combining_mark(d) {
                return;
            }
            for l in d.to_lowercase() {
                if !is_combining_mark(l) && !is_invisible(l) {
                    push(l, &mut out, &mut map);
                }
            }
        });
    }
    (folded_string(out), map)
}

/// The bytes folding wrote, as text. Folding writes whole characters and replaces ASCII bytes
/// with ASCII bytes, so they are always UTF-8; the fallback is unreachable but keeps the
/// function total.
fn folded_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Fold a phrase the way message text is folded, for compiling keywords.
pub fn fold(text: &str) -> String {
    fold_cow(text).into_owned()
}

/// [`fold`], borrowing the phrase when it is folded already, as a learned layer's all are.
pub fn fold_cow(text: &str) -> Cow<'_, str> {
    // Loading folds each phrase several times.
    if is_plainly_folded(text) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(NormalizedText::new(text).folded.trim().to_owned())
}

/// Whether `text` folds to nothing (only spaces, invisible characters, marks), without making
/// the folded copy for the usual phrase, which folds to itself.
pub fn folds_to_empty(text: &str) -> bool {
    !is_plainly_folded(text) && fold(text).is_empty()
}

/// Whether folding leaves `text` as it is, by a cheap sufficient test: words of two or more
/// lowercase ASCII letters, or of digits only, separated by single spaces. (Single characters
/// could be spaced-out letters, and digits among letters read as letters.)
fn is_plainly_folded(text: &str) -> bool {
    // One pass over the bytes: at start-up this runs for every phrase, several times, and
    // splitting at spaces cost a search call per word.
    let (mut len, mut digits) = (0usize, false);
    for &b in text.as_bytes() {
        if b == b' ' {
            if len < 2 {
                return false;
            }
            len = 0;
            continue;
        }
        let digit = b.is_ascii_digit();
        if !(digit || b.is_ascii_lowercase()) || (len > 0 && digit != digits) {
            return false;
        }
        (len, digits) = (len + 1, digit);
    }
    len >= 2
}

/// Lowercase ASCII, with every ASCII whitespace byte as a space: the fast path's fold.
static ASCII_FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_whitespace() {
            b' '
        } else {
            b.to_ascii_lowercase()
        };
        i += 1;
    }
    t
};

/// [`ASCII_FOLD`] of a byte (a byte of another character unchanged) by comparisons rather
/// than a table load, so that the compiler folds 16 bytes a step.
fn fold_ascii_byte(b: u8) -> u8 {
    let upper = u8::from(b.wrapping_sub(b'A') < 26) << 5;
    let space = 0u8.wrapping_sub(u8::from(matches!(b, b'\t' | b'\n' | 0x0C | b'\r')));
    (b | upper) & !space | (b' ' & space)
}

/// Byte classes for the fast path's checks.
const WS: u8 = 1;
const ALPHA: u8 = 2;
const LEET: u8 = 4;
const SEP: u8 = 8;
const ALNUM: u8 = 16;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_whitespace() {
            c |= WS;
        }
        if b.is_ascii_alphabetic() {
            c |= ALPHA;
        }
        if matches!(
            b,
            b'0' | b'1' | b'3' | b'4' | b'5' | b'7' | b'8' | b'@' | b'$'
        ) {
            c |= LEET;
        }
        if matches!(
            b,
            b'.' | b'-' | b'_' | b' ' | b'*' | b'/' | b'|' | b'+' | b'~'
        ) {
            c |= SEP;
        }
        if b.is_ascii_alphanumeric() {
            c |= ALNUM;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// What one pass over folded bytes finds: where folding in place must give up or do more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AsciiFlags {
    /// Two whitespace bytes in a row.
    runs: bool,
    /// A leet digit or symbol next to a letter.
    leet: bool,
    /// Two lone alphanumerics with the same separator byte between and before them
    /// (` a b`, `.r.e`): a possible spaced-out run, for `has_spaced_run` to confirm.
    spaced: bool,
}

/// [`AsciiFlags`] of `bytes`, 32 positions a step: the byte classes of a window are loaded
/// once, and the tests of each position are bitwise operations on them, which the compiler
/// runs as vector operations (two table loads a position and a second pass for the spaced-out
/// test cost about 1,700 instructions a message).
fn ascii_flags(bytes: &[u8]) -> AsciiFlags {
    // Position `i` reads bytes `i..i + 5`: the pair tests two of them, the spaced-out test (as
    // in the tests' `may_space_out`) all five; `e` is the class of the fifth, 0 past the end.
    fn at(a: u8, b: u8, d: u8, e: u8, same: bool) -> (u8, u8, u8) {
        let same = 0u8.wrapping_sub(u8::from(same));
        (
            a & b & WS,
            ((a & ALPHA) << 1) & b & LEET | ((b & ALPHA) << 1) & a & LEET,
            // SEP << 1 is ALNUM: a separator between two lone alphanumerics.
            same & ((a & SEP) << 1) & b & d & !e & ALNUM,
        )
    }
    // The tests of the 32 positions a window starts, OR-ed together (windows of 16 loaded 20
    // classes for 16 positions: 256 instructions a message more). Always inlined: with
    // `#[inline]` alone the text cost 120 instructions more a message.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn window(w: &[u8; 36]) -> (u8, u8, u8) {
        let mut class = [0u8; 36];
        for (c, &b) in class.iter_mut().zip(w) {
            *c = CLASS[usize::from(b)];
        }
        let (mut runs, mut leets, mut spaced) = (0u8, 0u8, 0u8);
        for j in 0..32 {
            let found = at(
                class[j],
                class[j + 1],
                class[j + 3],
                class[j + 4],
                w[j + 2] == w[j],
            );
            runs |= found.0;
            leets |= found.1;
            spaced |= found.2;
        }
        (runs, leets, spaced)
    }
    let (mut runs, mut leets, mut spaced) = (0u8, 0u8, 0u8);
    let mut add = |found: (u8, u8, u8)| {
        runs |= found.0;
        leets |= found.1;
        spaced |= found.2;
    };
    let mut i = 0;
    while let Some(w) = bytes.get(i..).and_then(|r| r.first_chunk::<36>()) {
        add(window(w));
        i += 32;
    }
    // The last positions (fewer than 36 bytes are left), in windows padded with NUL, whose
    // class is empty as the text's end is: a pair or a spaced-out run that reaches into the
    // padding finds nothing, as one that reaches past the end does. One byte at a time with
    // bounds checks, they cost about 600 instructions a message.
    let rest = bytes.get(i..).unwrap_or_default();
    let mut padded = [0u8; 68];
    if let Some(head) = padded.get_mut(..rest.len()) {
        head.copy_from_slice(rest);
    }
    if let (Some(first), Some(second)) = (
        padded.first_chunk::<36>(),
        padded.get(32..).and_then(|r| r.first_chunk::<36>()),
    ) {
        add(window(first));
        if rest.len() > 32 {
            add(window(second));
        }
    }
    AsciiFlags {
        runs: runs != 0,
        leet: leets != 0,
        spaced: spaced != 0,
    }
}

/// Whether two lone characters follow each other with one separator (` a b `, `.r.e.`), the
/// start of a possible spaced-out run: rare in ordinary text, and only then is the exact check
/// ([`has_spaced_run`]) worth running. The rule [`ascii_flags`] computes, written plainly for
/// the tests that hold it to the rule.
#[cfg(test)]
fn may_space_out(bytes: &[u8]) -> bool {
    let alnum = |b: u8| CLASS[usize::from(b)] & ALNUM != 0;
    let n = bytes.len();
    for i in 0..n.saturating_sub(3) {
        let s = bytes[i];
        // The cheap test first: the same byte two places on (most bytes fail it).
        if bytes[i + 2] == s
            && CLASS[usize::from(s)] & SEP != 0
            && alnum(bytes[i + 1])
            && alnum(bytes[i + 3])
            && (i + 4 == n || !alnum(bytes[i + 4]))
        {
            return true;
        }
    }
    false
}

/// Whether three or more single characters stand spaced out with one separator (`f.r.e`),
/// as [`join_spaced_letters`] would join them.
fn has_spaced_run(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let single = |i: usize| {
        bytes[i].is_ascii_alphanumeric()
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && (i + 1 == n || !bytes[i + 1].is_ascii_alphanumeric())
    };
    let mut i = 0;
    while i < n {
        if !single(i) {
            i += 1;
            continue;
        }
        let mut count = 1;
        let mut j = i;
        if j + 2 < n && is_separator(char::from(bytes[j + 1])) {
            let sep = bytes[j + 1];
            while j + 2 < n && bytes[j + 1] == sep && single(j + 2) {
                count += 1;
                j += 2;
            }
        }
        if count >= 3 {
            return true;
        }
        i = j + 1;
    }
    false
}

/// Whether a leet digit or symbol touches a letter somewhere: the rule [`ascii_flags`]
/// computes, written plainly for the tests that hold it to the rule.
#[cfg(test)]
fn has_leet(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| {
        (is_leet_ascii(w[0]) && w[1].is_ascii_alphabetic())
            || (w[0].is_ascii_alphabetic() && is_leet_ascii(w[1]))
    })
}

/// Fold leetspeak in folded ASCII, in place: the same rule as [`fold_words`], byte for byte.
// Only a word with a leet byte can change, so only those are visited: the leet bytes are found
// 8 a step by integer tests, and each one's word is found around it. Looking at every byte of
// the text, with a `match` or a class load and its tests for each, cost about 3,000
// instructions for each text that came here (times and prices send many: "4pm", "$10").
fn fold_ascii_leet(bytes: &mut [u8]) {
    let class = |bytes: &[u8], i: usize| bytes.get(i).map_or(0, |&b| CLASS[usize::from(b)]);
    // Whether the byte at `i` belongs to a word: letters and digits, a `$` before a letter, an
    // `@` between letters. A word is a maximal run of such bytes, as a scan from the left
    // finds them, each word folded before the next is looked at.
    let joins = |bytes: &[u8], i: usize| {
        let Some(&b) = bytes.get(i) else {
            return false;
        };
        CLASS[usize::from(b)] & ALNUM != 0
            || (b == b'$' && class(bytes, i + 1) & ALPHA != 0)
            || (b == b'@'
                && i > 0
                && class(bytes, i - 1) & ALPHA != 0
                && class(bytes, i + 1) & ALPHA != 0)
    };
    // Everything before `done` is settled: a word that ended there begins no other, since the
    // scan from the left starts afresh at its end (after folding it, which may make an `@`
    // there join).
    let (mut base, mut done) = (0, 0);
    while base < bytes.len() {
        let mut leets = match bytes.get(base..).and_then(swar::load) {
            Some(word) => leet_bytes(word),
            None => (base..bytes.len())
                .filter(|&i| class(bytes, i) & LEET != 0)
                .fold(0, |m, i| m | 0x80 << (8 * (i - base))),
        };
        while leets != 0 {
            let at = base + leets.trailing_zeros() as usize / 8;
            leets &= leets - 1;
            if at < done || !joins(bytes, at) {
                continue;
            }
            let mut start = at;
            while start > done && joins(bytes, start - 1) {
                start -= 1;
            }
            let mut end = at + 1;
            while joins(bytes, end) {
                end += 1;
            }
            done = end;
            let word = bytes.get(start..end).unwrap_or_default();
            if !word.iter().any(u8::is_ascii_alphabetic) {
                continue;
            }
            // An `@` before a dot is an address's, not a letter.
            let keep_at = bytes.get(end) == Some(&b'.');
            for b in bytes.get_mut(start..end).unwrap_or_default() {
                if *b == b'@' && keep_at {
                    continue;
                }
                if let Some(l) = leet(char::from(*b)) {
                    *b = l as u8;
                }
            }
        }
        base += 8;
    }
}

/// The leet bytes (`0 1 3 4 5 7 8 @ $`) among 8 bytes, as high bits.
fn leet_bytes(word: u64) -> u64 {
    let digits = swar::in_range(word, b'0', b'9')
        & !(swar::equal(word, b'2') | swar::equal(word, b'6') | swar::equal(word, b'9'));
    digits | swar::equal(word, b'@') | swar::equal(word, b'$')
}

/// [`fold_ascii_leet`] as the rule reads, for the test that holds it to the rule.
#[cfg(test)]
fn fold_ascii_leet_plainly(bytes: &mut [u8]) {
    let in_word = |bytes: &[u8], i: usize| {
        let b = bytes[i];
        b.is_ascii_alphanumeric()
            || (b == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic))
            || (b == b'@'
                && i > 0
                && bytes[i - 1].is_ascii_alphabetic()
                && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic))
    };
    let mut i = 0;
    while i < bytes.len() {
        if !in_word(bytes, i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && in_word(bytes, i) {
            i += 1;
        }
        let address = bytes.get(i) == Some(&b'.');
        let word = &mut bytes[start..i];
        if word.iter().any(u8::is_ascii_alphabetic) {
            for b in word.iter_mut() {
                if *b == b'@' && address {
                    continue;
                }
                if let Some(l) = leet(char::from(*b)) {
                    *b = l as u8;
                }
            }
        }
    }
}

#[cfg(test)]
fn is_leet_ascii(b: u8) -> bool {
    matches!(
        b,
        b'0' | b'1' | b'3' | b'4' | b'5' | b'7' | b'8' | b'@' | b'$'
    )
}

fn is_separator(c: char) -> bool {
    matches!(c, '.' | '-' | '_' | ' ' | '*' | '/' | '|' | '+' | '~')
}

/// The letter a digit or symbol stands for inside a word.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        _ => return None,
    })
}

/// The Latin letter a (lowercased) Cyrillic or Greek letter looks like.
fn confusable(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' => 'e',
        'һ' | 'η' => 'h',
        'і' | 'ї' | 'ι' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'п' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' => 'u',
        'ѵ' | 'ν' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        'ζ' => 'z',
        _ => return None,
    })
}

/// Undo the evasions of step 6 on folded text and its map (one entry per byte).
fn undo_evasions(original: &str, folded: &str, map: &[(u32, u32)]) -> (String, Vec<(u32, u32)>) {
    // One entry per character: the character and the original span it came from.
    let mut chars: Vec<(char, (u32, u32))> = Vec::with_capacity(folded.len());
    let mut at = 0;
    for c in folded.chars() {
        chars.push((c, map.get(at).copied().unwrap_or_default()));
        at += c.len_utf8();
    }
    join_spaced_letters(&mut chars);
    fold_words(original, &mut chars);
    let mut out = String::with_capacity(folded.len());
    let mut out_map = Vec::with_capacity(map.len());
    for (c, span) in chars {
        out.push(c);
        for _ in 0..c.len_utf8() {
            out_map.push(span);
        }
    }
    (out, out_map)
}

/// Remove the separators of three or more single characters spaced out with the same one
/// (`f.r.e.e`, `c a s h`), when two or more of them are letters.
fn join_spaced_letters(chars: &mut Vec<(char, (u32, u32))>) {
    let alnum = is_alphanumeric;
    let single = |chars: &[(char, (u32, u32))], i: usize| {
        alnum(chars[i].0)
            && (i == 0 || !alnum(chars[i - 1].0))
            && chars.get(i + 1).is_none_or(|n| !alnum(n.0))
    };
    let mut remove = vec![false; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        if !single(chars, i) {
            i += 1;
            continue;
        }
        let Some(&(sep, _)) = chars.get(i + 1).filter(|n| is_separator(n.0)) else {
            i += 1;
            continue;
        };
        let mut end = i;
        while end + 2 < chars.len() && chars[end + 1].0 == sep && single(chars, end + 2) {
            end += 2;
        }
        let count = (end - i) / 2 + 1;
        let letters = (i..=end)
            .step_by(2)
            .filter(|&k| is_alphabetic(chars[k].0))
            .count();
        if count >= 3 && letters >= 2 {
            for k in (i + 1..end).step_by(2) {
                remove[k] = true;
            }
        }
        i = end + 1;
    }
    let mut k = 0;
    chars.retain(|_| {
        let keep = !remove[k];
        k += 1;
        keep
    });
}

/// Read lookalikes and leet as letters, word by word.
fn fold_words(original: &str, chars: &mut [(char, (u32, u32))]) {
    let in_word = |chars: &[(char, (u32, u32))], i: usize| {
        let c = chars[i].0;
        is_alphanumeric(c)
            // `$` and `@` count as part of a word only before (or, for `@`, between) letters,
            // so amounts and addresses keep them.
            || (c == '$' && chars.get(i + 1).is_some_and(|n| is_alphabetic(n.0)))
            || (c == '@'
                && i > 0
                && is_alphabetic(chars[i - 1].0)
                && chars.get(i + 1).is_some_and(|n| is_alphabetic(n.0)))
    };
    let mut i = 0;
    while i < chars.len() {
        if !in_word(chars, i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && in_word(chars, i) {
            i += 1;
        }
        let word = &mut chars[start..i];
        let latin = word.iter().any(|(c, _)| c.is_ascii_alphabetic());
        let lookalikes_only = word
            .iter()
            .all(|(c, _)| confusable(*c).is_some() || !is_alphabetic(*c));
        if latin || lookalikes_only {
            for (c, span) in word.iter_mut() {
                // Capital nu (Ν) looks like N, its lowercase (ν) like v.
                let was = original
                    .get(span.0 as usize..)
                    .and_then(|s| s.chars().next());
                if was == Some('Ν') {
                    *c = 'n';
                } else if let Some(l) = confusable(*c) {
                    *c = l;
                }
            }
        }
        // `user@domain.tld` is an address, not `a` written as `@`.
        let address = chars.get(i).is_some_and(|n| n.0 == '.');
        let word = &mut chars[start..i];
        let letters = word.iter().any(|(c, _)| is_alphabetic(*c));
        if letters {
            for (c, _) in word.iter_mut() {
                if *c == '@' && address {
                    continue;
                }
                if let Some(l) = leet(*c) {
                    *c = l;
                }
            }
        }
    }
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
    fn letters_folded_by_offset_fold_as_the_general_fold_folds_them() {
        let mut answered = 0;
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let Some(fast) = fold_by_offset(c) else {
                continue;
            };
            answered += 1;
            let mut general = String::new();
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    general.extend(d.to_lowercase());
                }
            });
            assert_eq!(general, fast.to_string(), "{:#X}", c as u32);
            assert!(!is_invisible(c) && !is_combining_mark(c) && !c.is_whitespace());
        }
        // а..я and А..Я but й and Й, α..ω and Α..Ω.
        assert_eq!(answered, 62 + 25 + 24);
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
    fn undoes_evasions_and_keeps_original_spans() {
        assert_eq!(folded("FR33 c4$h now"), "free cash now");
        assert_eq!(folded("f.r.e.e gift, C A S H"), "free gift, cash");
        assert_eq!(folded("\u{0455}\u{0430}le today"), "sale today");
        assert_eq!(folded("ΒΟΝUS"), "bonus");
        // Numbers, amounts, addresses and ordinary words stay as they are.
        assert_eq!(
            folded("Order #48213, $10 off, 24/7"),
            "order #48213, $10 off, 24/7"
        );
        assert_eq!(folded("mail bob@example.com"), "mail bob@example.com");
        assert_eq!(folded("Reply 1 or 2"), "reply 1 or 2");
        assert_eq!(folded("I am a"), "i am a");
        // A Russian word without Latin letters is left alone.
        assert_eq!(folded("привет"), "привет");
        let text = "Get f.r.e.e stuff";
        let n = NormalizedText::new(text);
        let at = n.folded().find("free").unwrap();
        let span = n.to_original(at, at + 4);
        assert_eq!(&text[span.range()], "f.r.e.e");
        let text = "c4sh";
        let n = NormalizedText::new(text);
        assert_eq!(n.folded(), "cash");
        assert_eq!(&text[n.to_original(0, 4).range()], "c4sh");
    }

    #[test]
    fn the_byte_path_and_the_general_path_agree() {
        for text in [
            "Your order #48213 has shipped! Track it at https://x.example.com/t/48213",
            "FR33 c4$h n0w, mail bob@example.com, Reply C to confirm",
            "f.r.e.e C A S H at 9:30, 1-5, $10 off, 24/7",
            "tabs\tand\nnewlines\r\nand  runs",
            "I am a b c",
            // Spaced out with a tab between the letters, a space on the general path.
            "F\tR\tE\tE",
        ] {
            let fast = NormalizedText::new(text);
            let slow = NormalizedText::slow(text, Vec::new(), Vec::new());
            assert_eq!(fast.folded(), slow.folded(), "{text:?}");
            for (i, _) in fast.folded().char_indices() {
                assert_eq!(
                    fast.to_original(i, i + 1),
                    slow.to_original(i, i + 1),
                    "{text:?} at {i}"
                );
            }
        }
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

#[cfg(test)]
mod fold_properties {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn leet_folds_word_by_word_from_the_left() {
        // A word folded first can make the `@` after it join the next word.
        for text in [
            "a4@b",
            "$0a0@a",
            "c4$h n0w",
            "mail b0b@example.com",
            "4pm 1st 10 $5 $ave",
        ] {
            let (mut fast, mut plain) = (text.as_bytes().to_vec(), text.as_bytes().to_vec());
            fold_ascii_leet(&mut fast);
            fold_ascii_leet_plainly(&mut plain);
            assert_eq!(fast, plain, "{text:?}");
        }
    }

    #[test]
    fn the_leet_byte_test_is_the_table() {
        crate::swar::tests::each_word(|bytes| {
            let want = crate::swar::tests::want(bytes, |b| CLASS[usize::from(b)] & LEET != 0);
            assert_eq!(leet_bytes(u64::from_le_bytes(bytes)), want, "{bytes:?}");
        });
    }

    #[test]
    fn the_byte_fold_is_the_table() {
        for b in 0..=255u8 {
            assert_eq!(fold_ascii_byte(b), ASCII_FOLD[usize::from(b)], "{b:#x}");
        }
    }

    #[test]
    fn folds_to_empty_only_what_folds_away() {
        assert!(folds_to_empty(" \u{200B} \t"));
        assert!(!folds_to_empty("sale"));
        assert!(!folds_to_empty("Ünïcödé"));
        assert!(!folds_to_empty("a"));
    }

    proptest! {
        #[test]
        fn plainly_folded_phrases_fold_to_themselves(
            text in "([a-z]{2,5}|[0-9]{2,4})( ([a-z]{2,5}|[0-9]{2,4})){0,3}",
        ) {
            prop_assert!(is_plainly_folded(&text));
            let folded = NormalizedText::new(&text).folded;
            prop_assert_eq!(folded.trim(), text.as_str());
        }

        #[test]
        fn the_leet_shortcut_agrees_with_the_general_pass(
            text in "([a-cA]|[0-9]|[$@.: ]|é|ł|“|🎉|а|—|\u{200B}){0,40}",
        ) {
            let n = NormalizedText::slow(&text, Vec::new(), Vec::new());
            // The general pass wherever an evasion may be (as before the shortcut).
            let (plain, plain_map) = first_pass(&text, Vec::new(), Vec::new());
            let b = plain.as_bytes();
            let evasive = has_leet(b)
                || (may_space_out(b) && has_spaced_run(b))
                || plain.chars().any(|c| !c.is_ascii() && confusable(c).is_some());
            let (folded, map) = if evasive {
                undo_evasions(&text, &plain, &plain_map)
            } else {
                (plain, plain_map)
            };
            let general = NormalizedText { original: &text, folded, map, wide: false };
            prop_assert_eq!(n.folded(), general.folded());
            for (i, _) in n.folded().char_indices() {
                prop_assert_eq!(n.to_original(i, i + 1), general.to_original(i, i + 1));
            }
        }

        #[test]
        fn leet_folds_by_classes_as_by_the_rule(text in "([a-c]|[0-9]|[$@.: ]|é|\u{1F389}){0,40}") {
            let (mut fast, mut plain) = (text.clone().into_bytes(), text.into_bytes());
            fold_ascii_leet(&mut fast);
            fold_ascii_leet_plainly(&mut plain);
            prop_assert_eq!(fast, plain);
        }

        #[test]
        fn ascii_flags_say_what_their_rules_say(text in "[a-cA5@$.\\- \t\n]{0,70}") {
            let b = text.as_bytes();
            let pair = |f: &dyn Fn(u8, u8) -> bool| b.windows(2).any(|w| f(w[0], w[1]));
            let want = AsciiFlags {
                runs: pair(&|x, y| x.is_ascii_whitespace() && y.is_ascii_whitespace()),
                leet: has_leet(b),
                spaced: may_space_out(b),
            };
            prop_assert_eq!(ascii_flags(b), want);
        }

        #[test]
        fn the_byte_path_agrees_with_the_general_one(text in "[a-cA5@$.\\- \t\n]{0,70}") {
            let fast = NormalizedText::new(&text);
            let slow = NormalizedText::slow(&text, Vec::new(), Vec::new());
            prop_assert_eq!(fast.folded(), slow.folded());
            for (i, _) in fast.folded().char_indices() {
                prop_assert_eq!(fast.to_original(i, i + 1), slow.to_original(i, i + 1));
            }
        }

        #[test]
        fn the_in_place_path_agrees_with_the_general_one(
            text in prop_oneof![
                // Characters that fold in place, then ones that do not, and lookalikes.
                "([a-cA5@$.\\- \t]|Ł|ł|“|—|🎉|✅){0,60}",
                "([a-cA5@$.\\- \t]|é|Ł|ł|“|—|🎉|✅|а|\u{A0}|\u{200B}|ﬁ|Ａ|\u{301}|²){0,60}",
            ],
        ) {
            let fast = NormalizedText::new(&text);
            let slow = NormalizedText::slow(&text, Vec::new(), Vec::new());
            prop_assert_eq!(fast.folded(), slow.folded());
            for (i, c) in fast.folded().char_indices() {
                for end in [i, i + 1, i + c.len_utf8()] {
                    prop_assert_eq!(fast.to_original(i, end), slow.to_original(i, end));
                }
            }
        }

        #[test]
        fn the_fast_test_is_the_rule_it_states(text in "[a-c1-2 A.é]{0,9}") {
            let rule = !text.is_empty()
                && text.split(' ').all(|w| {
                    w.len() >= 2
                        && (w.bytes().all(|b| b.is_ascii_lowercase())
                            || w.bytes().all(|b| b.is_ascii_digit()))
                });
            prop_assert_eq!(is_plainly_folded(&text), rule);
        }

        #[test]
        fn the_fast_test_never_accepts_what_folding_changes(text in "[a-z0-9 .3$]{0,12}") {
            if is_plainly_folded(&text) {
                let folded = NormalizedText::new(&text).folded;
                prop_assert_eq!(folded.trim(), text.as_str());
            }
        }
    }
}
