//! Sanitised by construction: a procedure full of injection attempts either
//! is refused by the check, at the line and column of each attempt, or is
//! published with every attempt shown as the text it is.
//!
//! Two fixtures under `tests/fixtures/injection/`:
//!
//! - `refused/`: script and other elements, event handler and style
//!   attributes, `javascript:`, `vbscript:` and `data:` addresses hidden with
//!   case, entities, tabs, newlines and control characters, in HTML, Markdown
//!   links, autolinks, reference definitions and screenshots. The check names
//!   each one (exact codes and messages below) and `build` publishes nothing.
//! - `published/`: what procdoc accepts but a careless renderer would run:
//!   HTML written as text (entities, `\<`), quote-breaking link addresses and
//!   titles, hostile alt text, HTML comments, Tera syntax (`{{ config }}`,
//!   `{% include %}`, `{{ __tera_context }}`) and Typst syntax (`#import`,
//!   `#read("/etc/passwd")`, `#{ }`, `$`, `@`, brackets, backslashes) in the
//!   front matter, `procdoc.toml`, headings, steps, alt text and code. The
//!   published pages, read back as a browser would (scraper), hold no script
//!   of the procedure's, no `on*` attribute and no other URL scheme than
//!   http(s), mailto and tel, and show the syntax verbatim; the handout, read
//!   with `pdftotext`, shows the Typst syntax literally.

mod common;

use std::path::Path;

use common::safe_html::{SCHEMES, url_scheme, urls_in};
use common::{copy_dir, procdoc, repo};
use scraper::{ElementRef, Html, Selector};

fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("tests/fixtures/injection").join(name),
        dir.path(),
    );
    dir
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// The text of an element, its runs of white space made one space.
fn text(e: ElementRef) -> String {
    squash(&e.text().collect::<String>())
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn one<'a>(doc: &'a Html, s: &str) -> ElementRef<'a> {
    let found: Vec<_> = doc.select(&sel(s)).collect();
    assert_eq!(found.len(), 1, "exactly one {s}");
    found[0]
}

/// What the check says about the refused procedure, as (line, column, code,
/// message).
const REFUSED: &[(u64, u64, &str, &str)] = &[
    (7, 7, "E030", "<script> is not allowed in a procedure"),
    // The <img> is left out, and nothing is left of the action.
    (8, 3, "E006", "step 2 has no action"),
    (8, 7, "E030", "<img> is not allowed in a procedure"),
    (
        9,
        7,
        "E032",
        "a javascript: link runs code in the reader's browser",
    ),
    (
        10,
        7,
        "E032",
        "a javascript: link runs code in the reader's browser",
    ),
    (
        11,
        7,
        "E032",
        "a javascript: link runs code in the reader's browser",
    ),
    (
        12,
        7,
        "E032",
        "a data: link is not a web, mail or phone address",
    ),
    (
        13,
        7,
        "E032",
        "a vbscript: link is not a web, mail or phone address",
    ),
    (14, 3, "E006", "step 8 has no action"),
    (14, 7, "E030", "<svg> is not allowed in a procedure"),
    (15, 3, "E006", "step 9 has no action"),
    (15, 7, "E030", "<iframe> is not allowed in a procedure"),
    (16, 8, "E030", "<style> is not allowed in a procedure"),
    (17, 8, "E030", "<math> is not allowed in a procedure"),
    (17, 14, "E030", "<mi> is not allowed in a procedure"),
    (
        18,
        38,
        "E031",
        "the onclick attribute is not allowed on <a>",
    ),
    (19, 11, "E031", "the title attribute is not allowed on <b>"),
    (
        20,
        8,
        "E032",
        "a javascript: link runs code in the reader's browser",
    ),
    (
        21,
        8,
        "E032",
        "a javascript: link runs code in the reader's browser",
    ),
    // An autolink.
    (
        22,
        8,
        "E032",
        "a javascript: link runs code in the reader's browser",
    ),
    (
        23,
        8,
        "E013",
        "the screenshot address javascript: is not a file in procedures/",
    ),
    (
        24,
        8,
        "E013",
        "the screenshot address data: is not a file in procedures/",
    ),
    // The link that uses the definition on line 29.
    (
        25,
        8,
        "E032",
        "a vbscript: link is not a web, mail or phone address",
    ),
    // `<!-->` is a whole (empty) comment: the script after it is refused.
    (26, 13, "E030", "<script> is not allowed in a procedure"),
    (27, 38, "E031", "the style attribute is not allowed on <a>"),
];

