//! Batch line handling: any bytes, read in any chunk sizes, with any line limit, become exactly
//! one record per line, numbered in order; each line either parses or becomes an error record
//! that is one valid JSON line, and an id echoed from a record is one a reader can hold; a line
//! read directly (the usual shape) is read as serde reads it.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use std::io::{self, Read};

#[allow(dead_code)]
#[path = "../../crates/smslint-cli/src/batch.rs"]
mod batch;
#[allow(dead_code)]
#[path = "../../crates/smslint-cli/src/records.rs"]
mod records;

/// Hands out the input a few bytes at a time, as a pipe would.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.data.len().min(self.step).min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&[step, max], input)) = data.split_first_chunk::<2>() else {
        return;
    };
    let step = usize::from(step).max(1);
    let max = usize::from(max) * 4;
    // The lines as a reader of the whole input sees them.
    let mut expected: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if input.is_empty() || input.ends_with(b"\n") {
        expected.pop();
    }
    // The read buffer is as small as the step half the time, so lines also split at its end.
    let read_size = if step % 2 == 0 { step } else { 1 << 18 };
    let mut reader =
        batch::LineReader::with_read_size(Trickle { data: input, step }, max, read_size);
    let mut chunk = batch::Chunk::default();
    let mut seen = 0;
    while reader
        .next_chunk(&mut chunk)
        .expect("reading a slice cannot fail")
    {
        for (number, line) in &chunk.lines {
            seen += 1;
            assert_eq!(*number, seen, "line numbers run 1, 2, 3, ...");
            let want = expected[seen - 1];
            let want = want.strip_suffix(b"\r").unwrap_or(want);
            let bytes = chunk.bytes(line);
            match bytes {
                Some(b) => assert_eq!(b, want, "line {seen}"),
                None => assert!(
                    expected[seen - 1].len() > max,
                    "line {seen} is not too long"
                ),
            }
            // A line of the usual shape is read directly, as serde reads it.
            if let Some(text) = bytes.and_then(|b| std::str::from_utf8(b).ok()) {
                if let Some(fast) = records::plain(text) {
                    let slow = records::general(text)
                        .unwrap_or_else(|e| panic!("read directly, refused by serde: {}", e.2));
                    assert_eq!(fast.id.map(|i| i.get()), slow.id.map(|i| i.get()));
                    for (f, s) in [
                        (&fast.text, &slow.text),
                        (&fast.to, &slow.to),
                        (&fast.from, &slow.from),
                    ] {
                        assert_eq!(f, s);
                        assert_eq!(
                            matches!(f, Some(std::borrow::Cow::Borrowed(_))),
                            matches!(s, Some(std::borrow::Cow::Borrowed(_)))
                        );
                    }
                    assert_eq!(fast.extension_id, slow.extension_id);
                    assert_eq!(fast.mms, slow.mms);
                }
            }
            match records::parse(*number, bytes, max) {
                Ok(record) => {
                    assert!(record.text.is_some());
                    // The id is echoed as given: readers must be able to hold it.
                    if let Some(id) = record.id {
                        serde_json::from_str::<serde_json::Value>(id.get())
                            .expect("an echoed id is JSON a reader can hold");
                    }
                }
                Err(error) => {
                    assert_eq!(error.line, *number);
                    let mut out = Vec::new();
                    error.write(&mut out).expect("writing to a Vec cannot fail");
                    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
                    let value: serde_json::Value =
                        serde_json::from_slice(&out).expect("an error record is JSON");
                    assert_eq!(value["line"], *number);
                }
            }
        }
    }
    assert_eq!(seen, expected.len(), "every line is answered");
});
