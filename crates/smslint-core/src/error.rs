//! Errors of the core crate.

use thiserror::Error;

/// A snapshot file that cannot be read as RingCentral number data.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The JSON is malformed, or a field has the wrong type.
    #[error("line {line}, column {column}: {message}{}", at_path(.path))]
    Parse {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The JSON path of the offending value, for example `smsCampaignInfo.status`; empty
        /// when the JSON itself is malformed (the position says where) or the value is the
        /// whole document.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// Valid JSON that is none of the accepted shapes.
    #[error("{message}")]
    Shape {
        /// What was wrong.
        message: String,
    },
}

/// ` (at `PATH`)`, or nothing for an empty path.
fn at_path(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" (at `{path}`)")
    }
}

/// A policy model that cannot be compiled into an engine.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CompileError {
    /// A pattern does not compile, or exceeds the regex size limit.
    #[error("pattern `{id}` of {use_case}: {message}")]
    Regex {
        /// The pattern's id.
        id: String,
        /// The use case it belongs to.
        use_case: String,
        /// The regex crate's explanation.
        message: String,
    },
    /// The keyword automaton cannot be built (too large).
    #[error("keyword automaton: {0}")]
    Keywords(String),
    /// A keyword is empty once normalised.
    #[error("keyword {phrase:?} of {use_case} is empty once normalised")]
    EmptyKeyword {
        /// The phrase as written.
        phrase: String,
        /// The use case it belongs to.
        use_case: String,
    },
    /// A use case counts a content rule that is missing or cannot be evidence.
    #[error("content rule `{rule}` of {use_case}: {message}")]
    RuleEvidence {
        /// The content rule's id.
        rule: String,
        /// The use case that counts it.
        use_case: String,
        /// Why it cannot count.
        message: String,
    },
    /// A limit on policy size is exceeded.
    #[error("{0}")]
    Limit(String),
}
