//! Streaming JSON Lines: read in chunks, process each chunk (in parallel), write in input order.
//!
//! A chunk is whatever complete lines one `read` delivered, so a co-process that writes one line
//! and waits gets its answer at once; from a file, chunks hold thousands of lines. Lines longer
//! than the limit are skipped to their end without being held in memory, and become error
//! records. Memory is bounded by the chunk size and the line limit, whatever the input size.

use std::io::{self, Read, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes asked of the reader at a time.
const READ_SIZE: usize = 256 << 10;

/// Lines a thread takes at a time when a chunk is shared out.
const BLOCK: usize = 64;

/// One input line of a chunk.
#[derive(Debug, Clone)]
pub enum LineBytes {
    /// The line's bytes in the chunk (without its newline).
    Ok(Range<usize>),
    /// The line was longer than the limit; its bytes were skipped.
    TooLong,
}

/// Complete lines, with their 1-based numbers.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The bytes of the lines.
    pub data: Vec<u8>,
    /// Each line: its number and where its bytes are.
    pub lines: Vec<(usize, LineBytes)>,
}

impl Chunk {
    /// The bytes of a line.
    pub fn bytes(&self, line: &LineBytes) -> Option<&[u8]> {
        match line {
            LineBytes::Ok(r) => Some(&self.data[r.clone()]),
            LineBytes::TooLong => None,
        }
    }
}

/// Splits a byte stream into chunks of complete lines.
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    pending: Vec<u8>,
    discarding: bool,
    next_line: usize,
    eof: bool,
    max_line: usize,
}

impl<R: Read> LineReader<R> {
    /// A reader that refuses lines over `max_line` bytes.
    pub fn new(reader: R, max_line: usize) -> Self {
        Self::with_read_size(reader, max_line, READ_SIZE)
    }

    /// [`LineReader::new`] asking the reader for at most `read_size` bytes at a time (at least
    /// one), so tests and fuzzing can split lines across reads anywhere.
    pub fn with_read_size(reader: R, max_line: usize, read_size: usize) -> Self {
        LineReader {
            reader,
            buf: vec![0; read_size.max(1)],
            pending: Vec::new(),
            discarding: false,
            next_line: 1,
            eof: false,
            max_line,
        }
    }

    /// The next chunk of complete lines into `chunk` (cleared first); false at the end.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> io::Result<bool> {
        chunk.data.clear();
        chunk.lines.clear();
        while chunk.lines.is_empty() {
            if self.eof {
                return Ok(false);
            }
            // The read buffer is taken out while its bytes are split, so the line helpers can
            // borrow the reader mutably; it is put back before the next read.
            let mut buf = std::mem::take(&mut self.buf);
            let n = match self.reader.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    self.buf = buf;
                    if e.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(e);
                }
            };
            if n == 0 {
                self.buf = buf;
                self.eof = true;
                // A last line without a newline is a line all the same.
                if self.discarding {
                    self.push_too_long(chunk);
                } else if !self.pending.is_empty() {
                    self.push_pending(chunk);
                }
                continue;
            }
            let mut rest = &buf[..n];
            while !rest.is_empty() {
                // `memchr` tests many bytes a step: a byte loop cost about 850 instructions a
                // message (callgrind).
                let newline = memchr::memchr(b'\n', rest);
                let (segment, more) = match newline {
                    Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                    None => (rest, None),
                };
                if !self.discarding {
                    if self.pending.len() + segment.len() > self.max_line {
                        self.discarding = true;
                        self.pending.clear();
                    } else {
                        self.pending.extend_from_slice(segment);
                    }
                }
                match more {
                    Some(after) => {
                        if self.discarding {
                            self.push_too_long(chunk);
                        } else {
                            let pending = std::mem::take(&mut self.pending);
                            self.push_line(chunk, &pending);
                            self.pending = pending;
                            self.pending.clear();
                        }
                        rest = after;
                    }
                    None => rest = &[],
                }
            }
            self.buf = buf;
        }
        Ok(true)
    }

    fn push_line(&mut self, chunk: &mut Chunk, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = chunk.data.len();
        chunk.data.extend_from_slice(line);
        chunk
            .lines
            .push((self.next_line, LineBytes::Ok(start..chunk.data.len())));
        self.next_line += 1;
    }

    fn push_pending(&mut self, chunk: &mut Chunk) {
        let pending = std::mem::take(&mut self.pending);
        self.push_line(chunk, &pending);
    }

    fn push_too_long(&mut self, chunk: &mut Chunk) {
        chunk.lines.push((self.next_line, LineBytes::TooLong));
        self.next_line += 1;
        self.discarding = false;
        self.pending.clear();
    }
}

