//! Batch mode of `check` and `classify`: JSON Lines in, one JSON line out per line, in order.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use smslint_core::{
    daily_cap, decide_reusing, hand_over_pool, is_e164, segments, top_up_pool, volume_key,
    BrandMatcher, Classification, Code, ConsentRecords, DailyCap, DecisionScratch, Detail,
    Evidence, Finding, LintContext, Message, NormalizedText, NumberAssessment, NumberProfile,
    Policy, SegmentInfo, SendContext, SenderIndex, Verdict,
};

use crate::args::{BatchArgs, Format};
use crate::batch::{self, LineReader, Processor};
use crate::exit::ExitStatus;
use crate::input;
use crate::records::{parse, special, LineError, RawId};
use crate::render::json;

/// Open the batch source; whether it is a pipe (flush after every chunk).
fn open(path: &Path) -> Result<(Box<dyn Read + Send>, bool)> {
    if path == Path::new("-") {
        // A regular file redirected to stdin is read like a file; anything else may be a
        // co-process waiting for each answer.
        let regular = std::fs::metadata("/dev/stdin").is_ok_and(|m| m.is_file());
        return Ok((Box::new(Named(io::stdin(), "stdin".into())), !regular));
    }
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let regular = file.metadata().is_ok_and(|m| m.is_file());
    Ok((Box::new(Named(file, path.display().to_string())), !regular))
}

/// A batch source whose read errors name it: a read fails after the open for a folder, a
/// device or a network file system, and "Is a directory (os error 21)" alone says nothing of
/// which input. The error keeps its kind.
struct Named<R>(R, String);

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.kind() {
            // Retried by the reader, never shown.
            io::ErrorKind::Interrupted => e,
            kind => io::Error::new(kind, format!("cannot read {}: {e}", self.1)),
        })
    }
}

/// The policy of a batch: [`input::engine_only`], its pattern-set states shared among the
/// batch's workers.
pub fn engine(
    loaded: std::mem::ManuallyDrop<smslint_policy::LoadedPolicy>,
    args: &BatchArgs,
) -> std::mem::ManuallyDrop<Policy> {
    let mut engine = input::engine_only(loaded);
    engine.share_among_threads(jobs(args));
    engine
}

/// The workers of a batch: `--jobs`, or the machine's cores.
fn jobs(args: &BatchArgs) -> usize {
    args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        usize::from,
    )
}

/// Reusable buffers of one worker.
#[derive(Default)]
pub struct Scratch {
    folded: String,
    map: Vec<(u32, u32)>,
    classification: Classification,
    /// The detected use cases and their scores, for a line written by the worker.
    categories: Vec<(usize, f64)>,
    /// The buffers of the verdicts the worker wrote, for the next.
    decision: DecisionScratch,
    /// The content rules' findings on the current message.
    findings: Vec<Finding>,
    /// Lists of use cases that went to the writer with their lines, handed back.
    spare_categories: Vec<Vec<(usize, f64)>>,
}

/// Lists a [`Scratch`] keeps in `spare_categories` at most: a worker's share of a chunk of
/// lines is in flight until the chunk is written.
const SPARE_CATEGORIES: usize = 4096;

impl Scratch {
    /// Start from the search states `from` has built ([`Processor::warm`]).
    fn warm(from: &Scratch, to: &mut Scratch) {
        to.classification
            .copy_search_states_from(&from.classification);
    }

    /// Take back the buffers of a line the writer has written.
    fn recycle(&mut self, decided: Decided<'_>) {
        self.decision.recycle(decided.verdict);
        let mut categories = decided.categories;
        if categories.capacity() > 0 && self.spare_categories.len() < SPARE_CATEGORIES {
            categories.clear();
            self.spare_categories.push(categories);
        }
    }
}

/// The options of `check` that apply to every line (a line's own fields win).
pub struct CheckDefaults<'a> {
    /// `--from`.
    pub from: Option<&'a str>,
    /// `--to`.
    pub to: Option<&'a str>,
    /// `--extension`.
    pub extension: Option<&'a str>,
    /// `--mms`.
    pub mms: bool,
    /// `--sent-today`.
    pub sent_today: Option<u64>,
    /// `--daily-cap`.
    pub daily_cap: Option<u64>,
    /// `--ledger` and `--ledger-timeout`.
    pub ledger: Option<(&'a str, std::time::Duration)>,
    /// `--consents`.
    pub consents: Option<&'a ConsentRecords>,
    /// `--brand`.
    pub brands: Option<&'a BrandMatcher>,
}

