//! From a file's bytes to a [`Procedure`]: text decoding, front matter, and
//! the Markdown body. Parsing never stops at the first problem: it reports
//! what it finds and builds as much of the model as it can, so that the
//! checker can report the rest in the same run.

pub mod front;
pub mod html;
pub mod markdown;
pub mod refs;

use std::path::Path;

use crate::diag::{Code, Diagnostic, SourceFile};
use crate::model::{FrontMatter, Procedure};

/// A parsed procedure with the source it came from (for diagnostics).
#[derive(Debug)]
pub struct Doc {
    pub procedure: Procedure,
    pub source: SourceFile,
}

/// Parse one procedure file. `path` is relative to the site root.
pub fn parse_file(
    path: &Path,
    slug: &str,
    bytes: &[u8],
    diags: &mut Vec<Diagnostic>,
) -> Option<Doc> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        diags.push(Diagnostic::file(path, Code::EmptyFile, "the file is empty"));
        return None;
    }
    let text = decode(path, bytes, diags);
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    let source = SourceFile::new(path, text);
    let (front, body_start) = match front::split(&source, diags) {
        Some(split) => (front::parse(&source, &split, diags), split.body_start),
        None => (FrontMatter::default(), 0),
    };
    let body = markdown::parse(&source, body_start, diags);
    Some(Doc {
        procedure: Procedure {
            slug: slug.to_string(),
            path: path.to_path_buf(),
            front,
            intro: body.intro,
            sections: body.sections,
        },
        source,
    })
}

/// The file as text. Bytes that are not UTF-8 are reported, one diagnostic
/// per line that holds any, and replaced so the rest can still be checked.
fn decode(path: &Path, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> String {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    let text = String::from_utf8_lossy(bytes).into_owned();
    let source = SourceFile::new(path, text.clone());
    // Offsets of the bad sequences in the lossy text, where each became U+FFFD.
    let mut offset = 0;
    let mut last_line = 0;
    for chunk in bytes.utf8_chunks() {
        offset += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            let (line, _) = source.line_col(offset);
            if line != last_line {
                let bad: Vec<String> = chunk
                    .invalid()
                    .iter()
                    .map(|b| format!("0x{b:02X}"))
                    .collect();
                diags.push(source.diag(
                    Code::NotUtf8,
                    offset..offset + 3,
                    format!(
                        "byte {} is not UTF-8 text{}",
                        bad.join(" "),
                        windows_1252(chunk.invalid()[0])
                    ),
                ));
                last_line = line;
            }
            offset += '\u{fffd}'.len_utf8();
        }
    }
    text
}

/// What a stray byte most likely was: text pasted from Word is Windows-1252.
fn windows_1252(byte: u8) -> String {
    let c = match byte {
        0x85 => '…',
        0x91 => '‘',
        0x92 => '’',
        0x93 => '“',
        0x94 => '”',
        0x96 => '–',
        0x97 => '—',
        0xA0..=0xFF => char::from(byte),
        _ => return String::new(),
    };
    format!(" (it looks like {c} in the Windows-1252 encoding)")
}
