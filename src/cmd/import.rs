//! `procdoc import FILE [--out FILE_OR_FOLDER]`: a legacy procedure into the
//! source format (the reading is [`crate::import`]; here, where it goes).
//!
//! Nothing is written while anything is wrong: the legacy file is read in
//! full, every target is checked, and only then are the files written (each
//! one new: nothing is ever overwritten).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::new::{no_procedures_folder, procedures_folder};
use super::status;
use crate::diag::{Code, SourceFile, display_path};
use crate::import::{self, Imported};

pub fn run(root: &Path, input: &Path, out: Option<&Path>) -> ExitCode {
    let bytes = match std::fs::read(input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", input.display());
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    let source = match decode(input, bytes) {
        Ok(s) => s,
        Err(d) => {
            super::print_human(&[*d]);
            return nothing_written(input);
        }
    };
    let procedures = match import::import(&source) {
        Ok(p) => p,
        Err(diags) => {
            super::print_human(&diags);
            return nothing_written(input);
        }
    };
    let targets = match targets(root, input, out, &procedures) {
        Ok(t) => t,
        Err((message, code)) => {
            eprintln!("{message}");
            return ExitCode::from(code);
        }
    };
    let mut written: Vec<&Path> = Vec::new();
    for (path, p) in &targets {
        if let Err(e) = write_new(path, &p.markdown, &mut written) {
            eprintln!("error: cannot write {}: {e}", display_path(path));
            // All or nothing: take back what this run wrote.
            for w in written {
                let _ = std::fs::remove_file(w);
            }
            eprintln!("error: nothing was imported");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    }
    for (path, _) in &targets {
        println!("wrote {}", display_path(path));
    }
    let steps: usize = procedures.iter().map(|p| p.steps).sum();
    let screenshots: usize = procedures.iter().map(|p| p.screenshots.len()).sum();
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    if screenshots > 0 {
        let pictures = if screenshots == 1 {
            "the screenshot".to_string()
        } else {
            format!("the {screenshots} screenshots")
        };
        eprintln!(
            "imported {}; next: add {pictures} it refers to (procdoc check names the files), then read it through",
            plural(steps, "step"),
        );
    } else {
        eprintln!(
            "imported {}; next: run procdoc check, then read it through",
            plural(steps, "step")
        );
    }
    ExitCode::from(status::OK)
}

/// Write a file that must not exist yet; once created, it is in `written`
/// (so that a failed write is taken back too).
fn write_new<'a>(path: &'a Path, text: &str, written: &mut Vec<&'a Path>) -> std::io::Result<()> {
    if let Some(folder) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    written.push(path);
    file.write_all(text.as_bytes())
}

fn nothing_written(input: &Path) -> ExitCode {
    eprintln!(
        "error: nothing was imported; correct {} and import it again",
        display_path(input)
    );
    ExitCode::from(status::PROBLEMS)
}

/// The text of the legacy file; bytes that are not UTF-8 are reported at
/// the first of them.
fn decode(path: &Path, bytes: Vec<u8>) -> Result<SourceFile, Box<crate::diag::Diagnostic>> {
    match String::from_utf8(bytes) {
        Ok(text) => {
            let text = text
                .strip_prefix('\u{feff}')
                .map(str::to_string)
                .unwrap_or(text);
            Ok(SourceFile::new(path, text))
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let byte = e.as_bytes()[at];
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(path, text);
            Err(Box::new(file.diag(
                Code::NotUtf8,
                at..at + 1,
                format!("byte 0x{byte:02X} is not UTF-8 text"),
            )))
        }
    }
}

type Targets<'a> = Vec<(PathBuf, &'a Imported)>;

/// Where each procedure goes, or why it cannot (the message and exit status).
fn targets<'a>(
    root: &Path,
    input: &Path,
    out: Option<&Path>,
    procedures: &'a [Imported],
) -> Result<Targets<'a>, (String, u8)> {
    let into_folder = |folder: &Path| -> Targets<'a> {
        procedures
            .iter()
            .map(|p| (folder.join(format!("{}.md", p.slug)), p))
            .collect()
    };
    let targets = match out {
        None => {
            let folder = procedures_folder(root);
            if !folder.is_dir() {
                return Err((
                    format!(
                        "error: {}\nhint: to write it somewhere else, name the place with --out, such as --out imported/",
                        no_procedures_folder(root)
                    ),
                    status::COULD_NOT_RUN,
                ));
            }
            into_folder(&folder)
        }
        Some(o) if o.is_dir() || ends_with_separator(o) => into_folder(o),
        Some(o) => {
            if procedures.len() > 1 {
                let titles: Vec<String> = procedures
                    .iter()
                    .map(|p| format!("\"{}\"", p.title))
                    .collect();
                return Err((
                    format!(
                        "error: {} holds {} procedures ({}), and --out {} is one file\nhint: give a folder to write one file per procedure, such as --out imported/",
                        display_path(input),
                        procedures.len(),
                        titles.join(", "),
                        display_path(o)
                    ),
                    status::PROBLEMS,
                ));
            }
            if !o.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")) {
                return Err((
                    format!(
                        "error: --out {} is neither a folder nor a .md file\nhint: to write into a new folder, end its name with /, such as --out {}/",
                        display_path(o),
                        display_path(o)
                    ),
                    status::PROBLEMS,
                ));
            }
            vec![(o.to_path_buf(), &procedures[0])]
        }
    };
    for (path, p) in &targets {
        let bundle = path.parent().map(|d| d.join(&p.slug).join("index.md"));
        for existing in std::iter::once(path.clone()).chain(bundle.filter(|_| out.is_none())) {
            if existing.exists() {
                return Err((
                    format!(
                        "error: {} already exists; procdoc import never overwrites a file, and wrote nothing\nhint: move that file away, or import into another place with --out",
                        display_path(&existing)
                    ),
                    status::PROBLEMS,
                ));
            }
        }
    }
    Ok(targets)
}

fn ends_with_separator(path: &Path) -> bool {
    let s = path.as_os_str().to_string_lossy();
    s.ends_with('/') || s.ends_with(std::path::MAIN_SEPARATOR)
}
