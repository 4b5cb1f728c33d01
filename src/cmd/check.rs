//! `procdoc check`: report every problem in every procedure.

use std::path::Path;
use std::process::ExitCode;

use super::status;
use crate::cli::Format;
use crate::diag;

pub fn run(root: &Path, format: Format, quiet: bool) -> ExitCode {
    // What earlier builds learnt of the pictures saves decoding them again;
    // the check itself writes nothing.
    let cache = crate::cache::Cache::read_only(root);
    let (site, diags) = match super::check_site(root, &cache, false) {
        Ok(r) => r,
        Err(fatal) => {
            eprintln!("error: {fatal}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    match format {
        Format::Human => {
            super::print_human(&diags);
            if !quiet {
                eprintln!("{}", diag::summary(&diags, site.files));
            }
        }
        Format::Json => print!("{}", diag::render_json(&diags)),
    }
    if diags.iter().any(diag::Diagnostic::is_error) {
        ExitCode::from(status::PROBLEMS)
    } else {
        ExitCode::from(status::OK)
    }
}
