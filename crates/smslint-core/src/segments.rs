//! How a text is encoded as SMS and how many segments it takes.
//!
//! GSM-7 (the 3GPP 23.038 default alphabet) when every character is in it, else UCS-2. A single
//! GSM-7 segment holds 160 septets, a part of a concatenated message 153; characters of the
//! extension table (`^ { } \ [ ~ ] | €` and form feed) take two septets and are never split
//! across parts. UCS-2 holds 70 code units, 67 per part; a character outside the Basic
//! Multilingual Plane takes two units (a surrogate pair) and is never split either.

use serde::Serialize;

use crate::swar;

/// The encoding a text is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Encoding {
    /// The GSM 03.38 default alphabet, 7 bits a character.
    #[serde(rename = "GSM-7")]
    Gsm7,
    /// UTF-16 code units.
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    /// `GSM-7` or `UCS-2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
}

/// Encoding and length facts of one text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentInfo {
    /// The encoding.
    pub encoding: Encoding,
    /// Length in the encoding's units: septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: u32,
    /// Segments the text takes (0 for an empty text).
    pub segments: u32,
    /// UTF-16 code units, the unit of RingCentral's 1000-character limit.
    pub utf16_units: u32,
}

/// Septets of each ASCII character in GSM-7 (0: not in the alphabet).
static ASCII_SEPTETS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let c = i as u8;
        t[i] = match c {
            // The extension table: two septets (an escape and the character).
            b'^' | b'{' | b'}' | b'\\' | b'[' | b'~' | b']' | b'|' | 0x0C => 2,
            // Everything printable but the backtick is in the default alphabet, as are LF and CR.
            b'\n' | b'\r' | b' '..=b'_' | b'a'..=b'z' => 1,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// Whether an ASCII byte is in the extension table (two septets), as [`ASCII_SEPTETS`] says.
fn is_extension_byte(b: u8) -> bool {
    matches!(b, 0x0C | b'^' | b'[' | b'\\' | b']' | b'{'..=b'~')
}

/// Whether an ASCII byte is in the default alphabet (one septet) or is one of `^ [ \ ]`, which
/// are in the extension table: with [`is_extension_byte`], every ASCII byte GSM-7 can send, as
/// [`ASCII_SEPTETS`] says. (The range is simpler to test whole.)
fn is_basic_byte(b: u8) -> bool {
    matches!(b, b'\n' | b'\r' | b' '..=b'_' | b'a'..=b'z')
}

/// Septets a character takes in GSM-7: 1 (default alphabet), 2 (extension table), or `None`.
pub fn gsm7_septets(c: char) -> Option<u32> {
    if c.is_ascii() {
        return match ASCII_SEPTETS[c as usize] {
            0 => None,
            n => Some(u32::from(n)),
        };
    }
    if c == '€' {
        Some(2)
    } else if BASIC_NON_ASCII.binary_search(&c).is_ok() {
        Some(1)
    } else {
        None
    }
}

/// The default alphabet's characters outside ASCII, sorted for binary search.
static BASIC_NON_ASCII: [char; 39] = {
    let mut t = [
        '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å', 'Δ', 'Φ', 'Γ', 'Λ', 'Ω', 'Π',
        'Ψ', 'Σ', 'Θ', 'Ξ', 'Æ', 'æ', 'ß', 'É', '¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§', '¿', 'ä', 'ö',
        'ñ', 'ü', 'à',
    ];
    // A const insertion sort: the table reads in alphabet order above.
    let mut i = 1;
    while i < t.len() {
        let mut j = i;
        while j > 0 && (t[j - 1] as u32) > (t[j] as u32) {
            let tmp = t[j - 1];
            t[j - 1] = t[j];
            t[j] = tmp;
            j -= 1;
        }
        i += 1;
    }
    t
};

/// Encoding, length and segment count of `text`.
pub fn analyze(text: &str) -> SegmentInfo {
    // The common case first: ASCII in the default alphabet, where bytes are characters and
    // UTF-16 units. Byte comparisons rather than table loads, in 32-byte steps (16-byte ones
    // cost about 200 instructions a message more), so that the compiler runs them as vector
    // operations: escaped bytes counted, and ASCII bytes outside the alphabet and other
    // characters' bytes counted, which send the text elsewhere.
    let bytes = text.as_bytes();
    // Counts rather than flags for the bytes outside, so that those of other characters can
    // be taken away: three lanes a step (a fourth cost about 190 instructions a message).
    let (mut escaped, mut outside, mut other) = (0u32, 0u32, 0u32);
    let mut step = |chunk: &[u8; 32]| {
        // Byte-wide lanes of one step.
        let (mut ext, mut out, mut high) = (0u8, 0u8, 0u8);
        for &b in chunk {
            let e = is_extension_byte(b);
            ext += u8::from(e);
            out += u8::from(!(e | is_basic_byte(b)));
            high += u8::from(b >= 0x80);
        }
        escaped += u32::from(ext);
        outside += u32::from(out);
        other += u32::from(high);
    };
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        if let Some(chunk) = chunk.first_chunk::<32>() {
            step(chunk);
        }
    }
    // The last bytes in a step of their own, padded with spaces (one septet, counted nowhere).
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut padded = [b' '; 32];
        if let Some(head) = padded.get_mut(..rest.len()) {
            head.copy_from_slice(rest);
        }
        step(&padded);
    }
    if outside == 0 {
        let utf16_units = text.len() as u32;
        // Every byte counts one septet, and the escaped ones one more.
        let units = utf16_units + escaped;
        let segments = if escaped == 0 {
            // Without escapes no character straddles a part boundary: plain arithmetic.
            even_segments(units, 160, 153)
        } else {
            count_segments(text.chars().filter_map(gsm7_septets), units, 160, 153)
        };
        return SegmentInfo {
            encoding: Encoding::Gsm7,
            units,
            segments,
            utf16_units,
        };
    }
    // Four-byte characters (emoji, most of the non-ASCII in messages) are never GSM-7: such a
    // text is UCS-2 without looking at its characters.
    if has_four_byte_char(bytes) {
        return ucs2(text, true);
    }
    // An ASCII byte outside the alphabet (a backtick, a control): UCS-2 whatever the rest.
    if outside > other {
        return ucs2(text, false);
    }
    gsm7_or_ucs2(text, escaped)
}

