//! Procedure memos: what a published build took from each procedure (its
//! outline, the pictures it shows, its diagnostics, the cache keys of its
//! handout and page), kept in the build cache under the procedure's text.
//!
//! A rebuild reads each file and looks its memo up. A memo stands for the
//! file (the file is not parsed or checked) while everything its results
//! read from outside its own text is as it was:
//!
//! - the site digest: the settings, the theme, whether handouts are made,
//!   `SOURCE_DATE_EPOCH`, and every procedure's path and slug (where links
//!   lead);
//! - the slug, title and weight of every procedure in its category (its
//!   page's previous and next links, in the index's order);
//! - the step numbers of the procedures it links to (the check of a link
//!   to `other.md#step-3`);
//! - its pictures.
//!
//! So an edit to one procedure's text, steps or sections parses and checks
//! that file, and the few that link to it when its steps changed; an edit
//! to a title or weight parses and checks its category (the pages that
//! may show it as previous or next), and a new category both categories.
//! Whenever a remembered procedure's model is needed after all (its page
//! or handout is missing from the cache), it is parsed then.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::sha256_hex;
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::images::{ImageInfo, ImageProblem};
use crate::model::Outline;
use crate::render::images::Prepared;
use crate::theme::Theme;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Memo {
    /// What its results read from outside its text when they were found.
    pub reads: Reads,
    pub outline: Outline,
    /// The pictures it shows (relative to the site's root).
    pub pictures: Vec<PathBuf>,
    /// The procedures it links to (relative to the site's root).
    pub linked: Vec<PathBuf>,
    /// What parsing and the per-procedure rules reported (warnings: a
    /// memo is only kept from a build that published).
    pub diagnostics: Vec<Diagnostic>,
    /// Its handout's cache key, when handouts were made.
    pub handout: Option<String>,
    /// Its page's cache key.
    pub page: String,
}

/// What a procedure's diagnostics, page and handout read from outside its
/// own text, as hashes: a memo holds while they are the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reads {
    /// The site digest ([`site_digest`]); empty when no memo can hold.
    pub site: String,
    /// Its category's members ([`neighbours_states`]).
    pub neighbours: String,
    /// The step numbers of the procedures it links to ([`links_state`]).
    pub links: String,
    /// Its pictures ([`picture_state`]).
    pub pictures: String,
}

/// The cache key of the memo of the file at `path` (relative to the root)
/// with `slug`, holding `bytes`.
pub fn key(path: &Path, slug: &str, bytes: &[u8]) -> String {
    let path = path.to_string_lossy();
    let key = sha256_hex(&[b"procedure memo 1", path.as_bytes(), slug.as_bytes(), bytes]);
    format!("memo-{key}")
}

/// What a build's results read besides the procedures: the settings, every
/// file of the theme, whether handouts are made, and `SOURCE_DATE_EPOCH`
/// (a handout's date when its procedure has no `updated`). `None` for a
/// theme that did not load: then no memo holds.
pub fn context(config: &Config, theme: Option<&Theme>, pdf: bool) -> String {
    let Some(theme) = theme else {
        return String::new();
    };
    let settings = format!("{config:?}\n{:?}\n{pdf}", theme.settings);
    let epoch = std::env::var("SOURCE_DATE_EPOCH").unwrap_or_default();
    let mut parts: Vec<&[u8]> = vec![
        b"memo context 1",
        settings.as_bytes(),
        epoch.as_bytes(),
        theme.name.as_bytes(),
    ];
    for (name, file) in &theme.files {
        parts.push(name.as_bytes());
        parts.push(&file.bytes);
    }
    sha256_hex(&parts)
}

/// The site digest: the context and where every procedure's links lead
/// (each procedure's path and slug), in order. Empty (no memo holds) when
/// the context is.
pub fn site_digest<'a>(
    context: &str,
    procedures: impl Iterator<Item = (&'a Path, &'a str)>,
) -> String {
    if context.is_empty() {
        return String::new();
    }
    let mut text = String::new();
    for (path, slug) in procedures {
        let _ = writeln!(text, "{}\t{slug}", path.to_string_lossy());
    }
    sha256_hex(&[b"site digest 1", context.as_bytes(), text.as_bytes()])
}

/// For each procedure (slug and outline, in order), what its page's
/// previous and next links are chosen from: the slug, title and weight of
/// every procedure in its category.
pub fn neighbours_states(procedures: &[(&str, &Outline)]) -> Vec<String> {
    use crate::render::site_category;
    let mut members: HashMap<&str, String> = HashMap::new();
    for (slug, outline) in procedures {
        let f = &outline.front;
        let text = members.entry(site_category(outline)).or_default();
        let _ = writeln!(text, "{slug}\t{:?}\t{:?}", f.title, f.weight);
    }
    let states: HashMap<&str, String> = members
        .iter()
        .map(|(name, text)| {
            let state = sha256_hex(&[b"neighbours 1", name.as_bytes(), text.as_bytes()]);
            (*name, state)
        })
        .collect();
    procedures
        .iter()
        .map(|(_, outline)| states[site_category(outline)].clone())
        .collect()
}

/// The step numbers of each procedure in `linked` (or that it is not one),
/// as `steps` gives them by path.
pub fn links_state(linked: &[PathBuf], steps: &HashMap<&Path, &[u32]>) -> String {
    let mut text = String::new();
    for path in linked {
        let _ = writeln!(
            text,
            "{}\t{:?}",
            path.to_string_lossy(),
            steps.get(path.as_path())
        );
    }
    sha256_hex(&[b"links 1", text.as_bytes()])
}

/// What the pictures at `paths` are in this build, as far as a procedure's
/// diagnostics, handout and page can tell: what the check read of each
/// (format, size or problem) and its web copies' names and sizes, or why
/// they could not be made, and its content's hash.
pub fn picture_state(
    images: &HashMap<PathBuf, Result<ImageInfo, ImageProblem>>,
    prepared: &HashMap<PathBuf, Result<Prepared, String>>,
    paths: &[PathBuf],
) -> String {
    let mut text = String::new();
    for path in paths {
        let _ = write!(text, "{}\t{:?}\t", path.to_string_lossy(), images.get(path));
        match prepared.get(path) {
            Some(Ok(p)) => {
                let _ = writeln!(text, "{:?}\t{}", p.web, p.sha256);
            }
            other => {
                let _ = writeln!(text, "{:?}", other.map(|r| r.as_ref().err()));
            }
        }
    }
    sha256_hex(&[b"pictures 1", text.as_bytes()])
}
