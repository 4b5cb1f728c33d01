//! Cross-references in running text: "see step 10", "steps 3 and 4",
//! "Steps 5-7". Each number becomes an [`Inline::StepRef`] that the checker
//! verifies and the renderers turn into a link.

use crate::model::Inline;

/// A run of text gathered from one or more Markdown text events, with the
/// source offset each piece started at (text can differ from its source where
/// entities or escapes were decoded).
#[derive(Debug, Default)]
pub struct TextRun {
    pub text: String,
    /// (offset in `text`, offset in the source file), ascending.
    marks: Vec<(usize, usize)>,
}

impl TextRun {
    pub fn push(&mut self, text: &str, source_offset: usize) {
        self.marks.push((self.text.len(), source_offset));
        self.text.push_str(text);
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn source_offset(&self, at: usize) -> usize {
        let i = self
            .marks
            .partition_point(|&(t, _)| t <= at)
            .saturating_sub(1);
        let (t, s) = self.marks.get(i).copied().unwrap_or((0, 0));
        s + (at - t)
    }

    /// The run as inlines: plain text, with step references split out when
    /// `find_refs` is set.
    pub fn into_inlines(self, find_refs: bool) -> Vec<Inline> {
        let mut out = Vec::new();
        let mut last = 0;
        if find_refs {
            for (start, end, number) in scan(&self.text) {
                if start > last {
                    out.push(Inline::Text {
                        text: self.text[last..start].to_string(),
                    });
                }
                out.push(Inline::StepRef {
                    number,
                    text: self.text[start..end].to_string(),
                    span: self.source_offset(start)..self.source_offset(start) + (end - start),
                });
                last = end;
            }
        }
        if last < self.text.len() {
            out.push(Inline::Text {
                text: self.text[last..].to_string(),
            });
        }
        out
    }
}

/// Find step references in `text`: (start, end, number) of each, where the
/// first reference of a phrase covers "step N" and each further number of a
/// list or range ("and 4", "-7") covers just the number.
pub fn scan(text: &str) -> Vec<(usize, usize, u32)> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("step") {
        let start = from + i;
        from = start + 4;
        if start > 0 && is_word_byte(bytes[start - 1]) {
            continue;
        }
        let mut at = start + 4;
        let plural = bytes.get(at) == Some(&b's');
        if plural {
            at += 1;
        }
        let spaces = skip_spaces(&lower, at);
        if spaces == at {
            continue;
        }
        let Some((num_end, number)) = number_at(&lower, spaces) else {
            continue;
        };
        found.push((start, num_end, number));
        at = num_end;
        // "steps 3, 4 and 5", "steps 5-7", "steps 5 through 7"
        while plural && let Some(next) = list_separator(&lower, at) {
            let Some((end, n)) = number_at(&lower, next) else {
                break;
            };
            found.push((next, end, n));
            at = end;
        }
        from = at;
    }
    found
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn skip_spaces(s: &str, mut at: usize) -> usize {
    while let Some(c) = s[at..].chars().next() {
        if c == ' ' || c == '\u{a0}' || c == '\t' || c == '\n' {
            at += c.len_utf8();
        } else {
            break;
        }
    }
    at
}

/// A whole number of at most six digits starting at `at`, not followed by a
/// letter or digit ("3a" and "1234567" are not step numbers).
fn number_at(s: &str, at: usize) -> Option<(usize, u32)> {
    let digits = s[at..].bytes().take_while(u8::is_ascii_digit).count();
    let end = at + digits;
    let next_is_word = s.as_bytes().get(end).is_some_and(|&b| is_word_byte(b));
    if digits == 0 || digits > 6 || next_is_word {
        return None;
    }
    Some((end, s[at..end].parse().ok()?))
}

/// After a number in "steps ...": the separator before the next number.
fn list_separator(s: &str, at: usize) -> Option<usize> {
    let after_space = skip_spaces(s, at);
    let rest = &s[after_space..];
    for sep in [
        ",", "-", "\u{2013}", "\u{2014}", "&", "and", "or", "to", "through",
    ] {
        if let Some(tail) = rest.strip_prefix(sep) {
            let word = sep.as_bytes()[0].is_ascii_alphabetic();
            if word && tail.bytes().next().is_some_and(is_word_byte) {
                continue;
            }
            let mut next = skip_spaces(s, after_space + sep.len());
            // ", and 5"
            if sep == ","
                && let Some(t) = s[next..].strip_prefix("and")
                && !t.bytes().next().is_some_and(is_word_byte)
            {
                next = skip_spaces(s, next + 3);
            }
            return Some(next);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<(&str, u32)> {
        scan(text)
            .into_iter()
            .map(|(s, e, n)| (&text[s..e], n))
            .collect()
    }

    #[test]
    fn finds_single_references() {
        assert_eq!(
            numbers("(You may have to refresh...see step 10.)"),
            vec![("step 10", 10)]
        );
        assert_eq!(
            numbers("Repeat Step 3, then step\u{a0}4"),
            vec![("Step 3", 3), ("step\u{a0}4", 4)]
        );
    }

    #[test]
    fn finds_lists_and_ranges() {
        assert_eq!(
            numbers("see steps 3, 4, and 5"),
            vec![("steps 3", 3), ("4", 4), ("5", 5)]
        );
        assert_eq!(numbers("Steps 5-7"), vec![("Steps 5", 5), ("7", 7)]);
        assert_eq!(
            numbers("steps 2 through 4 again"),
            vec![("steps 2", 2), ("4", 4)]
        );
        assert_eq!(numbers("steps 2 today"), vec![("steps 2", 2)]);
    }

    #[test]
    fn ignores_what_is_not_a_reference() {
        assert!(numbers("footstep 3").is_empty());
        assert!(numbers("the next step is easy").is_empty());
        assert!(numbers("step 3a").is_empty());
        assert!(numbers("stepping 3").is_empty());
        assert!(numbers("step 1234567").is_empty());
    }

    #[test]
    fn references_keep_their_source_position() {
        let mut run = TextRun::default();
        run.push("Tom &", 100);
        run.push(" Jerry, see step 2", 110);
        let inlines = run.into_inlines(true);
        match &inlines[1] {
            Inline::StepRef { number, span, .. } => {
                assert_eq!(*number, 2);
                assert_eq!(span.clone(), 110 + 12..110 + 18);
            }
            other => panic!("{other:?}"),
        }
    }
}