/// Whether `bytes` hold the first byte of a four-byte character, 8 bytes a step.
fn has_four_byte_char(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    // Bit 7 of `x << k` is bit 7 - k of the same byte: all four set is a byte from 0xF0.
    let four = |x: u64| x & (x << 1) & (x << 2) & (x << 3) & swar::HIGH;
    chunks.any(|c| {
        c.first_chunk::<8>()
            .is_some_and(|&c| four(u64::from_le_bytes(c)) != 0)
    }) || chunks.remainder().iter().any(|&b| b >= 0xF0)
}

/// [`analyze`] of a text whose ASCII is all in the alphabet (`escaped` bytes of it in the
/// extension table), with other characters but none of four bytes: GSM-7 if those are all in
/// the alphabet too. Only they are looked at, ASCII being passed over 8 bytes a step.
fn gsm7_or_ucs2(text: &str, escaped: u32) -> SegmentInfo {
    let (mut septets, mut others, mut two) = (0u32, 0u32, escaped > 0);
    for (_, c) in swar::NonAscii::new(text) {
        let Some(n) = gsm7_septets(c) else {
            return ucs2(text, false);
        };
        septets += n;
        others += c.len_utf8() as u32;
        two |= n > 1;
    }
    // The ASCII bytes, one septet each and the escaped ones one more.
    let units = text.len() as u32 - others + escaped + septets;
    SegmentInfo {
        encoding: Encoding::Gsm7,
        units,
        // Only a two-septet character can straddle a part boundary.
        segments: if two {
            count_segments(text.chars().filter_map(gsm7_septets), units, 160, 153)
        } else {
            even_segments(units, 160, 153)
        },
        utf16_units: utf16_len(text) as u32,
    }
}

