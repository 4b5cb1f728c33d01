//! Property tests: whatever a procedure file holds, the parser and the page
//! renderer neither panic nor let anything through that the renderer does
//! not write on purpose.
//!
//! Inputs are arbitrary text and bytes, and documents put together from the
//! syntax procdoc cares about (front matter, headings, step tables, lists,
//! screenshots, links of every scheme, inline HTML inside and outside the
//! allow-list with hostile attributes, entities, template and Typst syntax,
//! deep nesting, odd Unicode, CR/LF, NUL). For each input:
//!
//! - `parse::parse_file` returns (no panic);
//! - every diagnostic's line and column lie inside the file;
//! - the body `render::html::body` writes, parsed back as a browser would,
//!   holds only the elements, attributes and URL schemes listed in
//!   `tests/common/safe_html.rs`.
//!
//! 256 cases per property (`PROPTEST_CASES` overrides it). A failing case is
//! shrunk to a small input; add it to `REGRESSIONS` below once fixed. The same
//! check runs for hours under `cargo fuzz` (fuzz/).

mod common;

use common::safe_html::{check_html, check_positions, inline_html, parse_and_render};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::FileFailurePersistence;

fn holds(bytes: &[u8]) -> Result<(), TestCaseError> {
    parse_and_render(bytes).map_err(|e| {
        TestCaseError::fail(format!("{e}\ninput: {:?}", String::from_utf8_lossy(bytes)))
    })
}

fn pick(options: &'static [&'static str]) -> BoxedStrategy<String> {
    proptest::sample::select(options)
        .prop_map(str::to_string)
        .boxed()
}

/// Addresses a link or picture may be given: safe ones, and every way of
/// hiding a script or another scheme.
const URLS: &[&str] = &[
    "https://www.mssd.uscourts.gov",
    "http://example.com/a?b=1&c=2",
    "mailto:clerk@example.com",
    "tel:+1-601-555-0100",
    "#step-2",
    "#step-99",
    "other.md",
    "other.md#step-1",
    "p.md",
    "images/a.png",
    "../images/a.png",
    "../../etc/passwd",
    "/absolute/path",
    "C:\\shots\\a.png",
    "c:alert(1)",
    "//evil.example/x",
    "\\\\evil.example\\x",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java&#x09;script:alert(1)",
    "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "\u{1}javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:image/png;base64,AAAA",
    "file:///etc/passwd",
    "x\"><script>alert(1)</script>",
    "x' onmouseover='alert(1)",
    "<javascript:alert(1)>",
    "{{ config }}",
    "",
];

const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "code",
    "kbd",
    "a",
    "br",
    "p",
    "ul",
    "ol",
    "li",
    "B",
    "A",
    "script",
    "ScRiPt",
    "img",
    "svg",
    "iframe",
    "style",
    "math",
    "object",
    "embed",
    "form",
    "input",
    "table",
    "td",
    "h1",
    "h2",
    "div",
    "span",
    "base",
    "meta",
    "link",
    "template",
    "noscript",
    "xmp",
    "plaintext",
    "textarea",
    "title",
    "select",
    "option",
    "frameset",
];

const ATTRS: &[&str] = &[
    "",
    " href=\"javascript:alert(1)\"",
    " href=\" JaVa&#x09;ScRiPt:alert(1)\"",
    " href='java\nscript:alert(1)'",
    " HREF=vbscript:msgbox(1)",
    " href=\"data:text/html,<script>alert(1)</script>\"",
    " href=\"&#106;avascript:alert(1)\"",
    " href=\"&#0;javascript:alert(1)\"",
    " href=\"https://ok.example/\"",
    " href=\"other.md#step-2\"",
    " href=\"#step-1\"",
    " href=\"mailto:a@example.com\"",
    " href",
    " onclick=\"alert(1)\"",
    " OnMouseOver=alert(1)",
    " onerror=alert(1)",
    " onload=alert(1)",
    " style=\"background:url(javascript:alert(1))\"",
    " title=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"",
    " title='\"><script>alert(1)</script>'",
    " src=x",
    " srcdoc=\"<script>alert(1)</script>\"",
    " xlink:href=\"javascript:alert(1)\"",
    " formaction=javascript:alert(1)",
    " class=\"x\" id=\"main\"",
    " a=\"1\" a=\"2\"",
    " /",
    "/",
    " \"",
    " =x",
];

fn tag() -> BoxedStrategy<String> {
    (
        proptest::sample::select(TAGS),
        proptest::sample::select(ATTRS),
        0..5u8,
    )
        .prop_map(|(name, attrs, form)| match form {
            0 | 1 => format!("<{name}{attrs}>"),
            2 => format!("</{name}>"),
            3 => format!("<{name}{attrs}/>"),
            _ => format!("<{name}{attrs}"),
        })
        .boxed()
}

