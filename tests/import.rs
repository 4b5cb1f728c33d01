//! `procdoc import`: the seed (the legacy export the project was started for)
//! imports into a procedure that checks clean but for its two screenshots and
//! renders like the hand-written one; each other shape seen in real exports
//! has a fixture under tests/fixtures/import/<case>/ (input.txt and the
//! expected/ Markdown; `PROCDOC_BLESS=1` rewrites them); what import cannot
//! read is reported at its line and column, and then nothing is written.

mod common;

use std::path::{Path, PathBuf};

use common::{procdoc, repo};
use procdoc::diag::SourceFile;

const SEED_SLUG: &str = "link-your-cm-ecf-account-to-your-upgraded-pacer-account";

fn seed() -> Option<PathBuf> {
    let path = repo().join("../shared/seed/000_5026b25f8c92122f.txt");
    if path.is_file() {
        Some(path)
    } else {
        println!("skipped: the seed {} is not here", path.display());
        None
    }
}

/// An empty site: a temporary folder with an empty procedures/.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("procedures")).unwrap();
    dir
}

fn json_check(site: &Path) -> (i32, Vec<serde_json::Value>) {
    let (status, stdout, stderr) = procdoc(site, &["check", "--format", "json"]);
    assert!(status != 2, "{stderr}");
    (status, serde_json::from_str(&stdout).expect("JSON"))
}

#[test]
fn the_seed_imports_snapshot() {
    let Some(path) = seed() else { return };
    let text = std::fs::read_to_string(&path).unwrap();
    let procedures =
        procdoc::import::import(&SourceFile::new("seed.txt", text)).expect("the seed imports");
    assert_eq!(procedures.len(), 1);
    let p = &procedures[0];
    assert_eq!(p.slug, SEED_SLUG);
    assert_eq!(p.steps, 10);
    insta::assert_snapshot!("seed", p.markdown);
}

#[test]
fn the_imported_seed_misses_only_its_two_screenshots_and_renders_like_the_original() {
    let Some(path) = seed() else { return };
    let site = site();
    let (status, stdout, stderr) = procdoc(site.path(), &["import", path.to_str().unwrap()]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, format!("wrote procedures/{SEED_SLUG}.md\n"));
    assert_eq!(
        stderr,
        "imported 10 steps; next: add the 2 screenshots it refers to (procdoc check names the files), then read it through\n"
    );

    let (status, diags) = json_check(site.path());
    assert_eq!(status, 1);
    let found: Vec<(&str, &str)> = diags
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    let missing = |n: u32| format!("procedures/images/{SEED_SLUG}-step-{n}.png does not exist");
    assert_eq!(
        found,
        [("E010", missing(2).as_str()), ("E010", missing(3).as_str())]
    );

    // With the screenshots in place: no problem at all, and a page like the
    // hand-written procedure's.
    let images = site.path().join("procedures/images");
    std::fs::create_dir(&images).unwrap();
    for (n, original) in [(2, "efiling-link.png"), (3, "pacer-login.png")] {
        std::fs::copy(
            repo().join("procedures/images").join(original),
            images.join(format!("{SEED_SLUG}-step-{n}.png")),
        )
        .unwrap();
    }
    let (status, diags) = json_check(site.path());
    assert_eq!((status, diags.len()), (0, 0), "{diags:?}");
    let (status, _, stderr) = procdoc(site.path(), &["build", "--out", "public"]);
    assert_eq!(status, 0, "{stderr}");
    let html = std::fs::read_to_string(site.path().join(format!("public/{SEED_SLUG}/index.html")))
        .unwrap();
    let page = scraper::Html::parse_document(&html);
    let select = |css: &str| {
        let selector = scraper::Selector::parse(css).unwrap();
        page.select(&selector)
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        select("h1"),
        ["Link Your CM/ECF Account to Your Upgraded PACER Account"]
    );
    assert_eq!(select("li.step").len(), 10);
    let figures = scraper::Selector::parse("li.step figure.screenshot img[alt]").unwrap();
    assert_eq!(page.select(&figures).count(), 2);
    let note = select(".callout-note");
    assert_eq!(note.len(), 1);
    assert!(note[0].contains("You cannot complete this process until AFTER our court is live"));
    assert!(!note[0].contains("NOTE:"));
    assert!(select("#step-7")[0].contains("DO NOT link a shared PACER account"));
    assert_eq!(
        select("#step-10 ul li"),
        [
            "Refresh your screen.",
            "Log out, shut down the browser, then log back in.",
            "Clear cookies, cache and history. Shut down the browser, then log back in."
        ]
    );
    assert_eq!(select("#step-9 a.step-ref"), ["step 10"]);
    assert_eq!(select(".procedure-body h2"), ["Steps", "Reminders"]);
    let reminders = select(".procedure-body section:last-child ul li");
    assert_eq!(reminders.len(), 2);
    assert!(reminders[1].contains("one-time process"));
}

