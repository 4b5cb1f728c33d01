//! The body of a procedure's page, from the document model.
//!
//! Every piece of text is escaped here, every URL is one the check allowed,
//! and every element is one this file writes: nothing from the source is
//! passed through. The templates place the result; they never see Markdown.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::model::{Block, CalloutKind, Heading, Image, Inline, Procedure, Section, Style};
use crate::paths::{self, Target};
use crate::render::images::WebImage;

/// What the body renderer needs to know about the rest of the site.
pub struct Links<'a> {
    /// Procedure files (relative to the site root) by their slug's page.
    pub slugs: &'a HashMap<PathBuf, String>,
    /// Web copies of each screenshot, by the original's path.
    pub images: &'a HashMap<&'a Path, &'a WebImage>,
    /// From the page to the site's root: `../` for a procedure page.
    pub to_root: &'a str,
}

/// Escape text for HTML content and attribute values alike. Runs of text
/// with nothing to escape are copied whole (it is called for every page
/// and every value the templates print).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut plain = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // Every byte escaped is ASCII, so `i` is a character boundary.
        out.push_str(&text[plain..i]);
        out.push_str(entity);
        plain = i + 1;
    }
    out.push_str(&text[plain..]);
    out
}

/// The procedure's content: intro callouts, then each section.
pub fn body(p: &Procedure, links: &Links) -> String {
    let r = Renderer { p, links };
    let mut out = String::new();
    r.blocks(&p.intro, &mut out);
    for s in &p.sections {
        r.section(s, &mut out);
    }
    out
}

/// What a procedure's body takes from outside its own source: where each of
/// its links leads (other procedures' slugs) and each screenshot's web
/// copies (content-hashed names and sizes), one per line. A page's cache
/// key hashes it beside the source text.
pub fn outside_inputs(p: &Procedure, links: &Links) -> String {
    let r = Renderer { p, links };
    let mut out = String::new();
    p.visit_inlines(&mut |i| match i {
        Inline::Link { href, .. } => {
            out.push_str("link\t");
            out.push_str(href);
            out.push('\t');
            out.push_str(r.href(href).as_deref().unwrap_or(""));
            out.push('\n');
        }
        Inline::Image(img) => {
            // Written field by field: `{:?}` escapes every character.
            out.push_str("image\t");
            if let Some(path) = &img.path {
                out.push_str(&path.to_string_lossy());
            }
            out.push('\t');
            if let Some(web) = img.path.as_deref().and_then(|p| links.images.get(p)) {
                let copy = |c: &super::images::Copy, out: &mut String| {
                    let _ = write!(out, "{} {}x{} ", c.src, c.width, c.height);
                };
                let _ = write!(out, "{} {}x{} ", web.src, web.width, web.height);
                if let Some(large) = &web.large {
                    copy(large, &mut out);
                }
                out.push_str("| ");
                copy(&web.full, &mut out);
            }
            out.push('\n');
        }
        _ => {}
    });
    out
}

struct Renderer<'a> {
    p: &'a Procedure,
    links: &'a Links<'a>,
}

