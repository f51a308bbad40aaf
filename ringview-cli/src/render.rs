//! Showing records: aligned text (one `path  value` line per field) or
//! JSON lines (one object per record, field names as in C), decoded by a
//! layout or as hex.

use std::fmt::Write as _;

use ringview_btf::StructLayout;

use crate::decode::{decode, hex_digits, Value, Value64};

/// How records are shown.
#[derive(Debug)]
pub struct Renderer {
    /// The struct each record is; `None` shows hex.
    layout: Option<StructLayout>,
    json: bool,
}

impl Renderer {
    pub fn new(layout: Option<StructLayout>, json: bool) -> Self {
        Self { layout, json }
    }

    /// The record numbered `index` (from 1), as text ending in a newline.
    pub fn record(&self, index: u64, bytes: &[u8]) -> String {
        match &self.layout {
            None => self.hex(index, bytes, None),
            Some(layout) if bytes.len() < layout.size as usize => {
                self.hex(index, bytes, Some(layout))
            }
            Some(layout) => {
                let fields = decode(layout, bytes);
                if self.json {
                    let mut out = String::new();
                    json_fields(&fields, &mut out);
                    out.push('\n');
                    out
                } else {
                    let mut lines = Vec::new();
                    text_fields("", &fields, &mut lines);
                    let width = lines.iter().map(|(path, _)| path.len()).max().unwrap_or(0);
                    let mut out = format!(
                        "--- #{index}: {}, {} bytes\n",
                        layout.describe(),
                        bytes.len()
                    );
                    for (path, value) in lines {
                        let _ = writeln!(out, "  {path:<width$}  {value}");
                    }
                    out
                }
            }
        }
    }

    /// A record as hex; `short` is the layout it is shorter than.
    fn hex(&self, index: u64, bytes: &[u8], short: Option<&StructLayout>) -> String {
        let hex = hex_digits(bytes, "");
        if self.json {
            let mut out = format!("{{\"len\":{},\"hex\":\"{hex}\"", bytes.len());
            if let Some(layout) = short {
                let _ = write!(
                    out,
                    ",\"short\":true,\"expected\":{},\"type\":{}",
                    layout.size,
                    json_string(&layout.describe())
                );
            }
            out.push_str("}\n");
            return out;
        }
        let mut out = match short {
            Some(layout) => format!(
                "--- #{index}: SHORT RECORD: {} bytes, shorter than the {} bytes of {}\n",
                bytes.len(),
                layout.size,
                layout.describe()
            ),
            None => format!("--- #{index}: {} bytes\n", bytes.len()),
        };
        for (line, chunk) in bytes.chunks(16).enumerate() {
            let mut hex = String::new();
            for (i, byte) in chunk.iter().enumerate() {
                let gap = if i == 8 { "  " } else { " " };
                let _ = write!(hex, "{gap}{byte:02x}");
            }
            let ascii: String = chunk
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        char::from(b)
                    } else {
                        '.'
                    }
                })
                .collect();
            let _ = writeln!(out, "  {:04x} {hex:<49}  |{ascii}|", line * 16);
        }
        out
    }
}

/// A JSON string, escaped.
pub fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

fn json_fields(fields: &[(String, Value)], out: &mut String) {
    out.push('{');
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(name));
        out.push(':');
        json_value(value, out);
    }
    out.push('}');
}

