//! Input too big to commit, generated into a temporary site for each case: a
//! 50 MB procedure, a file exactly at the size limit, a 5,000-step table,
//! 10,000 procedures in one folder, and nesting 100,000 levels deep. Each
//! case runs the real binary and compares its stderr (timing left out) and
//! exit status with `tests/fixtures/large/<case>/{stderr,status}`; the cases
//! that publish also read what `output/` holds.
//!
//! After changing a message on purpose, `PROCDOC_BLESS=1 cargo test --test
//! large_input` rewrites the expectations; read the diff before committing.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use common::{expect_output, procdoc, repo, without_timing};
use procdoc::site::MAX_PROCEDURE_BYTES;

/// A site with `procdoc.toml` and an empty `procedures/`. In memory where
/// Linux offers it (/dev/shm): the cases write 50 MB or tens of thousands of
/// files, and creating and deleting those on a busy disk took minutes.
fn site() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir())
    } else {
        tempfile::tempdir()
    }
    .unwrap();
    std::fs::write(dir.path().join("procdoc.toml"), "title = \"Large input\"\n").unwrap();
    std::fs::create_dir(dir.path().join("procedures")).unwrap();
    dir
}

fn front(title: &str) -> String {
    format!("+++\ntitle = \"{title}\"\n+++\n\n| Step | Action |\n|-----:|--------|\n")
}

/// A step row as an editor writes them, with a cross-reference.
fn row(n: usize) -> String {
    format!(
        "| {n} | Select **Item {n}** and [the court](https://www.mssd.uscourts.gov), then see step {}. |\n",
        n.max(2) - 1
    )
}

