//! `procdoc build` (and `procdoc` alone): check, then publish.
//!
//! The site renderer is not written yet; until it is, a build is the check,
//! and it says so.

use std::path::Path;
use std::process::ExitCode;

use super::status;
use crate::diag;

pub fn run(root: &Path) -> ExitCode {
    let (site, diags) = match super::check_site(root) {
        Ok(r) => r,
        Err(fatal) => {
            eprintln!("error: {fatal}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    super::print_human(&diags);
    eprintln!("{}", diag::summary(&diags, site.files));
    if diags.iter().any(diag::Diagnostic::is_error) {
        eprintln!("error: nothing was published; fix the errors above and build again");
        return ExitCode::from(status::PROBLEMS);
    }
    eprintln!(
        "note: publishing the HTML site and PDF handouts is not implemented yet; this build only checked the procedures"
    );
    ExitCode::from(status::OK)
}
