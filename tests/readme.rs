//! The README's reason-code table lists exactly the codes the engine can give.

#![forbid(unsafe_code)]

use smslint_core::ReasonCode;

#[test]
fn readme_reason_table_matches_the_code() {
    let readme = std::fs::read_to_string(smslint_tests::root().join("README.md"))
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    let section = readme
        .split("## Reason codes")
        .nth(1)
        .and_then(|s| s.split("\n#").next())
        .unwrap_or_else(|| panic!("README.md has no \"## Reason codes\" section"));
    let documented: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let known: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        documented, known,
        "README reason codes differ from ReasonCode::ALL"
    );
    for code in ReasonCode::ALL {
        assert!(
            section.contains(code.description()),
            "README does not carry the description of {code}"
        );
    }
}
