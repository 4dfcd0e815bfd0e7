//! Evidence excerpts: short, single-line and printable, whatever the file held.

use wharf_core::name::is_invisible;

/// Longest excerpt, in characters.
const MAX_CHARS: usize = 120;

/// The line containing byte `offset` of `text`: its 1-based number, where it starts, and
/// its content.
pub fn line_at(text: &str, offset: usize) -> (u32, usize, &str) {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let number = text[..start].bytes().filter(|&b| b == b'\n').count() + 1;
    (
        u32::try_from(number).unwrap_or(u32::MAX),
        start,
        &text[start..end],
    )
}

/// Trims, escapes control and invisible characters, and shortens around `focus` (a byte
/// offset within `line`) so the part that matched stays visible in a long line.
pub fn excerpt(line: &str, focus: usize) -> String {
    let line = line.trim_end_matches('\r');
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let at = chars.iter().position(|(i, _)| *i >= focus).unwrap_or(0);
    let skip_ws = chars.iter().take_while(|(_, c)| c.is_whitespace()).count();
    let start = if chars.len() <= MAX_CHARS {
        skip_ws
    } else {
        at.saturating_sub(MAX_CHARS / 4).max(skip_ws)
    };
    let end = (start + MAX_CHARS).min(chars.len());
    let mut out = String::new();
    if start > skip_ws {
        out.push('…');
    }
    for &(_, c) in &chars[start..end] {
        if c.is_control() || is_invisible(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_and_its_number() {
        let text = "a = 1\nb = exec(x)\nc = 3";
        let offset = text.find("exec").unwrap();
        assert_eq!(line_at(text, offset), (2, 6, "b = exec(x)"));
        assert_eq!(line_at(text, 0), (1, 0, "a = 1"));
    }

    #[test]
    fn long_lines_are_cut_around_the_match_and_controls_escaped() {
        let line = format!("{}exec(\u{1b}[2J){}", "x".repeat(500), "y".repeat(500));
        let shown = excerpt(&line, 500);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("exec(\\u{1b}[2J)"), "{shown}");
        assert!(shown.chars().count() <= MAX_CHARS + 2 + 8);
        assert_eq!(excerpt("  import os\r", 2), "import os");
        assert_eq!(excerpt("a\u{202E}b", 0), "a\\u{202e}b");
    }
}
