//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Check outbound SMS against US A2P rules and a RingCentral number's registration.
#[derive(Debug, Parser)]
#[command(name = "smslint", version, max_term_width = 100)]
pub struct Cli {
    /// When to colour output: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decide whether a number may send a message: approve (exit 0) or reject (exit 1).
    Check(CheckArgs),
    /// Score a message against every use case and show the evidence.
    Classify(ClassifyArgs),
    /// List numbers with their registration and features, and which may send a text.
    Numbers(NumbersArgs),
    /// Lint message templates: use case, registration and content rules, per file and line.
    Lint(LintArgs),
    /// Work on policies: validate, test, explain, schema, eval, learn.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Read or reset the daily volume ledger that `check --ledger` counts in.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

/// `smslint ledger ...`.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// List the daily counts: campaign, day, messages counted.
    Show(LedgerShowArgs),
    /// Delete a campaign's counts.
    Reset(LedgerResetArgs),
}

/// `smslint ledger show`.
#[derive(Debug, Args)]
pub struct LedgerShowArgs {
    /// The ledger: `sqlite:PATH` or `redis://HOST:PORT/DB`.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Only this campaign.
    #[arg(long, value_name = "ID")]
    pub campaign: Option<String>,
    /// Longest wait for the ledger, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub timeout: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `smslint ledger reset`.
#[derive(Debug, Args)]
pub struct LedgerResetArgs {
    /// The ledger: `sqlite:PATH` or `redis://HOST:PORT/DB`.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The campaign whose counts to delete.
    #[arg(long, value_name = "ID", required = true)]
    pub campaign: String,
    /// Longest wait for the ledger, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub timeout: f64,
}

/// `smslint policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy files: exit 0 when valid, 2 when not, every problem with its position.
    Validate(ValidateArgs),
    /// Run a policy's examples and test files; exit 1 on any failure.
    Test(TestArgs),
    /// Print the policy after `extends`; with --text, every rule that fires and each use case's
    /// distance from its threshold.
    Explain(ExplainArgs),
    /// Print the JSON Schema of the policy format, for editors.
    Schema,
    /// Measure a policy on a labelled corpus: accuracy, per-use-case precision and recall,
    /// confusion, rule hits, content-rule recall and false positives.
    Eval(EvalArgs),
    /// Learn keyword weights from a labelled corpus and print them as a policy that extends
    /// the given one.
    Learn(LearnArgs),
}

/// A policy file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

/// `smslint policy learn`.
#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The corpus: JSON Lines of `{"text", "useCases": [...], "rules": [...], "notes"}`; each
    /// message counts for its first use case.
    #[arg(value_name = "CORPUS")]
    pub corpus: PathBuf,
    /// The policy to learn on top of; its keywords' weights are included in the output.
    #[command(flatten)]
    pub policy: PolicyArg,
    /// What the output extends (default: the `--policy` given, or `builtin:default`).
    #[arg(long, value_name = "NAME")]
    pub extends: Option<String>,
    /// Additive smoothing of the feature counts.
    #[arg(long, default_value_t = 0.2, value_name = "ALPHA")]
    pub alpha: f64,
    /// Messages a word or word pair must occur in to be learned.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub min_count: usize,
    /// Smallest log-likelihood ratio kept as a keyword, for or against a use case.
    #[arg(long, default_value_t = 1.0, value_name = "RATIO")]
    pub min_ratio: f64,
    /// Smallest ratio kept as evidence for a use case that is not restricted (restricted
    /// ones, Marketing in the default decision, keep `--min-ratio`).
    #[arg(long, default_value_t = 0.5, value_name = "RATIO")]
    pub min_ratio_for: f64,
    /// Share of its ratio that evidence against a use case counts for (restricted use cases:
    /// in full).
    #[arg(long, default_value_t = 0.5, value_name = "SHARE")]
    pub negative_scale: f64,
    /// Points per unit of log-likelihood ratio.
    #[arg(long, default_value_t = 2.0, value_name = "POINTS")]
    pub scale: f64,
    /// Keep only evidence for a use case (no negative weights).
    #[arg(long)]
    pub positive_only: bool,
    /// How weights are fitted: naive Bayes ratios, or logistic regression over the base
    /// policy's scores.
    #[arg(long, value_enum, default_value_t = LearnMethod::Bayes)]
    pub method: LearnMethod,
    /// Logistic: L2 penalty on the learned points.
    #[arg(long, default_value_t = 0.001, value_name = "L2")]
    pub l2: f64,
    /// Logistic: passes over the corpus.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub epochs: usize,
    /// Logistic: learned points below this are dropped.
    #[arg(long, default_value_t = 0.3, value_name = "POINTS")]
    pub min_weight: f64,
    /// Instead of writing the layer, cross-validate these options in K folds on the corpus and
    /// print the figures `policy eval` would give on held-out messages.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(2..=100))]
    pub cv: Option<u16>,
    /// Like `--cv`, but hold out in turn each set of messages whose notes start with PREFIX (a
    /// set: the notes up to their first colon, as in "fresh set 7: ..."), learning from all
    /// the other messages.
    #[arg(long, value_name = "PREFIX", conflicts_with = "cv")]
    pub cv_sets: Option<String>,
    /// A threshold for the output to set, as `UseCase=POINTS` (repeatable).
    #[arg(long, value_name = "USECASE=POINTS")]
    pub threshold: Vec<String>,
    /// Output format: YAML with a comment header, or JSON (loads several times faster).
    #[arg(long, value_enum, default_value_t = PolicyFormat::Yaml)]
    pub format: PolicyFormat,
}

