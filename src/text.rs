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

/// The longest line a report shows: longer ones (a value pasted by mistake, megabytes long)
/// are cut, saying how long they were.
pub const MAX_LINE_CHARS: usize = 1000;

/// `text` with every line longer than [`MAX_LINE_CHARS`] cut.
pub fn cap_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            let n = line.chars().count();
            if n <= MAX_LINE_CHARS {
                line.to_string()
            } else {
                let head: String = line.chars().take(MAX_LINE_CHARS / 2).collect();
                format!("{head}… ({n} characters)")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A value as one word of a POSIX shell command the user may paste: as is when every
/// character is safe unquoted, else single-quoted (a `'` inside closed, escaped and reopened).
pub fn shell_word(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
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

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(
            shell_word("examples/broken/aoc.toml"),
            "examples/broken/aoc.toml"
        );
        assert_eq!(shell_word("my file"), "'my file'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_word("arn:aws:kms:us-east-1:1:key/x"),
            "arn:aws:kms:us-east-1:1:key/x"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
