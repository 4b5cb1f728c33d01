//! Markdown (and the inline HTML it may hold) into the document model.
//!
//! pulldown-cmark's events and the HTML tokenizer's tags drive one stack of
//! open frames, so `<p>Select **E-Filing**.</p>` in a table cell becomes a
//! paragraph holding a strong run, whichever syntax opened what. HTML is held
//! to the allow-list here: anything else is reported and left out of the model.

use std::collections::HashSet;

use pulldown_cmark::{
    BlockQuoteKind, CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};

use super::html::{self, HtmlToken};
use super::refs::TextRun;
use crate::diag::{Code, Diagnostic, SourceFile, Span};
use crate::model::{
    Block, CalloutKind, Heading, Image, Inline, Section, Step, StepTable, Style, Table,
    blocks_plain_text, plain_text, slugify,
};
use crate::paths::{self, Target};

/// How many frames (lists and their items, quotes, callouts, tables, rows
/// and cells, paragraphs, formatting, links) may be open one inside another.
/// Real procedures need about a dozen (a link in bold in a third-level list
/// in a table cell). Everything after parsing walks the model recursively
/// (the checker, the page renderer, serialisation, even freeing it), so a
/// file nested ten thousand deep would overflow the stack; and the handout's
/// layout (typst) stops at about thirty nested quotes.
pub const MAX_DEPTH: usize = 24;

/// Ids the page templates use, which a heading must not take.
pub const RESERVED_IDS: &[&str] = &["main", "toc-title", "filter-input", "filter-status"];

pub struct Body {
    pub intro: Vec<Block>,
    pub sections: Vec<Section>,
}

/// Parse the Markdown body of `file`, which starts at byte `start`.
pub fn parse(file: &SourceFile, start: usize, diags: &mut Vec<Diagnostic>) -> Body {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_GFM;
    let text = &file.text[start..];
    let mut b = Builder {
        file,
        diags,
        stack: vec![Frame::new(Kind::Root, 0..file.text.len(), None)],
        intro: Vec::new(),
        sections: Vec::new(),
        ids: HashSet::new(),
        too_deep: false,
        skipped: 0,
        html_skipped: 0,
    };
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        let span = range.start + start..range.end + start;
        b.event(event, span);
    }
    b.close_html_above(0);
    let root = b.stack.pop().expect("the root frame stays until the end");
    let mut root = root;
    root.flush_inlines();
    // Anything still loose at the root belongs to the last section.
    for block in root.blocks {
        b.push_root_block(block);
    }
    Body {
        intro: b.intro,
        sections: b.sections,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Root,
    Callout(CalloutKind),
    Quote,
    List { ordered: bool, start: u64 },
    Item,
    Paragraph,
    Heading(u8),
    CodeBlock(Option<String>),
    HtmlBlock,
    Styled(Style),
    Link { href: String, title: Option<String> },
    Image { src: String, title: Option<String> },
    Table,
    Row,
    Cell,
}

impl Kind {
    /// Frames whose children are blocks (loose inlines become paragraphs).
    fn holds_blocks(&self) -> bool {
        matches!(
            self,
            Kind::Root | Kind::Callout(_) | Kind::Quote | Kind::Item | Kind::Cell | Kind::HtmlBlock
        )
    }

    /// Frames whose text is never a cross-reference.
    fn quiet(&self) -> bool {
        matches!(
            self,
            Kind::Link { .. }
                | Kind::Image { .. }
                | Kind::CodeBlock(_)
                | Kind::Styled(Style::Code | Style::Kbd)
        )
    }
}

struct Cell {
    blocks: Vec<Block>,
    span: Span,
}

struct Frame {
    kind: Kind,
    span: Span,
    /// For frames opened by an HTML tag: the tag's name and where it was written.
    html: Option<(String, Span)>,
    blocks: Vec<Block>,
    inlines: Vec<Inline>,
    text: TextRun,
    /// No cross-references inside (links, images, code).
    quiet: bool,
    items: Vec<Vec<Block>>,
    cells: Vec<Cell>,
    rows: Vec<(Vec<Cell>, Span)>,
    /// The source of an HTML block, gathered line by line, with where each
    /// line starts in `html_source` and the file's text it came from.
    html_source: String,
    html_lines: Vec<(usize, Span)>,
}

