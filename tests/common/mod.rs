//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test crate uses some of them

pub mod safe_html;

use std::path::Path;
use std::process::Command;

/// The repository: the real site (procdoc.toml, procedures/, themes/).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run the procdoc binary in `dir`: exit status, stdout, stderr.
pub fn procdoc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_procdoc"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("procdoc runs");
    (
        out.status.code().expect("procdoc exits, it does not crash"),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

/// Copy a folder (a site), leaving out what a build makes.
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        if rel.starts_with("output") || rel.starts_with(".procdoc-cache") {
            continue;
        }
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the real site's content (procdoc.toml and procedures/, no
/// themes/: the built-in ones serve), with `theme` selected.
pub fn real_site_copy(theme: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let toml = std::fs::read_to_string(repo().join("procdoc.toml")).unwrap();
    let toml = toml.replace("theme = \"default\"", &format!("theme = \"{theme}\""));
    std::fs::write(dir.path().join("procdoc.toml"), toml).unwrap();
    copy_dir(&repo().join("procedures"), &dir.path().join("procedures"));
    dir
}

/// A build's closing line without its timing: "... to output in 1.4 s, reusing
/// ..." -> "... to output, reusing ..." (tests never assert on time).
pub fn without_timing(stderr: &str) -> String {
    stderr
        .lines()
        .map(|line| {
            if !line.starts_with("published ") {
                return line.to_string();
            }
            let Some(i) = line.rfind(" in ") else {
                return line.to_string();
            };
            let rest = &line[i + 4..];
            let number_end = rest
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .unwrap_or(rest.len());
            match rest[number_end..].strip_prefix(" s") {
                Some(after) if number_end > 0 => format!("{}{after}", &line[..i]),
                _ => line.to_string(),
            }
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Tests that need outside tools call this with the reason they cannot run,
/// if any: they pass with a printed reason on a developer's machine, and fail
/// on CI (where CI is set), which must install everything.
pub fn skip_for(missing: Option<String>) -> bool {
    match missing {
        None => false,
        Some(reason) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "on CI every test runs: {reason}"
            );
            println!("skipped: {reason}");
            true
        }
    }
}

/// Compare what a run printed on standard error, and its exit status, with
/// the expectation in `dir` (`stderr` and `status`), naming `what` ran in a
/// failure; with `PROCDOC_BLESS` set, write them there instead (read the
/// diff before committing it).
pub fn expect_output(dir: &Path, what: &str, stderr: &str, status: i32) {
    let status = format!("{status}\n");
    if std::env::var_os("PROCDOC_BLESS").is_some() {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("stderr"), stderr).unwrap();
        std::fs::write(dir.join("status"), &status).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(dir.join("stderr")).expect("expected stderr");
    let expected_status = std::fs::read_to_string(dir.join("status")).expect("expected status");
    assert_eq!(stderr, expected, "stderr of {what}");
    assert_eq!(status, expected_status, "exit status of {what}");
}