/// [`analyze`] of a text that is not GSM-7, told whether it has a four-byte character (a
/// surrogate pair in UTF-16, which no part boundary may split).
fn ucs2(text: &str, pairs: bool) -> SegmentInfo {
    let (utf16_units, segments) = if pairs {
        pair_segments(text.as_bytes())
    } else {
        let units = utf16_len(text) as u32;
        (units, even_segments(units, 70, 67))
    };
    SegmentInfo {
        encoding: Encoding::Ucs2,
        units: utf16_units,
        segments,
        utf16_units,
    }
}

/// UTF-16 units and UCS-2 segments of text with surrogate pairs: parts of 67 units, one of
/// which ends a unit early when a pair would straddle its end. 8 bytes a step: the starts of
/// characters are counted by bit tests (as in [`utf16_len`]), and only a step with the start of
/// a four-byte character looks at where it is (a count byte by byte took about 1,300
/// instructions for a message with emoji; character by character, 7,000).
fn pair_segments(bytes: &[u8]) -> (u32, u32) {
    // Units so far; the end of the current part; parts before a single message is ruled out.
    let (mut units, mut end, mut parts) = (0u32, 67u32, 1u32);
    // A pair at `units`: it may not straddle the end of a part.
    let mut pair = |units: &mut u32| {
        while *units >= end {
            parts += 1;
            end += 67;
        }
        if *units + 1 == end {
            // The pair opens the next part.
            parts += 1;
            end = *units + 67;
        }
        *units += 2;
    };
    // Sums the flags (high bits) of 8 bytes.
    let count = |flags: u64| ((flags >> 7).wrapping_mul(swar::ONES) >> 56) as u32;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let Some(&chunk) = chunk.first_chunk::<8>() else {
            continue;
        };
        let x = u64::from_le_bytes(chunk);
        // Bit 7 of `x << k` is bit 7 - k of the same byte.
        let starts = !(x & !(x << 1)) & swar::HIGH;
        let mut fours = x & (x << 1) & (x << 2) & (x << 3) & swar::HIGH;
        // The flags of the bytes before the next four-byte start, not counted yet.
        let mut left = starts;
        while fours != 0 {
            let below = (fours & fours.wrapping_neg()) - 1;
            units += count(left & below);
            pair(&mut units);
            // The four-byte start itself was counted as the pair.
            left &= !below & !(below + 1);
            fours &= fours - 1;
        }
        units += count(left);
    }
    for &b in chunks.remainder() {
        if b >= 0xF0 {
            pair(&mut units);
        } else if b & 0xC0 != 0x80 {
            units += 1;
        }
    }
    while units > end {
        parts += 1;
        end += 67;
    }
    let segments = match units {
        0 => 0,
        n if n <= 70 => 1,
        _ => parts,
    };
    (units, segments)
}

/// Length of `text` in UTF-16 code units, counted on its bytes rather than by decoding it:
/// every byte that starts a character counts one, and a four-byte character (outside the BMP)
/// one more. ASCII text, most messages, is its own length.
pub(crate) fn utf16_len(text: &str) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    // Starts of characters (every byte but the continuation bytes 0x80-0xBF), and starts of
    // four-byte characters (two units), 8 bytes a step: bit 7 of `x << k` is bit 7 - k of the
    // same byte, so the tests on the high bits are exact, and a multiply sums the bytes' flags.
    // (Two filtered counts over the bytes cost about 1,750 instructions for each non-ASCII
    // text of the benchmark corpus, by callgrind; the compiler did not vectorise them.)
    let count = |flags: u64| ((flags >> 7).wrapping_mul(swar::ONES) >> 56) as usize;
    let bytes = text.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    let mut total = 0;
    for chunk in &mut chunks {
        if let Some(&chunk) = chunk.first_chunk::<8>() {
            let x = u64::from_le_bytes(chunk);
            let continuation = x & !(x << 1) & swar::HIGH;
            let four = x & (x << 1) & (x << 2) & (x << 3) & swar::HIGH;
            total += 8 - count(continuation) + count(four);
        }
    }
    total
        + chunks
            .remainder()
            .iter()
            .map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
            .sum::<usize>()
}

