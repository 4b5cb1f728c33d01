//! TOML front matter between `+++` lines.
//!
//! Read key by key from TOML's spanned tree (not through serde) so that every
//! problem in it is reported at once, each at its own key or value.

use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic, SourceFile, Span, did_you_mean};
use crate::model::{Date, FrontMatter};

/// The keys a procedure's front matter may hold.
pub const KEYS: &[&str] = &["title", "summary", "category", "updated", "lang", "weight"];

/// Where the front matter and the body lie in a file's text.
pub struct Split {
    /// The TOML between the `+++` lines.
    pub toml: Span,
    /// From the opening `+++` to the end of the closing one.
    pub whole: Span,
    /// Where the Markdown body starts.
    pub body_start: usize,
}

/// Lines of `text` with the byte offset each starts at.
fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |line| {
        let start = offset;
        offset += line.len();
        (start, line)
    })
}

/// Find the front matter of a file, or say why there is none.
pub fn split(file: &SourceFile, diags: &mut Vec<Diagnostic>) -> Option<Split> {
    let text = &file.text;
    let mut lines = lines_with_offsets(text).skip_while(|(_, l)| l.trim().is_empty());
    let (open_at, open) = lines.next()?;
    let open_span = open_at..open_at + open.trim_end().len();
    match open.trim_end() {
        "+++" => {}
        "---" => {
            diags.push(
                file.diag(
                    Code::FrontMatterMissing,
                    open_span,
                    "front matter must be TOML between +++ lines, not YAML between --- lines",
                )
                .with_hint(
                    "replace both --- lines with +++ and write each setting as key = \"value\"",
                ),
            );
            return None;
        }
        _ => {
            diags.push(file.diag(
                Code::FrontMatterMissing,
                open_span,
                "the file does not start with front matter",
            ));
            return None;
        }
    }
    let toml_start = open_at + open.len();
    for (at, line) in lines {
        if line.trim_end() == "+++" {
            return Some(Split {
                toml: toml_start..at,
                whole: open_at..at + line.trim_end().len(),
                body_start: at + line.len(),
            });
        }
    }
    diags.push(
        file.diag(
            Code::FrontMatterMissing,
            open_span,
            "the front matter is not closed",
        )
        .with_hint("end the front matter with a line that holds only +++"),
    );
    None
}

