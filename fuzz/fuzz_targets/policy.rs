//! Policy loading from YAML or JSON (the first byte picks), then classification with whatever
//! loads: no panic, errors are diagnostics, and a loaded policy classifies like any other.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use smslint_policy::Format;

mod common;

const TEXTS: [&str; 3] = [
    "Your order #4821 has shipped. Track it at https://bit.ly/x4821",
    "FLASH SALE 40% off everything today only! Reply STOP to opt out",
    "Hi {{first_name}}, your appt is tmrw at 3pm. Txt C to confirm 🦷",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if selector & 1 == 0 {
        Format::Yaml
    } else {
        Format::Json
    };
    match smslint_policy::load_str(text, "fuzz.policy", format) {
        Ok(loaded) => {
            for message in TEXTS {
                common::classify_and_lint(&loaded.policy, message);
            }
        }
        Err(error) => {
            // Rendering the diagnostics walks the source to the located line and column.
            let _ = error.to_string();
        }
    }
});