impl Frame {
    fn new(kind: Kind, span: Span, html: Option<(String, Span)>) -> Self {
        Frame {
            quiet: kind.quiet(),
            kind,
            span,
            html,
            blocks: Vec::new(),
            inlines: Vec::new(),
            text: TextRun::default(),
            items: Vec::new(),
            cells: Vec::new(),
            rows: Vec::new(),
            html_source: String::new(),
            html_lines: Vec::new(),
        }
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            let run = std::mem::take(&mut self.text);
            self.inlines.extend(run.into_inlines(!self.quiet));
        }
    }

    /// Loose inlines of a block container become a paragraph.
    fn flush_inlines(&mut self) {
        self.flush_text();
        let inlines = std::mem::take(&mut self.inlines);
        if let Some(p) = paragraph(inlines) {
            self.blocks.push(p);
        }
    }
}

/// A paragraph of `inlines`, trimmed; none when there is nothing but space.
fn paragraph(mut inlines: Vec<Inline>) -> Option<Block> {
    while matches!(inlines.first(), Some(Inline::SoftBreak | Inline::LineBreak)) {
        inlines.remove(0);
    }
    while matches!(inlines.last(), Some(Inline::SoftBreak | Inline::LineBreak)) {
        inlines.pop();
    }
    if let Some(Inline::Text { text }) = inlines.first_mut() {
        *text = text.trim_start().to_string();
    }
    if let Some(Inline::Text { text }) = inlines.last_mut() {
        *text = text.trim_end().to_string();
    }
    inlines.retain(|i| !matches!(i, Inline::Text { text } if text.is_empty()));
    (!inlines.is_empty()).then_some(Block::Paragraph { content: inlines })
}

struct Builder<'a> {
    file: &'a SourceFile,
    diags: &'a mut Vec<Diagnostic>,
    stack: Vec<Frame>,
    intro: Vec<Block>,
    sections: Vec<Section>,
    ids: HashSet<String>,
    /// The depth limit was reported in this file (once, at its first place).
    too_deep: bool,
    /// Markdown elements past the depth limit that are still open: their
    /// content is left out.
    skipped: usize,
    /// The same for HTML elements, until the Markdown frame holding them ends.
    html_skipped: usize,
}