/// How `policy learn` fits weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LearnMethod {
    /// Naive Bayes log-likelihood ratios.
    Bayes,
    /// Multinomial logistic regression over the base policy's scores.
    Logistic,
}

/// `smslint policy eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The corpus: JSON Lines of `{"text", "useCases": [...], "rules": [...], "notes"}`.
    #[arg(value_name = "CORPUS")]
    pub corpus: PathBuf,
    /// The policy.
    #[command(flatten)]
    pub policy: PolicyArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `smslint policy validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Policy files (`builtin:default` for the embedded one).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `smslint policy test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy files and test files (YAML lists of cases). Test files run against every policy
    /// given, or the default when none is; a policy `NAME.yaml` also runs `NAME.tests.yaml`
    /// beside it.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// `smslint policy explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The policy file (`builtin:default` for the embedded one).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// A message: show every rule that fires on it and how far each use case is from its
    /// threshold.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
}

/// Where the message text comes from.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct TextSource {
    /// The message text.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// A file holding the message text (`-` for stdin); one trailing newline is dropped.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// JSON Lines of messages (`-` for stdin): `{"id", "text", "to", "from", "extensionId",
    /// "mms"}`, all but `text` optional; one JSON line out per line in, in order.
    #[arg(long, value_name = "FILE")]
    pub batch: Option<PathBuf>,
}

/// Options of batch runs.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Worker threads for a batch, 1 to 1024 (default: the machine's cores); output stays in
    /// input order.
    // Bounded: each worker keeps buffers of its own, and a machine asked for many thousands of
    // threads fails to start them (a process killed, not an error); past the cores, more only
    // cost.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Longest batch line accepted, in bytes; a longer line becomes an error record, and a
    /// longer `--file` is refused.
    // 64 KiB: ten times the longest line of a text RingCentral accepts (1,000 UTF-16 units,
    // each at most 6 bytes escaped), and what keeps a batch's peak memory bounded, as each byte
    // of a text costs about 30 while it is checked (1 MiB lines of trigger-dense text peaked
    // at 65-71 MB).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 10)]
    pub max_line_bytes: usize,
}

