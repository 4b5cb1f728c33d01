//! What procdoc may publish from a procedure, as rules a test (or the fuzz
//! targets under `fuzz/`, which include this file) can hold any output to:
//! a procedure's body is parsed back as a browser would parse it (html5ever,
//! through scraper) and every element, attribute and URL must be one that
//! `src/render/html.rs` writes on purpose. Whatever the source held, nothing
//! else may come out.
//!
//! Only `procdoc` and `scraper` are used here, so that the fuzz crate can
//! include the file as it is.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use procdoc::diag::Diagnostic;
use procdoc::model::{Inline, Procedure};
use procdoc::render::html::{self, Links};
use procdoc::render::images::{Copy, WebImage};
use scraper::{Html, Node};

/// The elements `render::html` writes, and nothing else:
///
/// - sections and headings: `section`, `h2`..`h6` (a level-1 heading is
///   written as `h2`: the page's `h1` is the title);
/// - blocks: `p`, `ol`, `ul`, `li`, `blockquote`, `pre`, `hr`, `div` (callouts
///   and the scrolling wrapper of a table), `table`, `thead`, `tbody`, `tr`,
///   `th`, `td`;
/// - inlines: `a`, `strong`, `em`, `s`, `u`, `code`, `kbd`, `br`, `span`;
/// - screenshots: `figure`, `img`, `figcaption`;
/// - the callouts' icons: `svg`, `circle`, `path`.
pub const ELEMENTS: &[&str] = &[
    "section",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "ol",
    "ul",
    "li",
    "blockquote",
    "pre",
    "hr",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "strong",
    "em",
    "s",
    "u",
    "code",
    "kbd",
    "br",
    "span",
    "figure",
    "img",
    "figcaption",
    "svg",
    "circle",
    "path",
];

/// The attributes `render::html` writes, by element (`*`: any of the above).
/// No `on*` handler, no `style`, no `srcdoc`/`formaction`/`xlink:href`.
pub const ATTRIBUTES: &[(&str, &[&str])] = &[
    ("*", &["class", "id"]),
    ("div", &["role", "aria-label", "tabindex"]),
    ("ol", &["start"]),
    ("th", &["scope"]),
    ("a", &["href", "title"]),
    (
        "img",
        &[
            "src", "srcset", "sizes", "width", "height", "alt", "title", "loading", "decoding",
        ],
    ),
    (
        "svg",
        &[
            "aria-hidden",
            "focusable",
            "viewBox",
            "viewbox",
            "width",
            "height",
        ],
    ),
    (
        "circle",
        &["cx", "cy", "r", "fill", "stroke", "stroke-width"],
    ),
    (
        "path",
        &[
            "d",
            "fill",
            "stroke",
            "stroke-width",
            "stroke-linecap",
            "stroke-linejoin",
        ],
    ),
];

/// The URL schemes a published link or picture may have (besides none: a
/// relative address).
pub const SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];

/// The URLs an attribute holds (none for an attribute that holds no URL):
/// the whole value of an address attribute, each candidate of a `srcset`.
pub fn urls_in<'a>(attr: &str, value: &'a str) -> Vec<&'a str> {
    match attr {
        "href" | "src" | "action" | "formaction" | "xlink:href" | "poster" | "data" => vec![value],
        // Candidates are "url descriptor", separated by commas.
        "srcset" => value
            .split(',')
            .filter_map(|c| c.split_whitespace().next())
            .collect(),
        _ => Vec::new(),
    }
}

/// The scheme of a URL as the WHATWG URL parser finds it: C0 controls and
/// spaces around it are stripped, tabs and newlines anywhere are removed, and
/// a scheme is a letter followed by letters, digits, `+`, `-` or `.` before a
/// colon. Written here again, not taken from `procdoc::paths`, so the test
/// does not trust the code it tests.
pub fn url_scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let colon = cleaned.find(':')?;
    let name = &cleaned[..colon];
    let mut chars = name.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| name.to_ascii_lowercase())
}

/// Parse `bytes` as the procedure `procedures/p.md` and hold what comes out
/// to the rules: the diagnostics' positions ([`check_positions`]) and the
/// rendered body ([`check_html`]). A panic anywhere is a failure too.
pub fn parse_and_render(bytes: &[u8]) -> Result<(), String> {
    let mut diags = Vec::new();
    let doc = procdoc::parse::parse_file(Path::new("procedures/p.md"), "p", bytes, &mut diags);
    let text = doc.as_ref().map_or("", |d| d.source.text.as_str());
    check_positions(text, &diags)?;
    if let Some(doc) = doc {
        check_html(&render_body(&doc.procedure))?;
    }
    Ok(())
}

