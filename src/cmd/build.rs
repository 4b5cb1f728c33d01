//! `procdoc build` (and `procdoc` alone): check, then publish.
//!
//! Nothing is published while the check finds errors. The new site is
//! rendered beside the output folder and swapped in at the end (see
//! [`crate::publish`]), so a failed build leaves the previous site in place.
//! What takes time to make (web copies, handouts) is kept in the build cache
//! ([`crate::cache`]) and reused while its inputs are unchanged.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::status;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::cache::Cache;
use crate::diag;
use crate::publish::Staging;
use crate::render::{self, RenderError};
use crate::theme;

pub fn run(root: &Path, out: Option<&Path>, pdf: bool, clean: bool, quiet: bool) -> ExitCode {
    let started = std::time::Instant::now();
    crate::timing::mark("start");
    let cache = match Cache::open(root, clean) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    crate::timing::mark("open the build cache");
    let request = Request {
        root,
        out,
        pdf: pdf && cfg!(feature = "pdf"),
        quiet,
        started,
    };
    let code = build(&request, &cache);
    // Keep what was made even when nothing was published: the build after
    // the fix needs it.
    if let Err(e) = cache.save(code == ExitCode::from(status::OK)) {
        eprintln!("warning: {e}");
    }
    crate::timing::mark("save the build cache");
    // The process ends here: its memory (and the cache's lock) goes with it.
    std::mem::forget(cache);
    code
}

/// What `procdoc build` was asked for.
#[derive(Clone, Copy)]
struct Request<'a> {
    root: &'a Path,
    out: Option<&'a Path>,
    /// Handouts too (never without the `pdf` feature).
    pdf: bool,
    quiet: bool,
    started: std::time::Instant,
}

fn build(request: &Request, cache: &Cache) -> ExitCode {
    let root = request.root;
    let mut diags = Vec::new();
    let mut site = match crate::site::load(root, cache, true, true, &mut diags) {
        Ok(site) => site,
        Err(fatal) => {
            eprintln!("error: {fatal}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    let theme = theme::load(root, &site.config.theme);
    // Which unchanged procedures need not be parsed and checked again.
    let context = crate::memo::context(&site.config, theme.as_ref().ok(), request.pdf);
    site.settle(&context, &mut diags);
    // The handouts' keys are found before the check, and the few handouts
    // an edit needs are laid out on a thread of their own while the check
    // and the rest of the build go on. A plan that fails is made again
    // (and its error reported) after the check.
    #[cfg(feature = "pdf")]
    let plan = match &theme {
        Ok(theme) if request.pdf => {
            render::HandoutPlan::new(&site, &site.config, theme, cache).ok()
        }
        _ => None,
    };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        #[cfg(feature = "pdf")]
        let early = plan.as_ref().map(|plan| plan.start(scope, &cancel));
        #[cfg(not(feature = "pdf"))]
        let early = {
            let _ = scope;
            None
        };
        let code = checked(request, cache, site, diags, theme, early);
        // A build that stops early stops the handouts begun for it.
        cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        code
    })
}

/// The rest of a build, once the site is loaded: check, render, publish.
fn checked(
    request: &Request,
    cache: &Cache,
    site: crate::site::Site,
    diags: Vec<diag::Diagnostic>,
    theme: Result<theme::Theme, theme::ThemeError>,
    early: Option<render::Early<'_, '_>>,
) -> ExitCode {
    let Request {
        root,
        out,
        pdf,
        quiet,
        started,
    } = *request;
    let phase = crate::timing::mark;
    let (diags, each) = super::check_loaded_each(root, &site, diags);
    super::print_human(&diags);
    if diags.iter().any(diag::Diagnostic::is_error) {
        eprintln!("{}", diag::summary(&diags, site.files));
        eprintln!("error: nothing was published; fix the errors above and build again");
        return ExitCode::from(status::PROBLEMS);
    }
    phase("load and check");
    let theme = match theme {
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
    if let Err(e) = writable(&out) {
        eprintln!("error: {e}");
        eprintln!(
            "error: nothing was published; {} is as it was",
            out.display()
        );
        return ExitCode::from(status::COULD_NOT_RUN);
    }
    let staging = match Staging::begin(&out, cache.spare_for(&out)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    // A progress bar on a terminal only (indicatif draws nothing elsewhere).
    let steps = site.entries.len() * if pdf { 2 } else { 1 };
    let progress = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr())
    };
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} pages and handouts") {
        progress.set_style(style);
    }
    let options = render::Options {
        pdf,
        progress: progress.clone(),
        handout_config: None,
    };
    phase("theme and staging");
    let built = render::build(&site, &theme, &staging, cache, options.clone(), early);
    phase("render");
    progress.finish_and_clear();
    let summary = match built {
        Ok(s) => s,
        Err(RenderError::Problems(mut problems)) => {
            if root != Path::new(".") {
                for d in &mut problems {
                    d.path = root.join(&d.path);
                }
            }
            diag::sort(&mut problems);
            super::print_human(&problems);
            eprintln!(
                "error: nothing was published; {} is as it was",
                out.display()
            );
            return ExitCode::from(status::PROBLEMS);
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "error: nothing was published; {} is as it was",
                out.display()
            );
            return ExitCode::from(match e {
                RenderError::Io(_) => status::COULD_NOT_RUN,
                RenderError::Theme(_) | RenderError::Problems(_) => status::PROBLEMS,
            });
        }
    };
    remember(cache, &site, &each, &summary);
    // The cache's index is serialised while the site is swapped in.
    let (committed, _) = rayon::join(|| staging.commit(), || cache.prepare_publish());
    if let Err(e) = committed {
        eprintln!("error: {e}");
        return ExitCode::from(status::COULD_NOT_RUN);
    }
    phase("publish");
    // The process ends here: freeing every parsed procedure one by one
    // would only cost time (a tenth of a second for a thousand).
    std::mem::forget(site);
    std::mem::forget(theme);
    let warnings = diags.len();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut made = vec![plural(summary.procedures, "procedure", "procedures")];
    if options.pdf {
        made.push(plural(summary.handouts, "handout", "handouts"));
    }
    if quiet {
        return ExitCode::from(status::OK);
    }
    let last = plural(summary.screenshots, "screenshot", "screenshots");
    let warned = if warnings > 0 {
        format!(" ({})", plural(warnings, "warning", "warnings"))
    } else {
        String::new()
    };
    let mut reused = Vec::new();
    if options.pdf && summary.reused_handouts() > 0 {
        reused.push(plural(summary.reused_handouts(), "handout", "handouts"));
    }
    if summary.reused_screenshots() > 0 {
        reused.push(plural(
            summary.reused_screenshots(),
            "screenshot",
            "screenshots",
        ));
    }
    let reused = if reused.is_empty() {
        String::new()
    } else {
        format!(", reusing {} from the build cache", reused.join(" and "))
    };
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "published {} and {last} to {} in {seconds:.1} s{reused}{warned}",
        made.join(", "),
        out.display()
    );
    ExitCode::from(status::OK)
}

