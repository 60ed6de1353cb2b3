//! Streaming JSON Lines: read in chunks, process each chunk (in parallel), write in input order.
//!
//! A chunk is whatever complete lines one `read` delivered, so a co-process that writes one line
//! and waits gets its answer at once; from a file, chunks hold thousands of lines. Lines longer
//! than the limit are skipped to their end without being held in memory, and become error
//! records. Memory is bounded by the chunk size and the line limit, whatever the input size.

use std::io::{self, Read, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Bytes asked of the reader at a time.
const READ_SIZE: usize = 256 << 10;

/// Lines a thread takes at a time when a chunk is shared out.
const BLOCK: usize = 64;

/// Lines the main thread processes alone at the start of a run with several workers, before
/// the others start from its scratch ([`Processor::warm`]).
// The default policy's pattern set builds three quarters of a 50,000-message run's lazy DFA
// states in the first 1,000 benchmark messages; each helper built them all again.
const WARM_UP: usize = 1_000;

/// Below this many lines, a chunk's threads would cost more than they save.
const FEW: usize = 256;

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
    /// The bytes read, which the lines are ranges of (bytes past the last read are stale).
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
    read_size: usize,
    /// The incomplete line the last read ended in, which opens the next chunk.
    carry: Vec<u8>,
    /// Whether the current line is past the limit: its bytes are dropped up to its newline.
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
            read_size: read_size.max(1),
            carry: Vec::new(),
            discarding: false,
            next_line: 1,
            eof: false,
            max_line,
        }
    }

    /// The next chunk of complete lines into `chunk` (its lines cleared first); false at the
    /// end.
    // The reader reads straight into the chunk, whose lines are ranges of what it read: only
    // the incomplete line a read ends in is copied, to open the next chunk. (A read buffer
    // whose lines were copied into a line buffer and then into the chunk copied every byte
    // twice, and held a read's worth more.) The chunk's bytes past what was read are kept as
    // they are, so that its buffer is cleared once, when it grows.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> io::Result<bool> {
        chunk.lines.clear();
        let mut filled = self.carry.len();
        if chunk.data.len() < filled {
            chunk.data.resize(filled, 0);
        }
        chunk.data[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        // Where the line not yet complete starts.
        let mut start = 0;
        while chunk.lines.is_empty() {
            if self.eof {
                return Ok(false);
            }
            let room = filled + self.read_size;
            if chunk.data.len() < room {
                chunk.data.resize(room, 0);
            }
            let n = match self.reader.read(&mut chunk.data[filled..room]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.eof = true;
                // A last line without a newline is a line all the same.
                if self.discarding {
                    self.push_too_long(chunk);
                } else if filled > start {
                    self.push_line(chunk, start..filled);
                }
                start = filled;
                continue;
            }
            let end = filled + n;
            let mut at = filled;
            // `memchr` tests many bytes a step: a byte loop cost about 850 instructions a
            // message (callgrind).
            while let Some(i) = memchr::memchr(b'\n', &chunk.data[at..end]) {
                let newline = at + i;
                if self.discarding || newline - start > self.max_line {
                    self.push_too_long(chunk);
                } else {
                    self.push_line(chunk, start..newline);
                }
                start = newline + 1;
                at = start;
            }
            // The rest is the start of a line: dropped once it is past the limit, so that a
            // long line is never held.
            filled = end;
            if self.discarding || filled - start > self.max_line {
                self.discarding = true;
                filled = start;
            }
        }
        self.carry.extend_from_slice(&chunk.data[start..filled]);
        Ok(true)
    }

    fn push_line(&mut self, chunk: &mut Chunk, line: Range<usize>) {
        let mut end = line.end;
        if end > line.start && chunk.data[end - 1] == b'\r' {
            end -= 1;
        }
        chunk
            .lines
            .push((self.next_line, LineBytes::Ok(line.start..end)));
        self.next_line += 1;
    }

    fn push_too_long(&mut self, chunk: &mut Chunk) {
        chunk.lines.push((self.next_line, LineBytes::TooLong));
        self.next_line += 1;
        self.discarding = false;
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

    /// Whether `scratch` holds fewer spare buffers than `lines` results may take to the writer
    /// (never, for a processor whose results take none). The writer, the main thread, gives
    /// every result's buffers back to its own scratch, whichever thread made the result.
    fn short_of(&self, _scratch: &Self::Scratch, _lines: usize) -> bool {
        false
    }

    /// Whether `scratch` holds more spare buffers than `lines` results may take.
    fn beyond(&self, _scratch: &Self::Scratch, _lines: usize) -> bool {
        false
    }

    /// Move the spare buffers of `from` beyond what `keep` results may take to `to`.
    fn hand_over(_from: &mut Self::Scratch, _to: &mut Self::Scratch, _keep: usize) {}

    /// Take spare buffers from `from` into `to` until `lines` results may take no more (or
    /// `from` runs out): no more, so that no worker keeps what another one lacks.
    fn top_up(_to: &mut Self::Scratch, _from: &mut Self::Scratch, _lines: usize) {}

    /// Give `to`, a worker's scratch before its first line, what `from` has built that makes
    /// later lines cheaper (search states), so that it need not build it again.
    fn warm(_from: &Self::Scratch, _to: &mut Self::Scratch) {}
}