/// Read the front matter's settings. Problems go to `diags`; what could be
/// read is returned all the same, so the rest of the file is still checked.
pub fn parse(file: &SourceFile, split: &Split, diags: &mut Vec<Diagnostic>) -> FrontMatter {
    let offset = split.toml.start;
    let at = |span: Span| span.start + offset..span.end + offset;
    let mut front = FrontMatter {
        span: split.whole.clone(),
        ..FrontMatter::default()
    };
    let (table, errors) = DeTable::parse_recoverable(&file.text[split.toml.clone()]);
    let error_spans: Vec<Span> = errors.iter().filter_map(|e| e.span().map(at)).collect();
    for e in &errors {
        let span = e.span().map(at).unwrap_or(split.whole.clone());
        let mut lines = e.message().lines();
        let message = lines.next().unwrap_or("invalid TOML").to_string();
        let detail: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
        if message.starts_with("invalid date") {
            let written = file.text[span.clone()].trim();
            diags.push(file.diag(
                Code::BadDate,
                span,
                format!(
                    "`{written}` is not a real date ({})",
                    message.trim_start_matches("invalid date, ")
                ),
            ));
            continue;
        }
        let written = file.text[span.clone()].trim();
        if written.chars().next().is_some_and(char::is_alphabetic)
            && !matches!(written, "true" | "false")
        {
            // `title = Link your account`: text without quotes.
            diags.push(
                file.diag(
                    Code::FrontMatterSyntax,
                    span,
                    format!("`{written}` needs double quotes around it"),
                )
                .with_hint(format!("write text in double quotes: \"{written}\"")),
            );
            continue;
        }
        let mut d = file.diag(
            Code::FrontMatterSyntax,
            span,
            format!("invalid front matter: {message}"),
        );
        if !detail.is_empty() {
            d = d.with_hint(format!(
                "{}; write each setting as key = value, with text in double quotes",
                detail.join("; ")
            ));
        }
        diags.push(d);
    }
    let mut title_seen = false;
    for (key, value) in table.get_ref() {
        let name: &str = key.get_ref();
        let vspan = at(value.span());
        // A value TOML could not read has been reported already.
        if name == "title" {
            title_seen = true;
        }
        if error_spans.iter().any(|e| {
            e.start < vspan.end.max(vspan.start + 1) && vspan.start < e.end.max(e.start + 1)
        }) {
            continue;
        }
        let type_error = |what: &str, example: &str| {
            file.diag(
                Code::FrontMatterType,
                vspan.clone(),
                format!("`{name}` must be {what}"),
            )
            .with_hint(format!("write {name} = {example}"))
        };
        match name {
            "title" => match value.get_ref() {
                DeValue::String(s) if s.trim().is_empty() => {
                    diags.push(file.diag(Code::TitleMissing, vspan, "the title is empty"))
                }
                DeValue::String(s) => front.title = s.trim().to_string(),
                _ => diags.push(type_error("text", "\"The procedure's title\"")),
            },
            "summary" | "category" => match value.get_ref() {
                DeValue::String(s) => {
                    let s = Some(s.trim().to_string()).filter(|s| !s.is_empty());
                    if name == "summary" {
                        front.summary = s;
                    } else {
                        front.category = s;
                    }
                }
                _ => diags.push(type_error("text", "\"...\"")),
            },
            "lang" => match value.get_ref() {
                DeValue::String(s) if is_language_tag(s) => front.lang = Some(s.to_string()),
                DeValue::String(s) => diags.push(
                    file.diag(
                        Code::FrontMatterType,
                        vspan,
                        format!("`{s}` is not a language tag"),
                    )
                    .with_hint("write a language tag such as lang = \"en\" or lang = \"es-US\""),
                ),
                _ => diags.push(type_error("a language tag", "\"en\"")),
            },
            "weight" => match value.get_ref() {
                DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => front.weight = Some(n),
                    Err(_) => diags.push(type_error("a whole number", "10")),
                },
                _ => diags.push(type_error("a whole number", "10")),
            },
            "updated" => match date_value(value.get_ref()) {
                Ok(d) => front.updated = Some(d),
                Err(written) => diags.push(file.diag(
                    Code::BadDate,
                    vspan,
                    format!("`{written}` is not a date written year-month-day"),
                )),
            },
            _ => {
                let mut d = file.diag(
                    Code::FrontMatterUnknownKey,
                    at(key.span()),
                    format!("unknown front matter key `{name}`"),
                );
                if let Some(close) = did_you_mean(name, KEYS) {
                    d = d.with_hint(format!(
                        "did you mean `{close}`? The keys are {}",
                        KEYS.join(", ")
                    ));
                }
                diags.push(d);
            }
        }
    }
    // A title that failed to parse has been reported already.
    if !title_seen && errors.is_empty() {
        let open = split.whole.start..split.whole.start + 3;
        diags.push(file.diag(Code::TitleMissing, open, "the front matter has no title"));
    }
    front
}

/// A date from a TOML date (`2021-06-28`) or a string holding one.
fn date_value(value: &DeValue) -> Result<Date, String> {
    match value {
        DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => real_date(d.year, d.month, d.day).ok_or(dt.to_string()),
            _ => Err(dt.to_string()),
        },
        DeValue::String(s) => parse_date(s).ok_or(s.to_string()),
        DeValue::Integer(i) => Err(i.as_str().to_string()),
        DeValue::Float(f) => Err(f.as_str().to_string()),
        DeValue::Boolean(b) => Err(b.to_string()),
        DeValue::Array(_) | DeValue::Table(_) => Err("a list".to_string()),
    }
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.trim().split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || y.len() != 4
        || m.len() != 2
        || d.len() != 2
        || ![y, m, d]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    real_date(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn real_date(year: u16, month: u8, day: u8) -> Option<Date> {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (year >= 1000 && (1..=days).contains(&day)).then_some(Date { year, month, day })
}

/// A BCP 47 language tag in its common shape: `en`, `es-US`, `zh-Hant-TW`.
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_exist() {
        assert_eq!(
            parse_date("2021-06-28").map(|d| d.to_string()).as_deref(),
            Some("2021-06-28")
        );
        assert!(parse_date("2024-02-29").is_some());
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2021-6-28").is_none());
        assert!(parse_date("June 28, 2021").is_none());
        assert!(parse_date("2021-13-01").is_none());
    }

    #[test]
    fn language_tags() {
        assert!(is_language_tag("en"));
        assert!(is_language_tag("es-US"));
        assert!(!is_language_tag("english!"));
        assert!(!is_language_tag("e"));
    }
}