/// Segments for `total` units that all count one: one if they fit in `single`, else parts of
/// `part`.
fn even_segments(total: u32, single: u32, part: u32) -> u32 {
    match total {
        0 => 0,
        n if n <= single => 1,
        n => n.div_ceil(part),
    }
}

/// Segments for characters of the given sizes: one if all fit in `single`, else greedy parts of
/// `part` units that never split a character.
fn count_segments(sizes: impl Iterator<Item = u32>, total: u32, single: u32, part: u32) -> u32 {
    if total == 0 {
        return 0;
    }
    if total <= single {
        return 1;
    }
    let mut segments = 1;
    let mut used = 0;
    for s in sizes {
        if used + s > part {
            segments += 1;
            used = 0;
        }
        used += s;
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_boundaries() {
        let a160 = "a".repeat(160);
        assert_eq!(analyze(&a160).segments, 1);
        assert_eq!(analyze(&"a".repeat(161)).segments, 2);
        assert_eq!(analyze(&"a".repeat(306)).segments, 2);
        assert_eq!(analyze(&"a".repeat(307)).segments, 3);
        assert_eq!(analyze("").segments, 0);
        assert_eq!(analyze("Hi £5 @ Café").encoding, Encoding::Gsm7);
    }

    #[test]
    fn extension_characters_count_twice_and_are_not_split() {
        let info = analyze(&"{".repeat(80));
        assert_eq!(
            (info.encoding, info.units, info.segments),
            (Encoding::Gsm7, 160, 1)
        );
        // 152 plain septets then one escape pair: the pair moves to the second part.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        let info = analyze(&text);
        assert_eq!(info.units, 164);
        assert_eq!(info.segments, 2);
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(analyze(&text).segments, 3);
    }

    #[test]
    fn ucs2_boundaries_and_surrogate_pairs() {
        let info = analyze("é😀");
        assert_eq!(info.encoding, Encoding::Ucs2);
        assert_eq!(info.units, 3);
        assert_eq!(analyze(&"ж".repeat(70)).segments, 1);
        assert_eq!(analyze(&"ж".repeat(71)).segments, 2);
        assert_eq!(analyze(&"ж".repeat(134)).segments, 2);
        assert_eq!(analyze(&"ж".repeat(135)).segments, 3);
        // 66 units, then an emoji (2 units) does not fit in 67: it starts part 2.
        let text = format!("{}😀{}", "ж".repeat(66), "ж".repeat(10));
        assert_eq!(analyze(&text).segments, 2);
        assert_eq!(analyze(&"😀".repeat(500)).utf16_units, 1000);
    }

    #[test]
    fn every_default_alphabet_character_is_gsm7() {
        let basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
        for c in basic.chars() {
            assert_eq!(gsm7_septets(c), Some(1), "{c:?}");
        }
        for c in "^{}\\[~]|€\u{0C}".chars() {
            assert_eq!(gsm7_septets(c), Some(2), "{c:?}");
        }
        for c in "`çÀ😀\t".chars() {
            assert_eq!(gsm7_septets(c), None, "{c:?}");
        }
    }

    /// The rule itself, character by character and part by part: what the shortcuts must give.
    fn reference(text: &str) -> SegmentInfo {
        let utf16_units: u32 = text.chars().map(|c| c.len_utf16() as u32).sum();
        match text.chars().map(gsm7_septets).sum::<Option<u32>>() {
            Some(septets) => SegmentInfo {
                encoding: Encoding::Gsm7,
                units: septets,
                segments: count_segments(text.chars().filter_map(gsm7_septets), septets, 160, 153),
                utf16_units,
            },
            None => SegmentInfo {
                encoding: Encoding::Ucs2,
                units: utf16_units,
                segments: count_segments(
                    text.chars().map(|c| c.len_utf16() as u32),
                    utf16_units,
                    70,
                    67,
                ),
                utf16_units,
            },
        }
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_path_agrees_with_the_general_one(text in "[\\x00-\\x7f]{0,400}") {
            proptest::prop_assert_eq!(analyze(&text), reference(&text));
        }

        #[test]
        fn the_ascii_path_agrees_on_mostly_printable_text(
            text in "([ -~]|\\{|\\^|\\\\|\\n|\\x0c){150,320}",
        ) {
            proptest::prop_assert_eq!(analyze(&text), reference(&text));
        }

        #[test]
        fn every_shortcut_gives_what_the_rule_gives(
            text in proptest::prop_oneof![
                "([a-z ]|é|ñ|Ä){0,400}",
                "([a-z ]|€|\\{){0,400}",
                "([a-z ]|ж|中){0,300}",
                "([a-z ]|ж|😀){0,300}",
                "([a-z `]|é|€|\\{|\\^|😀){0,300}",
                "([a-z]|\\{|é){150,170}",
                "\\PC{0,300}",
            ],
        ) {
            proptest::prop_assert_eq!(analyze(&text), reference(&text));
        }

        // Pairs at every byte place of an 8-byte step, and parts boundaries met by every kind
        // of character.
        #[test]
        fn pairs_are_placed_as_the_rule_places_them(text in "(a|é|€|ж|`|😀|\u{10FFFF}){0,160}") {
            proptest::prop_assert_eq!(analyze(&text), reference(&text));
        }

        #[test]
        fn utf16_len_counts_what_encode_utf16_gives(text in "\\PC{0,80}") {
            proptest::prop_assert_eq!(utf16_len(&text), text.encode_utf16().count());
        }

        // Characters of one to four bytes, so that every kind of byte falls at every place of
        // an 8-byte step.
        #[test]
        fn utf16_len_counts_characters_of_every_width_at_every_place(
            text in "(a|ß|é|€|한|🎉|\u{10FFFF}|\u{80}){0,40}",
        ) {
            proptest::prop_assert_eq!(utf16_len(&text), text.encode_utf16().count());
        }
    }

    #[test]
    fn the_byte_tests_say_what_the_table_says() {
        for b in 0..128u8 {
            let t = ASCII_SEPTETS[usize::from(b)];
            assert_eq!(is_extension_byte(b), t == 2, "{b:#x}");
            assert_eq!(is_basic_byte(b) || is_extension_byte(b), t != 0, "{b:#x}");
        }
    }

    #[test]
    fn a_surrogate_pair_is_never_split_between_parts() {
        // 66 units, then a pair that would take units 67 and 68: it opens the second part.
        let text = format!("{}😀{}", "a".repeat(66), "a".repeat(65));
        let info = analyze(&text);
        assert_eq!(
            (info.encoding, info.units, info.segments),
            (Encoding::Ucs2, 133, 2)
        );
        // One more unit after it, and the second part (2 + 66 units) is full.
        let text = format!("{}😀{}", "a".repeat(66), "a".repeat(66));
        assert_eq!(analyze(&text).segments, 3);
        assert_eq!(analyze(&text), reference(&text));
    }

    #[test]
    fn backtick_and_controls_force_ucs2() {
        assert_eq!(analyze("a`b").encoding, Encoding::Ucs2);
        assert_eq!(analyze("tab\there").encoding, Encoding::Ucs2);
    }
}
