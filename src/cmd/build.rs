//! `procdoc build` (and `procdoc` alone): check, then publish.
//!
//! Nothing is published while the check finds errors. The new site is
//! rendered beside the output folder and swapped in at the end (see
//! [`crate::publish`]), so a failed build leaves the previous site in place.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::status;
use crate::diag;
use crate::publish::Staging;
use crate::render::{self, RenderError};
use crate::theme;

pub fn run(root: &Path, out: Option<&Path>) -> ExitCode {
    let (site, diags) = match super::check_site(root) {
        Ok(r) => r,
        Err(fatal) => {
            eprintln!("error: {fatal}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    super::print_human(&diags);
    if diags.iter().any(diag::Diagnostic::is_error) {
        eprintln!("{}", diag::summary(&diags, site.files));
        eprintln!("error: nothing was published; fix the errors above and build again");
        return ExitCode::from(status::PROBLEMS);
    }
    let theme = match theme::load(root, &site.config.theme) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("error: nothing was published");
            return ExitCode::from(status::PROBLEMS);
        }
    };
    let out: PathBuf = match out {
        Some(o) => o.to_path_buf(),
        None if root == Path::new(".") => PathBuf::from("output"),
        None => root.join("output"),
    };
    let staging = match Staging::begin(&out) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    let summary = match render::build(&site, &theme, &staging) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "error: nothing was published; {} is as it was",
                out.display()
            );
            return ExitCode::from(match e {
                RenderError::Theme(_) => status::PROBLEMS,
                RenderError::Io(_) => status::COULD_NOT_RUN,
            });
        }
    };
    if let Err(e) = staging.commit() {
        eprintln!("error: {e}");
        return ExitCode::from(status::COULD_NOT_RUN);
    }
    let warnings = diags.len();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    eprintln!(
        "published {} and {} to {}{}",
        plural(summary.procedures, "procedure", "procedures"),
        plural(summary.screenshots, "screenshot", "screenshots"),
        out.display(),
        if warnings > 0 {
            format!(" ({})", plural(warnings, "warning", "warnings"))
        } else {
            String::new()
        }
    );
    ExitCode::from(status::OK)
}