fn json_value(value: &Value, out: &mut String) {
    match value {
        Value::Unsigned(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Signed(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Bool(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Float(v) if v.is_finite() => {
            let _ = write!(out, "{v}");
        }
        Value::Float(_) | Value::Missing => out.push_str("null"),
        Value::Hex(text) | Value::Text(text) => out.push_str(&json_string(text)),
        Value::Enum {
            name: Some(name), ..
        } => out.push_str(&json_string(name)),
        Value::Enum { name: None, value } => {
            let _ = write!(out, "{}", enum_number(*value));
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(item, out);
            }
            out.push(']');
        }
        Value::Fields(fields) => json_fields(fields, out),
        Value::Bytes(bytes) => {
            out.push_str(&json_string(&hex_digits(bytes, "")));
        }
    }
}

fn enum_number(value: Value64) -> String {
    match value {
        Value64::Unsigned(v) => v.to_string(),
        Value64::Signed(v) => v.to_string(),
    }
}

/// One `(path, value)` line per scalar, text or array of scalars; structs
/// and arrays of structs are walked into (`inner.port`, `items[2].x`).
fn text_fields(prefix: &str, fields: &[(String, Value)], lines: &mut Vec<(String, String)>) {
    for (name, value) in fields {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        text_value(path, value, lines);
    }
}

fn text_value(path: String, value: &Value, lines: &mut Vec<(String, String)>) {
    match value {
        Value::Fields(fields) => text_fields(&path, fields, lines),
        Value::Array(items)
            if items
                .iter()
                .any(|i| matches!(i, Value::Fields(_) | Value::Array(_))) =>
        {
            for (i, item) in items.iter().enumerate() {
                text_value(format!("{path}[{i}]"), item, lines);
            }
        }
        other => lines.push((path, text_scalar(other))),
    }
}

fn text_scalar(value: &Value) -> String {
    match value {
        Value::Unsigned(v) => v.to_string(),
        Value::Signed(v) => v.to_string(),
        Value::Bool(v) => v.to_string(),
        Value::Float(v) => v.to_string(),
        Value::Hex(text) => text.clone(),
        Value::Text(text) => format!("{text:?}"),
        Value::Enum {
            name: Some(name),
            value,
        } => format!("{name} ({})", enum_number(*value)),
        Value::Enum { name: None, value } => enum_number(*value),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(text_scalar).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Fields(_) => "{..}".to_owned(),
        Value::Bytes(bytes) => hex_digits(bytes, " "),
        Value::Missing => "<outside the record>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringview_btf::{CompositeKind, Member, Scalar, Shape};

    fn layout() -> StructLayout {
        let int = |name: &str, offset: u32| Member {
            name: name.to_owned(),
            byte_offset: offset,
            bit_offset: offset * 8,
            bitfield_size: None,
            size: 4,
            type_name: "__s32".to_owned(),
            shape: Shape::Int,
            scalar: Some(Scalar::Int {
                size: 4,
                signed: true,
                is_char: false,
                is_bool: false,
            }),
        };
        StructLayout {
            name: "pair".to_owned(),
            kind: CompositeKind::Struct,
            size: 8,
            members: vec![int("first", 0), int("second_one", 4)],
        }
    }

    fn bytes() -> Vec<u8> {
        [(-1i32).to_le_bytes(), 2i32.to_le_bytes()].concat()
    }

    #[test]
    fn json_lines_keep_c_order_and_names() {
        let json = Renderer::new(Some(layout()), true).record(1, &bytes());
        assert_eq!(json, "{\"first\":-1,\"second_one\":2}\n");
    }

    #[test]
    fn text_is_aligned() {
        let text = Renderer::new(Some(layout()), false).record(3, &bytes());
        assert_eq!(
            text,
            "--- #3: struct pair, 8 bytes\n  first       -1\n  second_one  2\n"
        );
    }

    #[test]
    fn short_records_are_marked_and_shown_as_bytes() {
        let json = Renderer::new(Some(layout()), true).record(1, &[1, 2, 3]);
        assert_eq!(
            json,
            "{\"len\":3,\"hex\":\"010203\",\"short\":true,\"expected\":8,\"type\":\"struct pair\"}\n"
        );
        let text = Renderer::new(Some(layout()), false).record(2, &[0x41, 0]);
        assert!(
            text.starts_with(
                "--- #2: SHORT RECORD: 2 bytes, shorter than the 8 bytes of struct pair\n"
            ),
            "{text}"
        );
        assert!(text.contains("  0000  41 00"), "{text}");
        assert!(text.ends_with("|A.|\n"), "{text}");
    }

    #[test]
    fn hex_without_a_layout() {
        let json = Renderer::new(None, true).record(1, b"hi");
        assert_eq!(json, "{\"len\":2,\"hex\":\"6869\"}\n");
        let text = Renderer::new(None, false).record(1, &[7u8; 20]);
        assert_eq!(text.lines().count(), 3, "{text}");
    }
}
