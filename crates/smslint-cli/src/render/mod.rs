//! Renderers, one per output format.

pub mod human;
pub mod json;
pub mod lint;
pub mod pretty;

use std::io::IsTerminal;

use crate::args::ColorChoice;

/// Wraps text in ANSI styles when colour is on, and leaves it alone otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    color: bool,
}

impl Painter {
    /// Decide once, from the flag, the terminal and `NO_COLOR`.
    pub fn new(choice: ColorChoice) -> Painter {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        Painter { color }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Bold.
    pub fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    /// Bold red: errors and rejections.
    pub fn red(self, t: &str) -> String {
        self.paint("1;31", t)
    }
    /// Bold green: approvals.
    pub fn green(self, t: &str) -> String {
        self.paint("1;32", t)
    }
    /// Bold yellow: warnings.
    pub fn yellow(self, t: &str) -> String {
        self.paint("1;33", t)
    }
    /// Cyan: info and rule ids.
    pub fn cyan(self, t: &str) -> String {
        self.paint("36", t)
    }
    /// Dim: secondary detail.
    pub fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
    /// Highlighted match in the message.
    pub fn hit(self, t: &str) -> String {
        self.paint("1;4;33", t)
    }
}