impl Renderer<'_> {
    fn section(&self, s: &Section, out: &mut String) {
        out.push_str("<section class=\"section\">\n");
        self.heading(&s.heading, out);
        self.blocks(&s.blocks, out);
        out.push_str("</section>\n");
    }

    fn heading(&self, h: &Heading, out: &mut String) {
        // The title is the page's h1; a level-1 heading in the body (refused
        // by the check) would still never make a second one.
        let level = h.level.clamp(2, 6);
        let _ = write!(out, "<h{level} id=\"{}\">", esc(&h.id));
        self.inlines(&h.content, false, out);
        let _ = writeln!(out, "</h{level}>");
    }

    fn blocks(&self, blocks: &[Block], out: &mut String) {
        for b in blocks {
            self.block(b, out);
        }
    }

    fn block(&self, b: &Block, out: &mut String) {
        match b {
            Block::Paragraph { content } => self.paragraph(content, out),
            Block::List {
                ordered,
                start,
                items,
            } => {
                let tag = if *ordered { "ol" } else { "ul" };
                if *ordered && *start != 1 {
                    let _ = writeln!(out, "<ol start=\"{start}\">");
                } else {
                    let _ = writeln!(out, "<{tag}>");
                }
                for item in items {
                    out.push_str("<li>");
                    self.item(item, out);
                    out.push_str("</li>\n");
                }
                let _ = writeln!(out, "</{tag}>");
            }
            Block::Callout { kind, blocks, .. } => {
                let name = kind.label();
                let class = name.to_lowercase();
                let _ = write!(
                    out,
                    "<div class=\"callout callout-{class}\" role=\"note\">\n<p class=\"callout-title\">{}<span>{name}</span></p>\n",
                    icon(*kind)
                );
                self.blocks(blocks, out);
                out.push_str("</div>\n");
            }
            Block::Quote { blocks } => {
                out.push_str("<blockquote>\n");
                self.blocks(blocks, out);
                out.push_str("</blockquote>\n");
            }
            Block::Code { text, .. } => {
                let _ = writeln!(out, "<pre><code>{}</code></pre>", esc(text));
            }
            Block::Heading(h) => self.heading(h, out),
            Block::Steps(table) => {
                let first = table.steps.first().and_then(|s| s.number).unwrap_or(1);
                if first == 1 {
                    out.push_str("<ol class=\"steps\">\n");
                } else {
                    let _ = writeln!(out, "<ol class=\"steps\" start=\"{first}\">");
                }
                for step in &table.steps {
                    let n = step
                        .number
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| step.label.clone());
                    let _ = writeln!(out, "<li class=\"step\" id=\"step-{}\">", esc(&n));
                    self.blocks(&step.action, out);
                    out.push_str("</li>\n");
                }
                out.push_str("</ol>\n");
            }
            Block::Table(t) => {
                out.push_str("<div class=\"table-wrap\" role=\"region\" aria-label=\"Table\" tabindex=\"0\">\n<table>\n<thead>\n<tr>");
                for cell in &t.head {
                    out.push_str("<th scope=\"col\">");
                    self.item(cell, out);
                    out.push_str("</th>");
                }
                out.push_str("</tr>\n</thead>\n<tbody>\n");
                for row in &t.rows {
                    out.push_str("<tr>");
                    for cell in row {
                        out.push_str("<td>");
                        self.item(cell, out);
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n</div>\n");
            }
            Block::Rule => out.push_str("<hr>\n"),
        }
    }

    /// A list item or table cell of one plain paragraph is written without
    /// the `<p>`, as a tight Markdown list would be.
    fn item(&self, blocks: &[Block], out: &mut String) {
        match blocks {
            [Block::Paragraph { content }] if !has_figure(content) => {
                self.inlines(content, false, out)
            }
            _ => {
                out.push('\n');
                self.blocks(blocks, out);
            }
        }
    }

    /// A paragraph, split where it holds screenshots: a figure cannot stand
    /// inside a `<p>`.
    fn paragraph(&self, content: &[Inline], out: &mut String) {
        let mut run: Vec<&Inline> = Vec::new();
        let flush = |run: &mut Vec<&Inline>, out: &mut String| {
            let text: Vec<Inline> = trim_breaks(run.drain(..).cloned().collect());
            if !text.is_empty() {
                out.push_str("<p>");
                self.inlines(&text, false, out);
                out.push_str("</p>\n");
            }
        };
        for inline in content {
            if let Inline::Image(img) = inline {
                flush(&mut run, out);
                self.figure(img, out);
            } else {
                run.push(inline);
            }
        }
        flush(&mut run, out);
    }

    fn figure(&self, img: &Image, out: &mut String) {
        let Some(web) = img
            .path
            .as_deref()
            .and_then(|p| self.links.images.get(p).copied())
        else {
            // The check refuses screenshots that are not local files.
            return;
        };
        let root = self.links.to_root;
        let srcset = match &web.large {
            Some(large) => format!(
                " srcset=\"{root}{} {}w, {root}{} {}w\" sizes=\"(min-width: 52rem) {}px, calc(100vw - 4.5rem)\"",
                esc(&web.src),
                web.width,
                esc(&large.src),
                large.width,
                web.width
            ),
            None => String::new(),
        };
        let title = img
            .title
            .as_ref()
            .map(|t| format!(" title=\"{}\"", esc(t)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<figure class=\"screenshot\">\n<img src=\"{root}{}\"{srcset} width=\"{}\" height=\"{}\" alt=\"{}\"{title} loading=\"lazy\" decoding=\"async\">\n<figcaption><a href=\"{root}{}\">Open the full-size screenshot<span class=\"visually-hidden\"> for step {}</span></a> <span class=\"size\">({} × {} pixels)</span></figcaption>\n</figure>\n",
            esc(&web.src),
            web.width,
            web.height,
            esc(&img.alt),
            esc(&web.full.src),
            esc(&self.step_of(img)),
            web.full.width,
            web.full.height,
        );
    }

    /// The step a screenshot belongs to, for a link text that says which.
    fn step_of(&self, img: &Image) -> String {
        self.p
            .steps()
            .find(|s| s.span.start <= img.span.start && img.span.end <= s.span.end)
            .map(|s| s.label.clone())
            .unwrap_or_else(|| "this section".to_string())
    }

    fn inlines(&self, inlines: &[Inline], in_link: bool, out: &mut String) {
        for i in inlines {
            self.inline(i, in_link, out);
        }
    }

    fn inline(&self, i: &Inline, in_link: bool, out: &mut String) {
        match i {
            Inline::Text { text } => out.push_str(&esc(text)),
            Inline::Styled { style, content } => {
                let tag = match style {
                    Style::Strong => "strong",
                    Style::Emphasis => "em",
                    Style::Strikethrough => "s",
                    Style::Underline => "u",
                    Style::Code => "code",
                    Style::Kbd => "kbd",
                };
                let _ = write!(out, "<{tag}>");
                self.inlines(content, in_link, out);
                let _ = write!(out, "</{tag}>");
            }
            Inline::Link {
                href,
                title,
                content,
                ..
            } => {
                let Some(url) = self.href(href) else {
                    self.inlines(content, in_link, out);
                    return;
                };
                let title = title
                    .as_ref()
                    .map(|t| format!(" title=\"{}\"", esc(t)))
                    .unwrap_or_default();
                let _ = write!(out, "<a href=\"{}\"{title}>", esc(&url));
                self.inlines(content, true, out);
                out.push_str("</a>");
            }
            Inline::Image(img) => {
                // An image inside a link or heading: a plain picture.
                if let Some(web) = img
                    .path
                    .as_deref()
                    .and_then(|p| self.links.images.get(p).copied())
                {
                    let _ = write!(
                        out,
                        "<img src=\"{}{}\" width=\"{}\" height=\"{}\" alt=\"{}\">",
                        self.links.to_root,
                        esc(&web.src),
                        web.width,
                        web.height,
                        esc(&img.alt)
                    );
                }
            }
            Inline::StepRef { number, text, .. } if !in_link => {
                let _ = write!(
                    out,
                    "<a class=\"step-ref\" href=\"#step-{number}\">{}</a>",
                    esc(text)
                );
            }
            Inline::StepRef { text, .. } => out.push_str(&esc(text)),
            Inline::LineBreak => out.push_str("<br>"),
            Inline::SoftBreak => out.push('\n'),
        }
    }

    /// Where a link goes on the published site, or nothing for a link the
    /// check would have refused.
    fn href(&self, href: &str) -> Option<String> {
        match paths::resolve(&self.p.path, href) {
            Target::Scheme(s) if matches!(s.as_str(), "http" | "https" | "mailto" | "tel") => {
                Some(href.trim().to_string())
            }
            Target::Scheme(_) | Target::Escapes => None,
            Target::Fragment(f) => Some(format!("#{f}")),
            // `/x` is a page of the same host; `C:\x`, a file on someone's
            // machine, would be read by a browser as an address of scheme `c:`.
            Target::Absolute if paths::scheme(href).is_some() => None,
            Target::Absolute => Some(href.trim().to_string()),
            Target::Local(path, fragment) => {
                let slug = self.links.slugs.get(&path)?;
                let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
                if *slug == self.p.slug {
                    Some(if fragment.is_empty() {
                        "./".to_string()
                    } else {
                        fragment
                    })
                } else {
                    Some(format!("{}{slug}/{fragment}", self.links.to_root))
                }
            }
        }
    }
}

fn has_figure(content: &[Inline]) -> bool {
    content.iter().any(|i| matches!(i, Inline::Image(_)))
}

/// Line breaks and spaces left at the edges when a paragraph is split.
fn trim_breaks(mut inlines: Vec<Inline>) -> Vec<Inline> {
    let edge = |i: &Inline| match i {
        Inline::LineBreak | Inline::SoftBreak => true,
        Inline::Text { text } => text.trim().is_empty(),
        _ => false,
    };
    while inlines.first().is_some_and(edge) {
        inlines.remove(0);
    }
    while inlines.last().is_some_and(edge) {
        inlines.pop();
    }
    if let Some(Inline::Text { text }) = inlines.first_mut() {
        *text = text.trim_start().to_string();
    }
    if let Some(Inline::Text { text }) = inlines.last_mut() {
        *text = text.trim_end().to_string();
    }
    inlines
}

/// A small icon for each kind of callout; hidden from screen readers, which
/// hear the kind's name written beside it.
fn icon(kind: CalloutKind) -> &'static str {
    match kind {
        CalloutKind::Note => {
            "<svg class=\"callout-icon\" aria-hidden=\"true\" focusable=\"false\" viewBox=\"0 0 24 24\" width=\"20\" height=\"20\"><circle cx=\"12\" cy=\"12\" r=\"10\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\"/><path d=\"M12 11v6M12 7.5v.5\" stroke=\"currentColor\" stroke-width=\"2.4\" stroke-linecap=\"round\"/></svg>"
        }
        CalloutKind::Tip => {
            "<svg class=\"callout-icon\" aria-hidden=\"true\" focusable=\"false\" viewBox=\"0 0 24 24\" width=\"20\" height=\"20\"><path d=\"M9 18h6M10 21h4M12 3a6 6 0 0 0-3.5 10.9c.6.5 1 1.2 1 2.1h5c0-.9.4-1.6 1-2.1A6 6 0 0 0 12 3z\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" stroke-linejoin=\"round\"/></svg>"
        }
        CalloutKind::Important => {
            "<svg class=\"callout-icon\" aria-hidden=\"true\" focusable=\"false\" viewBox=\"0 0 24 24\" width=\"20\" height=\"20\"><path d=\"M4 4h16v12H8l-4 4z\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" stroke-linejoin=\"round\"/><path d=\"M12 7v4M12 13.5v.5\" stroke=\"currentColor\" stroke-width=\"2.4\" stroke-linecap=\"round\"/></svg>"
        }
        CalloutKind::Warning | CalloutKind::Caution => {
            "<svg class=\"callout-icon\" aria-hidden=\"true\" focusable=\"false\" viewBox=\"0 0 24 24\" width=\"20\" height=\"20\"><path d=\"M12 3 2 20h20z\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" stroke-linejoin=\"round\"/><path d=\"M12 9v5M12 16.5v.5\" stroke=\"currentColor\" stroke-width=\"2.4\" stroke-linecap=\"round\"/></svg>"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn esc_escapes_the_five_characters_and_keeps_the_rest() {
        assert_eq!(esc(""), "");
        assert_eq!(esc("plain text"), "plain text");
        assert_eq!(
            esc(r#"<a href="x" title='y'>&amp;</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(esc("é<ü>ß ✓&"), "é&lt;ü&gt;ß ✓&amp;");
        assert_eq!(esc("{{ x }}"), "{{ x }}");
    }
}