struct CheckBatch<'p> {
    policy: &'p Policy,
    profiles: &'p [NumberProfile],
    /// The profiles by phone number, for each line's `from`.
    senders: SenderIndex,
    assessments: Vec<NumberAssessment>,
    defaults: &'p CheckDefaults<'p>,
    max_line: usize,
    /// Whether workers write each line themselves: only when no volume is counted, since the
    /// volume counter must see approvals in input order.
    write_in_workers: bool,
    /// The strings every line repeats, as JSON.
    quoted: Quoted,
}

/// The JSON strings, quotes and all, that lines repeat (use-case names, the numbers' phone
/// numbers): escaped once for the batch rather than tested for escapes in every line, which
/// with the writes of the quotes cost about 150 instructions a string.
struct Quoted {
    /// By use-case index.
    use_cases: Vec<Vec<u8>>,
    /// By number; `null` for a number without one.
    phones: Vec<Vec<u8>>,
}

impl Quoted {
    fn new(policy: &Policy, profiles: &[NumberProfile]) -> Quoted {
        let json = |s: &str| {
            let mut out = Vec::new();
            // Writing to a Vec cannot fail.
            json_str(&mut out, s).map_or_else(|_| b"null".to_vec(), |()| out)
        };
        Quoted {
            use_cases: policy
                .use_cases()
                .iter()
                .map(|u| json(u.use_case.as_str()))
                .collect(),
            phones: profiles
                .iter()
                .map(|p| p.phone_number().map_or_else(|| b"null".to_vec(), json))
                .collect(),
        }
    }

    /// The use case `i`, or `Unknown`.
    fn use_case(&self, i: Option<usize>) -> &[u8] {
        i.and_then(|i| self.use_cases.get(i))
            .map_or(b"\"Unknown\"", Vec::as_slice)
    }
}

/// A decided line, before the volume counter and serialisation.
struct Decided<'a> {
    line: usize,
    id: Option<RawId<'a>>,
    profile: usize,
    verdict: Verdict,
    top: Option<usize>,
    /// The detected use cases and their scores, when the line goes to the writer.
    categories: Vec<(usize, f64)>,
    segments: SegmentInfo,
}