/// Options shared by the commands that load a policy.
#[derive(Debug, Args)]
pub struct PolicyArg {
    /// Policy file (YAML or JSON; `-` for stdin); the embedded default when absent
    /// (`builtin:default`).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// `smslint check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The number's snapshot (RingCentral JSON): an sms-configuration response, a number
    /// snapshot, or a list of them.
    #[arg(long, value_name = "SNAPSHOT")]
    pub config: PathBuf,
    /// The sending number (E.164); picks it from a snapshot that holds several.
    #[arg(long, value_name = "E164")]
    pub from: Option<String>,
    /// The recipient (E.164).
    #[arg(long, value_name = "E164")]
    pub to: Option<String>,
    /// The id of the extension that sends, to check it holds the number's SMS rights.
    #[arg(long, value_name = "ID")]
    pub extension: Option<String>,
    /// The message is an MMS (carries attachments).
    #[arg(long)]
    pub mms: bool,
    /// Messages the campaign has already sent today, across its numbers.
    #[arg(long, value_name = "N", conflicts_with = "ledger")]
    pub sent_today: Option<u64>,
    /// The shared daily volume ledger: `sqlite:PATH` (one machine) or `redis://HOST:PORT/DB`
    /// (many); each approved message is counted there against its campaign's daily cap.
    #[arg(long, value_name = "URL")]
    pub ledger: Option<String>,
    /// Longest wait for the ledger (a lock, a connection, a reply), in seconds; past it the
    /// message is rejected with `volume.ledger_unavailable`.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 2.0,
        requires = "ledger"
    )]
    pub ledger_timeout: f64,
    /// Daily cap to apply instead of the policy's cap for the campaign's tier (with
    /// --sent-today or --ledger).
    #[arg(long, value_name = "N")]
    pub daily_cap: Option<u64>,
    /// Consent records: the response of RingCentral's consents search (`OptRecordList`).
    #[arg(long, value_name = "FILE")]
    pub consents: Option<PathBuf>,
    /// A name the sender goes by (repeatable), for rules that require the message to name it;
    /// replaces the policy's `brand_names`.
    #[arg(long = "brand", value_name = "NAME")]
    pub brands: Vec<String>,
    /// Batch options.
    #[command(flatten)]
    pub batch: BatchArgs,
    /// The message.
    #[command(flatten)]
    pub source: TextSource,
    /// The policy.
    #[command(flatten)]
    pub policy: PolicyArg,
    /// Output format [default: human; with --batch, JSON Lines]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// `smslint classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// The message.
    #[command(flatten)]
    pub source: TextSource,
    /// Batch options.
    #[command(flatten)]
    pub batch: BatchArgs,
    /// The policy.
    #[command(flatten)]
    pub policy: PolicyArg,
    /// Output format [default: human; with --batch, JSON Lines]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// `smslint numbers`.
#[derive(Debug, Args)]
pub struct NumbersArgs {
    /// Snapshot files (`-` for stdin), each holding one number or a list.
    #[arg(required = true, value_name = "SNAPSHOT")]
    pub snapshots: Vec<PathBuf>,
    /// A message text: mark which numbers may send it, and why the others may not.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// The policy.
    #[command(flatten)]
    pub policy: PolicyArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `smslint lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Template files and folders (`.txt`, `.yaml`/`.yml`/`.json` catalogs, `.jsonl`); folders are
    /// walked, skipping hidden ones and `target/`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The policy.
    #[command(flatten)]
    pub policy: PolicyArg,
    /// The snapshot of the number the templates will be sent from: its campaign's use cases.
    #[arg(long, value_name = "SNAPSHOT", conflicts_with = "use_cases")]
    pub config: Option<PathBuf>,
    /// The number to use when the snapshot holds several (E.164).
    #[arg(long, value_name = "E164", requires = "config")]
    pub from: Option<String>,
    /// A use case the campaign registers (repeatable), instead of --config.
    #[arg(long = "use-case", value_name = "NAME")]
    pub use_cases: Vec<String>,
    /// A name the sender goes by (repeatable), for sender identification.
    #[arg(long = "brand", value_name = "NAME")]
    pub brands: Vec<String>,
    /// Override a severity: RULE=LEVEL, RULE a rule id, a dotted prefix or a code, LEVEL
    /// error, warning, info or off (repeatable; later ones win).
    #[arg(long = "severity", value_name = "RULE=LEVEL")]
    pub severities: Vec<String>,
    /// The lowest severity that fails the run (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,
}

/// The lowest severity that fails `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors fail.
    Error,
    /// Warnings and errors fail.
    Warning,
    /// Any finding fails.
    Info,
}

/// Output formats of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// `path:line:col: severity[code]: message`, the source line and carets, and a summary.
    Human,
    /// One JSON object with every template, its scores and findings.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other viewers.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: verdict, reasons, scores, the message with its matches marked.
    Human,
    /// One JSON object (the documented contract).
    Json,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}