#[test]
fn hostile_html_and_addresses_are_refused_where_written() {
    let site = fixture("refused");
    let (status, stdout, stderr) = procdoc(site.path(), &["check", "--format", "json"]);
    assert_eq!(status, 1, "{stderr}");
    let diags: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let found: Vec<(u64, u64, &str, &str)> = diags
        .iter()
        .map(|d| {
            assert_eq!(d["path"], "procedures/hostile-html.md");
            assert_eq!(d["severity"], "error", "{d}");
            (
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["code"].as_str().unwrap(),
                d["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, REFUSED);

    // Every hostile row (steps 1 to 21, lines 7 to 27) is refused.
    for line in 7..=27 {
        assert!(
            found.iter().any(|d| d.0 == line && d.2 != "E006"),
            "nothing refused on line {line}"
        );
    }

    // And nothing is published.
    let (status, _, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(!site.path().join("output").exists());
}

/// Everything a published page holds that could run or leave the site: no
/// script but the theme's own files, no event handler, no URL of another
/// scheme, no frame, object, form or base.
fn assert_inert(file: &Path, out: &Path) {
    let html = std::fs::read_to_string(file).unwrap();
    let doc = Html::parse_document(&html);
    let name = file.strip_prefix(out).unwrap().display().to_string();
    for script in doc.select(&sel("script")) {
        let src = script.value().attr("src");
        assert!(
            src.is_some_and(|s| s.contains("static/")) && text(script).is_empty(),
            "{name}: a script that is not the theme's: {}",
            script.html()
        );
    }
    let embedded: Vec<String> = doc
        .select(&sel(
            "iframe, frame, object, embed, form, base, math, style, template",
        ))
        .map(|e| e.html())
        .collect();
    assert!(embedded.is_empty(), "{name}: {embedded:?}");
    for e in doc.select(&sel("*")) {
        for (attr, value) in e.value().attrs() {
            assert!(
                !attr.to_ascii_lowercase().starts_with("on"),
                "{name}: {attr}={value:?} on <{}>",
                e.value().name()
            );
            for url in urls_in(attr, value) {
                if let Some(scheme) = url_scheme(url) {
                    assert!(
                        SCHEMES.contains(&scheme.as_str()),
                        "{name}: {attr}={url:?} on <{}>",
                        e.value().name()
                    );
                }
            }
        }
    }
    // What was written as text stays text: not one of these became markup.
    for raw in [
        "<script>alert",
        "<svg onload",
        "<img src=x",
        "<img src=\"x\"",
    ] {
        assert!(!html.contains(raw), "{name} holds {raw:?} unescaped");
    }
}

const TITLE: &str = "Hostile {{ config }} {% include \"base.html\" %} #read(\"/etc/passwd\") <script>alert(1)</script>";
const SUMMARY: &str =
    "{{ __tera_context }} \"><img src=x onerror=alert(1)> #import \"evil.typ\": *";

#[test]
fn hostile_text_is_published_as_text() {
    let site = fixture("published");
    let (status, _, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 0, "{stderr}");
    let out = site.path().join("output");
    for entry in walkdir::WalkDir::new(&out) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "html") {
            assert_inert(entry.path(), &out);
        }
    }

    let page = Html::parse_document(
        &std::fs::read_to_string(out.join("hostile-text/index.html")).unwrap(),
    );
    // The front matter, verbatim.
    assert_eq!(text(one(&page, "h1")), TITLE);
    assert!(text(one(&page, "title")).starts_with(TITLE));
    assert_eq!(text(one(&page, "p.summary")), SUMMARY);
    assert_eq!(
        one(&page, "meta[name=description]").value().attr("content"),
        Some(SUMMARY)
    );
    let main = text(one(&page, "main"));
    for verbatim in [
        // Tera
        "Template syntax is text: {{ config }}, {% include \"base.html\" %}, {{ __tera_context }}, {# comment #}.",
        "Typst #let x = 1 and {{ config }} in a heading",
        // Typst
        "#import \"@preview/evil:1.0.0\": *",
        "#read(\"/etc/passwd\") and #{ panic(\"typst ran\") } and #eval(\"1 + 1\") stay text.",
        "Type #read(\"/etc/passwd\") and #eval(\"panic()\"); also #{ 1 + 1 }, $x^2$ and @label.",
        "Brackets ] [ and backslashes C:\\Users\\clerk\\ and #include stay as written.",
        // HTML written as text
        "Escaped HTML is text: <script>alert(1)</script>, <img src=x onerror=alert(1)>, <label>.",
        "Allowed HTML link with bold {{ config }} and {% include \"x\" %}.",
        "A comment is dropped here.",
        "<script>alert(1)</script> {{ config }} #read(\"/etc/passwd\")",
    ] {
        assert!(
            main.contains(verbatim),
            "{verbatim:?} not in the page's text:\n{main}"
        );
    }
    // A quote in an address or title does not end the attribute.
    let link = one(&page, "#step-4 a");
    assert_eq!(
        link.value().attr("href"),
        Some("https://www.example.uscourts.gov/?q=\"><script>alert(1)</script>")
    );
    assert_eq!(link.value().attr("title"), Some("\"><svg onload=alert(1)>"));
    assert_eq!(
        one(&page, "#step-5 a").value().attr("title"),
        Some("\"><script>alert(1)</script>")
    );
    let img = one(&page, "#step-6 img");
    assert_eq!(
        img.value().attr("alt"),
        Some("The form; it says \"><script>alert(1)</script> {{ config }} #read(\"/etc/passwd\")")
    );
    assert_eq!(
        img.value().attr("title"),
        Some("title \"><svg onload=alert(1)>")
    );
    let autolinks: Vec<&str> = page
        .select(&sel("#step-7 a"))
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(
        autolinks,
        [
            "https://www.example.uscourts.gov/a?b=\"c\"",
            "mailto:clerk@example.com",
            "mailto:clerk@example.com"
        ]
    );
    // The site's settings are data too.
    let index = Html::parse_document(&std::fs::read_to_string(out.join("index.html")).unwrap());
    assert_eq!(
        text(one(&index, "h1")),
        "Guides {{ config }} #import \"evil.typ\": *"
    );
    assert!(text(one(&index, "main")).contains(TITLE));
    let court = "Court of {% raw %}Example{% endraw %} #read(\"/etc/passwd\")";
    assert!(text(one(&index, "body")).contains(court));
    assert!(text(one(&page, "body")).contains(court));

    #[cfg(feature = "pdf")]
    handout_shows_typst_syntax_literally(&out.join("hostile-text/hostile-text.pdf"));
}

#[cfg(feature = "pdf")]
fn handout_shows_typst_syntax_literally(pdf: &Path) {
    use std::process::Command;
    let pdftotext = |args: &[&str]| Command::new("pdftotext").args(args).output();
    if common::skip_for(
        (!pdftotext(&["-v"]).is_ok_and(|o| o.status.success()))
            .then(|| "poppler-utils (pdftotext) is not installed".to_string()),
    ) {
        return;
    }
    let out = pdftotext(&[pdf.to_str().unwrap(), "-"]).unwrap();
    assert!(out.status.success());
    let all = squash(&String::from_utf8_lossy(&out.stdout).replace('\u{200b}', ""));
    for verbatim in [
        "#read(\"/etc/passwd\")",
        "#import \"@preview/evil:1.0.0\": *",
        "#{ panic(\"typst ran\") }",
        "#eval(\"1 + 1\")",
        "#{ 1 + 1 }, $x^2$ and @label",
        "Brackets ] [ and backslashes C:\\Users\\clerk\\ and #include",
        "{{ config }}",
        "{% include \"base.html\" %}",
        "{{ __tera_context }}",
        "<script>alert(1)</script>",
        "Court of {% raw %}Example{% endraw %} #read(\"/etc/passwd\")",
    ] {
        assert!(
            all.contains(verbatim),
            "{verbatim:?} not in the handout:\n{all}"
        );
    }
    assert!(
        !all.contains("root:"),
        "the handout shows /etc/passwd:\n{all}"
    );
    let info = Command::new("pdfinfo").arg(pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains(&format!("Title:           {TITLE}")),
        "{info}"
    );
}
