//! The build cache (`.procdoc-cache/build/`): a rebuild reuses what did not
//! change, redoes what did, publishes exactly what a cold build publishes,
//! and never trusts a cache that was damaged.
//!
//! "Reused" is observed two ways: the closing line says so, and the published
//! file is the very file the earlier build published (same inode: a hard
//! link to the cached copy), so it was not laid out or encoded again.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{copy_dir, procdoc, repo, without_timing};

/// A copy of the three-procedure fixture (two screenshots, in
/// file-a-motion.md).
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/site/multi"), dir.path());
    dir
}

fn build(site: &Path, args: &[&str]) -> String {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let (status, _, stderr) = procdoc(site, &all);
    assert_eq!(status, 0, "{stderr}");
    without_timing(&stderr)
}

/// Every file of a published site, by path, with its bytes.
fn tree(out: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(out)
        .sort_by_file_name()
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(out).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// The inode of each handout and picture of a published site.
fn inodes(out: &Path) -> BTreeMap<String, u64> {
    walkdir::WalkDir::new(out)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| {
            e.file_type().is_file()
                && e.path()
                    .extension()
                    .is_some_and(|x| x == "pdf" || x == "png")
        })
        .map(|e| {
            let rel = e.path().strip_prefix(out).unwrap().display().to_string();
            (rel, e.metadata().unwrap().ino())
        })
        .collect()
}

fn assert_same_tree(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) {
    let names = |t: &BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(a), names(b));
    for (path, bytes) in a {
        assert!(b[path] == *bytes, "{path} differs");
    }
}

/// What a cold build of the site as it is now publishes, made in a copy with
/// no cache.
fn cold_tree(site: &Path) -> BTreeMap<String, Vec<u8>> {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(site, copy.path());
    let line = build(copy.path(), &[]);
    assert!(!line.contains("reusing"), "{line}");
    tree(&copy.path().join("output"))
}

fn index_file(site: &Path) -> std::path::PathBuf {
    site.join(".procdoc-cache/build/index.bin")
}

/// Replace `from` (which must be there) with `to` in the file at `path`.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// Where `needle` starts in `bytes`.
fn find(bytes: &[u8], needle: &[u8]) -> Option<usize> {
    bytes.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn a_rebuild_with_no_change_makes_nothing_and_publishes_the_same_site() {
    let site = site();
    let out = site.path().join("output");
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output\n"
    );
    let first = tree(&out);
    let first_inodes = inodes(&out);
    assert!(first_inodes.len() >= 7, "{first_inodes:?}");

    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 3 handouts and 2 screenshots from the build cache\n"
    );
    assert_same_tree(&first, &tree(&out));
    assert_eq!(first_inodes, inodes(&out), "nothing was made again");
}

#[test]
fn editing_one_procedure_redoes_only_that_procedure() {
    let site = site();
    let out = site.path().join("output");
    build(site.path(), &[]);
    let before = inodes(&out);

    edit(
        &site.path().join("procedures/jury-duty.md"),
        "Enter your participant number.",
        "Enter the participant number printed on your summons.",
    );
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 2 handouts and 2 screenshots from the build cache\n"
    );
    let after = inodes(&out);
    for (path, inode) in &before {
        if path == "jury-duty/jury-duty.pdf" {
            assert_ne!(after[path], *inode, "the edited procedure's handout is new");
        } else {
            assert_eq!(after[path], *inode, "{path} was made again");
        }
    }
    let page = std::fs::read_to_string(out.join("jury-duty/index.html")).unwrap();
    assert!(page.contains("printed on your summons"));
    // Exactly what a build without a cache publishes.
    assert_same_tree(&cold_tree(site.path()), &tree(&out));
}

#[test]
fn a_changed_screenshot_gets_new_copies_and_a_new_handout() {
    let site = site();
    let out = site.path().join("output");
    build(site.path(), &[]);
    let before = inodes(&out);
    // small.png becomes another picture (the same content as a cached one
    // would be found in the cache: copies are kept by content).
    let images = site.path().join("procedures/images");
    std::fs::copy(
        repo().join("procedures/images/pacer-login.png"),
        images.join("small.png"),
    )
    .unwrap();
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 2 handouts and 1 screenshot from the build cache\n"
    );
    let after = inodes(&out);
    assert!(
        !after
            .keys()
            .any(|k| k.starts_with("images/small-") && before.contains_key(k)),
        "the old copies of small.png are gone: {after:?}"
    );
    assert_ne!(
        after["file-a-motion/file-a-motion.pdf"],
        before["file-a-motion/file-a-motion.pdf"]
    );
    assert_eq!(
        after["jury-duty/jury-duty.pdf"],
        before["jury-duty/jury-duty.pdf"]
    );
    assert_same_tree(&cold_tree(site.path()), &tree(&out));
}

