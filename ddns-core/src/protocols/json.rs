//! JSON text exactly as Python's `json.dumps` writes it by default.
//!
//! Deployed clients parse the seed API's answers by position and by regular
//! expression, so the bytes must match the original's: `", "` and `": "`
//! separators and `ensure_ascii` escaping (every non-ASCII character as
//! `\uXXXX`, with surrogate pairs beyond the basic plane).

use std::fmt::Write as _;

/// Appends `text` to `out` as a JSON string literal, quotes included.
///
/// ```
/// let mut out = String::new();
/// ddns_core::protocols::json::push_str(&mut out, "a\"b\u{e9}\n");
/// assert_eq!(out, r#""a\"b\u00e9\n""#);
/// ```
pub fn push_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        let mut out = String::new();
        push_str(&mut out, s);
        out
    }

    // Expected strings produced by python3 -c 'import json; print(json.dumps(S))'.
    #[test]
    fn matches_python_json_dumps() {
        assert_eq!(enc("plain"), r#""plain""#);
        assert_eq!(enc("q\"b\\s/"), r#""q\"b\\s/""#);
        assert_eq!(enc("\u{0}\u{1f}\u{7f}"), r#""\u0000\u001f\u007f""#);
        assert_eq!(enc("\t\r\n\u{8}\u{c}"), r#""\t\r\n\b\f""#);
        assert_eq!(enc("é€"), r#""\u00e9\u20ac""#);
        assert_eq!(enc("😀"), r#""\ud83d\ude00""#);
    }
}
