//! `procdoc serve`: build a preview of the site, serve it on this machine,
//! and rebuild it each time a source is saved (see [`crate::serve`]).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use notify::{RecursiveMode, Watcher};

use super::status;
use crate::diag;
use crate::serve::{self, Problem};

/// What `procdoc serve` was asked for.
#[derive(Debug, Clone)]
pub struct Args {
    /// None: the default port, or the next free one.
    pub port: Option<u16>,
    pub bind: IpAddr,
    pub open: bool,
    pub pdf: bool,
    /// Print only problems (and the address): not each good rebuild.
    pub quiet: bool,
}

enum Msg {
    Stop,
    Changed(notify::Result<notify::Event>),
}

/// The folders watched recursively, besides the site's folder itself
/// (for `procdoc.toml`, and for these folders coming and going).
const WATCHED: [&str; 3] = ["procedures", "themes", "templates"];

pub fn run(root: &Path, args: Args) -> ExitCode {
    let abs_root = match std::path::absolute(root) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot find {}: {e}", root.display());
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    let listener = match serve::bind(args.bind, args.port) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: cannot serve: {e}");
            return ExitCode::from(status::COULD_NOT_RUN);
        }
    };
    if args.port.is_none() && addr.port() != serve::DEFAULT_PORT {
        eprintln!(
            "note: port {} is in use, so the preview uses port {}",
            serve::DEFAULT_PORT,
            addr.port()
        );
    }
    let url = serve::local_url(addr);
    let out = serve::preview_dir(&abs_root);

    let (tx, rx) = mpsc::channel::<Msg>();
    let stop = tx.clone();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop.send(Msg::Stop);
    }) {
        eprintln!("warning: cannot catch Ctrl-C ({e}); it will stop the preview all the same");
    }
    let changed = tx;
    let mut watcher = match notify::recommended_watcher(move |event| {
        let _ = changed.send(Msg::Changed(event));
    }) {
        Ok(w) => Some(w),
        Err(e) => {
            eprintln!(
                "warning: cannot watch the sources ({e}); the preview will not update when a file is saved"
            );
            None
        }
    };
    let mut watched = BTreeSet::new();
    if let Some(w) = watcher.as_mut() {
        if let Err(e) = w.watch(&abs_root, RecursiveMode::NonRecursive) {
            eprintln!("warning: cannot watch {}: {e}", abs_root.display());
        }
        refresh_watches(w, &abs_root, &mut watched, &BTreeSet::new());
    }

    let shared = serve::Shared::new(out.clone());
    if !args.quiet {
        eprintln!("building the preview...");
    }
    let problems = build(root, &out, &url, &args);
    if problems.iter().any(|p| matches!(p, Problem::Fatal(_))) {
        return ExitCode::from(status::COULD_NOT_RUN);
    }
    shared.finished(&problems);
    if let Err(e) = serve::spawn(listener, std::sync::Arc::clone(&shared)) {
        eprintln!("error: cannot start the server: {e}");
        return ExitCode::from(status::COULD_NOT_RUN);
    }
    println!("Serving the preview at {url} (press Ctrl-C to stop)");
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: with --bind {}, other machines on the network can see this preview",
            args.bind
        );
    }
    if args.open {
        open_browser(&url);
    }

    // Rebuild after each burst of changes, once it has been quiet a moment.
    loop {
        let first = match rx.recv() {
            Ok(Msg::Stop) | Err(_) => break,
            Ok(Msg::Changed(Ok(event))) => event,
            Ok(Msg::Changed(Err(e))) => {
                eprintln!("warning: watching the sources: {e}");
                continue;
            }
        };
        if !serve::relevant(&abs_root, &first) {
            continue;
        }
        let mut paths: BTreeSet<PathBuf> = first.paths.into_iter().collect();
        let started = Instant::now();
        let mut quiet_from = Instant::now();
        let mut stopping = false;
        loop {
            let now = Instant::now();
            let quiet_until = quiet_from + serve::DEBOUNCE;
            if now >= quiet_until || now >= started + serve::DEBOUNCE_MAX {
                break;
            }
            match rx.recv_timeout(quiet_until - now) {
                Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    stopping = true;
                    break;
                }
                Ok(Msg::Changed(Ok(event))) if serve::relevant(&abs_root, &event) => {
                    paths.extend(event.paths);
                    quiet_from = Instant::now();
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break,
            }
        }
        if stopping {
            break;
        }
        // Name the files saved, not the temporary ones an editor (or sed)
        // wrote and renamed; a file removed is named when nothing else is.
        let sources: Vec<&PathBuf> = paths
            .iter()
            .filter(|p| serve::source_path(&abs_root, p))
            .collect();
        let present: Vec<&PathBuf> = sources.iter().copied().filter(|p| p.exists()).collect();
        let shown = if present.is_empty() { sources } else { present };
        let names: Vec<String> = shown
            .iter()
            .map(|p| diag::display_path(p.strip_prefix(&abs_root).unwrap_or(p)))
            .collect();
        if !args.quiet {
            eprintln!("changed: {}; rebuilding the preview...", names.join(", "));
        }
        // Watch a folder just made before building: a page reloaded after
        // this build may be saved again at once.
        if let Some(w) = watcher.as_mut() {
            refresh_watches(w, &abs_root, &mut watched, &paths);
        }
        let problems = build(root, &out, &url, &args);
        shared.finished(&problems);
    }
    shared.stop();
    drop(watcher);
    println!("procdoc serve stopped");
    ExitCode::from(status::OK)
}