impl Builder<'_> {
    fn top(&mut self) -> &mut Frame {
        self.stack
            .last_mut()
            .expect("the root frame is never popped early")
    }

    /// Open a frame, unless it would be nested deeper than [`MAX_DEPTH`]:
    /// then report that (once per file) and say so.
    #[must_use]
    fn open(&mut self, kind: Kind, span: Span, html: Option<(String, Span)>) -> bool {
        if self.stack.len() > MAX_DEPTH {
            if !self.too_deep {
                self.too_deep = true;
                let text = &self.file.text;
                let at = span.start.min(text.len());
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                let d = self.file.diag(
                    Code::NestedTooDeep,
                    at..end,
                    format!(
                        "this is nested more than {MAX_DEPTH} levels deep; procdoc reads no deeper"
                    ),
                );
                self.diags.push(d);
            }
            return false;
        }
        let parent_quiet = self.top().quiet;
        if kind.holds_blocks()
            || matches!(
                kind,
                Kind::Paragraph
                    | Kind::Heading(_)
                    | Kind::List { .. }
                    | Kind::Table
                    | Kind::CodeBlock(_)
            )
        {
            // A block starts: what came before it in the parent is a paragraph.
            let top = self.top();
            if top.kind.holds_blocks() {
                top.flush_inlines();
            } else {
                top.flush_text();
            }
        } else {
            self.top().flush_text();
        }
        let mut frame = Frame::new(kind, span, html);
        frame.quiet |= parent_quiet;
        self.stack.push(frame);
        true
    }

    fn push_text(&mut self, text: &str, at: usize) {
        let top = self.top();
        if matches!(top.kind, Kind::List { .. } | Kind::Table | Kind::Row) {
            if !text.trim().is_empty() {
                let tag = top
                    .html
                    .as_ref()
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default();
                let span = at..at + text.len();
                self.diags.push(
                    self.file
                        .diag(
                            Code::HtmlMalformed,
                            span,
                            format!("text directly inside <{tag}>"),
                        )
                        .with_hint(format!(
                            "put the text inside <li>...</li>, or close the <{tag}> first"
                        )),
                );
            }
            return;
        }
        top.text.push(text, at);
    }

    /// Text of elements left out past the depth limit, where text can go.
    fn push_skipped_text(&mut self, text: &str, at: usize) {
        if !matches!(self.top().kind, Kind::List { .. } | Kind::Table | Kind::Row) {
            self.top().text.push(text, at);
        }
    }

    fn push_inline(&mut self, inline: Inline) {
        let top = self.top();
        top.flush_text();
        top.inlines.push(inline);
    }

    fn push_block(&mut self, block: Block) {
        if self.stack.len() == 1 {
            self.top().flush_inlines();
            let top = self.top();
            top.blocks.push(block);
            let blocks = std::mem::take(&mut top.blocks);
            for b in blocks {
                self.push_root_block(b);
            }
            return;
        }
        let top = self.top();
        top.flush_inlines();
        top.blocks.push(block);
    }

    fn push_root_block(&mut self, block: Block) {
        match self.sections.last_mut() {
            Some(s) => s.blocks.push(block),
            None => self.intro.push(block),
        }
    }

    fn event(&mut self, event: Event, span: Span) {
        // Past the depth limit: the nesting is followed until the element
        // that was too deep ends, and its text kept in the deepest element
        // (so that a step does not also look empty).
        if self.skipped > 0 {
            match event {
                Event::Start(_) => self.skipped += 1,
                Event::End(_) => self.skipped -= 1,
                Event::Text(text) | Event::Code(text) => self.push_skipped_text(&text, span.start),
                _ => {}
            }
            return;
        }
        if self.html_skipped > 0 {
            match event {
                Event::Text(text) | Event::Code(text) => {
                    return self.push_skipped_text(&text, span.start);
                }
                Event::Start(_) | Event::End(_) | Event::Html(_) | Event::InlineHtml(_) => {}
                _ => return,
            }
        }
        match event {
            Event::Start(tag) => self.start(tag, span),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.push_text(&text, span.start),
            Event::Code(code) => self.push_inline(Inline::Styled {
                style: Style::Code,
                content: vec![Inline::Text {
                    text: code.to_string(),
                }],
            }),
            Event::InlineHtml(h) => self.html(&h, &[(0, span)]),
            // The lines of an HTML block are read together when it ends, so
            // that a comment or tag may span lines.
            Event::Html(h) => {
                let top = self.top();
                top.html_lines.push((top.html_source.len(), span));
                top.html_source.push_str(&h);
            }
            Event::SoftBreak => self.push_inline(Inline::SoftBreak),
            Event::HardBreak => self.push_inline(Inline::LineBreak),
            Event::Rule => self.push_block(Block::Rule),
            // Not enabled in the options above.
            Event::FootnoteReference(_)
            | Event::TaskListMarker(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_) => {}
        }
    }

    fn start(&mut self, tag: Tag, span: Span) {
        let kind = match tag {
            Tag::Paragraph => Kind::Paragraph,
            Tag::Heading { level, .. } => Kind::Heading(heading_level(level)),
            Tag::BlockQuote(Some(kind)) => Kind::Callout(callout_kind(kind)),
            Tag::BlockQuote(None) => Kind::Quote,
            Tag::CodeBlock(CodeBlockKind::Fenced(lang)) => {
                let lang = lang.split_whitespace().next().map(str::to_string);
                Kind::CodeBlock(lang)
            }
            Tag::CodeBlock(CodeBlockKind::Indented) => Kind::CodeBlock(None),
            Tag::HtmlBlock => Kind::HtmlBlock,
            Tag::List(start) => Kind::List {
                ordered: start.is_some(),
                start: start.unwrap_or(1),
            },
            Tag::Item => Kind::Item,
            Tag::Table(_) => Kind::Table,
            Tag::TableHead | Tag::TableRow => Kind::Row,
            Tag::TableCell => Kind::Cell,
            Tag::Emphasis => Kind::Styled(Style::Emphasis),
            Tag::Strong => Kind::Styled(Style::Strong),
            Tag::Strikethrough => Kind::Styled(Style::Strikethrough),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => Kind::Link {
                // `<clerk@example.com>` gives the address alone.
                href: if link_type == LinkType::Email {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                },
                title: Some(title.to_string()).filter(|t| !t.is_empty()),
            },
            Tag::Image {
                dest_url, title, ..
            } => Kind::Image {
                src: dest_url.to_string(),
                title: Some(title.to_string()).filter(|t| !t.is_empty()),
            },
            // Not enabled in the options above.
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::Superscript
            | Tag::Subscript
            | Tag::MetadataBlock(_) => Kind::Quote,
        };
        if !self.open(kind, span, None) {
            self.skipped = 1;
        }
    }

    fn end(&mut self, _tag: TagEnd) {
        // pulldown-cmark's events nest properly: the innermost Markdown frame is
        // the one ending. HTML frames above it were left open.
        let md = self
            .stack
            .iter()
            .rposition(|f| f.html.is_none())
            .expect("the root frame is Markdown");
        if self.stack[md].kind == Kind::HtmlBlock {
            let frame = &mut self.stack[md];
            let source = std::mem::take(&mut frame.html_source);
            let lines = std::mem::take(&mut frame.html_lines);
            self.html(&source, &lines);
        }
        let md = self
            .stack
            .iter()
            .rposition(|f| f.html.is_none())
            .expect("the root frame is Markdown");
        self.close_html_above(md);
        self.close_top();
        // HTML left out past the depth limit ends with the Markdown holding it.
        self.html_skipped = 0;
    }

    /// Close the HTML frames above `index`: `<p>` and `<li>` may end implicitly,
    /// other tags must be closed by the writer.
    fn close_html_above(&mut self, index: usize) {
        while self.stack.len() > index + 1 {
            let frame = self.stack.last().expect("checked above");
            if let Some((name, span)) = &frame.html
                && !matches!(name.as_str(), "p" | "li")
            {
                let d = self
                    .file
                    .diag(
                        Code::HtmlMalformed,
                        span.clone(),
                        format!("<{name}> is never closed"),
                    )
                    .with_hint(format!(
                        "add </{name}> where the {} should end",
                        element_noun(name)
                    ));
                self.diags.push(d);
            }
            self.close_top();
        }
    }

    /// Pop the top frame and give what it built to its parent.
    fn close_top(&mut self) {
        let mut frame = self.stack.pop().expect("a frame to close");
        match frame.kind.clone() {
            Kind::Root => unreachable!("the root frame is closed by parse()"),
            Kind::Paragraph => {
                frame.flush_text();
                if let Some(p) = paragraph(frame.inlines) {
                    self.push_block(p);
                }
            }
            Kind::Heading(level) => {
                frame.flush_text();
                let text = plain_text(&frame.inlines);
                let heading = Heading {
                    level,
                    id: self.unique_id(&text),
                    content: frame.inlines,
                    span: frame.span,
                };
                if self.stack.len() == 1 && level <= 2 {
                    self.top().flush_inlines();
                    let loose = std::mem::take(&mut self.top().blocks);
                    for b in loose {
                        self.push_root_block(b);
                    }
                    self.sections.push(Section {
                        heading,
                        blocks: Vec::new(),
                    });
                } else {
                    self.push_block(Block::Heading(heading));
                }
            }
            Kind::Callout(kind) => {
                frame.flush_inlines();
                self.push_block(Block::Callout {
                    kind,
                    blocks: frame.blocks,
                    span: frame.span,
                });
            }
            Kind::Quote => {
                frame.flush_inlines();
                self.push_block(Block::Quote {
                    blocks: frame.blocks,
                });
            }
            Kind::HtmlBlock => {
                frame.flush_inlines();
                for b in frame.blocks {
                    self.push_block(b);
                }
            }
            Kind::CodeBlock(lang) => {
                self.push_block(Block::Code {
                    lang,
                    text: frame.text.text,
                });
            }
            Kind::List { ordered, start } => {
                self.push_block(Block::List {
                    ordered,
                    start,
                    items: frame.items,
                });
            }
            Kind::Item => {
                frame.flush_inlines();
                let parent = self.top();
                if matches!(parent.kind, Kind::List { .. }) {
                    parent.items.push(frame.blocks);
                }
            }
            Kind::Styled(style) => {
                frame.flush_text();
                self.push_inline(Inline::Styled {
                    style,
                    content: frame.inlines,
                });
            }
            Kind::Link { href, title } => {
                frame.flush_text();
                self.push_inline(Inline::Link {
                    href,
                    title,
                    content: frame.inlines,
                    span: frame.html.map(|(_, s)| s).unwrap_or(frame.span),
                });
            }
            Kind::Image { src, title } => {
                frame.flush_text();
                let path = match paths::resolve(&self.file.path, &src) {
                    Target::Local(p, _) => Some(p),
                    _ => None,
                };
                self.push_inline(Inline::Image(Image {
                    alt: plain_text(&frame.inlines).trim().to_string(),
                    src,
                    path,
                    title,
                    span: frame.span,
                }));
            }
            Kind::Cell => {
                frame.flush_inlines();
                let span = trim_span(&self.file.text, frame.span);
                self.top().cells.push(Cell {
                    blocks: frame.blocks,
                    span,
                });
            }
            Kind::Row => {
                let span = frame.span;
                self.top().rows.push((frame.cells, span));
            }
            Kind::Table => self.table(frame),
        }
    }

    fn table(&mut self, frame: Frame) {
        let mut rows = frame.rows.into_iter();
        let Some((head, head_span)) = rows.next() else {
            return;
        };
        let names: Vec<String> = head
            .iter()
            .map(|c| blocks_plain_text(&c.blocks).trim().to_lowercase())
            .collect();
        let is_steps = names.first().map(String::as_str) == Some("step");
        if !is_steps {
            self.push_block(Block::Table(Table {
                head: head.into_iter().map(|c| c.blocks).collect(),
                rows: rows
                    .map(|(cells, _)| cells.into_iter().map(|c| c.blocks).collect())
                    .collect(),
                span: frame.span,
            }));
            return;
        }
        if names.len() != 2 || names[1] != "action" {
            let message = if names.len() == 2 {
                format!(
                    "a step table's second column must be Action, not {}",
                    blocks_plain_text(&head[1].blocks).trim()
                )
            } else {
                format!(
                    "a step table has two columns, Step and Action; this one has {}",
                    names.len()
                )
            };
            self.diags.push(self.file.diag(
                Code::StepTableColumns,
                trim_span(&self.file.text, head_span),
                message,
            ));
        }
        let steps = rows
            .map(|(cells, span)| {
                let mut cells = cells.into_iter();
                let number = cells.next().map(|c| (c.blocks, c.span)).unwrap_or_default();
                let action = cells.next().map(|c| c.blocks).unwrap_or_default();
                let label = blocks_plain_text(&number.0).trim().to_string();
                Step {
                    number: parse_step_number(&label),
                    label,
                    action,
                    span: trim_span(&self.file.text, span),
                    number_span: number.1,
                }
            })
            .collect();
        self.push_block(Block::Steps(StepTable {
            steps,
            span: frame.span,
        }));
    }

    fn unique_id(&mut self, text: &str) -> String {
        let mut base = slugify(text);
        if base.is_empty() {
            base = "section".to_string();
        }
        // `step-N` belongs to the steps.
        if base
            .strip_prefix("step-")
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            base = format!("section-{base}");
        }
        let mut id = base.clone();
        let mut n = 2;
        while !self.ids.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }

    /// A piece of HTML: one tag of inline HTML, or a whole HTML block.
    /// `pieces` says where each piece of `source` (from an offset on) was
    /// taken from in the file: the lines of an HTML block are not contiguous
    /// in the file when they sit in a quote or a list (the `>` and the
    /// indentation are left out), and pulldown-cmark may give a line without
    /// its CR.
    fn html(&mut self, source: &str, pieces: &[(usize, Span)]) {
        let text = &self.file.text;
        let in_file = |at: usize| {
            let i = pieces.partition_point(|(from, _)| *from <= at).max(1) - 1;
            let (from, span) = &pieces[i];
            text.floor_char_boundary((span.start + (at - from)).min(span.end))
        };
        for (token, at) in locate_tokens(source) {
            let at = in_file(at);
            if self.html_skipped > 0 {
                // Past the depth limit: follow the nesting of what is
                // allowed, and still report what never is.
                match &token {
                    HtmlToken::Start {
                        name, self_closing, ..
                    } if html::ALLOWED.contains(&name.as_str()) => {
                        if name != "br" && !self_closing {
                            self.html_skipped += 1;
                        }
                        continue;
                    }
                    HtmlToken::End { name } if html::ALLOWED.contains(&name.as_str()) => {
                        if name != "br" {
                            self.html_skipped -= 1;
                        }
                        continue;
                    }
                    HtmlToken::Text(text) => {
                        self.push_skipped_text(text, at);
                        continue;
                    }
                    HtmlToken::Start { .. } | HtmlToken::Other => {}
                    _ => continue,
                }
            }
            match token {
                HtmlToken::Comment => {}
                HtmlToken::Text(text) => self.push_text(&text, at),
                HtmlToken::Other => {
                    let d = self.file.diag(
                        Code::HtmlElement,
                        at..at + 1,
                        "this HTML is not allowed in a procedure",
                    );
                    self.diags.push(d);
                }
                HtmlToken::Start {
                    name,
                    attrs,
                    self_closing,
                } => {
                    let tag_span = tag_span(&self.file.text, at);
                    self.start_tag(&name, &attrs, self_closing, tag_span);
                }
                HtmlToken::End { name } => {
                    let tag_span = tag_span(&self.file.text, at);
                    self.end_tag(&name, tag_span);
                }
            }
        }
    }

    fn start_tag(
        &mut self,
        name: &str,
        attrs: &[(String, String)],
        self_closing: bool,
        span: Span,
    ) {
        if !html::ALLOWED.contains(&name) {
            let d = self
                .file
                .diag(
                    Code::HtmlElement,
                    span,
                    format!("<{name}> is not allowed in a procedure"),
                )
                .with_hint(disallowed_hint(name));
            self.diags.push(d);
            return;
        }
        let tag_source = self.file.text[span.clone()].to_string();
        let mut href = None;
        let mut title = None;
        for (attr, value) in attrs {
            if name == "a" && html::LINK_ATTRIBUTES.contains(&attr.as_str()) {
                if attr == "href" {
                    href = Some(value.clone());
                } else {
                    title = Some(value.clone());
                }
                continue;
            }
            let at = html::attribute_offset(&tag_source, attr)
                .map(|o| span.start + o..span.start + o + attr.len())
                .unwrap_or(span.clone());
            let message = format!("the {attr} attribute is not allowed on <{name}>");
            let hint = if attr.starts_with("on") {
                "event handlers run scripts; remove the attribute".to_string()
            } else if attr == "style" {
                "procdoc styles every page and handout alike; remove the style attribute (use <b>, <i> or a list for emphasis)".to_string()
            } else if name == "a" {
                "a link takes only href (and title); remove the attribute".to_string()
            } else {
                format!("<{name}> takes no attributes; remove it")
            };
            self.diags.push(
                self.file
                    .diag(Code::HtmlAttribute, at, message)
                    .with_hint(hint),
            );
        }
        let tag = Some((name.to_string(), span.clone()));
        match name {
            "br" => self.push_inline(Inline::LineBreak),
            "p" | "ul" | "ol" => {
                self.close_implicit_paragraph();
                if !self.top().kind.holds_blocks() {
                    let d = self
                        .file
                        .diag(Code::HtmlMalformed, span, format!("<{name}> cannot stand inside {}", self.context_name()))
                        .with_hint(format!(
                            "close the {} before the <{name}>; in a paragraph outside a table, write a Markdown list instead",
                            self.context_name()
                        ));
                    self.diags.push(d);
                    return;
                }
                let kind = match name {
                    "p" => Kind::Paragraph,
                    _ => Kind::List {
                        ordered: name == "ol",
                        start: 1,
                    },
                };
                if !self.open(kind, span.clone(), tag) {
                    self.html_skipped = usize::from(!self_closing);
                } else if self_closing && name == "p" {
                    self.close_top();
                }
            }
            "li" => {
                self.close_implicit_paragraph();
                if matches!(self.top().html.as_ref(), Some((n, _)) if n == "li") {
                    self.close_top();
                }
                if !matches!(self.top().kind, Kind::List { .. }) {
                    let d = self
                        .file
                        .diag(Code::HtmlMalformed, span, "<li> outside a list")
                        .with_hint("put list items inside <ul>...</ul> (bullets) or <ol>...</ol> (numbers)");
                    self.diags.push(d);
                    return;
                }
                if !self.open(Kind::Item, span, tag) {
                    self.html_skipped = usize::from(!self_closing);
                }
            }
            _ => {
                let kind = match name {
                    "b" | "strong" => Kind::Styled(Style::Strong),
                    "i" | "em" => Kind::Styled(Style::Emphasis),
                    "u" => Kind::Styled(Style::Underline),
                    "code" => Kind::Styled(Style::Code),
                    "kbd" => Kind::Styled(Style::Kbd),
                    _ => Kind::Link {
                        href: href.unwrap_or_default(),
                        title,
                    },
                };
                if matches!(self.top().kind, Kind::List { .. }) {
                    let d = self
                        .file
                        .diag(
                            Code::HtmlMalformed,
                            span,
                            format!("<{name}> directly inside a list"),
                        )
                        .with_hint("put it inside <li>...</li>");
                    self.diags.push(d);
                    return;
                }
                if !self.open(kind, span, tag) {
                    self.html_skipped = usize::from(!self_closing);
                }
            }
        }
    }

    fn end_tag(&mut self, name: &str, span: Span) {
        if name == "br" || !html::ALLOWED.contains(&name) {
            // `</br>` is read as `<br>` by browsers and means nothing here;
            // disallowed elements were reported at their start tag.
            return;
        }
        // The nearest open HTML element of that name, not crossing a Markdown
        // frame (a cell, a paragraph, emphasis written with **).
        let found = self
            .stack
            .iter()
            .rposition(|f| f.html.is_none() || matches!(&f.html, Some((n, _)) if n == name))
            .filter(|&i| self.stack[i].html.is_some());
        let Some(index) = found else {
            let d = self
                .file
                .diag(
                    Code::HtmlMalformed,
                    span,
                    format!("</{name}> closes a tag that is not open here"),
                )
                .with_hint(format!(
                    "remove the </{name}>, or add the <{name}> it closes before it"
                ));
            self.diags.push(d);
            return;
        };
        self.close_html_above(index);
        self.close_top();
    }

    /// `<p>` ends where another block starts.
    fn close_implicit_paragraph(&mut self) {
        if matches!(self.top().html.as_ref(), Some((n, _)) if n == "p") {
            self.close_top();
        }
    }

    fn context_name(&mut self) -> String {
        let top = self.top();
        match (&top.html, &top.kind) {
            (Some((n, _)), _) => format!("<{n}>"),
            (None, Kind::Paragraph) => "a paragraph".to_string(),
            (None, Kind::Heading(_)) => "a heading".to_string(),
            (None, Kind::Styled(_)) => "emphasis".to_string(),
            (None, Kind::Link { .. }) => "a link".to_string(),
            _ => "this place".to_string(),
        }
    }
}