fn link() -> BoxedStrategy<String> {
    (
        proptest::sample::select(URLS),
        proptest::sample::select(&["x", "Click **here**", "", "see step 2", "![a](b.png)"][..]),
        0..5u8,
    )
        .prop_map(|(url, text, form)| match form {
            0 => format!("[{text}]({url})"),
            1 => format!("[{text}](<{url}> \"t\\\"itle\")"),
            2 => format!("![{text}]({url})"),
            3 => format!("<{url}>"),
            _ => format!("[{text}][r]\n\n[r]: {url}\n"),
        })
        .boxed()
}

/// Pieces of Markdown, HTML, template and Typst syntax and odd text.
fn fragment() -> BoxedStrategy<String> {
    Union::new(vec![
        pick(&[
            "\n", "\n", "\n\n", "\r\n", "\r", " ", "   ", "\t", "\0", "\\", "|", "| ", " |\n",
        ]),
        pick(&[
            "+++\ntitle = \"T\"\n+++\n",
            "+++\n",
            "+++\ntitle = \"{{ config }}\" \nsummary = \"<script>\"\nupdated = 2021-02-30\ncolour = 1\n+++\n",
            "---\ntitle: x\n---\n",
            "---\n",
            "## ",
            "# ",
            "### ",
            "###### ",
            "####### ",
            "Heading\n=====\n",
            "1. ",
            "2) ",
            "10. ",
            "- ",
            "* ",
            "+ ",
            "> ",
            "> [!NOTE]\n> ",
            "> [!WARNING]\n",
            "> [!BOGUS]\n> ",
            "| Step | Action |\n|-----:|--------|\n",
            "| step | ACTION | extra |\n|--|--|--|\n",
            "| Step |\n|--|\n",
            "| a | b |\n|---|---|\n",
            "| 1 | ",
            "| 2 | ",
            "| x | ",
            "| 99999999999 | ",
            "```\n",
            "~~~typ\n",
            "    indented code\n",
            "***\n",
            "**",
            "*",
            "_",
            "~~",
            "`",
            "``",
            "see step 3",
            "See Step 10.",
            "steps 1 to 4",
            "[^1]",
            "- [ ] ",
            "$x$",
        ]),
        link(),
        tag(),
        pick(&[
            "&amp;",
            "&lt;script&gt;",
            "&#0;",
            "&#x0;",
            "&#xD800;",
            "&#1114112;",
            "&nGt;",
            "&NotNestedGreaterGreater;",
            "&ngE;",
            "&nbsp;",
            "&#128512;",
            "&bogus;",
            "&",
            "&#",
            "<!-- comment -->",
            "<!-->",
            "<!--",
            "-->",
            "<!DOCTYPE html>",
            "<![CDATA[<script>alert(1)</script>]]>",
            "<?php echo 1 ?>",
        ]),
        pick(&[
            "{{ config }}",
            "{% include \"x\" %}",
            "{{ __tera_context }}",
            "{#",
            "#}",
            "{%",
            "%}",
            "{{",
            "}}",
            "#import \"x.typ\": *",
            "#read(\"/etc/passwd\")",
            "#{",
            "}",
            "#let x = 1",
            "#eval(\"1\")",
            "$",
            "[",
            "]",
            "@label",
            "<label>",
            "\\#",
        ]),
        pick(&[
            "e\u{301}",
            "\u{301}",
            "\u{200d}",
            "\u{202e}",
            "\u{fffd}",
            "\u{feff}",
            "\u{1f600}",
            "\u{10ffff}",
            "\u{7f}",
            "\u{85}",
            "\u{2028}",
            "\u{1f}",
            "\u{b}",
            "\u{c}",
            "ß",
            "İ",
            "ﬁ",
            "Ⅻ",
            "٣",
            "\u{a0}",
            "ａ",
        ]),
        "[a-zA-Z0-9 .,:;!?'\"()]{1,12}".boxed(),
        any::<String>().prop_map(|s| s.chars().take(8).collect()).boxed(),
        (1..24usize).prop_map(|n| "> ".repeat(n)).boxed(),
        (1..24usize)
            .prop_map(|n| format!("{}- ", "  ".repeat(n)))
            .boxed(),
        (1..24usize)
            .prop_map(|n| format!("{}1. ", "   ".repeat(n)))
            .boxed(),
        (1..24usize).prop_map(|n| "<b>".repeat(n)).boxed(),
        (1..24usize).prop_map(|n| "<ul><li>".repeat(n)).boxed(),
        (1..30usize).prop_map(|n| "*".repeat(n)).boxed(),
        (1..30usize).prop_map(|n| "[".repeat(n)).boxed(),
    ])
    .boxed()
}

/// A procedure: most start with valid front matter so that the parser gets
/// to the body, then up to 40 fragments. (Deeper nesting and longer
/// documents are the fuzz targets' work: in a debug build, html5ever takes
/// seconds to read back a page of hundreds of nested quotes.)
fn document() -> impl Strategy<Value = String> {
    (
        prop::bool::weighted(0.8),
        prop::collection::vec(fragment(), 0..40),
    )
        .prop_map(|(front, parts)| {
            let mut doc = if front {
                "+++\ntitle = \"Fixture\"\n+++\n\n".to_string()
            } else {
                String::new()
            };
            doc.extend(parts);
            doc
        })
}