enum CheckOut<'a> {
    Error(LineError<'a>),
    /// Not boxed: a box was an allocation for every line, and its buffers come back through
    /// the scratch.
    Decided(Decided<'a>),
    /// The worker wrote the JSON line; whether the message was rejected.
    Written {
        rejected: bool,
    },
}

impl Processor for CheckBatch<'_> {
    type Scratch = Scratch;
    type Out<'a> = CheckOut<'a>;

    // The buffers of the lines that go to the writer with their verdicts (with `--sent-today`
    // and `--ledger`): reason lists and their strings, and lists of use cases.
    fn short_of(&self, s: &Scratch, lines: usize) -> bool {
        !self.write_in_workers && (s.decision.short_of(lines) || s.spare_categories.len() < lines)
    }

    fn beyond(&self, s: &Scratch, lines: usize) -> bool {
        !self.write_in_workers && (s.decision.beyond(lines) || s.spare_categories.len() > lines)
    }

    fn hand_over(from: &mut Scratch, to: &mut Scratch, keep: usize) {
        from.decision.hand_over(&mut to.decision, keep);
        hand_over_pool(&mut from.spare_categories, &mut to.spare_categories, keep);
    }

    fn top_up(to: &mut Scratch, from: &mut Scratch, lines: usize) {
        to.decision.top_up(&mut from.decision, lines);
        top_up_pool(&mut to.spare_categories, &mut from.spare_categories, lines);
    }

    fn warm(from: &Scratch, to: &mut Scratch) {
        Scratch::warm(from, to);
    }

    fn process<'a>(
        &self,
        line: usize,
        bytes: Option<&'a [u8]>,
        s: &mut Scratch,
        written: &mut Vec<u8>,
    ) -> CheckOut<'a> {
        let record = match parse(line, bytes, self.max_line) {
            Ok(r) => r,
            Err(e) => return CheckOut::Error(e),
        };
        let err = |code, message: String| {
            CheckOut::Error(LineError {
                line,
                id: record.id,
                code,
                message,
            })
        };
        let from = record.from.as_deref().or(self.defaults.from);
        let to = record.to.as_deref().or(self.defaults.to);
        for (name, value) in [("from", from), ("to", to)] {
            if let Some(v) = value.filter(|v| !is_e164(v)) {
                return err(
                    "input.invalid_field",
                    format!("{name} {v:?} is not an E.164 number"),
                );
            }
        }
        let (index, profile) = match self.senders.select(self.profiles, from) {
            Ok(found) => found,
            Err(e) => return err("input.unknown_sender", e.to_string()),
        };
        let text = record.text.as_deref().unwrap_or_default();
        let normalized = NormalizedText::with_buffers(
            text,
            std::mem::take(&mut s.folded),
            std::mem::take(&mut s.map),
        );
        self.policy
            .classify_into(&normalized, &mut s.classification, Detail::Scores);
        let segments = segments::analyze(text);
        let c = &s.classification;
        self.policy.lint_into(
            &normalized,
            c,
            &LintContext {
                registered: profile.campaign().and_then(|c| c.use_cases.as_deref()),
                brands: self.defaults.brands,
                segments: segments.segments,
            },
            &mut s.findings,
        );
        let message = Message {
            text,
            to,
            extension_id: record.extension_id.as_deref().or(self.defaults.extension),
            mms: record.mms.unwrap_or(self.defaults.mms),
            // Counted already, for the line's segments.
            utf16_units: Some(segments.utf16_units as usize),
        };
        let context = SendContext {
            consents: self.defaults.consents,
            // The volume counter runs in input order, after the rest (see `emit`).
            sent_today: None,
            daily_cap: None,
        };
        let verdict = decide_reusing(
            self.policy,
            &self.assessments[index],
            c,
            &s.findings,
            profile,
            &message,
            &context,
            &mut s.decision,
        );
        s.categories.clear();
        s.categories
            .extend(c.ranking.iter().map(|&i| (i, c.scores[i].score)));
        let mut decided = Decided {
            line,
            id: record.id,
            profile: index,
            verdict,
            top: c.ranking.first().copied(),
            // Filled only when the line goes to the writer: a worker writes from its scratch.
            categories: Vec::new(),
            segments,
        };
        (s.folded, s.map) = normalized.into_buffers();
        if self.write_in_workers {
            let start = written.len();
            // Writing to a Vec cannot fail; serialising these types cannot either.
            if write_line(&self.quoted, &decided, &s.categories, written).is_ok() {
                let rejected = !decided.verdict.approved();
                s.decision.recycle(decided.verdict);
                return CheckOut::Written { rejected };
            }
            written.truncate(start);
        }
        let mut categories = s.spare_categories.pop().unwrap_or_default();
        categories.extend_from_slice(&s.categories);
        decided.categories = categories;
        CheckOut::Decided(decided)
    }
}

/// One decided message as its JSON line: the bytes `serde_json` would write for
/// `CheckLine` (a test holds it to that), with strings that need no escaping copied whole,
/// since escaping byte by byte was a twentieth of the work per message.
fn write_line(
    quoted: &Quoted,
    d: &Decided<'_>,
    categories: &[(usize, f64)],
    w: &mut impl Write,
) -> io::Result<()> {
    // Integers through `itoa`, not `write!`: the formatting machinery cost about 700
    // instructions a line for these two numbers.
    let mut number = itoa::Buffer::new();
    w.write_all(b"{\"line\":")?;
    w.write_all(number.format(d.line).as_bytes())?;
    if let Some(id) = d.id {
        w.write_all(b",\"id\":")?;
        w.write_all(id.get().as_bytes())?;
    }
    w.write_all(b",\"verdict\":")?;
    name_str(w, d.verdict.outcome.as_str())?;
    w.write_all(b",\"phoneNumber\":")?;
    w.write_all(quoted.phones.get(d.profile).map_or(b"null", Vec::as_slice))?;
    w.write_all(b",\"top\":")?;
    w.write_all(quoted.use_case(d.top))?;
    w.write_all(b",\"categories\":[")?;
    for (k, &(i, score)) in categories.iter().enumerate() {
        w.write_all(if k == 0 {
            b"{\"useCase\":"
        } else {
            b",{\"useCase\":"
        })?;
        w.write_all(quoted.use_case(Some(i)))?;
        w.write_all(b",\"score\":")?;
        serde_json::to_writer(&mut *w, &score)?;
        w.write_all(b"}")?;
    }
    w.write_all(b"],\"reasons\":[")?;
    for (k, r) in d.verdict.reasons.iter().enumerate() {
        w.write_all(if k == 0 {
            b"{\"code\":"
        } else {
            b",{\"code\":"
        })?;
        match &r.code {
            Code::Fixed(code) => name_str(w, code.as_str())?,
            Code::Rule(code) => json_str(w, code)?,
        }
        w.write_all(b",\"severity\":")?;
        name_str(w, r.severity.as_str())?;
        w.write_all(b",\"message\":")?;
        json_str(w, &r.message)?;
        if let Some(span) = &r.span {
            w.write_all(b",\"span\":")?;
            serde_json::to_writer(&mut *w, span)?;
        }
        w.write_all(b"}")?;
    }
    w.write_all(b"],\"encoding\":")?;
    name_str(w, d.segments.encoding.as_str())?;
    w.write_all(b",\"segments\":")?;
    w.write_all(number.format(d.segments.segments).as_bytes())?;
    w.write_all(b"}\n")
}

