//! Names on disk as editors write them, through `procdoc build`: pictures
//! named with spaces, `%20`, accents and another script publish under
//! addresses that resolve to their files in `output/`; a procedure whose
//! slug is one of the site's own folders is refused, naming the file, and
//! leaves the published site as it was.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{copy_dir, procdoc, real_site_copy, repo};
use procdoc::site::RESERVED_SLUGS;
use scraper::{Html, Selector};

fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("tests/fixtures/check").join(name).join("site"),
        dir.path(),
    );
    dir
}

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// An address in the page that needs no percent-encoding and stays in the
/// site: the file it names in `output/`, relative to the page's folder.
fn target(output: &Path, page_dir: &str, url: &str) -> PathBuf {
    assert!(
        url.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b)),
        "{url} needs no encoding"
    );
    let path = output.join(page_dir).join(url);
    let real = path.canonicalize().unwrap_or_else(|e| panic!("{url}: {e}"));
    assert!(real.starts_with(output.canonicalize().unwrap()), "{url}");
    real
}

#[test]
fn pictures_named_with_spaces_percent_and_unicode_are_published() {
    let dir = fixture("image-names");
    let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
    assert_eq!(status, 0, "{stderr}");
    let output = dir.path().join("output");
    let html = std::fs::read_to_string(output.join("p/index.html")).unwrap();
    let page = Html::parse_document(&html);
    let figures = Selector::parse("figure.screenshot").unwrap();
    let img = Selector::parse("img").unwrap();
    let full = Selector::parse("figcaption a").unwrap();
    let images = dir.path().join("procedures/images");
    // The file each step's picture is, in the order of the steps.
    let expected = [
        "my shot.png",
        "my shot.png",
        "écran-1.png",
        "écran-1.png",
        "画面.png",
        "my%20shot.png",
    ];
    let found: Vec<_> = page.select(&figures).collect();
    assert_eq!(found.len(), expected.len(), "one figure per step");
    for (figure, source) in found.iter().zip(expected) {
        let shown = figure.select(&img).next().unwrap().attr("src").unwrap();
        let link = figure.select(&full).next().unwrap().attr("href").unwrap();
        // The copy in the page is a picture; the full-size link is the
        // original, byte for byte.
        let copy = std::fs::read(target(&output, "p", shown)).unwrap();
        assert!(copy.starts_with(b"\x89PNG"), "{shown} is a PNG");
        assert_eq!(
            std::fs::read(target(&output, "p", link)).unwrap(),
            std::fs::read(images.join(source)).unwrap(),
            "{link} is {source}"
        );
    }
    // Two spellings of one file give one address.
    let src = |i: usize| found[i].select(&img).next().unwrap().attr("src").unwrap();
    assert_eq!(src(0), src(1));
    assert_eq!(src(2), src(3));
    assert_ne!(
        src(0),
        src(5),
        "my shot.png and my%20shot.png are two files"
    );
}

#[test]
fn a_procedure_named_as_a_site_folder_is_refused_and_the_site_kept() {
    let dir = fixture("image-names");
    let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
    assert_eq!(status, 0, "{stderr}");
    let output = dir.path().join("output");
    let before = tree(&output);
    assert!(before.keys().any(|p| p.starts_with("static")));
    assert!(before.keys().any(|p| p.starts_with("images")));

    for slug in ["static", "images"] {
        let file = dir.path().join(format!("procedures/{slug}.md"));
        std::fs::write(
            &file,
            "+++\ntitle = \"A procedure\"\n+++\n\n| Step | Action |\n|-----:|--------|\n| 1 | Do it. |\n",
        )
        .unwrap();
        let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
        assert_eq!(status, 1, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "procedures/{slug}.md: error[E038]: `{slug}` is reserved for the site's own files"
            )),
            "{stderr}"
        );
        assert_eq!(tree(&output), before, "output/ is as it was");
        std::fs::remove_file(file).unwrap();
    }
}

/// The reserved names cover every folder a build writes at the top of the
/// site besides the procedures', in both themes: a new asset folder that a
/// procedure could collide with fails here.
#[test]
fn every_folder_the_site_writes_is_a_reserved_slug() {
    for theme in ["default", "court"] {
        let dir = real_site_copy(theme);
        let (status, _, stderr) = procdoc(dir.path(), &["build", "--no-pdf"]);
        assert_eq!(status, 0, "{stderr}");
        let procedures = dir.path().join("procedures");
        for entry in std::fs::read_dir(dir.path().join("output")).unwrap() {
            let entry = entry.unwrap();
            if !entry.file_type().unwrap().is_dir() {
                continue;
            }
            let name = entry.file_name().into_string().unwrap();
            let is_procedure = procedures.join(format!("{name}.md")).is_file()
                || procedures.join(&name).join("index.md").is_file();
            assert!(
                is_procedure || RESERVED_SLUGS.contains(&name.as_str()),
                "output/{name}/ ({theme}) is neither a procedure nor a reserved slug"
            );
        }
    }
}
