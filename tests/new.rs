//! `procdoc new "Title"`: a skeleton that passes the check as it is, never
//! written over an existing procedure, and titles the site would refuse
//! refused before anything is written.

mod common;

use std::path::Path;

use common::procdoc;

/// An empty site: a temporary folder with an empty procedures/.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("procedures")).unwrap();
    dir
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("procedures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_new_procedure_passes_the_check_as_it_is() {
    let site = site();
    let (status, stdout, stderr) = procdoc(site.path(), &["new", "File a Notice of Appearance"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "wrote procedures/file-a-notice-of-appearance.md\n");
    assert_eq!(
        stderr,
        "next: replace the placeholder text in it, then run procdoc check\n"
    );

    let text = std::fs::read_to_string(
        site.path()
            .join("procedures/file-a-notice-of-appearance.md"),
    )
    .unwrap();
    assert!(text.starts_with("+++\ntitle = \"File a Notice of Appearance\"\nsummary = \""));
    assert!(!text.contains("category"), "{text}");
    // Today's date, year-month-day.
    let updated = text
        .lines()
        .find_map(|l| l.strip_prefix("updated = "))
        .expect("an updated date");
    assert!(
        updated.len() == 10
            && updated.as_bytes()[4] == b'-'
            && updated.as_bytes()[7] == b'-'
            && updated.starts_with("20"),
        "{updated}"
    );
    assert!(text.contains("\n## Steps\n\n| Step | Action |\n|-----:|--------|\n| 1 | "));
    assert!(text.contains("\n| 3 | "), "three placeholder steps: {text}");

    let (status, stdout, stderr) = procdoc(site.path(), &["check"]);
    assert_eq!((status, stdout.as_str()), (0, ""), "{stderr}");
    assert_eq!(stderr, "checked 1 procedure: no problems\n");
}

#[test]
fn the_category_goes_into_the_front_matter() {
    let site = site();
    let (status, _, stderr) = procdoc(
        site.path(),
        &[
            "new",
            "Pay a \"Filing\" Fee Online",
            "--category",
            "E-Filing (CM/ECF)",
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    let text =
        std::fs::read_to_string(site.path().join("procedures/pay-a-filing-fee-online.md")).unwrap();
    // Quotes in the title stay valid TOML.
    assert!(
        text.starts_with("+++\ntitle = 'Pay a \"Filing\" Fee Online'\n"),
        "{text}"
    );
    assert!(
        text.contains("\ncategory = \"E-Filing (CM/ECF)\"\n"),
        "{text}"
    );
    let (status, _, stderr) = procdoc(site.path(), &["check"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stderr, "checked 1 procedure: no problems\n");
}

#[test]
fn an_existing_procedure_is_never_overwritten() {
    let site = site();
    let (status, _, _) = procdoc(site.path(), &["new", "Reset Your Password"]);
    assert_eq!(status, 0);
    let path = site.path().join("procedures/reset-your-password.md");
    std::fs::write(&path, "edited by hand\n").unwrap();

    let (status, stdout, stderr) = procdoc(site.path(), &["new", "Reset your password!"]);
    assert_eq!((status, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        "error: procedures/reset-your-password.md already exists; procdoc new never overwrites a procedure\n\
         hint: open that file to change it, or give the new procedure another title\n"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "edited by hand\n");

    // A bundle folder with that slug counts too.
    std::fs::create_dir(site.path().join("procedures/open-a-case")).unwrap();
    std::fs::write(site.path().join("procedures/open-a-case/index.md"), "x").unwrap();
    let (status, _, stderr) = procdoc(site.path(), &["new", "Open a Case"]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with("error: procedures/open-a-case/index.md already exists"),
        "{stderr}"
    );
    assert_eq!(
        files(site.path()),
        ["open-a-case", "reset-your-password.md"]
    );
}

#[test]
fn titles_the_site_would_refuse_are_refused_with_a_hint() {
    let site = site();
    let hint = "hint: give a title in words that says what the reader does, such as: procdoc new \"File a Motion\"\n";
    let (status, stdout, stderr) = procdoc(site.path(), &["new", "?!"]);
    assert_eq!((status, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        format!(
            "error: the title \"?!\" cannot be used: it has no letters or digits to make a web address of\n{hint}"
        )
    );
    let (status, _, stderr) = procdoc(site.path(), &["new", "Images"]);
    assert_eq!(status, 1);
    assert_eq!(
        stderr,
        format!(
            "error: the title \"Images\" cannot be used: its web address would be `images`, which is reserved for the site's own files (images, static, assets, fonts, theme, search, 404)\n{hint}"
        )
    );
    let (status, _, stderr) = procdoc(site.path(), &["new", "Заявление"]);
    assert_eq!(status, 1);
    assert!(
        stderr.contains("a web address takes only Latin letters, digits and hyphens"),
        "{stderr}"
    );
    assert!(files(site.path()).is_empty());
}

#[test]
fn without_a_procedures_folder_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = procdoc(dir.path(), &["new", "Anything"]);
    assert_eq!(status, 2);
    assert_eq!(
        stderr,
        "error: no procedures/ folder in this folder: run procdoc in the site's folder, or name it with --root\n"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // --root names the site.
    std::fs::create_dir_all(dir.path().join("site/procedures")).unwrap();
    let (status, stdout, _) = procdoc(dir.path(), &["--root", "site", "new", "Anything"]);
    assert_eq!(
        (status, stdout.as_str()),
        (0, "wrote site/procedures/anything.md\n")
    );
}

#[test]
fn help_has_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let (status, stdout, _) = procdoc(dir.path(), &["new", "--help"]);
    assert_eq!(status, 0);
    assert!(
        stdout.contains("Examples:\n  procdoc new \"File a Notice of Appearance\"\n"),
        "{stdout}"
    );
}
