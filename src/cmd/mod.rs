//! One module per command.

pub mod build;
pub mod check;
pub mod import;
pub mod new;
pub mod serve;

use std::io::IsTerminal;
use std::path::Path;

use crate::cache::Cache;
use crate::diag::{self, Diagnostic, Style};
use crate::site::{self, Fatal, Site};

/// Exit statuses shared by every command.
pub mod status {
    pub const OK: u8 = 0;
    pub const PROBLEMS: u8 = 1;
    pub const COULD_NOT_RUN: u8 = 2;
}

/// Load the site and apply every check. Diagnostics come back sorted, with
/// paths as the user can open them from the current folder. With
/// `web_copies`, the pictures are made ready to publish as they are read
/// (see [`site::load`]).
pub fn check_site(
    root: &Path,
    cache: &Cache,
    web_copies: bool,
) -> Result<(Site, Vec<Diagnostic>), Fatal> {
    let mut diags = Vec::new();
    let site = site::load(root, cache, web_copies, false, &mut diags)?;
    let diags = check_loaded(root, &site, diags);
    Ok((site, diags))
}

/// Apply every check to a loaded site, after the problems `load` found;
/// sorted, with paths as the user can open them.
pub fn check_loaded(root: &Path, site: &Site, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    check_loaded_each(root, site, diags).0
}

/// [`check_loaded`], also giving each procedure's own problems as the
/// check found them (in the order of `site.entries`, paths relative to the
/// root), for its memo.
pub fn check_loaded_each(
    root: &Path,
    site: &Site,
    mut diags: Vec<Diagnostic>,
) -> (Vec<Diagnostic>, Vec<Vec<Diagnostic>>) {
    let (site_wide, each) = crate::check::check(site);
    diags.extend(site_wide);
    diags.extend(each.iter().flatten().cloned());
    crate::timing::mark("check");
    if root != Path::new(".") {
        for d in &mut diags {
            d.path = root.join(&d.path);
        }
    }
    diag::sort(&mut diags);
    (diags, each)
}

/// Colour on a terminal, unless NO_COLOR is set (https://no-color.org).
pub fn stderr_style() -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Style {
        color: !no_color && std::io::stderr().is_terminal(),
    }
}

/// Print diagnostics for a person, on standard error.
pub fn print_human(diags: &[Diagnostic]) {
    let style = stderr_style();
    for d in diags {
        eprint!("{}", diag::render_human(d, style));
    }
}