/// A block's results, each with the range of its bytes.
type Results<'a, P> = Vec<(<P as Processor>::Out<'a>, Range<usize>)>;

/// Written blocks' output buffers and result lists, kept for the next blocks.
type Spare<P> = Vec<(Vec<u8>, Results<'static, P>)>;

/// A finished block: each line's result with the range of its bytes, and the bytes.
type Done<'a, P> = (Results<'a, P>, Vec<u8>);

/// `v`, emptied, as a `Vec` of another lifetime's results in the same allocation, so that one
/// chunk's blocks reuse the last chunk's lists: `collect` from a `Vec`'s own iterator into
/// elements of the same layout reuses its buffer (std's in-place iteration; a test holds this,
/// and without it this would allocate once a block, as a new `Vec` would).
fn relabel<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// What the threads sharing out a chunk share.
struct Shared<T> {
    /// The next block to take.
    next: AtomicUsize,
    /// Blocks finished by helpers and not yet written, by block number.
    finished: Mutex<Vec<Option<T>>>,
    /// Signalled when a block is finished, or a helper failed.
    ready: Condvar,
    /// Whether a helper panicked, leaving a block unfinished.
    failed: AtomicBool,
    /// Blocks the writer has written.
    written: AtomicUsize,
    /// Signalled when the writer has written a block, or stopped, if any helper waits.
    room: Condvar,
    /// Helpers waiting for room.
    waiting: AtomicUsize,
    /// Whether the writer has stopped (every block written, or a failure).
    stopped: AtomicBool,
}