fn element_noun(name: &str) -> &'static str {
    match name {
        "ul" | "ol" => "list",
        "a" => "link",
        _ => "formatting",
    }
}

fn disallowed_hint(name: &str) -> String {
    match name {
        "script" | "style" | "iframe" | "object" | "embed" | "form" | "input" | "button" => {
            "a procedure cannot carry scripts, styles, forms or embedded pages; describe the action in words".to_string()
        }
        "img" => "write the screenshot in Markdown: ![what it shows](images/picture.png)".to_string(),
        "table" | "tr" | "td" | "th" => "write tables in Markdown; a step table is | Step | Action |".to_string(),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => "write headings in Markdown: ## Heading".to_string(),
        _ => format!(
            "remove the <{name}> tag and keep its text; the HTML allowed is br, p, ul, ol, li, b, strong, i, em, u, code, kbd and a href"
        ),
    }
}

/// The tokens of a piece of HTML with the offset in `source` each starts at.
/// A piece of inline HTML is one tag; an HTML block may span lines, and each
/// token is found on the line the tokenizer saw it on.
fn locate_tokens(source: &str) -> Vec<(HtmlToken, usize)> {
    let tokens = html::tokenize(source);
    // Lowercased once: ASCII case folding keeps every byte where it is, and
    // lowercasing the rest again for each tag made a block of many tags
    // quadratic.
    let lower = source.to_ascii_lowercase();
    let mut cursor = 0;
    tokens
        .into_iter()
        .map(|t| {
            let needle = match &t {
                HtmlToken::Start { name, .. } => Some(format!("<{name}")),
                HtmlToken::End { name } => Some(format!("</{name}")),
                HtmlToken::Comment => Some("<!--".to_string()),
                HtmlToken::Other => Some("<".to_string()),
                HtmlToken::Text(_) => None,
            };
            let at = match needle {
                Some(n) => {
                    let found = lower[cursor..]
                        .find(&n)
                        .map(|i| cursor + i)
                        .unwrap_or(cursor);
                    cursor = source[found..]
                        .find('>')
                        .map(|i| found + i + 1)
                        .unwrap_or(found);
                    found
                }
                // Text starts where the token before it ended. The cursor is
                // not moved past it by the text's length: entities, NUL and
                // CR/LF make the decoded text longer or shorter than its
                // source, which put the cursor inside a character. The next
                // tag is found by its needle: `<` and a letter in the source
                // always start a tag, so no text can hold it.
                None => cursor,
            };
            (t, at)
        })
        .collect()
}

