//! Every pattern of a policy as one set, asked one question: which patterns match a text.
//!
//! `meta::Regex::which_overlapping_matches` answers it by resuming an overlapping search after
//! each match, with the bookkeeping of a general search at every byte. The set only needs the
//! patterns of every match state the lazy DFA passes through, so it walks the DFA itself: a
//! transition and a tag test per byte, the match states' patterns collected on the way, the
//! end-of-input transition last (for `\b` and `$` at the end). That saved about 1,100
//! instructions per message end to end for the same answer (a property test holds the walk to
//! the meta search). When the lazy DFA cannot be built for a set (its cache would be too
//! small), the meta regex is used. A pattern that opts into Unicode word boundaries (`(?u)\b`)
//! makes the lazy DFA stop at the first non-ASCII byte; such a text is walked by the groups
//! below, and the caller asks one by one only the patterns of a group that stops too (a
//! policy with one such pattern: `check` of the benchmark corpus 0.83 → 0.47 s, against
//! 0.34 s without it).
//!
//! Each lazy-DFA state tracks every pattern at once, so a transition not yet built costs a
//! determinisation over all of them (about 6 µs for a policy's hundred-odd patterns), and text
//! dense with what patterns start at (digits, `$`, "reply", "code", line breaks) meets new
//! combinations of live patterns at every few bytes. Traffic of such text, each message new,
//! ran 60 to 240 µs a message, against under 1 µs for the walk of a usual one. The walk
//! therefore builds new states from a budget kept per cache: each message adds a little, each
//! new transition spends some, and a walk that would overspend gives way to the same patterns
//! in [`GROUPS`] smaller sets, whose states stay few, walked [`WIDTH`] at a time side by side
//! (bench/LOG.md).
//! The answer is the same either way; only its cost differs. Each thread keeps its own cache of
//! the whole set; the groups' caches are the policy's, shared by every thread under a lock each.
//! Shared, they cost `check` of diverse text 1.5% more instructions on one thread, and held
//! 3.5 MB less with two (bench/LOG.md).

use std::sync::{Mutex, MutexGuard, OnceLock, TryLockError};

use regex_automata::hybrid::dfa::{Cache as LazyCache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::nfa::thompson::{self, WhichCaptures, NFA};
use regex_automata::util::syntax;
use regex_automata::{meta, Input, MatchKind, PatternSet};

/// The compiled set.
#[derive(Clone, Debug)]
pub(crate) enum PatternMatcher {
    /// A lazy DFA walked byte by byte.
    Lazy(Box<LazySet>),
    /// The general engine, for sets the lazy DFA cannot take.
    Meta(meta::Regex),
}

/// Sets the patterns are split into when a walk of them all would build too many states: fewer
/// groups build more states each, more walk the text more times. On trigger-dense text
/// (`bench/gen_dense.py`) 8 ran fastest of 3, 4, 6, 8, 12 and 16, but on diverse text (the
/// labelled corpus ten times over), which spends the budget too, 16 ran 17-23% faster than 8,
/// for 12-13% more time on trigger-dense text and 0.2-1.3 MB less peak RSS (bench/LOG.md).
pub(crate) const GROUPS: usize = 16;
/// Groups walked over a text together, once the whole set's budget is spent. A walk is a
/// chain of loads, each waiting on the last; walked together, their chains run side by side.
/// `check --jobs 1`, medians of 7 alternating runs on one core, one, two, three and four at a
/// time: diverse text (the labelled corpus ten times over) 0.35, 0.29, 0.28 and 0.28 s;
/// trigger-dense text 0.38, 0.32, 0.29 and 0.29 s.
const WIDTH: usize = 4;
/// Cache capacity of each group's lazy DFA. Half as much cost 7-18% more time on diverse and
/// trigger-dense text for 0.6-1.3 MB less peak RSS.
const GROUP_CACHE: usize = 1 << 20;
/// What a new transition of the whole set costs from the budget; a message adds 1. So, once
/// the budget is spent, a new transition every 16 messages: the benchmark corpus builds 3,300
/// in its first 50,000 messages, most of them in the first hundred, and diverse text builds
/// states for little later use.
/// Against 8: the labelled corpus ten times over 2,321 → 2,122 million instructions (−8.6%),
/// once 709 → 699, the benchmark corpus the same (50,000 and 400,000 messages).
const TRANSITION_COST: u32 = 16;
/// The budget a fresh cache starts with and can hold at most: 3,072 transitions. Template
/// traffic builds most of its states in its first hundred messages and few after (the
/// benchmark corpus, 3,300 in its first 50,000: 2,049 to 2,304 of them before the refills keep
/// up), where diverse text builds them at every message, mostly for no later use. So the
/// budget is what template traffic's first burst takes, with room to spare: with 4,096, the
/// labelled corpus ran 7% more instructions and trigger-dense text 5% more, and with 2,048 the
/// benchmark corpus ran 5% more (callgrind, `check --batch --jobs 1`, measured with the refill
/// of an eighth of a transition that came before [`TRANSITION_COST`]'s 16; bench/LOG.md).
const BUDGET_CAP: u32 = 3072 * TRANSITION_COST;

/// A lazy DFA of the whole set, and the same patterns in groups, built when a walk first needs
/// them.
#[derive(Clone, Debug)]
pub(crate) struct LazySet {
    dfa: DFA,
    /// The patterns and the NFA size limit, for the groups.
    sources: Vec<String>,
    nfa_limit: usize,
    /// The groups; empty when a group could not be built, and the whole set is then walked
    /// whatever it costs.
    groups: OnceLock<Vec<Group>>,
}

/// Some of the set's patterns, as a lazy DFA with one cache for every thread: text that the
/// groups take builds states in all of them, and a cache a thread held 3.5 MB more with two
/// threads on diverse text (bench/LOG.md). A thread that finds a group's cache in use walks
/// another group first.
#[derive(Debug)]
struct Group {
    dfa: DFA,
    /// The set's id of the group's first pattern.
    first: u32,
    cache: Mutex<LazyCache>,
}

impl Clone for Group {
    /// The same group with an empty cache.
    fn clone(&self) -> Group {
        Group {
            dfa: self.dfa.clone(),
            first: self.first,
            cache: Mutex::new(self.dfa.create_cache()),
        }
    }
}

impl LazySet {
    /// The groups, built on first use (a policy load does not pay for them).
    fn groups(&self) -> &[Group] {
        self.groups.get_or_init(|| {
            let per = self.sources.len().div_ceil(GROUPS).max(1);
            let mut groups = Vec::with_capacity(GROUPS);
            for (i, chunk) in self.sources.chunks(per).enumerate() {
                match lazy_dfa(chunk, self.nfa_limit, GROUP_CACHE) {
                    Ok(dfa) => groups.push(Group {
                        cache: Mutex::new(dfa.create_cache()),
                        dfa,
                        first: (i * per) as u32,
                    }),
                    Err(_) => return Vec::new(),
                }
            }
            groups
        })
    }
}

/// Search state kept between messages: the lazy DFA's states, built as texts need them.
// The lazy caches, the kind in use, stay inline: the whole cache lives in a boxed scratch.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum MatcherCache {
    /// For [`PatternMatcher::Lazy`].
    Lazy(LazyCaches),
    /// For [`PatternMatcher::Meta`], with the set its search fills.
    Meta(Box<(meta::Cache, PatternSet)>),
}

