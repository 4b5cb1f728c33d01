//! `procdoc build` where the machine is against it (a read-only `output/` or
//! site folder, an output that is a file, an unusable temporary folder) and
//! with a screenshot that must be converted (a CMYK JPEG), one case per
//! folder under `tests/fixtures/bad-build/`: `stderr` is exactly what the
//! build prints (its timing left out, the site's temporary folder written
//! `<site>`), `status` its exit status, and `site/`, when there, files laid
//! over a copy of the real site.
//!
//! After changing a message on purpose, `PROCDOC_BLESS=1 cargo test --test
//! bad_build` rewrites the expectations; read the diff before committing it.
//!
//! Tests may run as root, whom file permissions do not stop. Then procdoc
//! runs without the capabilities that let root past them (util-linux's
//! `setpriv`), as a user whose permissions are checked.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_dir, expect_output, real_site_copy, repo, skip_for, without_timing};

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/bad-build")
}

/// A copy of the real site, with the case's `site/` laid over it.
fn site(case: &str) -> tempfile::TempDir {
    let dir = real_site_copy("default");
    let overlay = fixtures().join(case).join("site");
    if overlay.is_dir() {
        copy_dir(&overlay, dir.path());
    }
    dir
}

/// How procdoc is run.
#[derive(Default)]
struct Run<'a> {
    env: Vec<(&'a str, std::ffi::OsString)>,
    /// As a user whom file permissions stop (see the module's comment).
    unprivileged: bool,
}

