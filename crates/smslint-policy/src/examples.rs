//! Example-based policy tests: each use case's `examples.match` and `examples.no_match`.

use smslint_core::{segments, LintContext, NormalizedText, UseCase};

use crate::load::LoadedPolicy;

/// What an example is about.
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    /// A use case, with the score the example got and the threshold.
    UseCase {
        /// The use case.
        use_case: UseCase,
        /// Its score on the example.
        score: f64,
        /// Its threshold.
        threshold: f64,
    },
    /// A content rule.
    Rule {
        /// The rule's id.
        id: String,
    },
}

/// One example that did not behave as declared.
#[derive(Clone, Debug, PartialEq)]
pub struct ExampleFailure {
    /// The use case or rule the example belongs to.
    pub subject: Subject,
    /// The example text.
    pub text: String,
    /// True for a `match` example that was not detected (did not fire); false for a `no_match`
    /// that was (did).
    pub expected_match: bool,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.expected_match {
            "match"
        } else {
            "no_match"
        };
        match &self.subject {
            Subject::UseCase {
                use_case,
                score,
                threshold,
            } => {
                write!(
                f,
                "{use_case} {kind} example {:?}: expected it {}, but it scored {} (threshold {})",
                self.text,
                if self.expected_match { "detected" } else { "not detected" },
                smslint_core::fmt_score(*score),
                smslint_core::fmt_score(*threshold)
            )
            }
            Subject::Rule { id } => write!(
                f,
                "rule {id} {kind} example {:?}: expected it {}",
                self.text,
                if self.expected_match {
                    "to fire, but it did not"
                } else {
                    "not to fire, but it did"
                }
            ),
        }
    }
}

/// Counts and failures of one run of a policy's examples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExampleReport {
    /// Examples run.
    pub total: usize,
    /// Examples that failed.
    pub failures: Vec<ExampleFailure>,
}

fn cases(examples: Option<&crate::raw::RawExamples>) -> Vec<(String, bool)> {
    let examples = examples.cloned().unwrap_or_default();
    examples
        .matches
        .into_iter()
        .map(|t| (t, true))
        .chain(examples.no_match.into_iter().map(|t| (t, false)))
        .collect()
}

/// Run every use case's and every content rule's examples against the compiled policy.
pub fn run_examples(loaded: &LoadedPolicy) -> ExampleReport {
    let policy = &loaded.policy;
    let mut report = ExampleReport::default();
    for (index, (name, uc)) in loaded.raw.use_cases.0.iter().enumerate() {
        for (text, expected_match) in cases(uc.examples.as_ref()) {
            report.total += 1;
            let classification = policy.classify(&NormalizedText::new(&text));
            let score = &classification.scores[index];
            debug_assert_eq!(score.use_case, name.0);
            if score.detected() != expected_match {
                report.failures.push(ExampleFailure {
                    subject: Subject::UseCase {
                        use_case: name.0.clone(),
                        score: score.score,
                        threshold: score.threshold,
                    },
                    text,
                    expected_match,
                });
            }
        }
    }
    for (index, rule) in loaded.raw.rules.iter().enumerate() {
        let brands = rule
            .examples
            .as_ref()
            .and_then(|e| smslint_core::BrandMatcher::new(&e.brands));
        for (text, expected_match) in cases(rule.examples.as_ref()) {
            report.total += 1;
            let fired = fired_rules_with(loaded, &text, brands.as_ref()).contains(&index);
            if fired != expected_match {
                report.failures.push(ExampleFailure {
                    subject: Subject::Rule {
                        id: rule.id.0.clone(),
                    },
                    text,
                    expected_match,
                });
            }
        }
    }
    report
}

/// Indices of the content rules that fire on `text` (no campaign known; the policy's brands).
pub fn fired_rules(loaded: &LoadedPolicy, text: &str) -> Vec<usize> {
    fired_rules_with(loaded, text, None)
}

/// Indices of the content rules that fire on `text`, with `brands` instead of the policy's.
pub fn fired_rules_with(
    loaded: &LoadedPolicy,
    text: &str,
    brands: Option<&smslint_core::BrandMatcher>,
) -> Vec<usize> {
    let policy = &loaded.policy;
    let normalized = NormalizedText::new(text);
    let classification = policy.classify(&normalized);
    let context = LintContext {
        registered: None,
        brands,
        segments: segments::analyze(text).segments,
    };
    policy
        .lint(&normalized, &classification, &context)
        .iter()
        .map(|f| f.rule as usize)
        .collect()
}

/// A policy test case of a test file: a message and what the policy must make of it.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct TestCase {
    /// A name for the case, shown when it fails.
    #[serde(default)]
    pub name: Option<String>,
    /// The message text.
    pub text: String,
    /// What must hold.
    pub expect: Expect,
}

/// Expectations of a test case; each one given must hold.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct Expect {
    /// The top use case, or `Unknown` when none may be detected.
    #[serde(default)]
    pub top: Option<String>,
    /// Exactly the use cases detected, in any order.
    #[serde(default)]
    pub detected: Option<Vec<crate::raw::UseCaseName>>,
    /// Use cases that must not be detected.
    #[serde(default)]
    pub not_detected: Vec<crate::raw::UseCaseName>,
    /// Rule ids that must fire (`kw:<phrase>` for keywords, the id for patterns).
    #[serde(default)]
    pub fired: Vec<String>,
    /// Rule ids that must not fire.
    #[serde(default)]
    pub not_fired: Vec<String>,
}

