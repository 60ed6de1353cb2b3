//! The JSON Schema of the policy format and of policy test files, generated from the serde types.

use schemars::generate::SchemaSettings;

use crate::examples::TestCase;
use crate::raw::RawPolicy;

/// The policy format's JSON Schema (draft 2020-12), pretty-printed.
pub fn policy_schema_json() -> String {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RawPolicy>();
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// The JSON Schema of a policy test file (a list of cases), pretty-printed.
pub fn test_file_schema_json() -> String {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Vec<TestCase>>();
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
