//! One module per subcommand.

pub mod check;
pub mod classify;
pub mod lint;
pub mod numbers;
pub mod policy;
pub mod stream;