/// Keep in the build cache a memo of each procedure parsed by this build,
/// so that the next build need not parse it while it is unchanged.
fn remember(
    cache: &Cache,
    site: &crate::site::Site,
    each: &[Vec<diag::Diagnostic>],
    summary: &render::Summary,
) {
    site.entries
        .par_iter()
        .zip(each)
        .zip(&summary.keys)
        .filter(|((e, _), (page, _))| {
            e.memo.is_none()
                && !e.memo_key.is_empty()
                && !e.reads.site.is_empty()
                && !page.is_empty()
        })
        .for_each(|((e, checked), (page, handout))| {
            let memo = crate::memo::Memo {
                reads: e.reads.clone(),
                outline: e.outline.clone(),
                pictures: e.pictures.clone(),
                linked: e.linked.clone(),
                diagnostics: e.parse_diags.iter().chain(checked).cloned().collect(),
                handout: handout.clone(),
                page: page.clone(),
            };
            // A memo that cannot be kept only costs the next build a parse.
            if let Ok(data) = serde_json::to_value(&memo) {
                let _ = cache.put(&e.memo_key, data, &[]);
            }
        });
}

/// Refuse, before anything is written, to publish where the build could not
/// finish cleanly: a folder beside `out` where the new site cannot be
/// written, or an `out` (or one of its folders) that is read-only. The swap
/// itself only needs the folder around `out` to be writable, so a read-only
/// site would be replaced, and then could be neither kept for the next build
/// nor removed: it would stay beside `out` and stop every later build.
fn writable(out: &Path) -> Result<(), String> {
    let around = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // A folder that does not exist yet is made (or refused) by the staging.
    if around.is_dir()
        && let Err(e) = can_write(around)
    {
        let shown = std::path::absolute(around).unwrap_or_else(|_| around.to_path_buf());
        return Err(format!(
            "cannot publish {}: the folder it is in, {}, cannot be written ({e}); procdoc writes the new site beside {} and swaps it in, so make that folder writable, or publish elsewhere with --out",
            out.display(),
            shown.display(),
            out.display()
        ));
    }
    if !std::fs::symlink_metadata(out).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    // A site's folders are one level deep: images/ and one per procedure.
    let folders = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path());
    for folder in std::iter::once(out.to_path_buf()).chain(folders) {
        if let Err(e) = can_write(&folder) {
            return Err(format!(
                "cannot replace {}: {} is read-only ({e}); procdoc replaces the whole folder on every build, so make it writable (chmod -R u+w {}), or publish elsewhere with --out",
                out.display(),
                folder.display(),
                out.display()
            ));
        }
    }
    Ok(())
}

/// Whether this process may create and remove files in `dir` (asked of the
/// system, which knows about permissions, read-only mounts and root).
#[cfg(unix)]
fn can_write(dir: &Path) -> std::io::Result<()> {
    use rustix::fs::{Access, AtFlags, CWD, accessat};
    accessat(
        CWD,
        dir,
        Access::WRITE_OK | Access::EXEC_OK,
        AtFlags::EACCESS,
    )
    .map_err(std::io::Error::from)
}

#[cfg(not(unix))]
fn can_write(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// A worker process of a build: lays out the handouts it is given (see
/// [`crate::render::pdf::compile_in_worker`]).
pub fn worker(root: &Path, theme_name: &str) -> ExitCode {
    #[cfg(feature = "pdf")]
    {
        let result = theme::load(root, theme_name)
            .map_err(|e| e.0)
            .and_then(|theme| crate::render::pdf::worker(&theme));
        match result {
            Ok(()) => ExitCode::from(status::OK),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(status::COULD_NOT_RUN)
            }
        }
    }
    #[cfg(not(feature = "pdf"))]
    {
        let _ = (root, theme_name);
        eprintln!("error: this procdoc was built without handouts");
        ExitCode::from(status::COULD_NOT_RUN)
    }
}