/// A test case that did not hold, with everything that went wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseFailure {
    /// The file it came from.
    pub file: String,
    /// Its index in the file (0-based).
    pub index: usize,
    /// Its 1-based line, when found.
    pub line: Option<usize>,
    /// Its name or text.
    pub label: String,
    /// The text.
    pub text: String,
    /// Each expectation that failed.
    pub problems: Vec<String>,
}

/// Parse a test file: a YAML (or JSON) list of [`TestCase`]s.
pub fn parse_cases(text: &str, file: &str) -> Result<Vec<TestCase>, crate::PolicyError> {
    if let Some((line, column, refusal)) = crate::yaml_guard::check(text) {
        let d =
            crate::PolicyDiagnostic::error(crate::DiagnosticCode::Limit, file, refusal.message());
        return Err(crate::PolicyError {
            diagnostics: vec![d.at(text, line, column)],
        });
    }
    serde_yaml::from_str::<Vec<TestCase>>(text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.clone(), |i| message[..i].to_owned());
        let twice = crate::locate::duplicate_key(&message);
        let code = if twice.is_some() {
            crate::DiagnosticCode::DuplicateKey
        } else {
            crate::DiagnosticCode::Syntax
        };
        let d = crate::PolicyDiagnostic::error(code, file, message.clone());
        crate::PolicyError {
            diagnostics: vec![match e.location() {
                Some(l) => {
                    let (mut line, mut column) =
                        crate::locate::yaml_position(text, l.line(), l.column());
                    // A key written twice is marked at its mapping; the second is the one.
                    let start = crate::locate::offset_of(text, line, column);
                    if let Some(at) =
                        twice.and_then(|key| crate::locate::second_yaml_key(text, start, key))
                    {
                        (line, column) = crate::locate::line_col(text, at);
                    }
                    match crate::locate::tab_help(text, start, &message) {
                        Some(help) => d.with_help(help).at(text, line, column),
                        None => d.at(text, line, column),
                    }
                }
                None => d,
            }],
        }
    })
}

/// Run test cases against a loaded policy; problems with the cases themselves (unknown rule ids)
/// are failures too.
pub fn run_cases(
    loaded: &LoadedPolicy,
    cases: &[TestCase],
    file: &str,
    source: &str,
) -> Vec<CaseFailure> {
    let policy = &loaded.policy;
    let rule_ids: Vec<&str> = policy
        .rules()
        .iter()
        .map(|r| &*r.id)
        .chain(policy.content_rules().iter().map(|r| r.id.as_str()))
        .collect();
    let mut failures = Vec::new();
    // Where the last case was found, and its line: cases come in file order, so each is looked
    // for from there on, which also tells two cases of the same text apart. Counting the lines
    // from the start of the file for every failure took 6 s for 20,000 failing cases.
    let (mut cursor, mut cursor_line) = (0usize, 1usize);
    for (index, case) in cases.iter().enumerate() {
        let first_line = case.text.lines().next().unwrap_or_default();
        // A text written with escapes is not found as it reads: no line, rather than a search
        // of the whole file for every such case.
        let found = Some(first_line)
            .filter(|l| !l.is_empty())
            .and_then(|l| source.get(cursor..)?.find(l));
        let line = found.map(|i| {
            let at = cursor + i;
            cursor_line += source[cursor..at].matches('\n').count();
            // Past the text (a line of its own, no `\n` in it): the next case is after it.
            cursor = at + first_line.len();
            cursor_line
        });
        let c = policy.classify(&NormalizedText::new(&case.text));
        let mut problems = Vec::new();
        let top = c.top().map_or("Unknown", |s| s.use_case.as_str());
        if let Some(want) = &case.expect.top {
            if want != top {
                problems.push(format!("expected top {want}, got {top}"));
            }
        }
        let detected: Vec<&str> = c.detected().map(|s| s.use_case.as_str()).collect();
        if let Some(want) = &case.expect.detected {
            let mut want: Vec<&str> = want.iter().map(|u| u.0.as_str()).collect();
            let mut got = detected.clone();
            want.sort_unstable();
            got.sort_unstable();
            if want != got {
                problems.push(format!(
                    "expected detected [{}], got [{}]",
                    want.join(", "),
                    got.join(", ")
                ));
            }
        }
        for u in &case.expect.not_detected {
            if detected.contains(&u.0.as_str()) {
                problems.push(format!("expected {u} not detected, but it is"));
            }
        }
        let content = fired_rules(loaded, &case.text);
        let fired: Vec<&str> = c
            .scores
            .iter()
            .flat_map(|s| &s.evidence)
            .map(|e| &*policy.rule(e.rule).id)
            .chain(
                content
                    .iter()
                    .map(|&i| policy.content_rules()[i].id.as_str()),
            )
            .collect();
        for (ids, must) in [(&case.expect.fired, true), (&case.expect.not_fired, false)] {
            for id in ids {
                if !rule_ids.contains(&id.as_str()) {
                    let hint = crate::diagnostic::nearest(id, rule_ids.iter().copied())
                        .map_or_else(String::new, |n| format!("; did you mean `{n}`?"));
                    problems.push(format!("no rule has the id `{id}`{hint}"));
                } else if fired.contains(&id.as_str()) != must {
                    problems.push(if must {
                        format!("expected `{id}` to fire, but it did not")
                    } else {
                        format!("expected `{id}` not to fire, but it did")
                    });
                }
            }
        }
        if !problems.is_empty() {
            failures.push(CaseFailure {
                file: file.to_owned(),
                index,
                line,
                label: case.name.clone().unwrap_or_else(|| case.text.clone()),
                text: case.text.clone(),
                problems,
            });
        }
    }
    failures
}

smslint_core::mapping_only!("a mapping", serialize; TestCase, Expect);