/// Compare what a run printed with the case's expectation (or write it).
fn expect(case: &str, status: i32, stderr: &str) {
    let dir = repo().join("tests/fixtures/large").join(case);
    let stderr = without_timing(stderr);
    expect_output(&dir, &format!("case {case}"), &stderr, status);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The published page's steps: the number in each `id="step-N"`, in order.
fn step_ids(page: &str) -> Vec<usize> {
    page.match_indices("<li class=\"step\" id=\"step-")
        .map(|(i, m)| {
            let rest = &page[i + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

#[test]
fn a_50_mb_procedure_is_refused_by_its_size_before_it_is_read() {
    let dir = site();
    let procedures = dir.path().join("procedures");
    // Real step rows, not a sparse file: were it read, it would parse.
    let mut huge =
        std::io::BufWriter::new(std::fs::File::create(procedures.join("huge.md")).unwrap());
    huge.write_all(front("Huge").as_bytes()).unwrap();
    let mut written = 0;
    let mut n = 1;
    while written < 50 * 1024 * 1024 {
        let r = row(n % 100_000 + 1);
        huge.write_all(r.as_bytes()).unwrap();
        written += r.len();
        n += 1;
    }
    huge.flush().unwrap();
    drop(huge);
    // One byte over the limit is refused too.
    let mut over = front("Just over");
    over.push_str(&row(1));
    over.push_str(&" ".repeat(MAX_PROCEDURE_BYTES as usize + 1 - over.len()));
    std::fs::write(procedures.join("just-over.md"), over).unwrap();
    std::fs::write(procedures.join("ok.md"), front("Fine") + &row(1)).unwrap();

    let (status, _, stderr) = procdoc(dir.path(), &["check"]);
    expect("file-50mb", status, &stderr);
    // The build refuses as the check does, and writes nothing.
    let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("procedures/huge.md: error[E043]"),
        "{stderr}"
    );
    assert!(!dir.path().join("output").exists());
}

#[test]
fn a_procedure_exactly_at_the_size_limit_is_published_whole() {
    let dir = site();
    let mut text = front("At the limit");
    let mut n = 0;
    loop {
        let next = row(n + 1);
        if text.len() + next.len() > MAX_PROCEDURE_BYTES as usize {
            break;
        }
        text.push_str(&next);
        n += 1;
    }
    text.push_str(&"\n".repeat(MAX_PROCEDURE_BYTES as usize - text.len()));
    assert_eq!(text.len() as u64, MAX_PROCEDURE_BYTES);
    std::fs::write(dir.path().join("procedures/at-limit.md"), &text).unwrap();

    let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
    expect("file-at-limit", status, &stderr);
    let page = read(&dir.path().join("output/at-limit/index.html"));
    assert_eq!(step_ids(&page), (1..=n).collect::<Vec<_>>());
    assert!(page.contains(&format!("<strong>Item {n}</strong>")));
}

#[test]
fn a_table_of_5000_steps_is_checked_and_published() {
    let dir = site();
    let mut text = front("Five thousand steps");
    for n in 1..=5000 {
        text.push_str(&row(n));
    }
    std::fs::write(dir.path().join("procedures/steps.md"), &text).unwrap();

    let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
    expect("steps-5000", status, &stderr);
    let page = read(&dir.path().join("output/steps/index.html"));
    assert_eq!(step_ids(&page), (1..=5000).collect::<Vec<_>>());
    // Every cross-reference became a link to its step.
    let refs = page.matches("<a class=\"step-ref\" href=\"#step-").count();
    assert_eq!(refs, 5000);
    assert!(page.contains("<a class=\"step-ref\" href=\"#step-4999\">step 4999</a>"));

    // A mistake in the middle is reported once, at its line, and nothing
    // after it is blamed for it.
    let broken = text.replacen("| 2500 |", "| 2600 |", 1);
    std::fs::write(dir.path().join("procedures/steps.md"), broken).unwrap();
    let (status, _, stderr) = procdoc(dir.path(), &["check"]);
    expect("steps-5000-one-mistake", status, &stderr);
}

#[test]
fn ten_thousand_procedures_in_one_folder_are_published() {
    const N: usize = 10_000;
    let dir = site();
    let procedures = dir.path().join("procedures");
    for i in 0..N {
        let next = (i + 1) % N;
        let text = format!(
            "+++\ntitle = \"Procedure {i}\"\ncategory = \"Category {}\"\n+++\n\n| Step | Action |\n|-----:|--------|\n| 1 | Open the form. |\n| 2 | Go on with [the next procedure](p{next:05}.md#step-2). |\n",
            i % 20
        );
        std::fs::write(procedures.join(format!("p{i:05}.md")), text).unwrap();
    }
    let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
    expect("procedures-10000", status, &stderr);

    let output = dir.path().join("output");
    let index = read(&output.join("index.html"));
    let listed: std::collections::HashSet<&str> = index
        .split("href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    for i in 0..N {
        let next = (i + 1) % N;
        assert!(
            listed.contains(format!("p{i:05}/").as_str()),
            "the index lists p{i:05}"
        );
        let page = read(&output.join(format!("p{i:05}/index.html")));
        assert!(
            page.contains(&format!("<a href=\"../p{next:05}/#step-2\">")),
            "p{i:05} links to the next procedure's step 2"
        );
    }
    let folders = std::fs::read_dir(&output)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
        .count();
    // The procedures and static/ (no screenshots, so no images/).
    assert_eq!(folders, N + 1);
}

#[test]
fn nesting_100000_deep_is_refused_at_the_first_line_too_deep() {
    let dir = site();
    let procedures = dir.path().join("procedures");
    let intro = |title: &str| front(title) + "| 1 | Read the text below. |\n\n";
    let files: [(&str, String); 4] = [
        (
            "quotes.md",
            intro("Quotes") + &">".repeat(100_000) + " The innermost quote.\n",
        ),
        (
            "lists.md",
            intro("Lists") + &"- ".repeat(100_000) + "The innermost item.\n",
        ),
        (
            "numbered.md",
            intro("Numbered lists") + &"1. ".repeat(100_000) + "The innermost item.\n",
        ),
        (
            // HTML in a step's cell: never closed, then closed.
            "cell-html.md",
            front("Cell HTML")
                + "| 1 | "
                + &"<b>".repeat(100_000)
                + "Select Save. |\n| 2 | "
                + &"<ul><li>".repeat(10_000)
                + "Done."
                + &"</li></ul>".repeat(10_000)
                + " |\n",
        ),
    ];
    for (name, text) in &files {
        std::fs::write(procedures.join(name), text).unwrap();
    }
    let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
    expect("nested-100000", status, &stderr);
    assert!(!dir.path().join("output").exists());
}

#[test]
fn the_deepest_nesting_allowed_is_published() {
    let dir = site();
    let fixture = repo().join("tests/fixtures/check/nested-10000/site/procedures");
    std::fs::copy(
        fixture.join("deepest-allowed.md"),
        dir.path().join("procedures/deepest-allowed.md"),
    )
    .unwrap();
    let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
    expect("deepest-allowed", status, &stderr);
    let page = read(&dir.path().join("output/deepest-allowed/index.html"));
    assert_eq!(page.matches("<blockquote>").count(), 23);
    assert_eq!(page.matches("<ul>").count(), 12);
    let bold = "<strong>".repeat(21) + "Three levels of table and 21 of bold.";
    assert!(page.contains(&bold), "{page}");
}

/// Every case folder is one of the tests above.
#[test]
fn every_expectation_folder_is_a_case() {
    let cases = [
        "file-50mb",
        "file-at-limit",
        "steps-5000",
        "steps-5000-one-mistake",
        "procedures-10000",
        "nested-100000",
        "deepest-allowed",
    ];
    let dir: PathBuf = repo().join("tests/fixtures/large");
    if std::env::var_os("PROCDOC_BLESS").is_some() && !dir.exists() {
        return;
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(cases.contains(&name.as_str()), "{name} is not a case");
    }
}