/// One of the engine's own names (a verdict, a severity, a fixed reason code, an encoding) as
/// a JSON string: letters, digits and `.-_`, which need no escaping.
fn name_str(w: &mut impl Write, s: &'static str) -> io::Result<()> {
    debug_assert!(s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')));
    w.write_all(b"\"")?;
    w.write_all(s.as_bytes())?;
    w.write_all(b"\"")
}

/// A JSON string: copied whole when nothing in it needs escaping, else through `serde_json`.
fn json_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    if special(s.as_bytes()).is_none() {
        w.write_all(b"\"")?;
        w.write_all(s.as_bytes())?;
        w.write_all(b"\"")
    } else {
        serde_json::to_writer(&mut *w, s).map_err(io::Error::from)
    }
}

/// A line of `check --batch` as `serde_json` writes it: the reference for [`write_line`].
#[cfg(test)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckLine<'a> {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<RawId<'a>>,
    verdict: &'static str,
    phone_number: Option<&'a str>,
    top: &'a str,
    categories: Vec<json::Category<'a>>,
    reasons: &'a [smslint_core::Reason],
    encoding: smslint_core::Encoding,
    segments: u32,
}

/// Refuse `--format human` for a batch, which writes JSON Lines whether `--format json` is given
/// or not.
pub fn refuse_human(format: Option<Format>) -> Result<()> {
    if format == Some(Format::Human) {
        anyhow::bail!("--batch writes JSON Lines; --format human is for one message");
    }
    Ok(())
}

/// `check --batch`.
pub fn check(
    source: &Path,
    args: &BatchArgs,
    policy: &Policy,
    profiles: &[NumberProfile],
    defaults: &CheckDefaults<'_>,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    let (reader, pipe) = open(source)?;
    let mut reader = LineReader::new(reader, args.max_line_bytes);
    let processor = CheckBatch {
        policy,
        profiles,
        senders: SenderIndex::new(profiles),
        assessments: profiles
            .iter()
            .map(|p| NumberAssessment::new(policy, p))
            .collect(),
        defaults,
        max_line: args.max_line_bytes,
        write_in_workers: defaults.sent_today.is_none() && defaults.ledger.is_none(),
        quoted: Quoted::new(policy, profiles),
    };
    // Messages already sent today, per campaign, counting this batch's approvals.
    let mut sent: HashMap<&str, u64> = HashMap::new();
    // Each number's key, made once rather than for every approval.
    let keys: Vec<String> = profiles.iter().map(volume_key).collect();
    // And its daily cap: its source was a string formatted for every approval.
    let caps: Vec<Option<DailyCap>> = profiles
        .iter()
        .map(|p| daily_cap(policy, p, defaults.daily_cap))
        .collect();
    // Or the shared ledger, asked in input order as each approval is written.
    let mut volume = match defaults.ledger {
        Some((url, timeout)) => Some(super::volume::Volume::open(url, timeout, policy)?),
        None => None,
    };
    let (mut rejected, mut errors) = (false, false);
    let mut writer = io::BufWriter::with_capacity(256 << 10, out);
    batch::run(
        &mut reader,
        &processor,
        jobs(args),
        &mut writer,
        pipe,
        |result, json, w, s| match result {
            CheckOut::Error(e) => {
                errors = true;
                e.write(w)
            }
            CheckOut::Decided(mut d) => {
                let key = keys.get(d.profile).map_or("", String::as_str);
                let cap = caps.get(d.profile).and_then(Option::as_ref);
                if let Some(volume) = volume.as_mut() {
                    volume.apply(key, cap, &mut d.verdict);
                }
                if let (Some(start), true) = (defaults.sent_today, d.verdict.approved()) {
                    let count = sent.entry(key).or_insert(start);
                    match s.decision.volume_reason(cap, *count) {
                        Some(reason) => d.verdict.push(reason),
                        None => *count += 1,
                    }
                }
                rejected |= !d.verdict.approved();
                let written = write_line(&processor.quoted, &d, &d.categories, w);
                s.recycle(d);
                written
            }
            CheckOut::Written { rejected: r } => {
                rejected |= r;
                w.write_all(json)
            }
        },
    )?;
    Ok(status(errors, rejected))
}