/// The inline HTML path: `fragment` through the tokenizer of
/// `src/parse/html.rs` (every attribute it reports found at a character
/// boundary of the fragment), then written into a step's action, where
/// procedures hold HTML, and through [`parse_and_render`].
pub fn inline_html(fragment: &str) -> Result<(), String> {
    use procdoc::parse::html::{HtmlToken, attribute_offset, tokenize};
    for token in tokenize(fragment) {
        if let HtmlToken::Start { attrs, .. } = token {
            for (name, _) in attrs {
                if let Some(at) = attribute_offset(fragment, &name)
                    && !(fragment.is_char_boundary(at) && at + name.len() <= fragment.len())
                {
                    return Err(format!("attribute {name:?} found at {at} of {fragment:?}"));
                }
            }
        }
    }
    let cell = fragment.replace(['\n', '\r'], " ");
    let doc = format!("+++\ntitle = \"T\"\n+++\n| Step | Action |\n|--|--|\n| 1 | {cell} |\n");
    parse_and_render(doc.as_bytes())
}

/// Every diagnostic lies inside the file: a whole-file diagnostic has line
/// and column 0; any other has a line of the file (1-based, the empty line
/// after a final newline included) and a column from 1 to one past that
/// line's last character.
pub fn check_positions(text: &str, diags: &[Diagnostic]) -> Result<(), String> {
    let lines: Vec<&str> = text.split('\n').collect();
    for d in diags {
        if d.line == 0 {
            if d.column != 0 {
                return Err(format!("line 0 but column {}: {d:?}", d.column));
            }
            continue;
        }
        let Some(line) = lines.get(d.line - 1) else {
            return Err(format!(
                "line {} of a file of {} lines: {d:?}",
                d.line,
                lines.len()
            ));
        };
        let chars = line.trim_end_matches('\r').chars().count();
        if d.column == 0 || d.column > chars + 1 {
            return Err(format!(
                "column {} of line {} ({chars} characters, {line:?}): {d:?}",
                d.column, d.line
            ));
        }
    }
    Ok(())
}

/// Render a procedure's body as the site does, with a web copy for every
/// screenshot it names and the procedure itself (and `procedures/other.md`)
/// known as procedures, so that figures and links between procedures are
/// written too.
pub fn render_body(p: &Procedure) -> String {
    let mut slugs = HashMap::new();
    slugs.insert(p.path.clone(), p.slug.clone());
    slugs.insert(PathBuf::from("procedures/other.md"), "other".to_string());
    let mut images = HashMap::new();
    p.visit_inlines(&mut |i| {
        if let Inline::Image(img) = i
            && let Some(path) = &img.path
        {
            let copy = |w: u32| Copy {
                src: format!("images/shot-0123456789-{w}.png"),
                width: w,
                height: w / 2,
            };
            images.insert(
                path.clone(),
                WebImage {
                    src: copy(720).src,
                    width: 720,
                    height: 360,
                    large: Some(copy(1440)),
                    full: copy(1600),
                },
            );
        }
    });
    let images: HashMap<&Path, &WebImage> = images.iter().map(|(p, w)| (p.as_path(), w)).collect();
    let links = Links {
        slugs: &slugs,
        images: &images,
        to_root: "../",
    };
    html::body(p, &links)
}

/// The body parsed as a browser would, held to [`ELEMENTS`], [`ATTRIBUTES`]
/// and [`SCHEMES`]. Comments, doctypes and processing instructions are not
/// allowed either: the renderer writes none.
pub fn check_html(body: &str) -> Result<(), String> {
    // Parse errors are not looked at: a control character or NUL kept in the
    // text is one, and harmless. What the parser builds is what matters.
    let doc = Html::parse_fragment(body);
    for node in doc.tree.nodes() {
        let element = match node.value() {
            Node::Element(e) => e,
            Node::Text(_) | Node::Document | Node::Fragment => continue,
            other => return Err(format!("a {other:?} node in\n{body}")),
        };
        let name = element.name();
        // The `html` (and `body`) scraper puts around a fragment.
        let wrapper = matches!(name, "html" | "body")
            && node
                .parent()
                .is_none_or(|p| p.value().as_element().is_none_or(|e| e.name() == "html"));
        if wrapper {
            continue;
        }
        if !ELEMENTS.contains(&name) {
            return Err(format!("element <{name}> in\n{body}"));
        }
        for (attr, value) in element.attrs() {
            let allowed = ATTRIBUTES
                .iter()
                .filter(|(el, _)| *el == "*" || *el == name)
                .any(|(_, attrs)| attrs.contains(&attr));
            if !allowed {
                return Err(format!("attribute {attr}={value:?} on <{name}> in\n{body}"));
            }
            for url in urls_in(attr, value) {
                if let Some(scheme) = url_scheme(url)
                    && !SCHEMES.contains(&scheme.as_str())
                {
                    return Err(format!(
                        "a {scheme}: URL {url:?} in {attr} of <{name}> in\n{body}"
                    ));
                }
            }
        }
    }
    Ok(())
}
