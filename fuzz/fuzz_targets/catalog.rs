//! Template files for `smslint lint`: any text as a YAML, JSON, JSON Lines or text file either
//! reads as templates or is refused with an error, and every byte offset of every template
//! (and past its end) has a file position on a line of the file; `inside_value` stays on
//! character boundaries from any start.
#![no_main]
#![forbid(unsafe_code)]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/smslint-cli/src/templates.rs"]
mod templates;

/// `templates::collect` reads files through the binary's input module; this target hands the
/// text in itself and never calls it.
mod input {
    pub fn read_path_limited(path: &std::path::Path, _limit: u64) -> anyhow::Result<String> {
        Ok(std::fs::read_to_string(path)?)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let name = ["t.yaml", "t.json", "t.jsonl", "t.txt"][usize::from(selector & 3)];
    let at = usize::from(selector >> 2) * text.len() / 64;
    for offset in [0, 1, 2, 5, 17, text.len()] {
        let found = smslint_policy::locate::inside_value(text, at, offset);
        assert!(text.is_char_boundary(found), "{at} {offset} -> {found}");
    }
    let Ok(Some(found)) = templates::templates_in(0, Path::new(name), name, true, text) else {
        return;
    };
    let lines = text.split('\n').count();
    let file = templates::TemplateFile::new(name.to_owned(), text.to_owned());
    for t in &found {
        for offset in 0..=t.text.len() + 2 {
            let (line, column) = file
                .lines
                .line_col(&file.text, t.file_offset(&file, offset));
            assert!(
                (1..=lines).contains(&line) && column >= 1,
                "{:?} offset {offset}: {line}:{column}",
                t.text
            );
        }
    }
});