impl<T> Shared<T> {
    /// The state of a chunk of `blocks` blocks, none taken.
    fn new(blocks: usize) -> Shared<T> {
        Shared {
            next: AtomicUsize::new(0),
            finished: Mutex::new((0..blocks).map(|_| None).collect()),
            ready: Condvar::new(),
            failed: AtomicBool::new(false),
            written: AtomicUsize::new(0),
            room: Condvar::new(),
            waiting: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Option<T>>> {
        lock(&self.finished)
    }
}

/// `mutex` locked, whether or not a thread panicked while it held it: what it guards (finished
/// blocks, spare buffers) is whole between any two statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a helper may process `block`, which it has taken: at once when it is fewer than
/// `ahead` past the blocks written, else once the writer has caught up, so that the blocks
/// finished and waiting for the writer hold a few blocks' output whatever runs behind (a
/// thread the system left waiting held up the writer while the others ran 20 blocks ahead
/// with 4 or 8 workers). False when the writer has stopped first.
fn room_for<T>(shared: &Shared<T>, block: usize, ahead: usize) -> bool {
    // Sequentially consistent, with `made_room`: a helper that counts itself waiting and then
    // finds no room, and a writer that counts a block written and then finds no helper
    // waiting, cannot both happen.
    let full = || shared.written.load(Ordering::SeqCst) + ahead <= block;
    if !full() {
        return true;
    }
    let mut finished = shared.lock();
    shared.waiting.fetch_add(1, Ordering::SeqCst);
    while full() && !shared.stopped.load(Ordering::SeqCst) {
        finished = shared
            .room
            .wait(finished)
            .unwrap_or_else(PoisonError::into_inner);
    }
    shared.waiting.fetch_sub(1, Ordering::SeqCst);
    !full()
}

/// Tell the helpers waiting for room, if any, that `written` blocks are written (a signal for
/// every block cost a system call each).
fn made_room<T>(shared: &Shared<T>, written: usize) {
    shared.written.store(written, Ordering::SeqCst);
    if shared.waiting.load(Ordering::SeqCst) > 0 {
        // Under the lock, so that a waiting helper cannot miss the signal between its test
        // and its wait.
        drop(shared.lock());
        shared.room.notify_all();
    }
}

/// Releases the helpers waiting for room once the writer stops, however it stops: should the
/// main thread panic, the scope waits for every helper before it unwinds.
struct StopOnExit<'a, T>(&'a Shared<T>);

impl<T> StopOnExit<'_, T> {
    fn now(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        // Under the lock, so that a helper cannot miss the signal between its test and its
        // wait.
        drop(self.0.lock());
        self.0.room.notify_all();
    }
}

impl<T> Drop for StopOnExit<'_, T> {
    fn drop(&mut self) {
        self.now();
    }
}

/// Tells the writer, should a helper panic, that it is not to wait for the helper's block.
struct FailOnPanic<'a, T>(&'a Shared<T>);

impl<T> Drop for FailOnPanic<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.failed.store(true, Ordering::Relaxed);
            // Under the lock, so that the writer cannot miss the signal between its test and
            // its wait.
            let _finished = self.0.lock();
            self.0.ready.notify_all();
        }
    }
}

