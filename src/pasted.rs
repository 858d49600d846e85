//! Text pasted from the AoC page: the trust relationship JSON often comes with the words
//! around it ("Copy the following trust policy…"). This module finds the one JSON object in
//! such text, so `--trust-policy` takes what the admin copied, and says what it took.

use std::path::Path;

use crate::error::{UsageError, load_policy_text, read_input};
use crate::policy::NamedPolicy;
use crate::spec::line_column;

/// A trust policy read from pasted text, and what the tool did to read it: `None` when the
/// file held the JSON alone.
pub struct Pasted {
    pub policy: NamedPolicy,
    pub note: Option<String>,
}

/// Reads the trust policy copied from AoC. Text on the lines before and after the JSON object
/// is set aside (with a note saying so); several JSON objects are a usage error naming the line of
/// each. Line and column of a JSON error refer to the file as given.
pub fn load_trust_policy(path: &Path) -> Result<Pasted, UsageError> {
    let text = read_input(path)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let objects = json_objects(text);
    let outside_is_blank = |(start, end): (usize, usize)| {
        text[..start].trim().is_empty() && text[end..].trim().is_empty()
    };
    match objects.as_slice() {
        [one] if !outside_is_blank(*one) && on_its_own_lines(text, *one) => {
            let (start, end) = *one;
            let (first_line, _) = line_column(text, start);
            let (last_line, _) = line_column(text, end.saturating_sub(1));
            let policy = load_policy_text(path, &blank_outside(text, start, end))?;
            Ok(Pasted {
                policy,
                note: Some(format!(
                    "--trust-policy {}: took the JSON object on lines {first_line}-{last_line} \
                     and left out the text around it",
                    path.display()
                )),
            })
        }
        [_, _, ..] => {
            let lines: Vec<String> = objects
                .iter()
                .map(|(start, _)| line_column(text, *start).0.to_string())
                .collect();
            Err(UsageError(format!(
                "{}: {} JSON objects (starting on lines {}): keep only the trust policy AoC shows",
                path.display(),
                objects.len(),
                lines.join(", ")
            )))
        }
        // The JSON alone, or no object at all: the parser's own error says what is wrong.
        _ => Ok(Pasted {
            policy: load_policy_text(path, text)?,
            note: None,
        }),
    }
}

/// The byte ranges of the top-level JSON objects in `text`: a `{` whose next non-space
/// character opens a string or closes it (so `{account}` in the words around is not one), up
/// to its matching `}`, braces inside strings not counted. An object never closed runs to the
/// end, so that the parser reports where it breaks.
fn json_objects(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' && opens_object(&text[i + 1..]) {
            let end = matching_brace(bytes, i);
            out.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Whether the object's first and last lines hold nothing else: a block copied from a page
/// has the words on lines of their own, while `{...} trailing` on one line is a broken file,
/// which the parser reports as such.
fn on_its_own_lines(text: &str, (start, end): (usize, usize)) -> bool {
    let before = text[..start].rsplit('\n').next().unwrap_or("");
    let after = text[end..].split('\n').next().unwrap_or("");
    before.trim().is_empty() && after.trim().is_empty()
}

fn opens_object(after_brace: &str) -> bool {
    matches!(after_brace.trim_start().chars().next(), Some('"' | '}'))
}

/// The end (exclusive) of the object opening at `start`.
fn matching_brace(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

/// `text` with everything outside `start..end` turned into spaces, line breaks kept: the
/// parser then reports lines and columns of the file as given.
fn blank_outside(text: &str, start: usize, end: usize) -> String {
    let blank = |s: &str| -> String {
        s.chars()
            .map(|c| if c == '\n' || c == '\r' { c } else { ' ' })
            .collect()
    };
    format!(
        "{}{}{}",
        blank(&text[..start]),
        &text[start..end],
        blank(&text[end..])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_found_among_words_with_braces_and_strings() {
        let text = "Copy this {account} policy:\n{\"a\": \"}{\", \"b\": {}}\nthen save.";
        let objects = json_objects(text);
        assert_eq!(objects.len(), 1);
        let (s, e) = objects[0];
        assert_eq!(&text[s..e], "{\"a\": \"}{\", \"b\": {}}");
    }

    #[test]
    fn only_a_block_on_its_own_lines_is_taken_out_of_the_words() {
        let block = "Copy:\n  {\"a\": 1}  \nDone.";
        let objects = json_objects(block);
        assert!(on_its_own_lines(block, objects[0]));
        let inline = "{\"a\": 1} trailing";
        assert!(!on_its_own_lines(inline, json_objects(inline)[0]));
    }

    #[test]
    fn blanking_keeps_lines_and_columns() {
        let text = "word\nab {\"x\": 1} cd";
        let blanked = blank_outside(text, 8, 16);
        assert_eq!(blanked, "    \n   {\"x\": 1}   ");
        assert_eq!(blanked.len(), text.len());
    }
}