fn status(errors: bool, rejected: bool) -> ExitStatus {
    if errors {
        ExitStatus::Error
    } else if rejected {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

struct ClassifyBatch<'p> {
    policy: &'p Policy,
    max_line: usize,
    /// The use-case names and rule ids, as JSON.
    quoted: ClassifyQuoted,
}

/// The JSON that `classify` lines repeat, quotes and all: use-case names, and the tail of each
/// rule's evidence after its span and match (`,"weight":W}`), made once for the batch. Written
/// through `serde_json`, a line cost about 35,000 instructions, as much as classifying its
/// message with evidence. A rule's head (`{"rule":ID,"start":`) is written from its id for each
/// evidence: made once too, the heads of the default policy's 32,000 rules held 1.4 MB for the
/// whole batch, for about 1% fewer instructions a line.
struct ClassifyQuoted {
    /// The use-case names.
    names: Quoted,
    /// The tail of each weight.
    tails: Vec<u8>,
    /// By rule: its tail's index in `ends`, with [`ESCAPED`] when its id has a character JSON
    /// escapes (the others are written between quotes as they are, without a second look).
    rule_tails: Vec<u32>,
    /// Where each tail is in `tails`.
    ends: Vec<(u32, u32)>,
}

/// In [`ClassifyQuoted::rule_tails`]: the rule's id needs escaping.
const ESCAPED: u32 = 1 << 31;

impl ClassifyQuoted {
    fn new(policy: &Policy) -> ClassifyQuoted {
        // A tail is shared by every rule of its weight. The default policy's 31,500 rules have
        // 156 weights: each written once rather than once a rule, an empty batch ran 171.3 ->
        // 162.9 million instructions (callgrind).
        let mut tails = Vec::new();
        let mut rule_tails = Vec::with_capacity(policy.rules().len());
        let mut ends: Vec<(u32, u32)> = Vec::new();
        let mut by_weight: HashMap<u64, u32> = HashMap::new();
        let mut last: Option<(u64, u32)> = None;
        // An offset past u32 leaves the rest to `serde_json`.
        let at = |tails: &Vec<u8>| u32::try_from(tails.len()).ok();
        for rule in policy.rules() {
            let bits = rule.weight.to_bits();
            let escaped = if special(rule.id.as_bytes()).is_some() {
                ESCAPED
            } else {
                0
            };
            // Rules come in runs of one weight: the last tail first, without hashing.
            if let Some((_, tail)) = last.filter(|(b, _)| *b == bits) {
                rule_tails.push(tail | escaped);
                continue;
            }
            let tail = if let Some(&tail) = by_weight.get(&bits) {
                tail
            } else {
                let Some(start) = at(&tails) else { break };
                tails.extend_from_slice(b",\"weight\":");
                // Writing to a Vec cannot fail.
                if serde_json::to_writer(&mut tails, &rule.weight).is_err() {
                    tails.extend_from_slice(b"null");
                }
                tails.push(b'}');
                let (Some(end), Some(tail)) = (
                    at(&tails),
                    u32::try_from(ends.len()).ok().filter(|t| t & ESCAPED == 0),
                ) else {
                    break;
                };
                ends.push((start, end));
                by_weight.insert(bits, tail);
                tail
            };
            last = Some((bits, tail));
            rule_tails.push(tail | escaped);
        }
        ClassifyQuoted {
            names: Quoted::new(policy, &[]),
            tails,
            rule_tails,
            ends,
        }
    }

    /// The id of the evidence `e` of `policy`, whether it needs escaping, and its tail, when
    /// it carries its rule's weight.
    fn rule<'p>(&self, policy: &'p Policy, e: &Evidence) -> Option<(&'p str, bool, &[u8])> {
        let rule = policy.rules().get(e.rule as usize)?;
        if rule.weight.to_bits() != e.weight.to_bits() {
            return None;
        }
        let tail = *self.rule_tails.get(e.rule as usize)?;
        let &(start, end) = self.ends.get((tail & !ESCAPED) as usize)?;
        let tail_bytes = self.tails.get(start as usize..end as usize)?;
        Some((&rule.id, tail & ESCAPED != 0, tail_bytes))
    }
}

