//! How a text is encoded as SMS and how many segments it takes.
//!
//! GSM-7 (the 3GPP 23.038 default alphabet) when every character is in it, else UCS-2. A single
//! GSM-7 segment holds 160 septets, a part of a concatenated message 153; characters of the
//! extension table (`^ { } \ [ ~ ] | €` and form feed) take two septets and are never split
//! across parts. UCS-2 holds 70 code units, 67 per part; a character outside the Basic
//! Multilingual Plane takes two units (a surrogate pair) and is never split either.

use serde::Serialize;

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

/// Septets a character takes in GSM-7: 1 (default alphabet), 2 (extension table), or `None`.
pub fn gsm7_septets(c: char) -> Option<u32> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "\u{0C}^{}\\[~]|€";
    if c.is_ascii() {
        // Every printable ASCII character is in the default alphabet or the extension table,
        // except the backtick; of the control characters only LF and CR are.
        return match c {
            '\n' | '\r' | ' '..='_' | 'a'..='z' => Some(if EXTENSION.contains(c) { 2 } else { 1 }),
            '{' | '|' | '}' | '~' | '\u{0C}' => Some(2),
            _ => None,
        };
    }
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Encoding, length and segment count of `text`.
pub fn analyze(text: &str) -> SegmentInfo {
    let utf16_units = text.encode_utf16().count() as u32;
    let gsm: Option<Vec<u32>> = text.chars().map(gsm7_septets).collect();
    if let Some(sizes) = gsm {
        let units = sizes.iter().sum();
        SegmentInfo {
            encoding: Encoding::Gsm7,
            units,
            segments: count_segments(&sizes, units, 160, 153),
            utf16_units,
        }
    } else {
        let sizes: Vec<u32> = text.chars().map(|c| c.len_utf16() as u32).collect();
        SegmentInfo {
            encoding: Encoding::Ucs2,
            units: utf16_units,
            segments: count_segments(&sizes, utf16_units, 70, 67),
            utf16_units,
        }
    }
}

/// Segments for characters of the given sizes: one if all fit in `single`, else greedy parts of
/// `part` units that never split a character.
fn count_segments(sizes: &[u32], total: u32, single: u32, part: u32) -> u32 {
    if total == 0 {
        return 0;
    }
    if total <= single {
        return 1;
    }
    let mut segments = 1;
    let mut used = 0;
    for &s in sizes {
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
    fn backtick_and_controls_force_ucs2() {
        assert_eq!(analyze("a`b").encoding, Encoding::Ucs2);
        assert_eq!(analyze("tab\there").encoding, Encoding::Ucs2);
    }
}
