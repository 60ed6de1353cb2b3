//! Byte ranges into the original message text.

use serde::Serialize;

/// A half-open byte range `start..end` into the original (not normalised) text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        // Messages are bounded far below 4 GiB by every input path; saturate rather than wrap.
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: clamp(start),
            end: clamp(end),
        }
    }

    /// The span as a `usize` range for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no bytes.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The text this span covers, widened to the nearest character boundaries.
    pub fn slice(self, text: &str) -> &str {
        let r = self.snap_to_chars(text).range();
        &text[r]
    }

    /// The span widened outward so that both ends fall on character boundaries of `text`.
    #[must_use]
    pub fn snap_to_chars(self, text: &str) -> Span {
        let mut start = (self.start as usize).min(text.len());
        let mut end = (self.end as usize).min(text.len()).max(start);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        Span::new(start, end)
    }
}

/// Line starts of a text, for turning byte offsets into 1-based line and column numbers.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    /// Index the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        LineIndex { line_starts }
    }

    /// The 1-based line and 1-based column (in characters) of byte `offset` in `text`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = match self.line_starts.binary_search(&(offset as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let col = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The text of 1-based line `line`, without its line terminator.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map_or(text.len(), |&e| e as usize);
        text.get(start as usize..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snaps_to_char_boundaries() {
        let text = "café au lait";
        // byte 4 is inside 'é' (bytes 3..5)
        let s = Span::new(4, 4).snap_to_chars(text);
        assert_eq!(s, Span::new(3, 5));
        assert_eq!(Span::new(0, 4).slice(text), "café");
    }

    #[test]
    fn line_and_column_in_characters() {
        let text = "héllo\nwörld";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        let w = text.find('w').unwrap();
        assert_eq!(idx.line_col(text, w), (2, 1));
        let r = text.find('r').unwrap();
        assert_eq!(idx.line_col(text, r), (2, 3));
        assert_eq!(idx.line_text(text, 2), "wörld");
        assert_eq!(idx.line_text(text, 3), "");
    }
}