/// A line of `classify --batch`: what `serde_json` writes for [`json::classify`] numbered,
/// written directly (a test holds the two together).
fn write_classify_line(
    policy: &Policy,
    quoted: &ClassifyQuoted,
    line: usize,
    id: Option<RawId<'_>>,
    classification: &Classification,
    text: &str,
    w: &mut impl Write,
) -> io::Result<()> {
    let mut number = itoa::Buffer::new();
    w.write_all(b"{\"line\":")?;
    w.write_all(number.format(line).as_bytes())?;
    if let Some(id) = id {
        w.write_all(b",\"id\":")?;
        w.write_all(id.get().as_bytes())?;
    }
    let names = &quoted.names;
    w.write_all(b",\"top\":")?;
    w.write_all(names.use_case(classification.ranking.first().copied()))?;
    w.write_all(b",\"categories\":[")?;
    for (k, &i) in classification.ranking.iter().enumerate() {
        let Some(score) = classification.scores.get(i) else {
            continue;
        };
        w.write_all(if k == 0 {
            b"{\"useCase\":"
        } else {
            b",{\"useCase\":"
        })?;
        w.write_all(names.use_case(Some(i)))?;
        w.write_all(b",\"score\":")?;
        serde_json::to_writer(&mut *w, &score.score)?;
        w.write_all(b",\"evidence\":[")?;
        for (n, e) in score.evidence.iter().enumerate() {
            if n > 0 {
                w.write_all(b",")?;
            }
            let Some((rule, escaped, tail)) = quoted.rule(policy, e) else {
                // Evidence carries its rule's weight; written in full should it not.
                serde_json::to_writer(&mut *w, &json::EvidenceJson::new(policy, e, text))?;
                continue;
            };
            if escaped {
                w.write_all(b"{\"rule\":")?;
                serde_json::to_writer(&mut *w, rule)?;
                w.write_all(b",\"start\":")?;
            } else {
                w.write_all(b"{\"rule\":\"")?;
                w.write_all(rule.as_bytes())?;
                w.write_all(b"\",\"start\":")?;
            }
            w.write_all(number.format(e.span.start).as_bytes())?;
            w.write_all(b",\"end\":")?;
            w.write_all(number.format(e.span.end).as_bytes())?;
            w.write_all(b",\"match\":")?;
            json_str(w, e.span.slice(text))?;
            w.write_all(tail)?;
        }
        w.write_all(b"]}")?;
    }
    w.write_all(b"]}\n")
}

enum ClassifyOut<'a> {
    Error(LineError<'a>),
    /// The worker wrote the JSON line.
    Written,
    /// A line the worker could not write, for the writer to write (and report why).
    Classified {
        line: usize,
        id: Option<RawId<'a>>,
        text: Cow<'a, str>,
        classification: Box<Classification>,
    },
}

impl Processor for ClassifyBatch<'_> {
    type Scratch = Scratch;
    type Out<'a> = ClassifyOut<'a>;

    fn warm(from: &Scratch, to: &mut Scratch) {
        Scratch::warm(from, to);
    }

    fn process<'a>(
        &self,
        line: usize,
        bytes: Option<&'a [u8]>,
        s: &mut Scratch,
        written: &mut Vec<u8>,
    ) -> ClassifyOut<'a> {
        let record = match parse(line, bytes, self.max_line) {
            Ok(r) => r,
            Err(e) => return ClassifyOut::Error(e),
        };
        let text = record.text.unwrap_or_default();
        let normalized = NormalizedText::with_buffers(
            &text,
            std::mem::take(&mut s.folded),
            std::mem::take(&mut s.map),
        );
        self.policy
            .classify_into(&normalized, &mut s.classification, Detail::Detected);
        (s.folded, s.map) = normalized.into_buffers();
        let start = written.len();
        let result = write_classify_line(
            self.policy,
            &self.quoted,
            line,
            record.id,
            &s.classification,
            &text,
            written,
        );
        if result.is_ok() {
            return ClassifyOut::Written;
        }
        written.truncate(start);
        // Writing to memory cannot fail; if it did, the writer tries again and reports it.
        ClassifyOut::Classified {
            line,
            id: record.id,
            text,
            classification: Box::new(s.classification.clone()),
        }
    }
}

#[derive(Serialize)]
struct Numbered<'a, T> {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<RawId<'a>>,
    #[serde(flatten)]
    body: T,
}

