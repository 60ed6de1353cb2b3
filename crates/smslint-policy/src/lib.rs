//! The smslint policy format: reading YAML and JSON policies with precise errors, validating
//! them, and compiling them into a [`smslint_core::Policy`].
//!
//! A policy is data: the use cases, their keywords and patterns with weights and thresholds, and
//! the decision settings. `policies/default.json` (keyword weights learned from the labelled
//! corpus) and the hand-written `policies/base.yaml` it extends are embedded ([`load_default`]).
//!
//! Loading goes parse → validate → compile. Syntax and type errors stop at the first problem,
//! with its line and column (values are checked inside `Deserialize`, where the parser knows the
//! position); whole-policy problems are all reported at once, naming the entry by its path.

#![forbid(unsafe_code)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod allow;
pub mod diagnostic;
pub mod eval;
pub mod examples;
pub mod extends;
pub mod learn;
pub mod load;
pub mod locate;
pub mod raw;
pub mod schema;
pub mod source;
pub mod validate;
pub mod yaml_guard;

pub use diagnostic::{DiagnosticCode, PolicyDiagnostic, PolicyError};
pub use examples::{run_examples, ExampleFailure, ExampleReport};
pub use load::{
    builtin, load_default, load_path, load_source, load_str, LoadedPolicy, BASE_POLICY_YAML,
    BUILTIN_BASE, BUILTIN_DEFAULT, DEFAULT_POLICY_JSON,
};
pub use raw::RawPolicy;
pub use source::{Format, Source};