/// A thread's cache of a [`LazySet`]'s whole set, and the budget for its new states.
#[derive(Clone, Debug)]
pub(crate) struct LazyCaches {
    all: LazyCache,
    /// In sixteenths of a transition ([`TRANSITION_COST`]).
    budget: u32,
    /// Whether the groups have walked a text of this thread's (for tests).
    #[cfg(test)]
    grouped: bool,
}

impl LazyCaches {
    /// Spend the whole budget, so that the next new transition of the whole set gives way to
    /// the groups (for tests of the groups).
    #[cfg(test)]
    pub(crate) fn spend_budget(&mut self) {
        self.budget = 0;
    }

    /// Whether the groups have been walked (for tests).
    #[cfg(test)]
    pub(crate) fn groups_walked(&self) -> bool {
        self.grouped
    }

    /// The heap the whole set's states take (for tests).
    #[cfg(test)]
    pub(crate) fn memory_usage(&self) -> usize {
        self.all.memory_usage()
    }
}

/// Pay for a new transition of `set`'s whole DFA from `budget`; false when it cannot, and the
/// groups are to take the text instead.
#[cold]
#[inline(never)]
fn spend(budget: &mut u32, set: &LazySet) -> bool {
    match budget.checked_sub(TRANSITION_COST) {
        Some(left) => {
            *budget = left;
            true
        }
        // Without groups, the whole set is walked whatever it costs.
        None => set.groups().is_empty(),
    }
}

/// The patterns a search could not tell about, which the caller asks one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Untold {
    /// Every pattern.
    All,
    /// The patterns of these groups, a bit a group ([`GROUPS`] at most).
    Groups(u32),
}

/// The lazy DFA's settings for a set, with a cache of `cache_capacity` bytes.
fn lazy_config(cache_capacity: usize) -> regex_automata::hybrid::dfa::Config {
    DFA::config()
        .match_kind(MatchKind::All)
        .cache_capacity(cache_capacity)
        // `(?u)\b` on ASCII text; the walk reports a stop on other bytes.
        .unicode_word_boundary(true)
}

/// A lazy DFA of `sources` with the set's settings.
fn lazy_dfa(sources: &[String], nfa_limit: usize, cache_capacity: usize) -> Result<DFA, String> {
    let syntax = syntax::Config::new().unicode(false).utf8(false);
    let nfa: NFA = thompson::Compiler::new()
        .syntax(syntax)
        .configure(
            thompson::Config::new()
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(nfa_limit)),
        )
        .build_many(sources)
        .map_err(|e| e.to_string())?;
    DFA::builder()
        .configure(lazy_config(cache_capacity))
        .build_from_nfa(nfa)
        .map_err(|e| e.to_string())
}

/// The patterns found in one text, each once. Clearing and reading take time in what was
/// found, not in the size of the set: a `PatternSet` is read by visiting every pattern, which
/// cost about 1,000 instructions a message for a policy's hundred-odd patterns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Found {
    /// One bit a pattern.
    seen: Vec<u64>,
    /// The patterns found, in the order found.
    list: Vec<u32>,
}

impl Found {
    /// An empty set for patterns `0..len`.
    pub(crate) fn new(len: usize) -> Found {
        Found {
            seen: vec![0; len.div_ceil(64)],
            list: Vec::new(),
        }
    }

    /// Add pattern `id` (ignored when out of range or already there).
    pub(crate) fn insert(&mut self, id: usize) {
        let Some(word) = self.seen.get_mut(id / 64) else {
            return;
        };
        let bit = 1u64 << (id % 64);
        if *word & bit == 0 {
            *word |= bit;
            self.list.push(id as u32);
        }
    }

    /// Remove every pattern.
    pub(crate) fn clear(&mut self) {
        for &id in &self.list {
            if let Some(word) = self.seen.get_mut(id as usize / 64) {
                *word = 0;
            }
        }
        self.list.clear();
    }

    /// The patterns found, in the order found (ascending once [`Found::sorted`] has run).
    pub(crate) fn list(&self) -> &[u32] {
        &self.list
    }

    /// The patterns found, in ascending order (the order in which their points are added).
    pub(crate) fn sorted(&mut self) -> &[u32] {
        self.list.sort_unstable();
        &self.list
    }
}