/// `classify --batch`.
pub fn classify(
    source: &Path,
    args: &BatchArgs,
    policy: &Policy,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    let (reader, pipe) = open(source)?;
    let mut reader = LineReader::new(reader, args.max_line_bytes);
    let processor = ClassifyBatch {
        policy,
        max_line: args.max_line_bytes,
        quoted: ClassifyQuoted::new(policy),
    };
    let mut errors = false;
    let mut writer = io::BufWriter::with_capacity(256 << 10, out);
    batch::run(
        &mut reader,
        &processor,
        jobs(args),
        &mut writer,
        pipe,
        |result, json, w, _| match result {
            ClassifyOut::Error(e) => {
                errors = true;
                e.write(w)
            }
            ClassifyOut::Written => w.write_all(json),
            ClassifyOut::Classified {
                line,
                id,
                text,
                classification,
            } => {
                let body = json::classify(policy, &classification, &text);
                serde_json::to_writer(&mut *w, &Numbered { line, id, body })?;
                w.write_all(b"\n")
            }
        },
    )?;
    Ok(status(errors, false))
}

/// Whether `--consents` can be used: in a single check it needs `--to`.
pub fn consents(path: Option<&Path>) -> Result<Option<ConsentRecords>> {
    path.map(input::consents).transpose()
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;
    use smslint_core::{Encoding, Reason, ReasonCode, Severity, Span};

    use super::*;

    /// What `serde_json` writes for the line.
    fn reference(policy: &Policy, profile: &NumberProfile, d: &Decided<'_>) -> Vec<u8> {
        let name = |i: usize| policy.use_cases()[i].use_case.as_str();
        let line = CheckLine {
            line: d.line,
            id: d.id,
            verdict: d.verdict.outcome.as_str(),
            phone_number: profile.phone_number(),
            top: d.top.map_or("Unknown", name),
            categories: d
                .categories
                .iter()
                .map(|&(i, score)| json::Category::new(name(i), score))
                .collect(),
            reasons: &d.verdict.reasons,
            encoding: d.segments.encoding,
            segments: d.segments.segments,
        };
        let mut out = serde_json::to_vec(&line).unwrap_or_default();
        out.push(b'\n');
        out
    }

    #[test]
    fn lines_are_what_serde_json_writes() {
        let loaded = smslint_policy::load_default().unwrap_or_else(|e| panic!("{e}"));
        let policy = &loaded.policy;
        let snapshot = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/snapshots/seed.json"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let profiles = smslint_core::parse_snapshot(&snapshot).unwrap_or_else(|e| panic!("{e}"));
        let quoted = Quoted::new(policy, &profiles);
        let ids: Vec<Option<Box<RawValue>>> =
            [None, Some("\"m-1\""), Some("42"), Some("\"a\\\"b\"")]
                .into_iter()
                .map(|id| {
                    id.map(|t| {
                        RawValue::from_string(t.to_owned()).unwrap_or_else(|e| panic!("{e}"))
                    })
                })
                .collect();
        let messages = [
            "plain",
            "with \"quotes\" and \\ backslash",
            "a back\\slash alone",
            "a \"quote\" alone",
            "control \u{1} \n \t characters",
            "non-ASCII — ñ 🎉 \u{7f}",
            "",
        ];
        let scores = [7.0, 34.4, -0.5, 1e-7, 123_456_789.125, 0.1 + 0.2];
        let mut checked = 0;
        for (k, id) in ids.iter().enumerate() {
            for (m, message) in messages.iter().enumerate() {
                let reasons = (0..=m % 3)
                    .map(|r| Reason {
                        code: if r == 0 {
                            ReasonCode::ContentUseCaseNotRegistered.into()
                        } else {
                            smslint_core::Code::Rule(format!("rule.x{r}"))
                        },
                        severity: if r == 1 {
                            Severity::Warning
                        } else {
                            Severity::Error
                        },
                        message: (*message).to_owned(),
                        span: (r == 2).then(|| Span::new(1, 4)),
                    })
                    .collect();
                let mut decided = Decided {
                    line: k * 10 + m + 1,
                    id: id.as_deref().map(RawId::from),
                    profile: 0,
                    verdict: Verdict::from_reasons(if m == 4 { Vec::new() } else { reasons }),
                    top: (m % 2 == 0).then_some(m % policy.use_cases().len()),
                    categories: scores
                        .iter()
                        .take(m + 1)
                        .enumerate()
                        .map(|(i, &s)| (i, s))
                        .collect(),
                    segments: SegmentInfo {
                        encoding: if m % 2 == 0 {
                            Encoding::Gsm7
                        } else {
                            Encoding::Ucs2
                        },
                        units: 10,
                        segments: u32::try_from(m).unwrap_or(0),
                        utf16_units: 10,
                    },
                };
                for (p, profile) in profiles.iter().enumerate() {
                    decided.profile = p;
                    let mut fast = Vec::new();
                    write_line(&quoted, &decided, &decided.categories, &mut fast)
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&reference(policy, profile, &decided))
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 20, "{checked}");
    }

    /// Rule ids that JSON escapes (a quote, a backslash) are written escaped, the others as
    /// they are.
    #[test]
    fn classify_lines_escape_rule_ids_as_serde_json_does() {
        let yaml = "version: 1\nuse_cases:\n  Marketing:\n    threshold: 1\n    keywords:\n      \
                    - { phrase: 'say \"hi\"', weight: 3 }\n      \
                    - { phrase: 'a\\b deal', weight: 2 }\n      - { phrase: sale, weight: 1 }\n";
        let loaded = smslint_policy::load_str(yaml, "escapes.yaml", smslint_policy::Format::Yaml)
            .unwrap_or_else(|e| panic!("{e}"));
        let policy = &loaded.policy;
        let quoted = ClassifyQuoted::new(policy);
        let text = "Say \"hi\" to the a\\b deal sale";
        let mut c = Classification::default();
        policy.classify_into(&NormalizedText::new(text), &mut c, Detail::Evidence);
        let mut fast = Vec::new();
        write_classify_line(policy, &quoted, 1, None, &c, text, &mut fast)
            .unwrap_or_else(|e| panic!("{e}"));
        let body = json::classify(policy, &c, text);
        let mut reference = serde_json::to_vec(&Numbered {
            line: 1,
            id: None,
            body,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        reference.push(b'\n');
        let fast = String::from_utf8_lossy(&fast);
        assert_eq!(fast, String::from_utf8_lossy(&reference));
        assert!(fast.contains(r#""rule":"kw:say \"hi\"""#), "{fast}");
        assert!(fast.contains(r#""rule":"kw:a\\b deal""#), "{fast}");
    }

    #[test]
    fn classify_lines_are_what_serde_json_writes() {
        let loaded = smslint_policy::load_default().unwrap_or_else(|e| panic!("{e}"));
        let policy = &loaded.policy;
        let quoted = ClassifyQuoted::new(policy);
        let corpus = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/dev.jsonl"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut texts: Vec<String> = corpus
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["text"].as_str().map(str::to_owned))
            .collect();
        // Matches that need escaping, and characters the spans must keep whole.
        texts.extend(
            [
                "Reply \"STOP\" to opt out of 20% off deals \\ today",
                "Your code is 448210.\nDo not share it \u{1} with anyone",
                "FREE 🎉 café — flash sale, 50% off, reply STOP to end",
                "",
            ]
            .map(str::to_owned),
        );
        let ids: Vec<Box<RawValue>> = ["\"m-1\"", "42", "\"a\\\"b\""]
            .into_iter()
            .map(|t| RawValue::from_string(t.to_owned()).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        // The batch's classification (evidence of the detected use cases only) against the
        // full one, written by serde_json.
        let (mut detected, mut full) = (Classification::default(), Classification::default());
        let (mut with_evidence, mut escaped) = (0, 0);
        for (n, text) in texts.iter().enumerate() {
            let normalized = NormalizedText::new(text);
            policy.classify_into(&normalized, &mut detected, Detail::Detected);
            policy.classify_into(&normalized, &mut full, Detail::Evidence);
            if n % 5 == 4 {
                // Evidence whose weight is not its rule's is written in full.
                for c in [&mut detected, &mut full] {
                    for score in &mut c.scores {
                        if let Some(e) = score.evidence.first_mut() {
                            e.weight += 0.25;
                        }
                    }
                }
            }
            let id = (n % 4 != 3).then(|| RawId::from(&*ids[n % 3]));
            let mut fast = Vec::new();
            write_classify_line(policy, &quoted, n + 1, id, &detected, text, &mut fast)
                .unwrap_or_else(|e| panic!("{e}"));
            let body = json::classify(policy, &full, text);
            let mut reference = serde_json::to_vec(&Numbered {
                line: n + 1,
                id,
                body,
            })
            .unwrap_or_default();
            reference.push(b'\n');
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&reference)
            );
            with_evidence += usize::from(detected.detected().any(|s| !s.evidence.is_empty()));
            escaped += usize::from(fast.windows(2).any(|w| w[0] == b'\\'));
        }
        // The comparison covered lines with evidence and with escapes, not only empty ones.
        assert!(
            with_evidence > 1000 && escaped >= 2,
            "{with_evidence} {escaped}"
        );
    }
}
