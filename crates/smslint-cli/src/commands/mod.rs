//! One module per subcommand.

pub mod check;
pub mod classify;
pub mod ledger;
pub mod lint;
pub mod numbers;
pub mod policy;
pub mod stream;
pub mod volume;
