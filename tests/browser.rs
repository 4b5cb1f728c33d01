//! The real site in a real browser: axe-core (WCAG 2.0-2.2 A and AA, and
//! best practice) in light and dark colour schemes, no horizontal scrolling
//! at 320 px, every internal link, fragment and image, no request to another
//! host (tests/browser/audit.mjs, in Debian's Chromium); and the Nu HTML
//! Checker (tests/browser/vnu.mjs). Both themes.
//!
//! Needs `apt-get install chromium` and `npm ci` in tests/browser (as
//! .ci/run does). Without them the tests say so and pass, except on CI,
//! where a missing tool is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{real_site_copy, repo};

fn kit() -> PathBuf {
    repo().join("tests/browser")
}

/// Why the browser tests cannot run here, if they cannot.
fn missing_tool() -> Option<String> {
    let has = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has("node", "--version") {
        return Some("node is not installed".into());
    }
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("Debian's chromium is not installed (apt-get install chromium)".into());
    }
    if !kit().join("node_modules/axe-core").is_dir() || !kit().join("node_modules/vnu-jar").is_dir()
    {
        return Some("the browser kit is not installed (npm ci in tests/browser)".into());
    }
    if !has("java", "-version") {
        return Some("java is not installed (the Nu HTML Checker needs it)".into());
    }
    None
}

fn skip_unless_ready() -> bool {
    common::skip_for(missing_tool())
}

/// Build the real procedures with `theme` into a temporary folder.
fn build_real(theme: &str) -> tempfile::TempDir {
    let site = real_site_copy(theme);
    let (status, _, stderr) = common::procdoc(site.path(), &["build"]);
    assert_eq!(status, 0, "{stderr}");
    site
}

/// Run a kit script; return its report. It must end with "N passed, 0 failed".
fn run_kit(script: &str, args: &[&str]) {
    let out = Command::new("node")
        .arg(kit().join(script))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        out.status.success()
            && last.ends_with(" passed, 0 failed")
            && !last.starts_with("0 passed"),
        "{script} {args:?} failed:\n{stdout}\n{stderr}"
    );
    println!("{script} {}: {last}", args.join(" "));
}

#[test]
fn both_themes_pass_axe_reflow_links_and_images_in_chromium() {
    if skip_unless_ready() {
        return;
    }
    for theme in ["default", "court"] {
        let site = build_real(theme);
        let out = site.path().join("output");
        // Served under the path of the base URL, as it is published.
        run_kit(
            "audit.mjs",
            &[
                out.to_str().unwrap(),
                "--base",
                "/procedures/",
                "--label",
                theme,
            ],
        );
    }
}

#[test]
fn both_themes_are_valid_html() {
    if skip_unless_ready() {
        return;
    }
    for theme in ["default", "court"] {
        let site = build_real(theme);
        run_kit("vnu.mjs", &[site.path().join("output").to_str().unwrap()]);
    }
}
