//! Text from values and documents made safe to show: control characters (a newline in a flag
//! value, a terminal escape sequence in a policy) are shown escaped, so nothing the user or AWS
//! supplied can forge a line of a report or an error, or drive the terminal. Pure.

/// Control characters escaped (`\n`, `\u{1b}`), newlines kept when `keep_newlines` (for callers
/// that split on them).
pub fn escape_controls(text: &str, keep_newlines: bool) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() && !(keep_newlines && c == '\n') {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// One line, whatever the text holds.
pub fn one_line(text: &str) -> String {
    escape_controls(text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_newlines_kept_on_request() {
        assert_eq!(one_line("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(escape_controls("a\nb\r", true), "a\nb\\r");
        assert_eq!(one_line("plain é"), "plain é");
    }
}
