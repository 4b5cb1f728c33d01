//! `procdoc check` on bad input, one case per folder under
//! `tests/fixtures/check/`: `site/` is the site's folder, `stderr` is exactly
//! what the check prints there, `status` its exit status.
//!
//! After changing a message on purpose, `PROCDOC_BLESS=1 cargo test --test
//! check` rewrites the expectations; read the diff before committing it.

mod common;

use std::path::PathBuf;

use common::{expect_output, procdoc, repo};

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/check")
}

fn case(name: &str) {
    let dir = fixtures().join(name);
    let (status, stdout, stderr) = procdoc(&dir.join("site"), &["check"]);
    assert_eq!(stdout, "", "check prints diagnostics on stderr only");
    expect_output(&dir, &format!("`procdoc check` in {name}"), &stderr, status);
    // Every problem names its file, line and column (warnings about a whole
    // file name the file).
    for line in stderr.lines().filter(|l| l.contains(": error[")) {
        let location = line.split(": error[").next().unwrap();
        let parts: Vec<&str> = location.rsplitn(3, ':').collect();
        let named_file =
            parts.len() == 3 && parts[0].parse::<u32>().is_ok() && parts[1].parse::<u32>().is_ok();
        let whole_file = !location.contains(':') && location.starts_with("procedures/");
        assert!(named_file || whole_file, "no file:line:col in {line:?}");
    }
}

macro_rules! cases {
    ($($test:ident = $dir:literal,)*) => {
        $( #[test] fn $test() { case($dir); } )*

        #[test]
        fn every_fixture_folder_is_a_case() {
            let listed = [$($dir),*];
            for entry in std::fs::read_dir(fixtures()).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                assert!(listed.contains(&name.as_str()), "fixture {name} is not listed in tests/check.rs");
            }
        }
    };
}

cases! {
    alt_empty = "alt-empty",
    alt_not_descriptive = "alt-not-descriptive",
    bad_slug = "bad-slug",
    bundle_clean = "bundle-clean",
    config_invalid = "config-invalid",
    crlf_and_bom = "crlf-and-bom",
    duplicate_slug = "duplicate-slug",
    empty_file = "empty-file",
    front_bad_date = "front-bad-date",
    front_invalid_toml = "front-invalid-toml",
    front_missing = "front-missing",
    front_missing_title = "front-missing-title",
    front_unclosed = "front-unclosed",
    front_unknown_key = "front-unknown-key",
    front_wrong_type = "front-wrong-type",
    front_yaml = "front-yaml",
    heading_skipped = "heading-skipped",
    html_event_attribute = "html-event-attribute",
    html_iframe = "html-iframe",
    html_malformed = "html-malformed",
    html_script = "html-script",
    html_style_attribute = "html-style-attribute",
    html_style_element = "html-style-element",
    image_absolute = "image-absolute",
    image_dotdot = "image-dotdot",
    image_huge_header = "image-huge-header",
    image_missing = "image-missing",
    image_names = "image-names",
    image_percent_name = "image-percent-name",
    image_png_bomb = "image-png-bomb",
    image_remote = "image-remote",
    image_svg = "image-svg",
    image_svg_as_png = "image-svg-as-png",
    image_svg_long_prolog = "image-svg-long-prolog",
    image_symlink = "image-symlink",
    image_text_as_png = "image-text-as-png",
    image_truncated = "image-truncated",
    image_truncated_screenshot = "image-truncated-screenshot",
    javascript_link = "javascript-link",
    link_missing_procedure = "link-missing-procedure",
    nested_10000 = "nested-10000",
    non_utf8 = "non-utf8",
    slug_asset_folder = "slug-asset-folder",
    step_duplicate = "step-duplicate",
    step_empty_action = "step-empty-action",
    step_first_not_one = "step-first-not-one",
    step_gap = "step-gap",
    step_not_a_number = "step-not-a-number",
    step_out_of_order = "step-out-of-order",
    step_ref_missing = "step-ref-missing",
    step_restart = "step-restart",
    step_table_columns = "step-table-columns",
    symlink_loop = "symlink-loop",
    unused_image = "unused-image",
}

/// The bomb (25000×25000 pixels in 76 KB of real compressed rows) would take
/// 625 MB once decoded: the check refuses it from its header, in a process
/// whose address space could not even hold the pixels.
#[test]
fn png_bomb_is_refused_before_its_pixels_are_decoded() {
    let dir = fixtures().join("image-png-bomb");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("ulimit -v 524288 && exec \"$0\" check")
        .arg(env!("CARGO_BIN_EXE_procdoc"))
        .current_dir(dir.join("site"))
        .env("RAYON_NUM_THREADS", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        std::fs::read_to_string(dir.join("stderr")).unwrap(),
        "the same refusal within 512 MiB"
    );
}