/// Read every chunk, process its lines on up to `jobs` threads (the first [`WARM_UP`] on the
/// main thread alone, the others' scratch then warmed from its), and hand the results, each
/// with the bytes its worker wrote and a scratch to take back the result's buffers (the main
/// thread's, when a chunk is shared out), to `emit` in input order; `flush_each` flushes `out`
/// after every chunk (input from a pipe).
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
    // The output buffers and result lists of written blocks, for the next blocks whichever
    // thread takes them, kept from chunk to chunk: a fresh buffer for every block grew by
    // reallocation, on fresh pages, 64 lines at a time, and a fresh list was an allocation a
    // block. At most one a worker and two more: kept for every block a worker ran ahead of
    // the writer, they would hold as much as a chunk's output. No thread takes a block more
    // than as many past the ones written either ([`room_for`]).
    let spare: Mutex<Spare<P>> = Mutex::new(Vec::new());
    let keep = jobs + 2;
    // The buffers the writer got back beyond its own needs, for the workers short of them.
    let depot: Mutex<P::Scratch> = Mutex::new(P::Scratch::default());
    let mut chunk = Chunk::default();
    // One buffer for the lines of one thread's turn, reused: a buffer per line cost an
    // allocation, its growth and its release for every message.
    let mut written = Vec::new();
    // Lines the main thread has processed alone, and how many of the others' scratches have
    // been warmed from its own: only those of threads that start, as a chunk has work for no
    // more threads than it has blocks (warming every one of `--jobs 1024` took 0.5 GB).
    let mut alone = 0;
    let mut warmed = 0;
    while reader.next_chunk(&mut chunk)? {
        let all = &chunk.lines;
        // The main thread alone takes a chunk of a few lines, and the first lines of a run;
        // the others then start from a copy of what it built.
        let mut first = if jobs == 1 {
            all.len()
        } else {
            WARM_UP.saturating_sub(alone).min(all.len())
        };
        if all.len() - first < FEW {
            first = all.len();
        }
        let (own, lines) = all.split_at(first);
        alone += own.len();
        let s = &mut scratch[0];
        for (number, line) in own {
            written.clear();
            let result = processor.process(*number, chunk.bytes(line), s, &mut written);
            emit(result, &written, out, s)?;
        }
        if !lines.is_empty() {
            let blocks = lines.len().div_ceil(BLOCK);
            // No more threads than blocks: the others would find no work.
            let helpers = (jobs - 1).min(blocks - 1);
            if warmed < helpers {
                let (main, others) = scratch.split_at_mut(1);
                for s in others.iter_mut().take(helpers).skip(warmed) {
                    P::warm(&main[0], s);
                }
                warmed = helpers;
            }
            // Lines go out in blocks, one at a time, to the main thread and `jobs - 1` others:
            // a thread that gets less of the machine (other tenants share its cores) takes
            // fewer blocks instead of holding up the chunk, as an even split would. The main
            // thread also writes the finished blocks in order as soon as the ones before them
            // are written, so only the few blocks ahead of the writer are held, not the chunk.
            let shared = Shared::new(blocks);
            let chunk_ref = &chunk;
            let work_on = |block: usize, s: &mut P::Scratch| {
                let part = &lines[block * BLOCK..lines.len().min((block + 1) * BLOCK)];
                if processor.short_of(s, part.len()) {
                    P::top_up(s, &mut lock(&depot), part.len());
                }
                let (mut bytes, results) = lock(&spare).pop().unwrap_or_default();
                let mut results: Results<'_, P> = relabel(results);
                results.extend(part.iter().map(|(number, line)| {
                    let start = bytes.len();
                    let result = processor.process(*number, chunk_ref.bytes(line), s, &mut bytes);
                    (result, start..bytes.len())
                }));
                (results, bytes)
            };
            let (main_scratch, others) = scratch.split_at_mut(1);
            let main_scratch = &mut main_scratch[0];
            let written_all = std::thread::scope(|scope| -> io::Result<()> {
                let (shared, work_on) = (&shared, &work_on);
                let stop = StopOnExit(shared);
                let mut handles = Vec::new();
                for s in others.iter_mut().take(helpers) {
                    let thread = std::thread::Builder::new().spawn_scoped(scope, move || {
                        // Should processing panic, the writer must not wait for this block.
                        let _guard = FailOnPanic(shared);
                        loop {
                            let block = shared.next.fetch_add(1, Ordering::Relaxed);
                            if block >= blocks || !room_for(shared, block, keep) {
                                return;
                            }
                            let done = work_on(block, s);
                            let mut finished = shared.lock();
                            if let Some(slot) = finished.get_mut(block) {
                                *slot = Some(done);
                            }
                            drop(finished);
                            shared.ready.notify_one();
                        }
                    });
                    match thread {
                        Ok(handle) => handles.push(handle),
                        // A thread the system will not start (a limit on threads or memory)
                        // leaves its blocks to the others: the same output, later.
                        Err(_) => break,
                    }
                }
                let mut write = |(mut results, mut bytes): Done<'_, P>,
                                 out: &mut W,
                                 s: &mut P::Scratch|
                 -> io::Result<()> {
                    for (result, range) in results.drain(..) {
                        emit(result, bytes.get(range).unwrap_or_default(), out, s)?;
                    }
                    // Once a block, not a line: the lock is taken only for a block's worth.
                    if processor.beyond(s, 2 * BLOCK) {
                        P::hand_over(s, &mut lock(&depot), BLOCK);
                    }
                    let mut spare = lock(&spare);
                    if spare.len() < keep {
                        bytes.clear();
                        spare.push((bytes, relabel(results)));
                    }
                    Ok(())
                };
                let mut written = 0;
                let mut result = Ok(());
                // Work, and write what is finished in between; then wait for the rest.
                while result.is_ok() && written < blocks {
                    let ahead = shared.lock().get_mut(written).and_then(Option::take);
                    if let Some(done) = ahead {
                        result = write(done, out, main_scratch);
                        written += 1;
                        made_room(shared, written);
                        continue;
                    }
                    // The main thread too takes no block past the room the helpers have.
                    let block = if shared.next.load(Ordering::Relaxed) < written + keep {
                        shared.next.fetch_add(1, Ordering::Relaxed)
                    } else {
                        blocks
                    };
                    if block < blocks {
                        let done = work_on(block, main_scratch);
                        if block == written {
                            result = write(done, out, main_scratch);
                            written += 1;
                            made_room(shared, written);
                        } else if let Some(slot) = shared.lock().get_mut(block) {
                            *slot = Some(done);
                        }
                        continue;
                    }
                    // Every block is taken, or as many as there is room for: wait for the next
                    // one to write.
                    let mut finished = shared.lock();
                    while finished.get(written).is_some_and(Option::is_none)
                        && !shared.failed.load(Ordering::Relaxed)
                    {
                        finished = shared
                            .ready
                            .wait(finished)
                            .unwrap_or_else(PoisonError::into_inner);
                    }
                    if finished.get(written).is_some_and(Option::is_none) {
                        // A helper panicked: its panic is raised below.
                        break;
                    }
                }
                if result.is_err() {
                    // The output failed: no helper needs to take another block.
                    shared.next.store(blocks, Ordering::Relaxed);
                }
                // A helper waiting for room (the output failed, or another helper panicked)
                // is not to wait any longer.
                stop.now();
                for h in handles {
                    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                }
                result
            });
            written_all?;
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

    /// Hands each line to the writer in a buffer from its scratch's pool, and counts the
    /// buffers it had to make because the pool was empty.
    #[derive(Default)]
    struct Pooled {
        made: AtomicUsize,
    }

    impl Processor for Pooled {
        type Scratch = Vec<Vec<u8>>;
        type Out<'a> = Vec<u8>;

        fn process(
            &self,
            _: usize,
            line: Option<&[u8]>,
            pool: &mut Vec<Vec<u8>>,
            _: &mut Vec<u8>,
        ) -> Vec<u8> {
            let mut buffer = pool.pop().unwrap_or_else(|| {
                self.made.fetch_add(1, Ordering::Relaxed);
                Vec::with_capacity(8)
            });
            buffer.extend_from_slice(line.unwrap_or_default());
            buffer
        }

        fn short_of(&self, pool: &Vec<Vec<u8>>, lines: usize) -> bool {
            pool.len() < lines
        }

        fn beyond(&self, pool: &Vec<Vec<u8>>, lines: usize) -> bool {
            pool.len() > lines
        }

        fn hand_over(from: &mut Vec<Vec<u8>>, to: &mut Vec<Vec<u8>>, keep: usize) {
            smslint_core::hand_over_pool(from, to, keep);
        }

        fn top_up(to: &mut Vec<Vec<u8>>, from: &mut Vec<Vec<u8>>, lines: usize) {
            smslint_core::top_up_pool(to, from, lines);
        }
    }

    #[test]
    fn buffers_the_writer_takes_back_go_on_to_the_workers() {
        // 40,000 lines of 8 bytes, read 8 KiB at a time: 40 chunks of about 1,000 lines, each
        // shared out. Every buffer a worker hands over comes back to the writer's scratch;
        // kept there, the other workers would make a new one for every line they take (about
        // 30,000 with two threads). Handed on, the buffers made stay within what a chunk holds
        // in flight and the threads keep (448-832 in runs here; 30,464 with `hand_over` and
        // `top_up` doing nothing).
        let input = numbered_lines(40_000);
        for jobs in [2, 3] {
            let pooled = Pooled::default();
            let mut reader = LineReader::with_read_size(&input[..], 100, 8 << 10);
            let (mut out, mut expected) = (Vec::new(), 1);
            run(
                &mut reader,
                &pooled,
                jobs,
                &mut out,
                false,
                |buffer, _, _, pool| {
                    assert_eq!(buffer, format!("{expected:07}").as_bytes());
                    expected += 1;
                    let mut buffer = buffer;
                    buffer.clear();
                    pool.push(buffer);
                    Ok(())
                },
            )
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(expected, 40_001);
            let made = pooled.made.load(Ordering::Relaxed);
            assert!(made <= 2 * 1024, "jobs {jobs}: {made} buffers made");
        }
    }

    /// What a worker has done: the lines it processed, and, when it was warmed, the lines the
    /// scratch it was warmed from had processed and its own at that moment.
    #[derive(Default)]
    struct Noted {
        lines: usize,
        warmed: Option<(usize, usize)>,
    }

    /// Tells, for each line, what the scratch that processed it had done before.
    struct Warmed;

    impl Processor for Warmed {
        type Scratch = Noted;
        type Out<'a> = (usize, usize, Option<(usize, usize)>);

        fn process(
            &self,
            number: usize,
            _: Option<&[u8]>,
            noted: &mut Noted,
            _: &mut Vec<u8>,
        ) -> (usize, usize, Option<(usize, usize)>) {
            // A pause now and then, so that the helpers take blocks whatever the machine.
            if number % 64 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
            noted.lines += 1;
            (number, noted.lines - 1, noted.warmed)
        }

        fn warm(from: &Noted, to: &mut Noted) {
            to.warmed = Some((from.lines, to.lines));
        }
    }

    #[test]
    fn the_main_thread_takes_the_first_lines_alone_and_the_others_start_from_its_scratch() {
        let input = numbered_lines(20_000);
        for jobs in [2, 3] {
            let mut reader = LineReader::with_read_size(&input[..], 100, 8 << 10);
            let (mut expected, mut by_helpers) = (1, 0);
            run(
                &mut reader,
                &Warmed,
                jobs,
                &mut Vec::new(),
                false,
                |(number, before, warmed), _, _, _| {
                    assert_eq!(number, expected);
                    expected += 1;
                    if number <= WARM_UP {
                        // One scratch, never warmed, took every line so far.
                        assert_eq!((before, warmed), (number - 1, None), "line {number}");
                    }
                    if let Some((from, own)) = warmed {
                        // A helper, warmed before its first line by a scratch past the first
                        // lines.
                        assert!(from >= WARM_UP && own == 0, "line {number}: {warmed:?}");
                        by_helpers += 1;
                    }
                    Ok(())
                },
            )
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(expected, 20_001);
            assert!(by_helpers > 0, "jobs {jobs}: no helper took a line");
        }
    }

    /// Counts the scratches warmed, in a counter of its own (tests run side by side).
    struct CountsWarms;

    static WARMS: AtomicUsize = AtomicUsize::new(0);

    impl Processor for CountsWarms {
        type Scratch = ();
        type Out<'a> = ();

        fn process(&self, number: usize, _: Option<&[u8]>, (): &mut (), _: &mut Vec<u8>) {
            if number % 64 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
        }

        fn warm((): &(), (): &mut ()) {
            WARMS.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn only_the_scratches_of_threads_that_start_are_warmed() {
        let input = numbered_lines(20_000);
        let mut reader = LineReader::with_read_size(&input[..], 100, 8 << 10);
        run(
            &mut reader,
            &CountsWarms,
            1024,
            &mut Vec::new(),
            false,
            |(), _, _, ()| Ok(()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // Reads of 8 KiB are chunks of 1,024 lines of 8 bytes: 16 blocks, work for the main
        // thread and 15 others (the first chunk is the main thread's alone).
        assert_eq!(WARMS.load(Ordering::Relaxed), 15);
    }

    /// Pauses on line `slow`, and notes the highest line processed so far, in a counter of its
    /// own (tests run side by side).
    struct SlowLine {
        slow: usize,
    }

    static HIGHEST: AtomicUsize = AtomicUsize::new(0);

    impl Processor for SlowLine {
        type Scratch = ();
        type Out<'a> = usize;

        fn process(&self, number: usize, _: Option<&[u8]>, (): &mut (), _: &mut Vec<u8>) -> usize {
            if number == self.slow {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            HIGHEST.fetch_max(number, Ordering::Relaxed);
            number
        }
    }

    #[test]
    fn the_threads_run_no_more_than_a_few_blocks_ahead_of_the_writer() {
        // One chunk: the first 1,000 lines alone, then blocks of 64 from line 1,001; the slow
        // line starts block 10.
        let input = numbered_lines(20_000);
        let slow = WARM_UP + 1 + 10 * BLOCK;
        let jobs = 4;
        let mut reader = LineReader::new(&input[..], 100);
        let mut highest_then = 0;
        run(
            &mut reader,
            &SlowLine { slow },
            jobs,
            &mut Vec::new(),
            false,
            |number, _, _, ()| {
                if number == slow {
                    highest_then = HIGHEST.load(Ordering::Relaxed);
                }
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // While block 10 was held up, the helpers took blocks 11 to 15 at most (`jobs + 2`
        // past the 10 written), and the main thread one more, which a race with the helpers'
        // claims (one each) can put up to 3 further: in the 200 ms, they would have done the
        // rest of the chunk.
        let limit = WARM_UP + (10 + (jobs + 2) + (jobs - 1) + 1) * BLOCK;
        assert!(
            highest_then > 0 && highest_then <= limit,
            "line {highest_then} processed before line {slow} was written"
        );
    }

    #[test]
    fn a_list_of_results_keeps_its_allocation_from_chunk_to_chunk() {
        let mut list: Vec<(&str, Range<usize>)> = Vec::with_capacity(BLOCK);
        let chunk = String::from("one chunk's line");
        list.push((chunk.as_str(), 0..3));
        let (at, capacity) = (list.as_ptr() as usize, list.capacity());
        let kept: Vec<(&'static str, Range<usize>)> = relabel(list);
        assert!(kept.is_empty());
        assert_eq!((kept.as_ptr() as usize, kept.capacity()), (at, capacity));
    }

    /// Writes each line back, after a pause on lines whose number is a multiple of `slow`
    /// (so that blocks finish out of order), and panics on line `panic_at`.
    struct Echo {
        slow: usize,
        panic_at: usize,
        /// A line held up for 200 ms (0: none), so that the other threads run out of room.
        held: usize,
        /// Lines past this one panic on the run's main thread (0: none).
        main_panics_past: usize,
    }

    impl Echo {
        fn new(slow: usize, panic_at: usize) -> Echo {
            Echo {
                slow,
                panic_at,
                held: 0,
                main_panics_past: 0,
            }
        }
    }

    thread_local! {
        /// Whether this thread is the one `run_echo` calls `run` on.
        static RUN_MAIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    impl Processor for Echo {
        type Scratch = ();
        type Out<'a> = usize;

        fn process(
            &self,
            number: usize,
            line: Option<&[u8]>,
            (): &mut (),
            written: &mut Vec<u8>,
        ) -> usize {
            assert_ne!(number, self.panic_at, "line {number}");
            assert!(
                self.main_panics_past == 0
                    || number <= self.main_panics_past
                    || !RUN_MAIN.with(std::cell::Cell::get),
                "line {number} on the main thread"
            );
            if number == self.held {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            if number % self.slow == 0 {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            written.extend_from_slice(line.unwrap_or_default());
            written.push(b'\n');
            number
        }
    }

    fn numbered_lines(n: usize) -> Vec<u8> {
        (1..=n)
            .flat_map(|i| format!("{i:07}\n").into_bytes())
            .collect()
    }

    /// `run` of `lines` numbered lines on `jobs` threads, on a thread of its own so that a hang
    /// fails the test instead of stopping it: what it wrote, or how it failed.
    fn run_echo(
        lines: usize,
        jobs: usize,
        echo: Echo,
        fail_write_at: usize,
    ) -> Result<io::Result<Vec<u8>>, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let input = numbered_lines(lines);
            RUN_MAIN.with(|main| main.set(true));
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut reader = LineReader::with_read_size(&input[..], 100, 8 << 10);
                let mut out = Vec::new();
                let mut expected = 1;
                run(
                    &mut reader,
                    &echo,
                    jobs,
                    &mut out,
                    false,
                    |n, bytes, out, ()| {
                        assert_eq!(n, expected, "out of order");
                        expected += 1;
                        if n == fail_write_at {
                            return Err(io::Error::other("the output is gone"));
                        }
                        out.extend_from_slice(bytes);
                        Ok(())
                    },
                )
                .map(|()| out)
            }));
            let _ = tx.send(outcome.map_err(|p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "a panic".into())
            }));
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("run did not end: {e}"))
    }

    #[test]
    fn blocks_that_finish_out_of_order_are_written_in_order() {
        let input = numbered_lines(5000);
        for jobs in [2, 3, 4] {
            for slow in [7, 64, 101] {
                let echo = Echo::new(slow, 0);
                let out = run_echo(5000, jobs, echo, 0)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(out == input, "jobs {jobs}, slow {slow}");
            }
        }
        // With a block held up while the others fill the room ahead of the writer.
        for jobs in [2, 4, 8] {
            let echo = Echo {
                held: HELD,
                ..Echo::new(7, 0)
            };
            let out = run_echo(5000, jobs, echo, 0)
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(out == input, "jobs {jobs}, line {HELD} held");
        }
    }

    #[test]
    fn a_worker_that_panics_stops_the_run_with_its_panic() {
        // Line 3,000 is in the middle of a chunk of about 1,100 lines, whichever thread takes it.
        for jobs in [2, 4] {
            let echo = Echo::new(13, 3000);
            let failed = run_echo(5000, jobs, echo, 0).err();
            assert!(
                failed.as_deref().is_some_and(|m| m.contains("line 3000")),
                "{failed:?}"
            );
        }
    }

    #[test]
    fn a_failed_write_stops_the_run_with_its_error() {
        for jobs in [1, 2, 4] {
            let echo = Echo::new(13, 0);
            let result = run_echo(5000, jobs, echo, 2500).unwrap_or_else(|e| panic!("{e}"));
            let error = result.err().map(|e| e.to_string());
            assert_eq!(error.as_deref(), Some("the output is gone"), "jobs {jobs}");
        }
    }

    /// Line 2,113 starts the second block of the third chunk (chunks of 1,024 lines): while it
    /// is held up, the other threads take the room there is and wait.
    const HELD: usize = 2113;

    #[test]
    fn a_failed_write_releases_the_threads_waiting_for_room() {
        let echo = Echo {
            held: HELD,
            ..Echo::new(13, 0)
        };
        let result = run_echo(5000, 4, echo, HELD).unwrap_or_else(|e| panic!("{e}"));
        let error = result.err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("the output is gone"));
    }

    #[test]
    fn a_panic_on_the_main_thread_releases_the_threads_waiting_for_room() {
        let echo = Echo {
            held: HELD,
            main_panics_past: HELD,
            ..Echo::new(13, 0)
        };
        let failed = run_echo(5000, 4, echo, 0).err();
        assert!(
            failed
                .as_deref()
                .is_some_and(|m| m.contains("on the main thread")),
            "{failed:?}"
        );
    }
}