impl PatternMatcher {
    /// The set of `sources`: byte regexes, ASCII classes unless a pattern opts into Unicode,
    /// every match of every pattern reported, an NFA of at most `nfa_limit` bytes and a lazy
    /// DFA cache of `cache_capacity` bytes. The error (syntax, size) is about the patterns; the
    /// caller names the one at fault.
    pub(crate) fn new(
        sources: &[String],
        nfa_limit: usize,
        cache_capacity: usize,
    ) -> Result<PatternMatcher, String> {
        if let Ok(dfa) = lazy_dfa(sources, nfa_limit, cache_capacity) {
            return Ok(PatternMatcher::Lazy(Box::new(LazySet {
                dfa,
                sources: sources.to_vec(),
                nfa_limit,
                groups: OnceLock::new(),
            })));
        }
        let syntax = syntax::Config::new().unicode(false).utf8(false);
        // What `regex::bytes::RegexSet` configures, with ASCII classes by default.
        meta::Builder::new()
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .utf8_empty(false)
                    .which_captures(WhichCaptures::None)
                    .nfa_size_limit(Some(nfa_limit))
                    .hybrid_cache_capacity(cache_capacity)
                    // A literal prefilter over a policy's worth of patterns selects nothing
                    // (callgrind: same instructions per message without it), and finding one
                    // cost 11 million instructions at every start.
                    .auto_prefilter(false),
            )
            .syntax(syntax)
            .build_many(sources)
            .map(PatternMatcher::Meta)
            .map_err(|e| e.to_string())
    }

    /// Let each cache of the whole set hold `bytes` of states (the groups' caches, shared, keep
    /// theirs); false when the lazy DFA cannot work in so little, and nothing changed. Caches
    /// made before belong to the old DFA: the caller must not use them again.
    pub(crate) fn set_cache_capacity(&mut self, bytes: usize) -> bool {
        let PatternMatcher::Lazy(set) = self else {
            return false;
        };
        let rebuilt = DFA::builder()
            .configure(lazy_config(bytes))
            .build_from_nfa(set.dfa.get_nfa().clone());
        match rebuilt {
            Ok(dfa) => {
                set.dfa = dfa;
                true
            }
            Err(_) => false,
        }
    }

    /// Number of patterns.
    pub(crate) fn pattern_len(&self) -> usize {
        match self {
            PatternMatcher::Lazy(set) => set.dfa.pattern_len(),
            PatternMatcher::Meta(re) => re.pattern_len(),
        }
    }

    /// A fresh cache for [`PatternMatcher::which_match`].
    pub(crate) fn create_cache(&self) -> MatcherCache {
        match self {
            PatternMatcher::Lazy(set) => MatcherCache::Lazy(LazyCaches {
                all: set.dfa.create_cache(),
                budget: BUDGET_CAP,
                #[cfg(test)]
                grouped: false,
            }),
            PatternMatcher::Meta(re) => MatcherCache::Meta(Box::new((
                re.create_cache(),
                PatternSet::new(re.pattern_len()),
            ))),
        }
    }

    /// A walk over `haystack` that adds the patterns it matches to `found`, advanced a
    /// stretch at a time ([`Walk::advance`]); `None` for a set without a lazy DFA (or one that
    /// cannot start on `haystack`), which [`PatternMatcher::which_match`] answers whole.
    pub(crate) fn begin<'a>(
        &'a self,
        cache: &'a mut MatcherCache,
        haystack: &'a [u8],
        found: &'a mut Found,
    ) -> Option<Walk<'a>> {
        match (self, cache) {
            (PatternMatcher::Lazy(set), MatcherCache::Lazy(caches)) => {
                Walk::begin(set, caches, haystack, found)
            }
            _ => None,
        }
    }

    /// Add every pattern that matches somewhere in `haystack` to `found`; the patterns the
    /// set could not tell about, if any, are for the caller to ask one by one.
    pub(crate) fn which_match(
        &self,
        cache: &mut MatcherCache,
        haystack: &[u8],
        found: &mut Found,
    ) -> Result<(), Untold> {
        match (self, cache) {
            (PatternMatcher::Lazy(set), MatcherCache::Lazy(caches)) => {
                walk(set, caches, haystack, found)
            }
            (PatternMatcher::Meta(re), MatcherCache::Meta(cache)) => {
                let (cache, set) = &mut **cache;
                set.clear();
                re.which_overlapping_matches_with(cache, &Input::new(haystack), set);
                for id in set.iter() {
                    found.insert(id.as_usize());
                }
                Ok(())
            }
            // A cache of the other kind belongs to another set.
            _ => Err(Untold::All),
        }
    }

    /// The patterns of `untold`, in order.
    pub(crate) fn untold(&self, untold: Untold) -> impl Iterator<Item = usize> + '_ {
        let len = self.pattern_len();
        let groups = match (self, untold) {
            (PatternMatcher::Lazy(set), Untold::Groups(bits)) => Some((set.groups(), bits)),
            _ => None,
        };
        (0..len).filter(move |&i| match groups {
            None => true,
            Some((groups, bits)) => {
                // The group holding pattern i: the last whose first pattern is at most i.
                let g = groups.partition_point(|group| group.first as usize <= i);
                g > 0 && bits & (1 << (g - 1)) != 0
            }
        })
    }
}

/// Walk the lazy DFA over `haystack`, collecting the patterns of each match state, as
/// [`Walk::finish`] tells.
// Never inlined: classification walks along the word split instead ([`Walk`]), and this
// whole walk, for a caller without one, need not grow the function that calls it.
#[inline(never)]
fn walk(
    set: &LazySet,
    caches: &mut LazyCaches,
    haystack: &[u8],
    found: &mut Found,
) -> Result<(), Untold> {
    let mut walk = Walk::begin(set, caches, haystack, found).ok_or(Untold::All)?;
    walk.advance(haystack.len());
    walk.finish()
}

