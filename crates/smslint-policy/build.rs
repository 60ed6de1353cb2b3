//! Embeds the hand-written base policy as JSON as well as YAML: the YAML is the source people
//! read and edit, and JSON parses several times faster at every start of the binary.

use std::path::PathBuf;

fn main() {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let out = std::env::var_os("OUT_DIR").map(PathBuf::from);
    let (Some(dir), Some(out)) = (dir, out) else {
        panic!("cargo sets CARGO_MANIFEST_DIR and OUT_DIR for build scripts");
    };
    let src = dir.join("../../policies/base.yaml");
    println!("cargo::rerun-if-changed={}", src.display());
    let yaml = std::fs::read_to_string(&src)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()));
    let value: serde_yaml::Value = serde_yaml::from_str(&yaml)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", src.display()));
    // Pretty, so a diagnostic that points into the embedded base names a useful line.
    let json = serde_json::to_string_pretty(&value)
        .unwrap_or_else(|e| panic!("{} has no JSON form: {e}", src.display()));
    let dest = out.join("base.json");
    std::fs::write(&dest, json).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
