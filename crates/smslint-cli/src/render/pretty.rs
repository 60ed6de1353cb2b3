//! A pretty-printed JSON document written a piece at a time, in `serde_json`'s layout, so that
//! a report of any length is written as it is found instead of built whole in memory first.

use std::io::{self, Write};

use serde::Serialize;

/// Where the writer is in the document: one entry per open object or array, `true` until it
/// has its first member.
#[derive(Debug, Default)]
pub struct Pretty {
    empty: Vec<bool>,
}

impl Pretty {
    /// Opens an object (`{`) or array (`[`), as the member `key` of the object it is in.
    pub fn open(&mut self, out: &mut dyn Write, key: Option<&str>, bracket: u8) -> io::Result<()> {
        self.member(out, key)?;
        out.write_all(&[bracket])?;
        self.empty.push(true);
        Ok(())
    }

    /// Closes the innermost object (`}`) or array (`]`).
    pub fn close(&mut self, out: &mut dyn Write, bracket: u8) -> io::Result<()> {
        if self.empty.pop() == Some(false) {
            out.write_all(b"\n")?;
            self.indent(out)?;
        }
        out.write_all(&[bracket])
    }

    /// Writes a whole value as the next member of the innermost object or array.
    pub fn value<T: Serialize + ?Sized>(
        &mut self,
        out: &mut dyn Write,
        key: Option<&str>,
        value: &T,
    ) -> io::Result<()> {
        self.member(out, key)?;
        let text = serde_json::to_string_pretty(value)?;
        // JSON strings hold no raw line break, so every one is the layout's: indented to here.
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n")?;
                self.indent(out)?;
            }
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    /// The separator and indent before a member, and its key.
    fn member(&mut self, out: &mut dyn Write, key: Option<&str>) -> io::Result<()> {
        if let Some(empty) = self.empty.last_mut() {
            out.write_all(if *empty { b"\n" } else { b",\n" })?;
            *empty = false;
            self.indent(out)?;
        }
        if let Some(key) = key {
            serde_json::to_writer(&mut *out, key)?;
            out.write_all(b": ")?;
        }
        Ok(())
    }

    fn indent(&self, out: &mut dyn Write) -> io::Result<()> {
        for _ in 0..self.empty.len() {
            out.write_all(b"  ")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::Pretty;

    /// Writes `value` piece by piece: containers opened and closed, scalars and every other
    /// level below `depth` written whole.
    fn write(p: &mut Pretty, out: &mut Vec<u8>, key: Option<&str>, value: &Value, depth: usize) {
        match value {
            Value::Object(map) if depth > 0 => {
                p.open(out, key, b'{').unwrap();
                for (k, v) in map {
                    write(p, out, Some(k), v, depth - 1);
                }
                p.close(out, b'}').unwrap();
            }
            Value::Array(items) if depth > 0 => {
                p.open(out, key, b'[').unwrap();
                for v in items {
                    write(p, out, None, v, depth - 1);
                }
                p.close(out, b']').unwrap();
            }
            _ => p.value(out, key, value).unwrap(),
        }
    }

    #[test]
    fn pieces_make_the_same_text_as_the_whole() {
        let value = json!({
            "empty": {}, "none": [], "text": "a\nb \"c\"", "n": 1.5,
            "items": [{"a": [1, [], {}], "b": {"c": null}}, [], [[]], "x"],
            "nested": {"deeper": {"deepest": [true, false]}},
        });
        let whole = serde_json::to_string_pretty(&value).unwrap();
        for depth in 0..6 {
            let mut out = Vec::new();
            write(&mut Pretty::default(), &mut out, None, &value, depth);
            assert_eq!(String::from_utf8(out).unwrap(), whole, "depth {depth}");
        }
        for scalar in [json!([]), json!({}), json!("s"), json!([[], {}])] {
            let mut out = Vec::new();
            write(&mut Pretty::default(), &mut out, None, &scalar, 3);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string_pretty(&scalar).unwrap()
            );
        }
    }
}