/// A walk of the lazy DFA over one text, advanced a stretch at a time, so that a caller can
/// run it along with other work on the same text: its transitions are a chain of loads, each
/// waiting on the last, and the core has room for other work while they wait.
pub(crate) struct Walk<'a> {
    set: &'a LazySet,
    caches: &'a mut LazyCaches,
    haystack: &'a [u8],
    found: &'a mut Found,
    sid: LazyStateID,
    /// The next byte to take; [`STOPPED`] once a dead state or a quit ended the walk.
    at: usize,
    /// Whether the DFA quit (the set could not tell; the groups are asked instead).
    quit: bool,
    /// Whether the budget ran out: the groups take the whole text at [`Walk::finish`].
    spent: bool,
}

/// In [`Walk::at`]: the walk has ended.
const STOPPED: usize = usize::MAX;

impl<'a> Walk<'a> {
    fn begin(
        set: &'a LazySet,
        caches: &'a mut LazyCaches,
        haystack: &'a [u8],
        found: &'a mut Found,
    ) -> Option<Walk<'a>> {
        caches.budget = (caches.budget + 1).min(BUDGET_CAP);
        let sid = set
            .dfa
            .start_state_forward(&mut caches.all, &Input::new(haystack))
            .ok()?;
        Some(Walk {
            set,
            caches,
            haystack,
            found,
            sid,
            at: 0,
            quit: false,
            spent: false,
        })
    }

    /// Take the bytes up to `to` (or to the end).
    // Inlined, so that a caller's work between two stretches runs while the loads wait.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub(crate) fn advance(&mut self, to: usize) {
        let (dfa, cache) = (&self.set.dfa, &mut self.caches.all);
        let haystack = self.haystack.get(..to).unwrap_or(self.haystack);
        let (mut sid, mut at) = (self.sid, self.at);
        while at < haystack.len() {
            // From an untagged state, a transition is a table load, and most lead to another
            // untagged state; a tagged one (match, dead, quit, or not built yet) leaves the
            // loop. Against `next_state` at every byte: 32,037 → 30,850 instructions a message
            // (callgrind, 50,000 messages), for the same answer.
            if !sid.is_tagged() {
                while let Some(&b) = haystack.get(at) {
                    let next = dfa.next_state_untagged(cache, sid, b);
                    if next.is_tagged() {
                        // A transition not built yet is paid for from the budget. (One from a
                        // match state is not counted: telling would take a second transition.)
                        if next.is_unknown() && !spend(&mut self.caches.budget, self.set) {
                            (self.at, self.spent) = (STOPPED, true);
                            return;
                        }
                        break;
                    }
                    sid = next;
                    at += 1;
                }
            }
            let Some(&b) = haystack.get(at) else { break };
            let Ok(next) = dfa.next_state(cache, sid, b) else {
                (self.at, self.quit) = (STOPPED, true);
                return;
            };
            sid = next;
            at += 1;
            if sid.is_tagged() {
                if sid.is_match() {
                    collect(dfa, cache, sid, 0, self.found);
                } else if sid.is_dead() || sid.is_quit() {
                    (self.at, self.quit) = (STOPPED, sid.is_quit());
                    return;
                }
            }
        }
        (self.sid, self.at) = (sid, at);
    }

    /// Take the rest and the end of the input. When the whole set stopped (its budget ran out,
    /// or it quit at a non-ASCII byte for a pattern with a Unicode word boundary), the groups
    /// walk the text instead, and the patterns of any that quit too are untold.
    pub(crate) fn finish(mut self) -> Result<(), Untold> {
        self.advance(self.haystack.len());
        if self.spent || (self.at == STOPPED && self.quit) {
            return self.groups_finish();
        }
        if self.at == STOPPED {
            return Ok(());
        }
        match self.set.dfa.next_eoi_state(&mut self.caches.all, self.sid) {
            Ok(sid) => {
                if sid.is_match() {
                    collect(&self.set.dfa, &self.caches.all, sid, 0, self.found);
                }
                Ok(())
            }
            Err(_) => self.groups_finish(),
        }
    }

    /// Walk each group over the whole text, from what is found cleared: the groups that
    /// quit leave their patterns untold, and without groups every pattern is.
    #[cold]
    #[inline(never)]
    fn groups_finish(self) -> Result<(), Untold> {
        self.found.clear();
        let groups = self.set.groups();
        if groups.is_empty() {
            return Err(Untold::All);
        }
        #[cfg(test)]
        {
            self.caches.grouped = true;
        }
        // A bit a group still to walk (at most [`GROUPS`]).
        let mut left: u32 = u32::MAX >> (32 - groups.len().min(32));
        let mut untold = 0;
        // Up to [`WIDTH`] groups left whose caches are free walk the text together; when none
        // is free, the first group left is waited for.
        let mut wait = false;
        while left != 0 {
            let mut taken: [Option<(usize, MutexGuard<'_, LazyCache>)>; WIDTH] =
                std::array::from_fn(|_| None);
            let (mut n, mut walked) = (0, 0u32);
            let mut bits = left;
            while bits != 0 && n < WIDTH {
                let g = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let Some(group) = groups.get(g) else {
                    left &= !(1 << g);
                    continue;
                };
                if let Some(cache) = group.cache(wait && n == 0) {
                    taken[n] = Some((g, cache));
                    walked |= 1 << g;
                    n += 1;
                }
            }
            wait = n == 0;
            untold |= walk_groups(groups, &mut taken, self.haystack, self.found);
            left &= !walked;
        }
        if untold == 0 {
            Ok(())
        } else {
            Err(Untold::Groups(untold))
        }
    }
}

impl Group {
    /// The group's cache, waiting for it if `wait`, else `None` while another thread holds
    /// it. One a thread panicked while holding is emptied, as the panic may have left it half
    /// updated.
    fn cache(&self, wait: bool) -> Option<MutexGuard<'_, LazyCache>> {
        let poisoned = if wait {
            match self.cache.lock() {
                Ok(cache) => return Some(cache),
                Err(poisoned) => poisoned,
            }
        } else {
            match self.cache.try_lock() {
                Ok(cache) => return Some(cache),
                Err(TryLockError::WouldBlock) => return None,
                Err(TryLockError::Poisoned(poisoned)) => poisoned,
            }
        };
        let mut cache = poisoned.into_inner();
        *cache = self.dfa.create_cache();
        self.cache.clear_poison();
        Some(cache)
    }
}

