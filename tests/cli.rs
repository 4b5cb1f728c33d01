//! The command line as a user meets it: the real site checks clean, paths
//! are printed so they can be opened, JSON is JSON, exit statuses mean what
//! the README says, and colour appears only on a terminal without NO_COLOR.

mod common;

use std::process::Command;

use common::{procdoc, real_site_copy, repo, without_timing};

#[test]
fn the_real_procedures_check_clean() {
    let (status, stdout, stderr) = procdoc(repo(), &["check"]);
    assert_eq!((status, stdout.as_str()), (0, ""), "{stderr}");
    assert_eq!(stderr, "checked 1 procedure: no problems\n");
}

#[test]
fn no_command_means_build_which_checks_first() {
    // A copy of the real site, so the test publishes into a folder of its own.
    let site = real_site_copy("default");
    let (status, _, stderr) = procdoc(site.path(), &[]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        without_timing(&stderr),
        "published 1 procedure, 1 handout and 2 screenshots to output\n"
    );
    assert!(stderr.ends_with(" s\n"), "the time it took: {stderr}");
    // --quiet: nothing but problems.
    let (status, stdout, stderr) = procdoc(site.path(), &["--quiet", "build"]);
    assert_eq!((status, stdout.as_str(), stderr.as_str()), (0, "", ""));
    let (status, _, stderr) = procdoc(site.path(), &["check", "-q"]);
    assert_eq!((status, stderr.as_str()), (0, ""));
    assert!(
        site.path()
            .join("output/link-cmecf-pacer/index.html")
            .is_file()
    );

    // A copy: a build keeps its cache in the site's folder, even one that fails.
    let bad_copy = tempfile::tempdir().unwrap();
    let bad = bad_copy.path();
    common::copy_dir(&repo().join("tests/fixtures/check/step-gap/site"), bad);
    let (status, _, stderr) = procdoc(bad, &[]);
    assert_eq!(status, 1);
    assert!(
        stderr.contains("error[E002]: step 4 follows step 2 (expected 3)"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("error: nothing was published; fix the errors above and build again\n"),
        "{stderr}"
    );
    assert!(!bad.join("output").exists());
}

#[test]
fn paths_are_printed_from_where_the_user_stands() {
    let case = repo().join("tests/fixtures/check/step-gap");
    let (status, _, stderr) = procdoc(&case, &["--root", "site", "check"]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with(
            "site/procedures/p.md:9:3: error[E002]: step 4 follows step 2 (expected 3)\n"
        ),
        "{stderr}"
    );
}

#[test]
fn json_output_is_one_array_of_diagnostics() {
    let site = repo().join("tests/fixtures/check/front-unknown-key/site");
    let (status, stdout, stderr) = procdoc(&site, &["check", "--format", "json"]);
    assert_eq!(status, 1);
    assert_eq!(stderr, "", "JSON mode keeps standard error quiet");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(
        json,
        serde_json::json!([
            {
                "path": "procedures/p.md", "line": 3, "column": 1,
                "severity": "error", "code": "E023",
                "message": "unknown front matter key `categroy`",
                "hint": "did you mean `category`? The keys are title, summary, category, updated, lang, weight"
            },
            {
                "path": "procedures/p.md", "line": 4, "column": 1,
                "severity": "error", "code": "E023",
                "message": "unknown front matter key `colour`",
                "hint": "the keys are title, summary, category, updated, lang and weight"
            }
        ])
    );
    let (status, stdout, _) = procdoc(repo(), &["check", "--format", "json"]);
    assert_eq!((status, stdout.as_str()), (0, "[]\n"));
}

#[test]
fn warnings_alone_exit_zero() {
    let site = repo().join("tests/fixtures/check/unused-image/site");
    let (status, stdout, _) = procdoc(&site, &["check", "--format", "json"]);
    assert_eq!(status, 0);
    let json: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert!(json.iter().all(|d| d["severity"] == "warning"));
    assert_eq!(json.len(), 2);
}

#[test]
fn a_folder_that_is_not_a_site_exits_two() {
    let empty = std::env::temp_dir().join(format!("procdoc-not-a-site-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (status, _, stderr) = procdoc(&empty, &["check"]);
    assert_eq!(status, 2);
    assert_eq!(
        stderr,
        "error: no procedures/ folder in this folder: run procdoc in the site's folder, or name it with --root\n"
    );
    let (status, _, stderr) = procdoc(&empty, &["--root", "no/such/dir", "check"]);
    assert_eq!(status, 2);
    assert_eq!(stderr, "error: no/such/dir is not a folder\n");
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn help_gives_an_example_for_every_command() {
    for args in [&["--help"][..], &["check", "--help"], &["build", "--help"]] {
        let (status, stdout, _) = procdoc(repo(), args);
        assert_eq!(status, 0);
        assert!(stdout.contains("Example"), "{args:?}: {stdout}");
    }
}

/// Run procdoc under a pseudo-terminal (util-linux `script`), so that it
/// sees a terminal on standard error.
fn on_a_terminal(no_color: bool) -> Option<String> {
    let bin = env!("CARGO_BIN_EXE_procdoc");
    let site = repo().join("tests/fixtures/check/step-gap/site");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{bin} check"), "/dev/null"])
        .current_dir(site);
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let out = cmd.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let Some(coloured) = on_a_terminal(false) else {
        // CI installs util-linux, so there this is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "util-linux `script` is missing on CI"
        );
        println!("skipped: util-linux `script` is not installed, so no terminal can be faked");
        return;
    };
    assert!(coloured.contains("\x1b[1;31merror[E002]"), "{coloured:?}");
    let plain = on_a_terminal(true).unwrap();
    assert!(
        plain.contains("error[E002]") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    // And never when the output is not a terminal.
    let (_, _, piped) = procdoc(
        &repo().join("tests/fixtures/check/step-gap/site"),
        &["check"],
    );
    assert!(!piped.contains('\x1b'));
}