/// Work on one line, possibly on another thread.
pub trait Processor: Sync {
    /// Buffers a worker reuses from line to line.
    type Scratch: Send + Default;
    /// What the writer needs of a line besides the bytes the worker wrote for it.
    type Out<'a>: Send;
    /// Process line `number` (`None`: it was too long), appending whatever output it can write
    /// itself to `written`: the writer gets those bytes with the result, so no line needs a
    /// buffer of its own.
    fn process<'a>(
        &self,
        number: usize,
        line: Option<&'a [u8]>,
        scratch: &mut Self::Scratch,
        written: &mut Vec<u8>,
    ) -> Self::Out<'a>;

    /// Share out the buffers that the workers' scratches got back from the writer, once a chunk
    /// shared among threads is written: each result's buffers go back to the worker that made
    /// it, and a worker that takes more of the next chunk than of this one would otherwise
    /// allocate for the difference.
    fn even_out(_scratch: &mut [Self::Scratch]) {}
}

/// Read every chunk, process its lines on up to `jobs` threads, and hand the results, each with
/// the bytes its worker wrote and that worker's scratch (to take back the result's buffers), to
/// `emit` in input order; `flush_each` flushes `out` after every chunk (input from a pipe).
pub fn run<R: Read, P: Processor, W: Write>(
    reader: &mut LineReader<R>,
    processor: &P,
    jobs: usize,
    out: &mut W,
    flush_each: bool,
    mut emit: impl FnMut(P::Out<'_>, &[u8], &mut W, &mut P::Scratch) -> io::Result<()>,
) -> io::Result<()> {
    let jobs = jobs.max(1);
    let mut scratch: Vec<P::Scratch> = (0..jobs).map(|_| P::Scratch::default()).collect();
    // Each worker's buffers for the lines of a block, kept from chunk to chunk: a fresh one
    // for every block grew by reallocation, on fresh pages, 64 lines at a time.
    let mut spare: Vec<Vec<Vec<u8>>> = (0..jobs).map(|_| Vec::new()).collect();
    let mut chunk = Chunk::default();
    // One buffer for the lines of one thread's turn, reused: a buffer per line cost an
    // allocation, its growth and its release for every message.
    let mut written = Vec::new();
    while reader.next_chunk(&mut chunk)? {
        let lines = &chunk.lines;
        // Below a few hundred lines, threads cost more than they save.
        if jobs == 1 || lines.len() < 256 {
            let s = &mut scratch[0];
            for (number, line) in lines {
                written.clear();
                let result = processor.process(*number, chunk.bytes(line), s, &mut written);
                emit(result, &written, out, s)?;
            }
        } else {
            // Lines go out in blocks, one at a time, to the main thread and `jobs - 1` others:
            // a thread that gets less of the machine (other tenants share its cores) takes
            // fewer blocks instead of holding up the chunk, as an even split would.
            let blocks = lines.len().div_ceil(BLOCK);
            let next = AtomicUsize::new(0);
            let chunk_ref = &chunk;
            let work = |worker: usize, s: &mut P::Scratch, spare: &mut Vec<Vec<u8>>| {
                let mut done = Vec::new();
                loop {
                    let block = next.fetch_add(1, Ordering::Relaxed);
                    if block >= blocks {
                        return done;
                    }
                    let part = &lines[block * BLOCK..lines.len().min((block + 1) * BLOCK)];
                    let mut bytes = spare.pop().unwrap_or_default();
                    let results: Vec<(P::Out<'_>, Range<usize>)> = part
                        .iter()
                        .map(|(number, line)| {
                            let start = bytes.len();
                            let result =
                                processor.process(*number, chunk_ref.bytes(line), s, &mut bytes);
                            (result, start..bytes.len())
                        })
                        .collect();
                    done.push((block, worker, results, bytes));
                }
            };
            let (main_scratch, others) = scratch.split_at_mut(1);
            let (main_spare, other_spares) = spare.split_at_mut(1);
            let mut results = std::thread::scope(|scope| {
                let work = &work;
                let mut handles = Vec::new();
                // No more threads than blocks: the others would find no work.
                let helpers = others
                    .iter_mut()
                    .zip(other_spares.iter_mut())
                    .take(blocks - 1);
                for (i, (s, spare)) in helpers.enumerate() {
                    let thread = std::thread::Builder::new()
                        .spawn_scoped(scope, move || work(i + 1, s, spare));
                    match thread {
                        Ok(handle) => handles.push(handle),
                        // A thread the system will not start (a limit on threads or memory)
                        // leaves its blocks to the others: the same output, later.
                        Err(_) => break,
                    }
                }
                let mut all = work(0, &mut main_scratch[0], &mut main_spare[0]);
                for h in handles {
                    all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
                }
                all
            });
            results.sort_unstable_by_key(|&(block, _, _, _)| block);
            for (_, worker, part, mut bytes) in results {
                // The line's buffers go back to the worker that made them.
                let s = &mut scratch[worker];
                for (result, range) in part {
                    emit(result, bytes.get(range).unwrap_or_default(), out, s)?;
                }
                if let Some(spare) = spare.get_mut(worker) {
                    bytes.clear();
                    spare.push(bytes);
                }
            }
            P::even_out(&mut scratch);
        }
        if flush_each {
            out.flush()?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(usize, Option<Vec<u8>>)> {
        lines_read_by(input, max, READ_SIZE)
    }

    fn lines_read_by(input: &[u8], max: usize, read: usize) -> Vec<(usize, Option<Vec<u8>>)> {
        let mut r = LineReader::with_read_size(input, max, read);
        let mut c = Chunk::default();
        let mut out = Vec::new();
        while r.next_chunk(&mut c).unwrap_or(false) {
            for (n, l) in &c.lines {
                out.push((*n, c.bytes(l).map(<[u8]>::to_vec)));
            }
        }
        out
    }

    #[test]
    fn one_record_per_line_in_order() {
        let got = lines(b"a\r\n\nbb\nccc", 100);
        assert_eq!(
            got,
            vec![
                (1, Some(b"a".to_vec())),
                (2, Some(Vec::new())),
                (3, Some(b"bb".to_vec())),
                (4, Some(b"ccc".to_vec()))
            ]
        );
    }

    #[test]
    fn long_lines_are_skipped_not_held() {
        let mut input = b"ok\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 5000));
        input.extend_from_slice(b"\nafter\n");
        input.extend(std::iter::repeat_n(b'y', 5000));
        let got = lines(&input, 100);
        assert_eq!(
            got,
            vec![
                (1, Some(b"ok".to_vec())),
                (2, None),
                (3, Some(b"after".to_vec())),
                (4, None)
            ]
        );
    }

    #[test]
    fn lines_split_across_reads_come_out_whole() {
        let input = b"first\r\n\nsecond line\nxxxxxxxxxxxx\nlast";
        let whole = lines(input, 10);
        assert_eq!(whole.len(), 5);
        assert_eq!(whole[3], (4, None));
        for read in 1..=input.len() {
            assert_eq!(
                lines_read_by(input, 10, read),
                whole,
                "reads of {read} bytes"
            );
        }
    }

    /// Echoes each line's length; counts the chunks after which its scratches were evened out.
    struct Lengths;

    static EVENED: AtomicUsize = AtomicUsize::new(0);

    impl Processor for Lengths {
        type Scratch = Vec<u8>;
        type Out<'a> = usize;

        fn process(
            &self,
            _: usize,
            line: Option<&[u8]>,
            _: &mut Vec<u8>,
            _: &mut Vec<u8>,
        ) -> usize {
            line.map_or(0, <[u8]>::len)
        }

        fn even_out(scratch: &mut [Vec<u8>]) {
            assert_eq!(scratch.len(), 2);
            EVENED.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn scratches_are_evened_out_after_each_chunk_shared_among_threads() {
        // 2,000 lines of 8 bytes, read 4,096 bytes at a time: chunks of about 500 lines, each
        // shared out to two threads.
        let input: Vec<u8> = (0..2000)
            .flat_map(|i| format!("{i:07}\n").into_bytes())
            .collect();
        let mut reader = LineReader::with_read_size(&input[..], 100, 4096);
        let (mut out, mut chunks, mut lines) = (Vec::new(), 0, 0);
        run(&mut reader, &Lengths, 2, &mut out, false, |n, _, _, _| {
            assert_eq!(n, 7);
            lines += 1;
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let mut reader = LineReader::with_read_size(&input[..], 100, 4096);
        let mut chunk = Chunk::default();
        while reader.next_chunk(&mut chunk).unwrap_or(false) {
            chunks += usize::from(chunk.lines.len() >= 256);
        }
        assert_eq!(lines, 2000);
        assert!(chunks >= 3, "{chunks}");
        assert_eq!(EVENED.load(Ordering::Relaxed), chunks);
    }
}