/// One group's walk over a text in progress: its DFA, its cache, and its state.
struct GroupWalk<'a> {
    dfa: &'a DFA,
    cache: &'a mut LazyCache,
    /// The set's id of the group's first pattern.
    first: u32,
    sid: LazyStateID,
}

impl<'a> GroupWalk<'a> {
    /// A walk of `dfa` from the start of `haystack`; `None` when it cannot start (only a quit
    /// byte before the start stops one, and a text's start has no byte before it).
    fn begin(
        dfa: &'a DFA,
        cache: &'a mut LazyCache,
        haystack: &[u8],
        first: u32,
    ) -> Option<GroupWalk<'a>> {
        let sid = dfa.start_state_forward(cache, &Input::new(haystack)).ok()?;
        Some(GroupWalk {
            dfa,
            cache,
            first,
            sid,
        })
    }

    /// The untagged transitions from the state on `haystack` from `at`, while they lead to
    /// untagged states: where they stopped.
    #[inline]
    fn run(&mut self, haystack: &[u8], mut at: usize) -> usize {
        if !self.sid.is_tagged() {
            while let Some(&b) = haystack.get(at) {
                let next = self.dfa.next_state_untagged(self.cache, self.sid, b);
                if next.is_tagged() {
                    break;
                }
                self.sid = next;
                at += 1;
            }
        }
        at
    }

    /// Take `b` by the general transition, which builds new states and reports tagged ones:
    /// `Some(told)` when the walk has ended (a dead state tells all; a quit, or a cache that
    /// gave up, tells nothing).
    #[inline]
    fn step(&mut self, b: u8, found: &mut Found) -> Option<bool> {
        let Ok(next) = self.dfa.next_state(self.cache, self.sid, b) else {
            return Some(false);
        };
        self.sid = next;
        if next.is_tagged() {
            if next.is_match() {
                collect(self.dfa, self.cache, next, self.first, found);
            } else if next.is_dead() {
                return Some(true);
            } else if next.is_quit() {
                return Some(false);
            }
        }
        None
    }

    /// Take the end of the input: whether the walk could tell.
    fn end(&mut self, found: &mut Found) -> bool {
        match self.dfa.next_eoi_state(self.cache, self.sid) {
            Ok(sid) => {
                if sid.is_match() {
                    collect(self.dfa, self.cache, sid, self.first, found);
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Walk the rest of `haystack` from `at`, and its end: whether the walk could tell.
    fn rest(mut self, haystack: &[u8], mut at: usize, found: &mut Found) -> bool {
        while at < haystack.len() {
            // As in [`Walk::advance`]: from an untagged state, a transition is a table load,
            // and most lead to another untagged state; a tagged one leaves the loop.
            at = self.run(haystack, at);
            let Some(&b) = haystack.get(at) else { break };
            at += 1;
            if let Some(told) = self.step(b, found) {
                return told;
            }
        }
        self.end(found)
    }
}

/// Walk the groups of `taken` (each a group's number and its cache) over `haystack` together,
/// adding their patterns to `found`: the bits of those that could not tell.
// Never inlined: `groups_finish`'s loop stays small, and the byte loops are compiled once.
#[inline(never)]
fn walk_groups(
    groups: &[Group],
    taken: &mut [Option<(usize, MutexGuard<'_, LazyCache>)>; WIDTH],
    haystack: &[u8],
    found: &mut Found,
) -> u32 {
    let mut untold = 0;
    let mut walks: [Option<(usize, GroupWalk<'_>)>; WIDTH] = std::array::from_fn(|_| None);
    for (slot, walk) in taken.iter_mut().zip(&mut walks) {
        let Some((g, cache)) = slot else { continue };
        match groups.get(*g) {
            Some(group) => match GroupWalk::begin(&group.dfa, cache, haystack, group.first) {
                Some(w) => *walk = Some((*g, w)),
                None => untold |= 1 << *g,
            },
            None => untold |= 1 << *g,
        }
    }
    let mut told = |g: usize, t: bool| {
        if !t {
            untold |= 1 << g;
        }
    };
    match walks {
        [Some((a, wa)), Some((b, wb)), Some((c, wc)), Some((d, wd))] => {
            let [ta, tb, tc, td] = walk_together([wa, wb, wc, wd], haystack, found);
            told(a, ta);
            told(b, tb);
            told(c, tc);
            told(d, td);
        }
        [Some((a, wa)), Some((b, wb)), Some((c, wc)), None] => {
            let [ta, tb, tc] = walk_together([wa, wb, wc], haystack, found);
            told(a, ta);
            told(b, tb);
            told(c, tc);
        }
        [Some((a, wa)), Some((b, wb)), None, None] => {
            let [ta, tb] = walk_together([wa, wb], haystack, found);
            told(a, ta);
            told(b, tb);
        }
        // One, or walks that could not start among others: one at a time.
        others => {
            for (g, w) in others.into_iter().flatten() {
                told(g, w.rest(haystack, 0, found));
            }
        }
    }
    untold
}

/// Walk `N` groups over `haystack` together, a byte of the text each in turn: each walk is a
/// chain of loads, each waiting on the last, and independent chains run side by side. Whether
/// each could tell.
fn walk_together<const N: usize>(
    mut walks: [GroupWalk<'_>; N],
    haystack: &[u8],
    found: &mut Found,
) -> [bool; N] {
    let mut at = 0;
    while at < haystack.len() {
        if walks.iter().all(|w| !w.sid.is_tagged()) {
            while let Some(&b) = haystack.get(at) {
                let next: [LazyStateID; N] = std::array::from_fn(|k| {
                    let w = &walks[k];
                    w.dfa.next_state_untagged(w.cache, w.sid, b)
                });
                if next.iter().any(LazyStateID::is_tagged) {
                    break;
                }
                for (w, sid) in walks.iter_mut().zip(next) {
                    w.sid = sid;
                }
                at += 1;
            }
        }
        let Some(&b) = haystack.get(at) else { break };
        // Each takes the byte by the general transition; when one ends (rare: a quit, or a
        // cache that gave up), the others walk the rest one at a time.
        let ended: [Option<bool>; N] = std::array::from_fn(|k| walks[k].step(b, found));
        at += 1;
        if ended.iter().any(Option::is_some) {
            let mut told = [false; N];
            for ((t, w), end) in told.iter_mut().zip(walks).zip(ended) {
                *t = match end {
                    Some(t) => t,
                    None => w.rest(haystack, at, found),
                };
            }
            return told;
        }
    }
    walks.map(|mut w| w.end(found))
}

/// Add the patterns of match state `sid`, whose DFA numbers the set's patterns from `first`.
fn collect(dfa: &DFA, cache: &LazyCache, sid: LazyStateID, first: u32, found: &mut Found) {
    for i in 0..dfa.match_len(cache, sid) {
        found.insert(first as usize + dfa.match_pattern(cache, sid, i).as_usize());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Patterns of the kinds policies use: word boundaries, case folding, classes, counted and
    /// open windows, alternations, anchors.
    const SOURCES: &[&str] = &[
        r"(?i)\bfree\b",
        r"(?i)\b\d+%\s*off\b",
        r"(?i)\breply\s+(yes|y)\b.*\b(no|n)\b",
        r"\b[A-Z]{2,4}\s?\d{3}\b",
        r"(?i)\bcode\b[^\n]*\b\d{4,8}\b",
        r"(?i)^hi\b",
        r"(?i)\bstop$",
        r"(?i)\$\d+(\.\d\d)?",
        r"(?i)\b(win|won)\s+a\b",
        r"(?i)(?:^|[^a-z])f[*#@!]{1,2}ck",
        r"café",
        r"\d{3}-\d{4}",
    ];

    fn sources() -> Vec<String> {
        SOURCES.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The meta search over `sources`, with the set's settings: what the walks are held to.
    fn meta_set(sources: &[String]) -> meta::Regex {
        meta::Builder::new()
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .utf8_empty(false),
            )
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .build_many(sources)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The set of [`SOURCES`] and the meta search over them.
    fn lazy_and_meta() -> (PatternMatcher, meta::Regex) {
        let sources = sources();
        let lazy =
            PatternMatcher::new(&sources, 32 << 20, 16 << 20).unwrap_or_else(|e| panic!("{e:?}"));
        (lazy, meta_set(&sources))
    }

    /// A few texts of the words and marks [`SOURCES`] match, as a batch sends them.
    fn texts() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            "((free|FREE|20% off|reply yes|no|n|y|CS 101|code|1234|hi|stop|\\$5\\.99|won a|f\\*ck|café|555-1234|x|é)( |\\n|,|\\.|-|))*",
            1..8,
        )
    }

    /// The patterns the meta search finds in `text`, in ascending order.
    fn meta_found(meta: &meta::Regex, cache: &mut meta::Cache, text: &str) -> Vec<u32> {
        let mut found = PatternSet::new(meta.pattern_len());
        meta.which_overlapping_matches_with(cache, &Input::new(text.as_bytes()), &mut found);
        found.iter().map(|p| p.as_usize() as u32).collect()
    }

    proptest! {
        #[test]
        fn the_walk_finds_what_the_meta_search_finds(
            texts in texts(),
        ) {
            let (lazy, meta) = lazy_and_meta();
            prop_assert!(matches!(lazy, PatternMatcher::Lazy(_)));
            // One cache for all the texts, as in a batch.
            let mut cache = lazy.create_cache();
            let mut meta_cache = meta.create_cache();
            for text in &texts {
                let mut got = Found::new(lazy.pattern_len());
                prop_assert!(lazy.which_match(&mut cache, text.as_bytes(), &mut got).is_ok());
                let got = got.sorted().to_vec();
                let want = meta_found(&meta, &mut meta_cache, text);
                prop_assert_eq!(got, want, "{:?}", text);
            }
        }
    }

    /// What `lazy` finds in `text` with the whole set's budget spent first, so that the groups
    /// walk it: whether it could tell, and the patterns found.
    fn grouped(
        lazy: &PatternMatcher,
        cache: &mut MatcherCache,
        text: &str,
    ) -> (Result<(), Untold>, Found) {
        let MatcherCache::Lazy(caches) = &mut *cache else {
            panic!("a lazy set");
        };
        caches.spend_budget();
        let mut got = Found::new(lazy.pattern_len());
        let told = lazy.which_match(cache, text.as_bytes(), &mut got);
        (told, got)
    }

    proptest! {
        /// A walk whose budget is spent gives way to the groups at its first new transition;
        /// they find what the meta search finds, from the first text on and with caches warm.
        #[test]
        fn the_groups_find_what_the_meta_search_finds(
            texts in texts(),
        ) {
            let (lazy, meta) = lazy_and_meta();
            let mut cache = lazy.create_cache();
            let mut meta_cache = meta.create_cache();
            for text in &texts {
                let (told, mut got) = grouped(&lazy, &mut cache, text);
                prop_assert!(told.is_ok());
                let got = got.sorted().to_vec();
                let want = meta_found(&meta, &mut meta_cache, text);
                prop_assert_eq!(got, want, "{:?}", text);
            }
            // The first byte walked was a new transition, and no budget paid for it.
            let MatcherCache::Lazy(caches) = &cache else {
                panic!("a lazy set");
            };
            prop_assert_eq!(caches.groups_walked(), texts.iter().any(|t| !t.is_empty()));
        }
    }

    proptest! {
        /// Sets of every size up to [`SOURCES`]' (a group a pattern), so that the groups are
        /// walked four, three, two and one at a time, some with a pattern whose Unicode word
        /// boundary quits at a non-ASCII byte: the groups that can tell find what the meta
        /// search finds, and only that pattern's group, on a text that is not ASCII, cannot.
        #[test]
        fn groups_walked_together_find_what_the_meta_search_finds(
            k in 1..=SOURCES.len(),
            unicode in any::<bool>(),
            texts in texts(),
        ) {
            let mut sources: Vec<String> =
                SOURCES[..k].iter().map(|s| (*s).to_owned()).collect();
            if unicode {
                sources.insert(k / 2, r"(?u)\bcaf\w\b".to_owned());
            }
            let lazy = PatternMatcher::new(&sources, 32 << 20, 16 << 20)
                .unwrap_or_else(|e| panic!("{e:?}"));
            let meta = meta_set(&sources);
            let mut cache = lazy.create_cache();
            let mut meta_cache = meta.create_cache();
            for text in &texts {
                let (told, mut got) = grouped(&lazy, &mut cache, text);
                let untold: Vec<usize> = match told {
                    Ok(()) => Vec::new(),
                    Err(untold) => lazy.untold(untold).collect(),
                };
                let quits = if unicode && !text.is_ascii() {
                    vec![k / 2]
                } else {
                    Vec::new()
                };
                prop_assert_eq!(&untold, &quits, "{:?}", text);
                let told_of = |i: &u32| !untold.contains(&(*i as usize));
                let got: Vec<u32> = got.sorted().iter().copied().filter(told_of).collect();
                let want: Vec<u32> = meta_found(&meta, &mut meta_cache, text)
                    .into_iter()
                    .filter(told_of)
                    .collect();
                prop_assert_eq!(got, want, "{:?}", text);
            }
        }
    }

    /// The groups of `set`, built.
    fn groups_of(set: &PatternMatcher) -> &[Group] {
        match set {
            PatternMatcher::Lazy(lazy) => lazy.groups(),
            PatternMatcher::Meta(_) => panic!("a lazy set"),
        }
    }

    #[test]
    fn threads_that_share_the_groups_caches_find_what_the_meta_search_finds() {
        let (lazy, meta) = lazy_and_meta();
        assert!(groups_of(&lazy).len() > 1);
        let words = [
            "free",
            "20% off",
            "reply yes",
            "CS 101",
            "code",
            "1234",
            "stop",
            "$5.99",
            "won a",
            "café",
            "555-1234",
            "x",
            "n",
        ];
        // Texts that differ from thread to thread and from each other, so that the groups
        // build states while other threads walk them.
        let texts: Vec<String> = (0..400usize)
            .map(|i| {
                (0..=i % 9)
                    .map(|k| words[(i * 7 + k * k * 3) % words.len()])
                    .collect::<Vec<_>>()
                    .join(if i % 2 == 0 { " " } else { ", " })
            })
            .collect();
        let mut meta_cache = meta.create_cache();
        let want: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| meta_found(&meta, &mut meta_cache, t))
            .collect();
        std::thread::scope(|scope| {
            for offset in 0..4 {
                let (lazy, texts, want) = (&lazy, &texts, &want);
                scope.spawn(move || {
                    let mut cache = lazy.create_cache();
                    for round in 0..3 {
                        for i in (0..texts.len()).map(|i| (i + offset * 97 + round) % texts.len()) {
                            let MatcherCache::Lazy(caches) = &mut cache else {
                                panic!("a lazy set");
                            };
                            caches.spend_budget();
                            let mut got = Found::new(lazy.pattern_len());
                            let told = lazy.which_match(&mut cache, texts[i].as_bytes(), &mut got);
                            assert!(told.is_ok(), "{:?}", texts[i]);
                            assert_eq!(got.sorted(), &want[i][..], "{:?}", texts[i]);
                        }
                    }
                });
            }
        });
    }

    #[test]
    fn a_groups_cache_left_by_a_panic_is_emptied_and_used_again() {
        let (lazy, meta) = lazy_and_meta();
        let groups = groups_of(&lazy);
        // A thread that panics while it holds the first group's cache.
        let _ = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let _cache = groups[0].cache.lock();
                    panic!("while holding the cache");
                })
                .join()
        });
        assert!(groups[0].cache.is_poisoned());
        let mut cache = lazy.create_cache();
        let MatcherCache::Lazy(caches) = &mut cache else {
            panic!("a lazy set");
        };
        caches.spend_budget();
        let text = "FREE code 1234, reply yes";
        let mut got = Found::new(lazy.pattern_len());
        assert!(lazy
            .which_match(&mut cache, text.as_bytes(), &mut got)
            .is_ok());
        let want = meta_found(&meta, &mut meta.create_cache(), text);
        assert_eq!(got.sorted(), &want[..]);
        assert!(!groups[0].cache.is_poisoned());
    }

    #[test]
    fn the_groups_leave_untold_only_the_patterns_of_those_that_stop_at_non_ascii_text() {
        // Eight groups of one pattern; the third has a Unicode word boundary.
        let sources: Vec<String> = [
            r"(?i)\bfree\b",
            r"\d{4}",
            r"(?u)\bcafé\b",
            r"(?i)\bstop\b",
            r"€\d",
            r"(?i)reply",
            r"x{3}",
            r"(?i)\bhi\b",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let set =
            PatternMatcher::new(&sources, 32 << 20, 16 << 20).unwrap_or_else(|e| panic!("{e:?}"));
        let mut cache = set.create_cache();
        let texts = [
            ("free coffee 1234, reply STOP", Ok(()), vec![0, 1, 3, 5]),
            (
                "free café 1234 for €5, reply STOP",
                Err(Untold::Groups(0b100)),
                vec![0, 1, 3, 4, 5],
            ),
        ];
        for spent in [false, true] {
            for (text, told, want) in &texts {
                let MatcherCache::Lazy(caches) = &mut cache else {
                    panic!("a lazy set");
                };
                if spent {
                    caches.spend_budget();
                }
                let mut found = Found::new(set.pattern_len());
                let got = set.which_match(&mut cache, text.as_bytes(), &mut found);
                assert_eq!(&got, told, "{text}");
                assert_eq!(found.sorted(), want, "{text}");
                if let Err(untold) = got {
                    assert_eq!(set.untold(untold).collect::<Vec<_>>(), [2]);
                }
            }
        }
        assert_eq!(set.untold(Untold::All).count(), 8);
        let MatcherCache::Lazy(caches) = &cache else {
            panic!("a lazy set");
        };
        assert!(caches.groups_walked());
    }

    #[test]
    fn a_budget_pays_for_new_transitions_and_is_refilled_a_message_at_a_time() {
        let set =
            PatternMatcher::new(&sources(), 32 << 20, 16 << 20).unwrap_or_else(|e| panic!("{e:?}"));
        let mut cache = set.create_cache();
        let text = b"reply yes to win a free CS 101 seat, code 1234 or 555-1234";
        let mut found = Found::new(set.pattern_len());
        // A fresh budget builds what a text needs; the same text again needs nothing new.
        assert!(set.which_match(&mut cache, text, &mut found).is_ok());
        let MatcherCache::Lazy(caches) = &mut cache else {
            panic!("a lazy set");
        };
        assert!(caches.budget < BUDGET_CAP, "new transitions were paid for");
        assert!(!caches.groups_walked());
        caches.spend_budget();
        assert!(set.which_match(&mut cache, text, &mut found).is_ok());
        let MatcherCache::Lazy(caches) = &mut cache else {
            panic!("a lazy set");
        };
        assert!(!caches.groups_walked(), "nothing new, so nothing to pay");
        assert_eq!(caches.budget, 1, "a message adds one");
        // A new text with the budget spent is walked by the groups.
        assert!(set
            .which_match(&mut cache, b"stop hi FREE", &mut found)
            .is_ok());
        let MatcherCache::Lazy(caches) = &cache else {
            panic!("a lazy set");
        };
        assert!(caches.groups_walked());
    }

    proptest! {
        #[test]
        fn a_walk_in_stretches_finds_what_a_whole_walk_finds(
            texts in prop::collection::vec(
                (
                    "((free|FREE|20% off|reply yes|no|n|y|CS 101|code|1234|hi|stop|\\$5\\.99|won a|café|555-1234|x|é)( |\n|,|\\.|-|))*",
                    prop::collection::vec(0usize..80, 0..12),
                ),
                1..6,
            ),
        ) {
            let set = PatternMatcher::new(&sources(), 32 << 20, 16 << 20)
                .unwrap_or_else(|e| panic!("{e:?}"));
            let mut cache = set.create_cache();
            for (text, stops) in &texts {
                let mut whole = Found::new(set.pattern_len());
                prop_assert!(set.which_match(&mut cache, text.as_bytes(), &mut whole).is_ok());
                // Stops in any order, before the last one, past the end: each takes what is
                // left up to it, if anything.
                let mut found = Found::new(set.pattern_len());
                let mut walk = set
                    .begin(&mut cache, text.as_bytes(), &mut found)
                    .unwrap_or_else(|| panic!("a lazy set"));
                for &stop in stops {
                    walk.advance(stop);
                }
                prop_assert!(walk.finish().is_ok());
                prop_assert_eq!(found.sorted(), whole.sorted(), "{:?} {:?}", text, stops);
            }
        }
    }

    #[test]
    fn a_walk_in_stretches_reports_a_stop_at_non_ascii_text() {
        let sources = vec![r"(?u)\bcafé\b".to_owned(), r"(?i)\bfree\b".to_owned()];
        let set =
            PatternMatcher::new(&sources, 32 << 20, 16 << 20).unwrap_or_else(|e| panic!("{e:?}"));
        let mut cache = set.create_cache();
        // Two groups of one pattern each: the first, with the Unicode word boundary, stops.
        for (text, told, want) in [
            ("free coffee", Ok(()), vec![1]),
            ("free café", Err(Untold::Groups(0b1)), vec![1]),
        ] {
            let mut found = Found::new(set.pattern_len());
            let mut walk = set
                .begin(&mut cache, text.as_bytes(), &mut found)
                .unwrap_or_else(|| panic!("a lazy set"));
            walk.advance(4);
            walk.advance(7);
            assert_eq!(walk.finish(), told, "{text}");
            assert_eq!(found.sorted(), want, "{text}");
        }
    }

    #[test]
    fn a_unicode_word_boundary_stops_the_walk_only_on_non_ascii_text() {
        let sources = vec![r"(?u)\bcafé\b".to_owned(), r"(?i)\bfree\b".to_owned()];
        let set =
            PatternMatcher::new(&sources, 32 << 20, 16 << 20).unwrap_or_else(|e| panic!("{e:?}"));
        let mut cache = set.create_cache();
        let mut found = Found::new(set.pattern_len());
        assert!(set
            .which_match(&mut cache, b"free coffee", &mut found)
            .is_ok());
        assert_eq!(found.sorted(), [1]);
        let mut found = Found::new(set.pattern_len());
        assert_eq!(
            set.which_match(&mut cache, "free café".as_bytes(), &mut found),
            Err(Untold::Groups(0b1))
        );
        assert_eq!(found.sorted(), [1]);
    }

    #[test]
    fn a_cache_of_the_other_kind_is_refused() {
        let sources = sources();
        let lazy =
            PatternMatcher::new(&sources, 32 << 20, 16 << 20).unwrap_or_else(|e| panic!("{e:?}"));
        let meta = meta::Regex::new_many(&sources).unwrap_or_else(|e| panic!("{e}"));
        let mut other = MatcherCache::Meta(Box::new((
            meta.create_cache(),
            PatternSet::new(meta.pattern_len()),
        )));
        let mut found = Found::new(lazy.pattern_len());
        assert_eq!(
            lazy.which_match(&mut other, b"free", &mut found),
            Err(Untold::All)
        );
    }
}
