//! Tests on 8 bytes of text at once, in one `u64` (little-endian: byte `k` of the text is byte
//! `k` of the integer). Each test sets the high bit of every byte it holds for and no other
//! bit. The tests are exact for every byte: bytes from 0x80 up never pass, and the arithmetic
//! is done on 7-bit values, so no carry or borrow crosses into the next byte.

/// The high bit of each byte.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;
/// One in each byte.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;

/// The 8 bytes at the start of `bytes`, when there are 8.
pub(crate) fn load(bytes: &[u8]) -> Option<u64> {
    bytes.first_chunk::<8>().map(|&b| u64::from_le_bytes(b))
}

/// The ASCII bytes of `word` from `lo` to `hi` (`lo <= hi < 0x80`).
pub(crate) fn in_range(word: u64, lo: u8, hi: u8) -> u64 {
    let v = word & !HIGH;
    // `v + (128 - lo)` has the high bit set when `v >= lo`.
    let at_least = |lo: u8| v + ONES * u64::from(128 - lo);
    at_least(lo) & !at_least(hi + 1) & !word & HIGH
}

/// The bytes of `word` equal to `b` (`b < 0x80`).
pub(crate) fn equal(word: u64, b: u8) -> u64 {
    let x = (word & !HIGH) ^ (ONES * u64::from(b));
    // A zero byte of `x`, found without borrows.
    !(((x & !HIGH) + !HIGH) | x) & !word & HIGH
}

/// The characters of a text that are not ASCII, with their byte offsets; ASCII is passed over
/// 8 bytes a step (a test of every byte cost about 9 instructions a byte).
pub(crate) struct NonAscii<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> NonAscii<'a> {
    /// Those of `text`.
    pub(crate) fn new(text: &'a str) -> NonAscii<'a> {
        NonAscii { text, at: 0 }
    }
}

impl Iterator for NonAscii<'_> {
    type Item = (usize, char);

    fn next(&mut self) -> Option<(usize, char)> {
        let bytes = self.text.as_bytes();
        loop {
            let rest = bytes.get(self.at..)?;
            if load(rest).is_some_and(|w| w & HIGH == 0) {
                self.at += 8;
                continue;
            }
            if rest.first()?.is_ascii() {
                self.at += 1;
                continue;
            }
            // `at` is always a character boundary: it moves by whole characters.
            let at = self.at;
            let c = self.text.get(at..)?.chars().next()?;
            self.at += c.len_utf8();
            return Some((at, c));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every byte value at every place, beside neighbours that could carry into it.
    pub(crate) fn each_word(mut check: impl FnMut([u8; 8])) {
        for b in 0..=255u8 {
            for place in 0..8 {
                for fill in [
                    b'a', b'z', b'0', b'9', b' ', 0x00, 0x7F, 0x80, 0xFF, b'`', b'{',
                ] {
                    let mut bytes = [fill; 8];
                    bytes[place] = b;
                    check(bytes);
                }
            }
        }
    }

    /// What a test on `bytes` should give: the high bit of each byte `test` holds for.
    pub(crate) fn want(bytes: [u8; 8], test: impl Fn(u8) -> bool) -> u64 {
        (0..8)
            .filter(|&i| test(bytes[i]))
            .fold(0, |m, i| m | 0x80 << (8 * i))
    }

    #[test]
    fn ranges_and_equality_are_exact() {
        each_word(|bytes| {
            let word = u64::from_le_bytes(bytes);
            for (lo, hi) in [(b'a', b'z'), (b'0', b'9'), (0, 0x7F), (b'_', b'_'), (0, 0)] {
                let got = in_range(word, lo, hi);
                assert_eq!(got, want(bytes, |c| (lo..=hi).contains(&c)), "{bytes:?}");
            }
            for b in [b' ', b'_', 0, 0x7F] {
                assert_eq!(equal(word, b), want(bytes, |c| c == b), "{bytes:?}");
            }
        });
    }

    #[test]
    fn loads_8_bytes() {
        assert_eq!(load(b"abcdefg"), None);
        assert_eq!(load(b"abcdefgh!"), Some(u64::from_le_bytes(*b"abcdefgh")));
    }

    proptest::proptest! {
        #[test]
        fn non_ascii_finds_the_characters_char_indices_finds(
            text in "(a|ß|é|€|한|🎉| |\u{80}){0,40}",
        ) {
            let want: Vec<(usize, char)> =
                text.char_indices().filter(|(_, c)| !c.is_ascii()).collect();
            let got: Vec<(usize, char)> = NonAscii::new(&text).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