#[test]
fn settings_and_theme_changes_remake_every_handout() {
    let site = site();
    build(site.path(), &[]);
    let toml = site.path().join("procdoc.toml");
    let settings = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{settings}paper = \"a4\"\n")).unwrap();
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 2 screenshots from the build cache\n"
    );

    // A theme of the site's own that only changes the accent colour.
    let theme = site.path().join("themes/house");
    std::fs::create_dir_all(&theme).unwrap();
    let default = std::fs::read_to_string(repo().join("themes/default/theme.toml")).unwrap();
    let accent = default
        .lines()
        .find(|l| l.starts_with("accent"))
        .expect("the default theme has an accent colour")
        .to_string();
    let name = default
        .lines()
        .find(|l| l.starts_with("name"))
        .expect("the default theme has a name")
        .to_string();
    let house = default
        .replacen(&accent, "accent = \"#5a1e6e\"", 1)
        .replacen(&name, "name = \"House\"\nextends = \"default\"", 1);
    std::fs::write(theme.join("theme.toml"), house).unwrap();
    std::fs::write(
        &toml,
        format!("{settings}paper = \"a4\"\n").replace("language", "theme = \"house\"\nlanguage"),
    )
    .unwrap();
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 2 screenshots from the build cache\n"
    );
    assert_same_tree(&cold_tree(site.path()), &tree(&site.path().join("output")));
}

#[test]
fn a_damaged_cache_is_made_again_never_trusted() {
    let site = site();
    let out = site.path().join("output");
    build(site.path(), &[]);
    let good = tree(&out);

    // An index cut in half (as a full disk might leave it) is dropped.
    let index = index_file(site.path());
    let bytes = std::fs::read(&index).unwrap();
    std::fs::write(&index, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output\n"
    );
    assert_same_tree(&good, &tree(&out));

    // A cached handout overwritten with garbage of the same length, and a
    // cached picture cut short: both are made again, and the site is whole.
    let blobs = site.path().join(".procdoc-cache/build/blobs");
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let name_of = |p: &std::path::PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
    let handout = names
        .iter()
        .find(|p| name_of(p).starts_with("handout-"))
        .expect("a cached handout");
    let len = std::fs::metadata(handout).unwrap().len() as usize;
    std::fs::write(handout, vec![b'x'; len]).unwrap();
    let copy = names
        .iter()
        .find(|p| name_of(p).ends_with("-720.png"))
        .expect("a cached web copy");
    let b = std::fs::read(copy).unwrap();
    std::fs::write(copy, &b[..b.len() / 3]).unwrap();
    let line = build(site.path(), &[]);
    assert!(
        line.contains("reusing 2 handouts and 1 screenshot from the build cache"),
        "{line}"
    );
    assert_same_tree(&good, &tree(&out));
    // Nothing of the damage is left in the cache either.
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 3 handouts and 2 screenshots from the build cache\n"
    );
    assert_same_tree(&good, &tree(&out));
}

#[test]
fn another_procdoc_version_or_clean_starts_cold() {
    let site = site();
    build(site.path(), &[]);
    let index = index_file(site.path());
    let bytes = std::fs::read(&index).unwrap();
    // The index starts with the version of procdoc that wrote it.
    let prefix = format!("procdoc {} (code ", env!("CARGO_PKG_VERSION"));
    let start = find(&bytes, prefix.as_bytes()).expect("the index names procdoc's version");
    let end = start + find(&bytes[start..], b") cache 3").expect("and its cache format") + 9;
    let version = String::from_utf8(bytes[start..end].to_vec()).unwrap();
    let code = &version[prefix.len()..version.len() - ") cache 3".len()];
    assert!(
        code.len() >= 8 && code.bytes().all(|b| b.is_ascii_hexdigit()),
        "the index names a hash of procdoc's code: {version}"
    );
    // Another version of procdoc, then the same version built from other
    // code: both start cold (written over the version, the same length).
    for other in [
        version.replace(&prefix, "procdoc 0.0.1 (code "),
        format!("{prefix}{}) cache 3", "0".repeat(code.len())),
    ] {
        assert_eq!(other.len(), version.len());
        let mut changed = std::fs::read(&index).unwrap();
        let at = find(&changed, prefix.as_bytes()).unwrap();
        changed[at..at + other.len()].copy_from_slice(other.as_bytes());
        std::fs::write(&index, &changed).unwrap();
        assert_eq!(
            build(site.path(), &[]),
            "published 3 procedures, 3 handouts and 2 screenshots to output\n"
        );
    }

    let before = inodes(&site.path().join("output"));
    assert_eq!(
        build(site.path(), &["--clean"]),
        "published 3 procedures, 3 handouts and 2 screenshots to output\n"
    );
    let after = inodes(&site.path().join("output"));
    assert!(before.iter().all(|(k, v)| after[k] != *v), "all made anew");
    // Deleting the folder works as well as --clean.
    std::fs::remove_dir_all(site.path().join(".procdoc-cache")).unwrap();
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output\n"
    );
}

