//! The printable handout, read back with the tools a reviewer would use:
//! poppler's pdfinfo, pdffonts and pdftotext, qpdf --check, and the
//! structure tree through pikepdf (tests/pdf/structure.py).
//!
//! Needs poppler-utils, qpdf and a Python with pikepdf (tests/pdf/.venv, as
//! .ci/run makes it). Without them the tests say so and pass, except on CI.
#![cfg(feature = "pdf")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{procdoc, real_site_copy, repo, without_timing};

fn python() -> PathBuf {
    let venv = repo().join("tests/pdf/.venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn skip_unless_ready() -> bool {
    let runs = |cmd: &Path, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing = if !runs(Path::new("pdfinfo"), &["-v"]) || !runs(Path::new("pdftotext"), &["-v"])
    {
        Some("poppler-utils is not installed")
    } else if !runs(Path::new("qpdf"), &["--version"]) {
        Some("qpdf is not installed")
    } else if !runs(&python(), &["-c", "import pikepdf"]) {
        Some(
            "pikepdf is not installed (python3 -m venv tests/pdf/.venv; tests/pdf/.venv/bin/pip install -r tests/pdf/requirements.txt)",
        )
    } else {
        None
    };
    common::skip_for(missing.map(String::from))
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn build(site: &Path) -> String {
    let (status, _, stderr) = procdoc(site, &["build"]);
    assert_eq!(status, 0, "{stderr}");
    stderr
}

fn structure(pdf: &Path) -> serde_json::Value {
    let out = Command::new(python())
        .arg(repo().join("tests/pdf/structure.py"))
        .arg(pdf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn info(pdf: &Path) -> String {
    run("pdfinfo", &[pdf.to_str().unwrap()])
}

fn pages(pdf: &Path) -> usize {
    info(pdf)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The text of one page (1-based), zero-width spaces removed.
fn page_text(pdf: &Path, page: usize) -> String {
    let n = page.to_string();
    run(
        "pdftotext",
        &["-layout", "-f", &n, "-l", &n, pdf.to_str().unwrap(), "-"],
    )
    .replace('\u{200b}', "")
}

fn all_text(pdf: &Path) -> String {
    run("pdftotext", &[pdf.to_str().unwrap(), "-"]).replace('\u{200b}', "")
}

#[test]
fn the_real_handout_is_a_tagged_accessible_pdf() {
    if skip_unless_ready() {
        return;
    }
    let site = real_site_copy("default");
    let stderr = build(site.path());
    assert!(
        stderr.starts_with("published 1 procedure, 1 handout and 2 screenshots"),
        "{stderr}"
    );
    let pdf = site
        .path()
        .join("output/link-cmecf-pacer/link-cmecf-pacer.pdf");

    let info = info(&pdf);
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(
        info.contains("Page size:       612 x 792 pts (letter)"),
        "{info}"
    );
    assert!(
        info.contains("Title:           Link Your CM/ECF Account to Your Upgraded PACER Account"),
        "{info}"
    );

    // Every font embedded (and subset).
    let fonts = run("pdffonts", &[pdf.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty());
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            ["yes", "yes", "yes"],
            "emb sub uni: {row}"
        );
        assert!(
            row.starts_with("AAAAAA+") || row.contains("+AtkinsonHyperlegible"),
            "{row}"
        );
    }

    let check = run("qpdf", &["--check", pdf.to_str().unwrap()]);
    assert!(
        check.contains("No syntax or stream encoding errors found"),
        "{check}"
    );

    // The steps in order 1..10, then the reminders.
    let text = all_text(&pdf);
    let snippets = [
        "Go to the Mississippi Southern District Court",
        "Select E-Filing (CM/ECF).",
        "and click Login.",
        "Click Utilities.",
        "Under Your Account, select Link a CM/ECF",
        "then click Submit.",
        "accounts listed are accurate",
        "A confirmation message appears",
        "menu items now appear",
        "If the menus do not appear",
        "Reminders",
        "Linking the two accounts is a one-time process",
    ];
    let positions: Vec<usize> = snippets
        .iter()
        .map(|s| {
            text.find(s)
                .unwrap_or_else(|| panic!("{s:?} not in the handout:\n{text}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order: {positions:?}"
    );

    // The structure tree: figures with their alt text, a real table, links,
    // bookmarks per section, language and title.
    let s = structure(&pdf);
    assert_eq!(s["lang"], "en");
    assert_eq!(s["display_doc_title"], true);
    assert_eq!(s["marked"], true);
    assert_eq!(s["pdfua_part"], "1");
    let figures: Vec<&str> = s["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(figures.len(), 2);
    assert!(figures[0].contains("The 'E-Filing (CM/ECF)' link is highlighted with a red box"));
    assert!(
        figures[1].contains("three input fields: 'Username *', 'Password *', and 'Client Code'")
    );
    assert!(s["counts"]["Table"].as_u64().unwrap() >= 2);
    let th: Vec<&serde_json::Value> = s["th_scopes"].as_array().unwrap().iter().collect();
    assert!(th.len() >= 4 && th.iter().all(|t| *t == "Column"), "{th:?}");
    assert_eq!(s["counts"]["H1"], 1);
    let links = s["links"].as_array().unwrap();
    assert!(
        links
            .iter()
            .any(|l| l["uri"] == "https://www.mssd.uscourts.gov"),
        "{links:?}"
    );
    assert!(
        links.iter().any(|l| l["uri"].is_null()),
        "the link to step 10 stays inside the handout"
    );
    assert!(links.iter().all(|l| l["tagged"] == true));
    let bookmarks: Vec<&str> = s["bookmarks"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        bookmarks,
        [
            "Log in with your PACER account",
            "Link the accounts",
            "Reminders"
        ]
    );

    // The running footer (and a repeated table header) is an artifact on
    // every page; all other text is tagged.
    let artifacts = s["artifact_text_per_page"].as_array().unwrap();
    assert!(
        artifacts.iter().all(|n| n.as_u64().unwrap() >= 3),
        "{artifacts:?}"
    );
    let loose = s["untagged_text_per_page"].as_array().unwrap();
    assert!(
        loose.iter().all(|n| n.as_u64() == Some(0)),
        "text outside the structure: {loose:?}"
    );

    // Every page: the footer with "Page N of M", the address and the date.
    let n = pages(&pdf);
    for page in 1..=n {
        let t = page_text(&pdf, page);
        assert!(
            t.contains(&format!("Page {page} of {n}")),
            "page {page}:\n{t}"
        );
        assert!(
            t.contains("https://www.mssd.uscourts.gov/procedures/link-cmecf-pacer/"),
            "page {page}"
        );
        assert!(t.contains("Updated June 28, 2021"), "page {page}");
    }

    // The page and the index link the handout with its page count and size.
    let page =
        std::fs::read_to_string(site.path().join("output/link-cmecf-pacer/index.html")).unwrap();
    let size = std::fs::metadata(&pdf).unwrap().len();
    let kb = size.div_ceil(1024);
    let expected = format!(
        "href=\"link-cmecf-pacer.pdf\">Download the printable handout <span class=\"handout-info\">(PDF, {n} pages, {kb} KB)</span>"
    );
    assert!(page.contains(&expected), "{expected}");
    let index = std::fs::read_to_string(site.path().join("output/index.html")).unwrap();
    assert!(index.contains("href=\"link-cmecf-pacer/link-cmecf-pacer.pdf\""));
}

#[test]
fn a4_paper_from_the_settings() {
    if skip_unless_ready() {
        return;
    }
    let site = real_site_copy("court");
    let toml = site.path().join("procdoc.toml");
    std::fs::write(
        &toml,
        std::fs::read_to_string(&toml)
            .unwrap()
            .replace("paper = \"letter\"", "paper = \"a4\""),
    )
    .unwrap();
    build(site.path());
    let info = info(
        &site
            .path()
            .join("output/link-cmecf-pacer/link-cmecf-pacer.pdf"),
    );
    assert!(
        info.contains("Page size:       595.276 x 841.89 pts (A4)"),
        "{info}"
    );
}

/// A site with one procedure whose body is `body`, and the real screenshots.
fn site_with(body: &str) -> tempfile::TempDir {
    let site = real_site_copy("default");
    std::fs::remove_file(site.path().join("procedures/link-cmecf-pacer.md")).unwrap();
    let front = "+++\ntitle = \"Test Procedure\"\nupdated = 2024-01-15\n+++\n\n";
    std::fs::write(
        site.path().join("procedures/test-procedure.md"),
        format!("{front}{body}"),
    )
    .unwrap();
    site
}

#[test]
fn forty_steps_and_twelve_screenshots_repeat_the_header_on_every_page() {
    if skip_unless_ready() {
        return;
    }
    let mut body = String::from("## Many steps\n\n| Step | Action |\n|-----:|--------|\n");
    for n in 1..=40 {
        // Steps 1, 4, 7 ... 34: twelve screenshots.
        let shot = if n % 3 == 1 && n <= 34 {
            let file = if n % 2 == 0 {
                "efiling-link"
            } else {
                "pacer-login"
            };
            format!(" ![The court's page for step {n}.](images/{file}.png)")
        } else {
            String::new()
        };
        body.push_str(&format!(
            "| {n} | Do the thing numbered {n}, carefully.{shot} |\n"
        ));
    }
    let site = site_with(&body);
    build(site.path());
    let pdf = site.path().join("output/test-procedure/test-procedure.pdf");
    assert_eq!(structure(&pdf)["figures"].as_array().unwrap().len(), 12);
    let n = pages(&pdf);
    assert!(n >= 4, "{n} pages");
    let mut seen = Vec::new();
    for page in 1..=n {
        let t = page_text(&pdf, page);
        let header = t.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words == ["Step", "Action"]
        });
        assert!(header, "page {page} has the table header:\n{t}");
        assert!(t.contains(&format!("Page {page} of {n}")), "page {page}");
        for step in 1..=40 {
            if t.contains(&format!("Do the thing numbered {step}, carefully.")) {
                assert!(!seen.contains(&step), "step {step} is split across pages");
                seen.push(step);
            }
        }
    }
    assert_eq!(seen, (1..=40).collect::<Vec<_>>());
}

#[test]
fn typst_syntax_in_an_action_prints_as_itself() {
    if skip_unless_ready() {
        return;
    }
    // Markdown escapes keep * _ ` \ < for the text; the rest is plain.
    let action = r#"Type #set page(fill: red) $x$ [a] \*b\* \_c\_ \`d\` @e &lt;f&gt; \\g =h #read("/etc/passwd")"#;
    let site = site_with(&format!(
        "| Step | Action |\n|-----:|--------|\n| 1 | {action} |\n"
    ));
    build(site.path());
    let pdf = site.path().join("output/test-procedure/test-procedure.pdf");
    let text = all_text(&pdf);
    assert!(
        text.contains(
            r#"Type #set page(fill: red) $x$ [a] *b* _c_ `d` @e <f> \g =h #read("/etc/passwd")"#
        ),
        "{text}"
    );
    assert!(!text.contains("root:"), "nothing was read from the machine");
}

#[test]
fn awkward_content_still_gives_a_readable_handout() {
    if skip_unless_ready() {
        return;
    }
    // A screenshot far taller than a page.
    let tall = image::RgbImage::from_fn(300, 3000, |_, y| image::Rgb([(y / 12) as u8, 90, 160]));
    let long_url = format!(
        "https://www.example.uscourts.gov/{}/form.pdf",
        "very-long-path-segment".repeat(8)
    );
    let many_lines: String = (1..=30)
        .map(|i| format!("Line {i} of a long step.<br>"))
        .collect();
    let body = format!(
        "| Step | Action |\n|-----:|--------|\n\
         | 1 | A tall picture. ![A tall narrow screenshot of a long form.](images/tall.png) |\n\
         | 2 | Go to {long_url} and read it. |\n\
         | 3 | {many_lines} |\n"
    );
    let site = site_with(&body);
    tall.save(site.path().join("procedures/images/tall.png"))
        .unwrap();
    build(site.path());
    let pdf = site.path().join("output/test-procedure/test-procedure.pdf");
    let text = all_text(&pdf);
    assert!(text.contains("Line 30 of a long step."));
    assert!(
        text.replace(['\n', ' '], "").contains(&long_url),
        "the address is all there:\n{text}"
    );
    // Nothing runs off the page: every word lies inside the page, the tall
    // picture included.
    let bbox = run("pdftotext", &["-bbox", pdf.to_str().unwrap(), "-"]);
    let attr = |line: &str, name: &str| -> f64 {
        line.split(&format!("{name}=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    for line in bbox.lines().filter(|l| l.trim_start().starts_with("<word")) {
        assert!(
            attr(line, "xMax") <= 612.0 - 36.0,
            "a word runs into the right margin: {line}"
        );
        assert!(
            attr(line, "yMax") <= 792.0,
            "a word runs off the page: {line}"
        );
    }
    let s = structure(&pdf);
    assert_eq!(s["figures"][0], "A tall narrow screenshot of a long form.");
}

#[test]
fn a_character_the_font_lacks_is_named_with_its_step() {
    if skip_unless_ready() {
        return;
    }
    let site = site_with(
        "| Step | Action |\n|-----:|--------|\n| 1 | Click the arrow → then 中 to continue. |\n",
    );
    let (status, _, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains(
            "procedures/test-procedure.md:8:3: error[E070]: step 1 uses “→” (U+2192), “中” (U+4E2D), which the handout's font cannot print"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: write it another way (-> for an arrow, for example)"),
        "{stderr}"
    );
    assert!(!site.path().join("output").exists(), "nothing published");
}

#[test]
fn no_pdf_publishes_pages_without_handouts() {
    let site = real_site_copy("default");
    let (status, _, stderr) = procdoc(site.path(), &["build", "--no-pdf"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        without_timing(&stderr),
        "published 1 procedure and 2 screenshots to output\n"
    );
    assert!(
        !site
            .path()
            .join("output/link-cmecf-pacer/link-cmecf-pacer.pdf")
            .exists()
    );
    let page =
        std::fs::read_to_string(site.path().join("output/link-cmecf-pacer/index.html")).unwrap();
    assert!(!page.contains("printable handout"));
}

#[test]
fn links_in_the_handout_work_on_paper() {
    if skip_unless_ready() {
        return;
    }
    let site = tempfile::tempdir().unwrap();
    common::copy_dir(&repo().join("tests/fixtures/site/multi"), site.path());
    build(site.path());
    let pdf = site.path().join("output/file-a-motion/file-a-motion.pdf");
    let links = structure(&pdf)["links"].as_array().unwrap().clone();
    let uris: Vec<&str> = links.iter().filter_map(|l| l["uri"].as_str()).collect();
    // A link to another procedure's step becomes that page's web address.
    assert!(
        uris.contains(&"https://www.example.uscourts.gov/guides/link-accounts/#step-2"),
        "{uris:?}"
    );
    // "see steps 1-2" stays inside the handout.
    assert!(links.iter().any(|l| l["uri"].is_null()), "{links:?}");
}