/// What makes a command run without root's way past file permissions, when
/// it has one; `Err` says why this machine cannot.
fn unprivileged_prefix() -> Result<Vec<&'static str>, String> {
    let probe = tempfile::tempdir().unwrap();
    let locked = probe.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    set_mode(&locked, 0o555);
    let passes = |prefix: &[&str]| {
        let mut cmd = Command::new(prefix.first().copied().unwrap_or("mkdir"));
        cmd.args(prefix.iter().skip(1));
        if !prefix.is_empty() {
            cmd.arg("mkdir");
        }
        cmd.arg(locked.join("probe"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !passes(&[]) {
        return Ok(Vec::new());
    }
    let prefix = vec![
        "setpriv",
        "--inh-caps=-all",
        "--ambient-caps=-all",
        "--bounding-set=-dac_override,-dac_read_search,-fowner",
        "--",
    ];
    if passes(&prefix) {
        return Err("file permissions do not stop this user, and setpriv cannot drop the capabilities that let it past them".into());
    }
    Ok(prefix)
}

/// Run procdoc in `dir`: exit status and standard error (stdout is empty).
fn procdoc(dir: &Path, args: &[&str], how: &Run) -> Option<(i32, String)> {
    let exe = env!("CARGO_BIN_EXE_procdoc");
    let mut cmd = if how.unprivileged {
        let prefix = match unprivileged_prefix() {
            Ok(p) => p,
            Err(reason) => {
                skip_for(Some(reason));
                return None;
            }
        };
        let mut cmd = Command::new(prefix.first().copied().unwrap_or(exe));
        cmd.args(prefix.iter().skip(1));
        if !prefix.is_empty() {
            cmd.arg(exe);
        }
        cmd
    } else {
        Command::new(exe)
    };
    cmd.args(args).current_dir(dir).env_remove("NO_COLOR");
    for (k, v) in &how.env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("procdoc runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "a build prints on stderr only"
    );
    Some((
        out.status.code().expect("procdoc exits, it does not crash"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    ))
}

/// Compare with (or, blessing, write) the case's expected stderr and status.
fn expect(case: &str, site: &Path, status: i32, stderr: &str) {
    let dir = fixtures().join(case);
    let mut shown = without_timing(stderr);
    for path in [site.to_path_buf(), site.canonicalize().unwrap()] {
        shown = shown.replace(path.to_str().unwrap(), "<site>");
    }
    expect_output(&dir, &format!("`procdoc build` in {case}"), &shown, status);
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `chmod -R`: folders get `dirs`, files `files`.
fn chmod_r(root: &Path, dirs: u32, files: u32) {
    for e in walkdir::WalkDir::new(root).contents_first(true) {
        let e = e.unwrap();
        set_mode(e.path(), if e.file_type().is_dir() { dirs } else { files });
    }
}

/// Everything in a folder: each file's bytes, each folder (as `None`).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let bytes = e
                .file_type()
                .is_file()
                .then(|| std::fs::read(e.path()).unwrap());
            (e.path().strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

/// The names in the site's folder (nothing left beside `output/`).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

const PROCEDURE: &str = "procedures/link-cmecf-pacer.md";

/// Build the site once, then change a procedure so that the next build
/// would publish something else.
fn built_then_edited(site: &Path) {
    let (status, stderr) = procdoc(site, &["build", "--no-pdf"], &Run::default()).unwrap();
    assert_eq!(status, 0, "{stderr}");
    let p = site.join(PROCEDURE);
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, format!("{text}\nAn edit after the last build.\n")).unwrap();
}

/// The edit made by [`built_then_edited`] is published.
fn edit_published(site: &Path) -> bool {
    std::fs::read_to_string(site.join("output/link-cmecf-pacer/index.html"))
        .unwrap()
        .contains("An edit after the last build.")
}

/// A build that cannot write where it must: one clear error, a non-zero
/// status, the old site byte for byte and nothing left beside it; once the
/// folder is writable again, the next build publishes.
fn refused_then_recovers(case: &str, lock: impl Fn(&Path), unlock: impl Fn(&Path)) {
    let site = site(case);
    let root = site.path();
    built_then_edited(root);
    let before = tree(&root.join("output"));
    let names = listing(root);
    lock(root);
    let run = Run {
        unprivileged: true,
        ..Run::default()
    };
    let result = procdoc(root, &["build", "--no-pdf"], &run);
    unlock(root);
    let Some((status, stderr)) = result else {
        return;
    };
    expect(case, root, status, &stderr);
    assert_ne!(status, 0, "{stderr}");
    assert!(
        tree(&root.join("output")) == before,
        "output/ changed in {case}"
    );
    assert_eq!(listing(root), names, "something was left beside output/");

    let (status, stderr) = procdoc(root, &["build", "--no-pdf"], &Run::default()).unwrap();
    assert_eq!(status, 0, "the build after the fix: {stderr}");
    assert!(edit_published(root));
    assert_eq!(listing(root), names, "something was left beside output/");
}

#[test]
fn read_only_output() {
    refused_then_recovers(
        "read-only-output",
        |root| chmod_r(&root.join("output"), 0o555, 0o444),
        |root| chmod_r(&root.join("output"), 0o755, 0o644),
    );
}

#[test]
fn read_only_folder_in_output() {
    refused_then_recovers(
        "read-only-folder-in-output",
        |root| set_mode(&root.join("output/images"), 0o555),
        |root| set_mode(&root.join("output/images"), 0o755),
    );
}

/// The folder the site is in: the new site cannot be written beside
/// `output/`.
#[test]
fn read_only_site_folder() {
    refused_then_recovers(
        "read-only-site-folder",
        |root| set_mode(root, 0o555),
        |root| set_mode(root, 0o755),
    );
}

/// A first build in a read-only site folder cannot even keep its cache.
#[test]
fn read_only_site_folder_first_build() {
    let case = "read-only-site-folder-first-build";
    let site = site(case);
    let root = site.path();
    let names = listing(root);
    set_mode(root, 0o555);
    let run = Run {
        unprivileged: true,
        ..Run::default()
    };
    let result = procdoc(root, &["build"], &run);
    set_mode(root, 0o755);
    let Some((status, stderr)) = result else {
        return;
    };
    expect(case, root, status, &stderr);
    assert_eq!(listing(root), names, "nothing was made");
}

/// A file where the output folder should be: left as it is.
#[test]
fn output_is_a_file() {
    let case = "output-is-a-file";
    let site = site(case);
    let root = site.path();
    std::fs::write(root.join("output"), "the court's notes\n").unwrap();
    let (status, stderr) = procdoc(root, &["build"], &Run::default()).unwrap();
    expect(case, root, status, &stderr);
    assert_eq!(
        std::fs::read_to_string(root.join("output")).unwrap(),
        "the court's notes\n"
    );
    assert!(!root.join(".output.procdoc-new").exists());
}

/// procdoc does not use the temporary folder (the handout workers' files go
/// in the build cache): a build succeeds with TMPDIR missing or read-only,
/// with handouts laid out by worker processes and without handouts.
fn temp_folder_unusable(
    case: &str,
    tmpdir: impl Fn(&Path) -> PathBuf,
    unprivileged: bool,
    args: &[&str],
) {
    let site = site(case);
    let root = site.path();
    // Two procedures, one handout per worker: the workers run.
    let text = std::fs::read_to_string(root.join(PROCEDURE)).unwrap();
    std::fs::write(
        root.join("procedures/second-copy.md"),
        text.replacen("title = \"", "title = \"Second: ", 1),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let tmp = tmpdir(elsewhere.path());
    let run = Run {
        env: vec![
            ("TMPDIR", tmp.into_os_string()),
            ("PROCDOC_HANDOUT_BATCH", "1".into()),
            ("PROCDOC_TIMINGS", "1".into()),
        ],
        unprivileged,
    };
    let Some((status, stderr)) = procdoc(root, args, &run) else {
        return;
    };
    let pdf = !args.contains(&"--no-pdf");
    assert_eq!(
        stderr.contains("timing: 2 handouts laid out by 2 worker processes"),
        pdf,
        "{stderr}"
    );
    let stderr: String = stderr
        .lines()
        .filter(|l| !l.starts_with("timing: "))
        .map(|l| format!("{l}\n"))
        .collect();
    expect(case, root, status, &stderr);
    assert_eq!(status, 0);
    let handout = root.join("output/second-copy/second-copy.pdf");
    assert_eq!(handout.is_file(), pdf);
    if pdf {
        assert!(std::fs::read(&handout).unwrap().starts_with(b"%PDF-"));
    }
}

fn missing(elsewhere: &Path) -> PathBuf {
    elsewhere.join("no-such-folder")
}

fn read_only(elsewhere: &Path) -> PathBuf {
    let tmp = elsewhere.join("read-only");
    std::fs::create_dir(&tmp).unwrap();
    set_mode(&tmp, 0o555);
    tmp
}

#[test]
#[cfg(feature = "pdf")] // the expected output has handouts
fn temp_folder_missing() {
    temp_folder_unusable("temp-folder-missing", missing, false, &["build"]);
}

#[test]
fn temp_folder_missing_no_pdf() {
    temp_folder_unusable(
        "temp-folder-missing-no-pdf",
        missing,
        false,
        &["build", "--no-pdf"],
    );
}

#[test]
#[cfg(feature = "pdf")] // the expected output has handouts
fn temp_folder_read_only() {
    temp_folder_unusable("temp-folder-read-only", read_only, true, &["build"]);
}

#[test]
fn temp_folder_read_only_no_pdf() {
    temp_folder_unusable(
        "temp-folder-read-only-no-pdf",
        read_only,
        true,
        &["build", "--no-pdf"],
    );
}

/// A CMYK JPEG as print workflows save it (Adobe marker, inverted inks):
/// its web copies are RGB in the colours it shows, not their negative, and
/// so is its picture in the handout.
#[test]
#[cfg(feature = "pdf")] // the expected output has handouts
fn cmyk_jpeg() {
    /// Is `rgb` within `tolerance` of `want` on every channel?
    fn near(rgb: [u8; 3], want: [u8; 3], tolerance: u8) -> bool {
        rgb.iter()
            .zip(want)
            .all(|(a, b)| a.abs_diff(b) <= tolerance)
    }
    let case = "cmyk-jpeg";
    let site = site(case);
    let root = site.path();
    let (status, stderr) = procdoc(root, &["build"], &Run::default()).unwrap();
    expect(case, root, status, &stderr);
    assert_eq!(status, 0);

    // White paper, red, green, blue, black, grey: six equal bands.
    let bands = [
        [255, 255, 255],
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [0, 0, 0],
        [128, 128, 128],
    ];
    let page = std::fs::read_to_string(root.join("output/print-colours/index.html")).unwrap();
    let doc = scraper::Html::parse_document(&page);
    let img = doc
        .select(&scraper::Selector::parse("main img").unwrap())
        .next()
        .expect("the screenshot is in the page");
    let mut copies = vec![img.value().attr("src").unwrap().to_string()];
    // srcset: "a.jpg 1x, b.jpg 2x"
    if let Some(srcset) = img.value().attr("srcset") {
        copies.extend(
            srcset
                .split(',')
                .filter_map(|c| c.split_whitespace().next())
                .map(String::from),
        );
    }
    copies.dedup();
    assert!(
        copies.len() >= 2,
        "the column copy and the 2x copy: {copies:?}"
    );
    for src in &copies {
        let file = root.join("output/print-colours").join(src);
        let picture = image::open(&file).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert!(
            matches!(picture.color(), image::ColorType::Rgb8),
            "{src} is {:?}, not RGB",
            picture.color()
        );
        let rgb = picture.to_rgb8();
        let (w, h) = rgb.dimensions();
        for (i, want) in bands.iter().enumerate() {
            let x = (w as usize * (2 * i + 1) / 12) as u32;
            let got = rgb.get_pixel(x, h / 2).0;
            assert!(
                near(got, *want, 24),
                "{src}, band {i}: {got:?}, not {want:?}"
            );
        }
    }

    // The handout, drawn by poppler: the bands in their colours. Inverted,
    // red would be cyan, green magenta, blue yellow.
    let missing = (Command::new("pdftoppm").arg("-v").output().is_err())
        .then(|| "pdftoppm (poppler-utils) is not installed".to_string());
    if skip_for(missing) {
        return;
    }
    let drawn = tempfile::tempdir().unwrap();
    let prefix = drawn.path().join("page");
    let out = Command::new("pdftoppm")
        .args(["-r", "40", "-png", "-singlefile"])
        .arg(root.join("output/print-colours/print-colours.pdf"))
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = image::open(prefix.with_extension("png")).unwrap().to_rgb8();
    let count = |f: &dyn Fn([u8; 3]) -> bool| page.pixels().filter(|p| f(p.0)).count();
    let red = count(&|[r, g, b]| r > 180 && g < 90 && b < 90);
    let green = count(&|[r, g, b]| g > 120 && r < 90 && b < 130 && g > b + 40);
    let blue = count(&|[r, g, b]| b > 110 && r < 90 && g < 90);
    let negative = count(&|[r, g, b]| {
        let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
        // Two channels high and one low: cyan, magenta or yellow.
        hi > 150 && lo < 90 && [r, g, b].iter().filter(|&&c| c > 150).count() == 2
    });
    assert!(
        red > 100 && green > 100 && blue > 100,
        "red {red}, green {green}, blue {blue}"
    );
    assert_eq!(
        negative, 0,
        "cyan, magenta or yellow pixels: the inks are inverted"
    );
}

/// A screenshot ten times taller than wide (3000 pixels) in a handout: the
/// picture is scaled to fit on a page, not cut or run off it (the words are
/// checked by tests/pdf.rs, awkward_content_still_gives_a_readable_handout).
#[test]
#[cfg(feature = "pdf")] // the expected output has handouts
fn tall_screenshot() {
    let case = "tall-screenshot";
    let site = site(case);
    let root = site.path();
    let tall = image::RgbImage::from_fn(300, 3000, |_, y| image::Rgb([(y / 12) as u8, 90, 160]));
    tall.save(root.join("procedures/images/tall.png")).unwrap();
    let (status, stderr) = procdoc(root, &["build"], &Run::default()).unwrap();
    expect(case, root, status, &stderr);
    assert_eq!(status, 0);
    let missing = (Command::new("pdfimages").arg("-v").output().is_err())
        .then(|| "pdfimages (poppler-utils) is not installed".to_string());
    if skip_for(missing) {
        return;
    }
    let out = Command::new("pdfimages")
        .arg("-list")
        .arg(root.join("output/tall/tall.pdf"))
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    // page num type width height color comp bpc enc interp object ID x-ppi y-ppi ...
    let rows: Vec<Vec<&str>> = list
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let tall: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r[3] == "300" && r[4] == "3000")
        .collect();
    assert_eq!(tall.len(), 1, "the tall screenshot, once:\n{list}");
    let [page, width, height, x_ppi, y_ppi] =
        [0, 3, 4, 12, 13].map(|i| tall[0][i].parse::<f64>().unwrap());
    assert_eq!(page, 1.0, "on the first page, with its step");
    // In points (1/72 inch), on a US Letter page (612 x 792) with margins.
    let (shown_w, shown_h) = (width / x_ppi * 72.0, height / y_ppi * 72.0);
    assert!(
        shown_w < 612.0 - 72.0 && shown_h < 792.0 - 72.0,
        "shown {shown_w} x {shown_h} pt"
    );
    assert!(shown_h > 100.0, "still large enough to read: {shown_h} pt");
}

#[test]
fn every_fixture_folder_is_a_case() {
    let cases = [
        "cmyk-jpeg",
        "output-is-a-file",
        "read-only-folder-in-output",
        "read-only-output",
        "read-only-site-folder",
        "read-only-site-folder-first-build",
        "tall-screenshot",
        "temp-folder-missing",
        "temp-folder-missing-no-pdf",
        "temp-folder-read-only",
        "temp-folder-read-only-no-pdf",
    ];
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            cases.contains(&name.as_str()),
            "fixture {name} is not a case in tests/bad_build.rs"
        );
    }
}