/// Build once and say how it went; the problems that keep it from being
/// served come back for the overlay.
fn build(root: &Path, out: &Path, url: &str, args: &Args) -> Vec<Problem> {
    let pdf = args.pdf;
    match serve::build(root, out, url, pdf) {
        Ok(_) if args.quiet => Vec::new(),
        Ok(summary) => {
            let plural = |n: usize, one: &str, many: &str| {
                format!("{n} {}", if n == 1 { one } else { many })
            };
            let mut made = vec![plural(summary.procedures, "procedure", "procedures")];
            if pdf && cfg!(feature = "pdf") {
                made.push(plural(summary.handouts, "handout", "handouts"));
            }
            made.push(plural(summary.screenshots, "screenshot", "screenshots"));
            let reused = summary.reused_handouts() + summary.reused_screenshots();
            let cached = if reused > 0 {
                format!(" ({reused} from the build cache)")
            } else {
                String::new()
            };
            eprintln!("built the preview: {}{cached}", made.join(", "));
            Vec::new()
        }
        Err(problems) => {
            for p in &problems {
                if let Problem::Message(m) | Problem::Fatal(m) = p {
                    eprintln!("error: {m}");
                }
            }
            if !problems.iter().any(|p| matches!(p, Problem::Fatal(_))) {
                eprintln!(
                    "the preview lists these problems over every page until they are corrected"
                );
            }
            problems
        }
    }
}

/// Watch each source folder that exists, again if it was just made anew
/// (a folder removed and made again loses its watch), and forget the ones
/// that are gone.
fn refresh_watches(
    watcher: &mut impl Watcher,
    root: &Path,
    watched: &mut BTreeSet<PathBuf>,
    changed: &BTreeSet<PathBuf>,
) {
    for name in WATCHED {
        let dir = root.join(name);
        let renewed = changed.contains(&dir);
        if dir.is_dir() {
            if watched.contains(&dir) && !renewed {
                continue;
            }
            if watched.contains(&dir) {
                let _ = watcher.unwatch(&dir);
            }
            match watcher.watch(&dir, RecursiveMode::Recursive) {
                Ok(()) => {
                    watched.insert(dir);
                }
                Err(e) => eprintln!("warning: cannot watch {}: {e}", dir.display()),
            }
        } else if watched.remove(&dir) {
            let _ = watcher.unwatch(&dir);
        }
    }
}

/// Open the preview in the browser, if the system says how.
fn open_browser(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    let spawned = std::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            // Reap it when it is done, so that it does not linger.
            std::thread::spawn(move || {
                let _ = child.wait();
            });
        }
        Err(e) => eprintln!("note: cannot open a browser ({program}: {e}); open {url} in one"),
    }
}
