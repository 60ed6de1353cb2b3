//! Normalisation, classification and content rules on any UTF-8 text, with the default policy:
//! no panic, every span a slice of the original on character boundaries, deterministic.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|text: &str| {
    common::classify_and_lint(common::default_policy(), text);
});