fn config() -> ProptestConfig {
    // `PROPTEST_CASES` in the environment still wins (for a longer run).
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        // A failing case is saved in tests/robustness.proptest-regressions and
        // tried first on the next runs.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn syntax_heavy_markdown_parses_and_renders_safely(doc in document()) {
        holds(doc.as_bytes())?;
    }

    #[test]
    fn arbitrary_text_parses_and_renders_safely(text in any::<String>()) {
        holds(text.as_bytes())?;
        holds(format!("+++\ntitle = \"T\"\n+++\n{text}").as_bytes())?;
    }

    #[test]
    fn arbitrary_bytes_parse_and_render_safely(
        doc in document(),
        bytes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        // A document with stray bytes spliced in: invalid UTF-8, lone
        // continuation bytes, NUL.
        let mut data = doc.into_bytes();
        for (at, byte) in bytes {
            let i = at.index(data.len() + 1);
            data.insert(i, byte);
        }
        holds(&data)?;
    }

    #[test]
    fn the_inline_html_tokenizer_takes_anything(fragment in prop::collection::vec(
        prop_oneof![tag(), fragment()], 0..20).prop_map(|v| v.concat())
    ) {
        inline_html(&fragment).map_err(TestCaseError::fail)?;
    }
}

/// Inputs that once broke a property, kept so they stay fixed.
const REGRESSIONS: &[&str] = &[
    // A drive-letter path was published as the link `C:\shots\a.png`, which
    // a browser reads as an address of scheme `c:`.
    "+++\ntitle = \"T\"\n+++\n[x](C:\\shots\\a.png)",
    "> [!NOTE]\n> [x](c:alert(1))",
    // The HTML tokens' positions were counted in the decoded text (an entity,
    // NUL or CR/LF changes its length) and in the HTML block's lines joined
    // without the `>` or the CR the file has between them: a position inside
    // a character panicked, one on the LF of a CR/LF overflowed the caret.
    "<ul><li>&#0;e\u{301}<b>",
    "+++\ntitle = \"T\"\n+++\n<b>\r\n<b>",
    "> <p>\n>\u{e9}<b>\n",
    // Found by `cargo fuzz`: TOML's error for an unclosed string is at the
    // LF of a CR/LF, one column past the end of the line.
    "+++\r\ntitle = \"T\"\r\nsummary = \"A step\r\n+++\r\n",
    "+++\ntitle = \"T\"\nsummary = \"A step\r\r\n+++\n",
];

#[test]
fn regressions() {
    for input in REGRESSIONS {
        if let Err(e) = parse_and_render(input.as_bytes()) {
            panic!("{e}\ninput: {input:?}");
        }
    }
}

/// Inputs `cargo fuzz` crashed on, as it wrote them (copied from
/// fuzz/artifacts/ into tests/fixtures/fuzz/ once fixed).
#[test]
fn fuzz_regressions() {
    let dir = common::repo().join("tests/fixtures/fuzz");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if let Err(e) = parse_and_render(&bytes)
            .and_then(|()| std::str::from_utf8(&bytes).map_or(Ok(()), inline_html))
        {
            panic!("{}: {e}", path.display());
        }
    }
}

#[test]
fn the_rules_catch_what_they_should() {
    // The checker itself is tested: it must refuse what it exists to refuse.
    assert!(check_html("<p>a</p>").is_ok());
    assert!(check_html("<script>alert(1)</script>").is_err());
    assert!(check_html("<p onclick=\"x\">a</p>").is_err());
    assert!(check_html("<a href=\" java&#x09;script:alert(1)\">a</a>").is_err());
    assert!(check_html("<a href=\"vbscript:x\">a</a>").is_err());
    assert!(check_html("<img src=\"data:image/png,x\" alt=\"\">").is_err());
    assert!(check_html("<img srcset=\"a.png 1x, javascript:x 2x\" alt=\"\">").is_err());
    assert!(check_html("<p><!-- x --></p>").is_err());
    assert!(
        check_html("<a href=\"https://x\">a</a><a href=\"#s\">b</a><a href=\"../x/\">c</a>")
            .is_ok()
    );
    let text = "ab\r\ncd\n";
    let d = |line, column| procdoc::diag::Diagnostic {
        line,
        column,
        ..procdoc::diag::Diagnostic::file("p.md", procdoc::diag::Code::StepGap, "m")
    };
    assert!(check_positions(text, &[d(0, 0), d(1, 3), d(2, 3), d(3, 1)]).is_ok());
    assert!(check_positions(text, &[d(1, 4)]).is_err());
    assert!(check_positions(text, &[d(4, 1)]).is_err());
    assert!(check_positions(text, &[d(1, 0)]).is_err());
}