/// The source of a tag starting at `at`: up to and including its `>`.
fn tag_span(text: &str, at: usize) -> Span {
    let end = text[at..]
        .find('>')
        .map(|i| at + i + 1)
        .unwrap_or(text.len());
    at..end
}

/// A span without the blanks and table pipes around it.
fn trim_span(text: &str, span: Span) -> Span {
    let s = &text[span.clone()];
    let start = s.len() - s.trim_start_matches([' ', '\t', '|']).len();
    let end = s.trim_end_matches([' ', '\t', '|', '\n', '\r']).len();
    if start >= end {
        return span;
    }
    span.start + start..span.start + end
}

/// A step number: digits only, and not absurdly large.
fn parse_step_number(label: &str) -> Option<u32> {
    if label.is_empty() || !label.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    label.parse().ok().filter(|&n| n <= 100_000)
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn callout_kind(kind: BlockQuoteKind) -> CalloutKind {
    match kind {
        BlockQuoteKind::Note => CalloutKind::Note,
        BlockQuoteKind::Tip => CalloutKind::Tip,
        BlockQuoteKind::Important => CalloutKind::Important,
        BlockQuoteKind::Warning => CalloutKind::Warning,
        BlockQuoteKind::Caution => CalloutKind::Caution,
    }
}

/// Used by tests to parse a snippet of Markdown without front matter.
#[cfg(test)]
pub fn parse_snippet(markdown: &str) -> (Body, Vec<Diagnostic>) {
    let file = SourceFile::new("procedures/t.md", markdown.to_string());
    let mut diags = Vec::new();
    let body = parse(&file, 0, &mut diags);
    (body, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_step_action(md: &str) -> (Vec<Block>, Vec<Diagnostic>) {
        let (body, diags) = parse_snippet(md);
        let step = body
            .intro
            .iter()
            .find_map(|b| match b {
                Block::Steps(t) => t.steps.first().cloned(),
                _ => None,
            })
            .expect("a step");
        (step.action, diags)
    }

    #[test]
    fn cell_html_becomes_model_blocks() {
        let (action, diags) = first_step_action(
            "| Step | Action |\n|--|--|\n| 1 | <p>Select <b>E-Filing</b>.</p> <p>Then **wait**.</p> |\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "Select "},
                    {"type": "styled", "style": "strong", "content": [{"type": "text", "text": "E-Filing"}]},
                    {"type": "text", "text": "."}
                ]},
                {"type": "paragraph", "content": [
                    {"type": "text", "text": "Then "},
                    {"type": "styled", "style": "strong", "content": [{"type": "text", "text": "wait"}]},
                    {"type": "text", "text": "."}
                ]}
            ])
        );
    }

    #[test]
    fn lists_in_cells_and_implicit_ends() {
        let (action, diags) = first_step_action(
            "| Step | Action |\n|--|--|\n| 1 | Try: <ul><li>Refresh.<li>Log out</ul> |\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        match &action[..] {
            [
                Block::Paragraph { .. },
                Block::List {
                    ordered: false,
                    items,
                    ..
                },
            ] => {
                assert_eq!(items.len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unclosed_and_stray_tags_are_reported() {
        let (_, diags) = first_step_action("| Step | Action |\n|--|--|\n| 1 | <b>bold </i> |\n");
        let codes: Vec<_> = diags.iter().map(|d| (d.code, d.message.as_str())).collect();
        assert_eq!(
            codes,
            vec![
                (
                    Code::HtmlMalformed,
                    "</i> closes a tag that is not open here"
                ),
                (Code::HtmlMalformed, "<b> is never closed"),
            ]
        );
    }

    #[test]
    fn html_positions_are_those_of_the_file() {
        // Lines of an HTML block in a quote (the `>` is not part of the
        // block's text), a CR/LF, and text whose entities and NUL decode to
        // another length than they are written in.
        for (md, at) in [
            ("> <p>\n>\u{e9}<b>\n", (2, 3)),
            ("<b>\r\n<i>", (2, 1)),
            ("<ul><li>&#0;e\u{301}<b>", (1, 15)),
        ] {
            let (_, diags) = parse_snippet(md);
            let found: Vec<_> = diags.iter().map(|d| (d.line, d.column)).collect();
            assert!(found.contains(&at), "{md:?}: {diags:?}");
        }
    }

    #[test]
    fn step_references_are_found_in_text_but_not_in_code() {
        let (body, _) = parse_snippet("See step 3 and `step 4`.\n");
        let Block::Paragraph { content } = &body.intro[0] else {
            panic!()
        };
        let refs: Vec<_> = content
            .iter()
            .filter_map(|i| match i {
                Inline::StepRef { number, .. } => Some(*number),
                _ => None,
            })
            .collect();
        assert_eq!(refs, vec![3]);
    }

    #[test]
    fn sections_start_at_level_two_headings() {
        let (body, _) = parse_snippet("> [!NOTE]\n> Hi\n\n## One\n\ntext\n\n### Sub\n\n## One\n");
        assert!(matches!(
            body.intro[0],
            Block::Callout {
                kind: CalloutKind::Note,
                ..
            }
        ));
        assert_eq!(body.sections.len(), 2);
        assert_eq!(body.sections[0].heading.id, "one");
        assert_eq!(body.sections[1].heading.id, "one-2");
        assert!(matches!(body.sections[0].blocks[1], Block::Heading(_)));
    }
}