/// Import a fixture into a fresh folder and compare with its expected/
/// files; then every file must check clean but for missing screenshots.
fn fixture(case: &str) -> Vec<String> {
    let dir = repo().join("tests/fixtures/import").join(case);
    let site = site();
    let out = site.path().join("procedures");
    let out_arg = format!("{}/", out.display());
    let (status, stdout, stderr) = procdoc(&dir, &["import", "input.txt", "--out", &out_arg]);
    assert_eq!(status, 0, "{case}: {stderr}");
    let written: Vec<String> = stdout
        .lines()
        .map(|l| {
            let path = l.strip_prefix("wrote ").expect("wrote <path>");
            Path::new(path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();

    let expected_dir = dir.join("expected");
    if std::env::var_os("PROCDOC_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&expected_dir);
        std::fs::create_dir_all(&expected_dir).unwrap();
        for name in &written {
            std::fs::copy(out.join(name), expected_dir.join(name)).unwrap();
        }
    }
    let mut expected: Vec<String> = std::fs::read_dir(&expected_dir)
        .unwrap_or_else(|e| panic!("{case}: {e}; run PROCDOC_BLESS=1 cargo test --test import"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    let mut sorted = written.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "{case}: the files written");
    for name in &written {
        assert_eq!(
            std::fs::read_to_string(out.join(name)).unwrap(),
            std::fs::read_to_string(expected_dir.join(name)).unwrap(),
            "{case}/expected/{name} differs (PROCDOC_BLESS=1 cargo test --test import rewrites it)"
        );
    }

    let (_, diags) = json_check(site.path());
    for d in &diags {
        assert_eq!(d["code"], "E010", "{case}: {d}");
    }
    written
}

#[test]
fn a_header_row_repeated_mid_table_and_page_headers_are_dropped() {
    assert_eq!(
        fixture("repeated-header"),
        ["file-a-notice-of-appearance.md"]
    );
}

#[test]
fn numbered_rows_with_a_period_or_spaces_are_steps() {
    assert_eq!(fixture("numbered-rows"), ["pay-a-filing-fee-online.md"]);
}

#[test]
fn lists_nested_two_levels_stay_lists() {
    assert_eq!(fixture("nested-lists"), ["reset-your-pacer-password.md"]);
}

#[test]
fn text_between_tables_stays_in_its_section() {
    assert_eq!(fixture("text-between-tables"), ["request-a-transcript.md"]);
}

#[test]
fn a_subtitle_becomes_the_summary() {
    assert_eq!(
        fixture("subtitle"),
        ["update-your-e-mail-address-in-cm-ecf.md"]
    );
}

#[test]
fn numbering_that_restarts_under_a_new_heading_is_another_procedure() {
    assert_eq!(
        fixture("several-procedures"),
        ["open-a-new-civil-case.md", "file-a-complaint.md"]
    );
    // Two procedures do not fit in one file.
    let dir = repo().join("tests/fixtures/import/several-procedures");
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("one.md");
    let (status, stdout, stderr) = procdoc(
        &dir,
        &["import", "input.txt", "--out", file.to_str().unwrap()],
    );
    assert_eq!((status, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        format!(
            "error: input.txt holds 2 procedures (\"Open a New Civil Case\", \"File a Complaint\"), and --out {} is one file\n\
             hint: give a folder to write one file per procedure, such as --out imported/\n",
            file.display()
        )
    );
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

/// Import `legacy` as legacy.txt in a fresh site: status and stderr, after
/// making sure nothing was written when it failed.
fn import_text(legacy: &str, args: &[&str]) -> (i32, String, String, tempfile::TempDir) {
    let site = site();
    std::fs::write(site.path().join("legacy.txt"), legacy).unwrap();
    let mut all = vec!["import", "legacy.txt"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = procdoc(site.path(), &all);
    if status != 0 {
        assert_eq!(stdout, "");
        assert_eq!(
            std::fs::read_dir(site.path().join("procedures"))
                .unwrap()
                .count(),
            0,
            "nothing is written after an error"
        );
    }
    (status, stdout, stderr, site)
}

const NOTHING: &str = "error: nothing was imported; correct legacy.txt and import it again\n";

#[test]
fn a_row_that_does_not_start_with_a_number_is_reported_where_it_is() {
    let (status, _, stderr, _) = import_text(
        "# Title\n\nSTEP\tACTION\n1\tClick <b>Go</b>.\nTwo\tClick <b>Next</b>.\n",
        &[],
    );
    assert_eq!(status, 1);
    assert_eq!(
        stderr,
        format!(
            "legacy.txt:5:1: error[E060]: `Two` is not a step number\n  |\n5 | Two\tClick <b>Next</b>.\n  | ^^^\n  = hint: a row is a step number, a tab and the action (or a tab and the text, for a row without a number); correct the line in the legacy file, or leave it out and write it into the Markdown afterwards\n{NOTHING}"
        )
    );
}

#[test]
fn a_row_of_more_than_two_cells_is_reported() {
    let (status, _, stderr, _) =
        import_text("# Title\nSTEP\tACTION\n1\tClick.\tMore\tcells\n", &[]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with(
            "legacy.txt:3:10: error[E060]: this row has 4 cells separated by tabs; import reads two, the step number and the action\n"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("E062"),
        "no second error for the same row: {stderr}"
    );
}

#[test]
fn a_row_before_any_header_row_is_reported() {
    let (status, _, stderr, _) = import_text("# Title\n\n1\tClick.\nSTEP\tACTION\n2\tNext.\n", &[]);
    assert_eq!(status, 1);
    assert_eq!(
        stderr,
        format!(
            "legacy.txt:3:1: error[E061]: this row comes before any STEP/ACTION header row\n  |\n3 | 1\tClick.\n  | ^\n  = hint: add a line STEP, a tab, ACTION above the first row, as the export writes at the top of each table\n{NOTHING}"
        )
    );
}

#[test]
fn a_file_without_steps_is_reported() {
    let (status, _, stderr, _) = import_text("# Some Title\n\nJust some text.\n", &[]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with("legacy.txt:1:1: error[E062]: `Some Title` has no steps\n"),
        "{stderr}"
    );
    let (status, _, stderr, _) = import_text("  \n\n", &[]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with("legacy.txt: error[E062]: the file is empty\n"),
        "{stderr}"
    );
}

#[test]
fn text_before_the_title_is_reported() {
    let (status, _, stderr, _) =
        import_text("\nSome text first.\n# Title\nSTEP\tACTION\n1\tGo.\n", &[]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with(
            "legacy.txt:2:1: error[E063]: this comes before the procedure's title line\n"
        ),
        "{stderr}"
    );
}

#[test]
fn a_title_that_cannot_be_a_web_address_is_reported() {
    let (status, _, stderr, _) = import_text("# IMAGES\nSTEP\tACTION\n1\tClick.\n", &[]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with(
            "legacy.txt:1:1: error[E064]: the title `Images` cannot be imported: its web address would be `images`, which is reserved for the site's own files (images, static, assets, fonts, theme, search, 404)\n"
        ),
        "{stderr}"
    );
}

#[test]
fn nothing_is_ever_overwritten() {
    let legacy = "# Open a Case\nSTEP\tACTION\n1\tClick <b>Civil</b>.\n";
    let (status, stdout, _, site) = import_text(legacy, &[]);
    assert_eq!(
        (status, stdout.as_str()),
        (0, "wrote procedures/open-a-case.md\n")
    );
    let path = site.path().join("procedures/open-a-case.md");
    std::fs::write(&path, "edited\n").unwrap();
    let (status, stdout, stderr) = procdoc(site.path(), &["import", "legacy.txt"]);
    assert_eq!((status, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        "error: procedures/open-a-case.md already exists; procdoc import never overwrites a file, and wrote nothing\n\
         hint: move that file away, or import into another place with --out\n"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "edited\n");

    // --out: a .md file, or a folder; anything else is asked about.
    let (status, stdout, _) = procdoc(site.path(), &["import", "legacy.txt", "--out", "draft.md"]);
    assert_eq!((status, stdout.as_str()), (0, "wrote draft.md\n"));
    let (status, _, stderr) = procdoc(site.path(), &["import", "legacy.txt", "--out", "draft"]);
    assert_eq!(status, 1);
    assert_eq!(
        stderr,
        "error: --out draft is neither a folder nor a .md file\nhint: to write into a new folder, end its name with /, such as --out draft/\n"
    );
    let (status, stdout, _) = procdoc(site.path(), &["import", "legacy.txt", "--out", "draft/"]);
    assert_eq!(
        (status, stdout.as_str()),
        (0, "wrote draft/open-a-case.md\n")
    );
}

#[test]
fn without_a_procedures_folder_or_a_readable_file_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("legacy.txt"), "# A\nSTEP\tACTION\n1\tGo.\n").unwrap();
    let (status, _, stderr) = procdoc(dir.path(), &["import", "legacy.txt"]);
    assert_eq!(status, 2);
    assert!(
        stderr.starts_with("error: no procedures/ folder in this folder"),
        "{stderr}"
    );
    let (status, _, stderr) = procdoc(dir.path(), &["import", "missing.txt"]);
    assert_eq!(status, 2);
    assert!(
        stderr.starts_with("error: cannot read missing.txt: "),
        "{stderr}"
    );

    std::fs::write(dir.path().join("latin1.txt"), b"# Caf\xe9\n").unwrap();
    let (status, _, stderr) = procdoc(dir.path(), &["import", "latin1.txt"]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with("latin1.txt:1:6: error[E041]: byte 0xE9 is not UTF-8 text\n"),
        "{stderr}"
    );
}

#[test]
fn help_has_examples() {
    let (status, stdout, _) = procdoc(repo(), &["import", "--help"]);
    assert_eq!(status, 0);
    assert!(stdout.contains("Examples:\n  procdoc import "), "{stdout}");
}
