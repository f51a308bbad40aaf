//! [`cstr`]: the string in a NUL-terminated array of an event, such as the
//! `char comm[16]` or `char filename[256]` a BPF program fills with
//! `bpf_get_current_comm` or `bpf_probe_read_user_str`.

use std::borrow::Cow;
use std::fmt::{self, Write};
use std::str::Utf8Error;

/// The bytes of `bytes` up to its first NUL, or all of them if it has none.
///
/// The result prints as text ([`Display`](fmt::Display), invalid UTF-8
/// replaced by U+FFFD, width and alignment honoured) and gives the raw bytes
/// back ([`as_bytes`](CStrBytes::as_bytes)). Kernel data never makes it
/// fail or panic: an array with no NUL is taken whole.
///
/// # Examples
///
/// ```
/// let comm: [u8; 16] = *b"bash\0\0\0\0\0\0\0\0\0\0\0\0";
/// let name = ringview::cstr(&comm);
/// assert_eq!(name.as_bytes(), b"bash");
/// assert_eq!(name.to_string(), "bash");
/// assert_eq!(format!("[{name:<6}]"), "[bash  ]");
/// // `{:#}` also escapes control characters, so that a file name cannot
/// // start a new line of a table.
/// assert_eq!(format!("{:#}", ringview::cstr(b"a\nb\0")), "a\\nb");
/// ```
pub fn cstr(bytes: &[u8]) -> CStrBytes<'_> {
    let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CStrBytes {
        bytes: &bytes[..len],
    }
}

/// The string of a NUL-terminated array, as [`cstr`] finds it: the bytes
/// before the first NUL.
///
/// `{}` prints it as text, with invalid UTF-8 replaced by U+FFFD; `{:#}`
/// also escapes control characters (`\n`, `\u{1b}`); `{:?}` quotes and
/// escapes it like a string, with invalid bytes as `\xNN`.
///
/// # Examples
///
/// ```
/// let filename = ringview::cstr(b"/usr/bin/\xffls\0garbage");
/// assert_eq!(filename.as_bytes(), b"/usr/bin/\xffls");
/// assert_eq!(filename.to_string(), "/usr/bin/\u{fffd}ls");
/// assert_eq!(format!("{filename:?}"), r#""/usr/bin/\xffls""#);
/// assert!(filename.to_str().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CStrBytes<'a> {
    // INVARIANTS: holds no NUL byte.
    bytes: &'a [u8],
}

impl<'a> CStrBytes<'a> {
    /// The bytes before the first NUL.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The bytes as UTF-8 text.
    ///
    /// # Errors
    ///
    /// The [`Utf8Error`] of [`std::str::from_utf8`] when they are not
    /// valid UTF-8.
    pub fn to_str(&self) -> Result<&'a str, Utf8Error> {
        std::str::from_utf8(self.bytes)
    }

    /// The bytes as text, invalid UTF-8 replaced by U+FFFD (borrowed when
    /// they are valid).
    pub fn to_string_lossy(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.bytes)
    }

    /// Whether the array starts with a NUL.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Writes the text, invalid UTF-8 replaced, control characters escaped
    /// when `escape` is set.
    fn write_text(&self, out: &mut impl Write, escape: bool) -> fmt::Result {
        for chunk in self.bytes.utf8_chunks() {
            let valid = chunk.valid();
            if escape && valid.chars().any(char::is_control) {
                for c in valid.chars() {
                    if c.is_control() {
                        write!(out, "{}", c.escape_default())?;
                    } else {
                        out.write_char(c)?;
                    }
                }
            } else {
                out.write_str(valid)?;
            }
            if !chunk.invalid().is_empty() {
                out.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for CStrBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escape = f.alternate();
        if f.width().is_none() && f.precision().is_none() {
            return self.write_text(f, escape);
        }
        // Padding and truncation count characters of the finished text.
        let mut text = String::with_capacity(self.bytes.len());
        self.write_text(&mut text, escape)?;
        f.pad(&text)
    }
}

impl fmt::Debug for CStrBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for chunk in self.bytes.utf8_chunks() {
            write!(f, "{}", chunk.valid().escape_debug())?;
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::cstr;

    #[test]
    fn stops_at_the_first_nul_or_takes_all() {
        assert_eq!(cstr(b"comm\0\0\0\0").as_bytes(), b"comm");
        assert_eq!(cstr(b"a\0b\0").as_bytes(), b"a");
        assert_eq!(cstr(b"no nul").as_bytes(), b"no nul");
        assert_eq!(cstr(b"\0rest").as_bytes(), b"");
        assert!(cstr(b"\0rest").is_empty());
        assert!(cstr(b"").is_empty());
        assert!(!cstr(b"x\0").is_empty());
    }

    #[test]
    fn displays_lossy_utf8_with_padding() {
        assert_eq!(cstr(b"sh\0").to_string(), "sh");
        assert_eq!(cstr("żółw\0".as_bytes()).to_string(), "żółw");
        assert_eq!(
            cstr(b"a\xffb\xfe\xfd\0").to_string(),
            "a\u{fffd}b\u{fffd}\u{fffd}"
        );
        assert_eq!(cstr(b"a\xffb\0").to_string_lossy(), "a\u{fffd}b");
        assert_eq!(format!("{:<5}|", cstr(b"sh\0")), "sh   |");
        assert_eq!(format!("{:>5}|", cstr("żółw\0".as_bytes())), " żółw|");
        assert_eq!(format!("{:.2}", cstr(b"bash\0")), "ba");
        assert_eq!(cstr(b"ok\0").to_str(), Ok("ok"));
        assert!(cstr(b"\xff\0").to_str().is_err());
    }

    #[test]
    fn alternate_escapes_control_characters_only() {
        let name = cstr(b"evil\nTIME 0.0\x1b[m\t\"q\"\0");
        assert_eq!(name.to_string(), "evil\nTIME 0.0\x1b[m\t\"q\"");
        assert_eq!(format!("{name:#}"), "evil\\nTIME 0.0\\u{1b}[m\\t\"q\"");
        assert_eq!(format!("{:#8}|", cstr(b"a\tb\0")), "a\\tb    |");
        assert_eq!(format!("{:#}", cstr(b"\xff\n\0")), "\u{fffd}\\n");
    }

    #[test]
    fn debug_quotes_and_escapes() {
        assert_eq!(format!("{:?}", cstr(b"ls\0")), r#""ls""#);
        assert_eq!(format!("{:?}", cstr(b"a\"\n\xff\0")), r#""a\"\n\xff""#);
    }
}