#[test]
fn a_build_without_handouts_keeps_them_for_the_next() {
    let site = site();
    build(site.path(), &[]);
    assert_eq!(
        build(site.path(), &["--no-pdf"]),
        "published 3 procedures and 2 screenshots to output, reusing 2 screenshots from the build cache\n"
    );
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 3 handouts and 2 screenshots from the build cache\n"
    );
}

#[test]
fn a_failed_build_keeps_the_cache_for_the_fix() {
    let site = site();
    build(site.path(), &[]);
    let file = site.path().join("procedures/link-accounts.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("| 2 |", "| 3 |", 1)).unwrap();
    let (status, _, _) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 1, "the broken numbering fails the build");
    std::fs::write(&file, &text).unwrap();
    assert_eq!(
        build(site.path(), &[]),
        "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 3 handouts and 2 screenshots from the build cache\n"
    );
}

#[test]
fn the_check_reads_the_cache_but_never_writes_it() {
    let site = site();
    let (status, _, _) = procdoc(site.path(), &["check"]);
    assert_eq!(status, 0);
    assert!(
        !site.path().join(".procdoc-cache").exists(),
        "check alone makes no cache"
    );
    build(site.path(), &[]);
    let index = std::fs::read(index_file(site.path())).unwrap();
    // What the build learnt of a picture holds only while the file is
    // unchanged: a changed picture is read and decoded again.
    let small = site.path().join("procedures/images/small.png");
    std::fs::write(&small, b"not a picture any more").unwrap();
    let (status, _, stderr) = procdoc(site.path(), &["check"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("small.png"), "{stderr}");
    assert_eq!(
        std::fs::read(index_file(site.path())).unwrap(),
        index,
        "check left the cache as it was"
    );
}

#[test]
fn many_handouts_are_laid_out_in_worker_processes_exactly_as_in_the_build() {
    // Seventeen procedures: more than a worker's batch of sixteen.
    let site = tempfile::tempdir().unwrap();
    let fixture = repo().join("tests/fixtures/site/multi");
    std::fs::copy(
        fixture.join("procdoc.toml"),
        site.path().join("procdoc.toml"),
    )
    .unwrap();
    let procedures = site.path().join("procedures");
    std::fs::create_dir_all(&procedures).unwrap();
    let text = std::fs::read_to_string(fixture.join("procedures/jury-duty.md")).unwrap();
    for n in 1..=17 {
        std::fs::write(
            procedures.join(format!("jury-duty-{n}.md")),
            text.replace("Answer a Jury Summons", &format!("Answer Jury Summons {n}")),
        )
        .unwrap();
    }
    let in_process = tempfile::tempdir().unwrap();
    copy_dir(site.path(), in_process.path());

    let run = |dir: &Path, batch: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_procdoc"))
            .arg("build")
            .current_dir(dir)
            .env("PROCDOC_HANDOUT_BATCH", batch)
            .env("PROCDOC_TIMINGS", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let stderr = run(site.path(), "16");
    assert!(
        stderr.contains("timing: 17 handouts laid out by 2 worker processes"),
        "{stderr}"
    );
    // The same site with every handout laid out by the build itself.
    let stderr = run(in_process.path(), "1000");
    assert!(
        stderr.contains("timing: 17 handouts laid out by the build itself"),
        "{stderr}"
    );
    assert_same_tree(
        &tree(&in_process.path().join("output")),
        &tree(&site.path().join("output")),
    );
}

#[test]
fn a_removed_procedure_leaves_nothing_behind() {
    let site = site();
    let out = site.path().join("output");
    build(site.path(), &[]);
    build(site.path(), &[]);
    // The site just replaced is kept in the cache to start the next build
    // from; something left in it by another program must not be published.
    let spare = site.path().join(".procdoc-cache/build/spare");
    let kept: Vec<_> = std::fs::read_dir(&spare).unwrap().collect();
    assert_eq!(kept.len(), 1, "one spare site for one output folder");
    let spare_site = kept.into_iter().next().unwrap().unwrap().path();
    std::fs::write(spare_site.join("stray.html"), "not ours").unwrap();

    std::fs::remove_file(site.path().join("procedures/jury-duty.md")).unwrap();
    assert_eq!(
        build(site.path(), &[]),
        "published 2 procedures, 2 handouts and 2 screenshots to output, reusing 2 handouts and 2 screenshots from the build cache\n"
    );
    assert!(!out.join("jury-duty").exists());
    assert!(!out.join("stray.html").exists());
    assert_same_tree(&cold_tree(site.path()), &tree(&out));
}

/// The inode of each HTML page of a published site.
fn page_inodes(out: &Path) -> BTreeMap<String, u64> {
    walkdir::WalkDir::new(out)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| {
            let rel = e.path().strip_prefix(out).unwrap().display().to_string();
            (rel, e.metadata().unwrap().ino())
        })
        .collect()
}

#[test]
fn a_page_is_made_again_exactly_when_what_it_shows_changes() {
    let site = site();
    let out = site.path().join("output");
    build(site.path(), &[]);
    let first = page_inodes(&out);
    // Each procedure page is kept in the build cache, and linked from it.
    let index = std::fs::read(index_file(site.path())).unwrap();
    let pages = index.windows(10).filter(|w| w == b"-page.html").count();
    assert_eq!(pages, 4, "one page entry per procedure, and the index page");
    build(site.path(), &[]);
    assert_eq!(first, page_inodes(&out), "no page was written again");

    // A word changed in a step shows on its own page only: the index's
    // card (title, summary, steps, handout pages and rounded size) is as
    // it was, so the index comes from the cache.
    edit(
        &site.path().join("procedures/jury-duty.md"),
        "Enter your participant number.",
        "Type your participant number.",
    );
    build(site.path(), &[]);
    let edited = page_inodes(&out);
    assert_ne!(
        edited["jury-duty/index.html"],
        first["jury-duty/index.html"]
    );
    assert_eq!(
        edited["index.html"], first["index.html"],
        "the index is linked from the cache"
    );
    assert_same_tree(&cold_tree(site.path()), &tree(&out));
    let first = edited;

    // A new title shows on its own page and, as "previous" or "next", on
    // the page of the other procedure in its category; the jury page does
    // not show it.
    edit(
        &site.path().join("procedures/link-accounts.md"),
        "title = \"Link Accounts\"",
        "title = \"Link Your Accounts\"",
    );
    build(site.path(), &[]);
    let after = page_inodes(&out);
    for (page, remade) in [
        ("link-accounts/index.html", true),
        ("file-a-motion/index.html", true),
        ("jury-duty/index.html", false),
        ("index.html", true),
    ] {
        assert_eq!(after[page] != first[page], remade, "{page}");
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("Link Your Accounts"), "{index}");
    let neighbour = std::fs::read_to_string(out.join("file-a-motion/index.html")).unwrap();
    assert!(neighbour.contains("Link Your Accounts"), "{neighbour}");
    assert_same_tree(&cold_tree(site.path()), &tree(&out));

    // A template of the site's own: every procedure page is made again.
    let templates = site.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let page =
        std::fs::read_to_string(repo().join("themes/default/templates/procedure.html")).unwrap();
    let house = page.replacen("{% block main %}", "{% block main %}<!-- house -->", 1);
    assert_ne!(house, page);
    std::fs::write(templates.join("procedure.html"), house).unwrap();
    let before = page_inodes(&out);
    build(site.path(), &[]);
    let after = page_inodes(&out);
    for page in [
        "link-accounts/index.html",
        "file-a-motion/index.html",
        "jury-duty/index.html",
    ] {
        assert_ne!(after[page], before[page], "{page}");
        let html = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(html.contains("<!-- house -->"), "{page}");
    }
    assert_same_tree(&cold_tree(site.path()), &tree(&out));
}

/// A build with `PROCDOC_TIMINGS`: its status, and how many procedures it
/// parsed and checked and how many their memos stood for.
fn build_counting(site: &Path) -> (i32, String, (usize, usize)) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_procdoc"))
        .arg("build")
        .current_dir(site)
        .env("PROCDOC_TIMINGS", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = stderr
        .lines()
        .find(|l| l.contains("procedures parsed and checked"))
        .unwrap_or_else(|| panic!("no count of parsed procedures in {stderr}"));
    let numbers: Vec<usize> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let shown: String = stderr
        .lines()
        .filter(|l| !l.starts_with("timing: "))
        .map(|l| format!("{l}\n"))
        .collect();
    (
        out.status.code().unwrap(),
        without_timing(&shown),
        (numbers[0], numbers[1]),
    )
}

/// Build, check that it published after parsing and checking `counts`
/// (parsed, remembered) procedures, and that it published exactly what a
/// cold build does; its standard error without timings.
fn publishes_as_cold(site: &Path, counts: (usize, usize)) -> String {
    let (status, stderr, parsed) = build_counting(site);
    assert_eq!((status, parsed), (0, counts), "{stderr}");
    assert_same_tree(&cold_tree(site), &tree(&site.join("output")));
    stderr
}

#[test]
fn an_edit_parses_and_checks_only_the_procedures_whose_results_it_can_change() {
    let site = site();
    let out = site.path().join("output");
    // A picture nobody shows: a warning of the site as a whole.
    std::fs::copy(
        site.path().join("procedures/images/small.png"),
        site.path().join("procedures/images/spare.png"),
    )
    .unwrap();
    let (status, first, counts) = build_counting(site.path());
    assert_eq!(status, 0, "{first}");
    assert_eq!(counts, (3, 0), "a cold build parses everything");
    assert!(first.contains("W001"), "{first}");

    publishes_as_cold(site.path(), (0, 3));

    // A word in a step: only that file is read as Markdown again. The
    // pictures the other procedures show still count as used, and the
    // unused one is still reported, exactly as before.
    let jury = site.path().join("procedures/jury-duty.md");
    edit(
        &jury,
        "Enter your participant number.",
        "Type your participant number.",
    );
    assert_eq!(
        publishes_as_cold(site.path(), (1, 2)),
        first.replace(
            "published 3 procedures, 3 handouts and 2 screenshots to output (1 warning)",
            "published 3 procedures, 3 handouts and 2 screenshots to output, reusing 2 handouts and 2 screenshots from the build cache (1 warning)"
        )
    );

    // A page missing from the cache is made from the model, parsed then.
    let blobs = site.path().join(".procdoc-cache/build/blobs");
    for e in std::fs::read_dir(&blobs).unwrap() {
        let path = e.unwrap().path();
        if path.to_string_lossy().ends_with("-page.html") {
            std::fs::remove_file(path).unwrap();
        }
    }
    publishes_as_cold(site.path(), (0, 3));

    // A new step, which no other procedure links to: that file alone.
    edit(
        &jury,
        "| 2 | Type your participant number. |",
        "| 2 | Type your participant number. |\n| 3 | Click **Next**. |",
    );
    publishes_as_cold(site.path(), (1, 2));

    // A new title shows on the other pages of its category (previous and
    // next): the procedures of that category are parsed again. The jury
    // procedure is alone in its category; the other two share one.
    edit(
        &jury,
        "title = \"Answer a Jury Summons\"",
        "title = \"Answer Your Jury Summons\"",
    );
    publishes_as_cold(site.path(), (1, 2));
    let linked = site.path().join("procedures/link-accounts.md");
    edit(
        &linked,
        "title = \"Link Accounts\"",
        "title = \"Link Your Accounts\"",
    );
    publishes_as_cold(site.path(), (2, 1));
    let neighbour = std::fs::read_to_string(out.join("file-a-motion/index.html")).unwrap();
    assert!(neighbour.contains("Link Your Accounts"), "{neighbour}");

    // Removing a step that another procedure links to: that procedure is
    // checked again with the edited one, and its link to the step that is
    // gone is an error.
    edit(&linked, "| 2 | Log in. |\n", "");
    let (status, broken, counts) = build_counting(site.path());
    assert_eq!(status, 1, "{broken}");
    assert_eq!(counts, (2, 1), "{broken}");
    assert!(
        broken.contains("procedures/file-a-motion.md") && broken.contains("step 2"),
        "{broken}"
    );
}
