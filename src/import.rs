//! `procdoc import`: a legacy procedure, exported from a PDF as text, into the
//! source format (see the README).
//!
//! The legacy shape is line based: a `# TITLE` line, paragraphs (often a
//! `**NOTE:**`), `STEP<TAB>ACTION` header rows, then rows of a step number, a
//! tab and the action as HTML; at each page break the title comes again as a
//! heading and maybe a `---` rule; a last row without a step number holds the
//! reminders. [`import`] reads it in two passes: each line is classified on
//! its own ([`Line`]), then the lines are assembled into procedures, whose
//! cells are read with html5ever's tokenizer ([`crate::parse::html`]) into a
//! small tree ([`Block`], [`Node`]) that is written out as Markdown.
//!
//! What it cannot read is reported at its line and column, never guessed at;
//! then nothing is imported.

use std::collections::{HashMap, HashSet};

use crate::diag::{Code, Diagnostic, SourceFile, Span};
use crate::model::slugify;
use crate::parse::html::{HtmlToken, tokenize};
use crate::site::RESERVED_SLUGS;

/// One procedure read from a legacy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The title as it goes into the front matter (title-cased when the
    /// legacy file had it in capitals).
    pub title: String,
    /// The file name the procedure would have: `procedures/<slug>.md`.
    pub slug: String,
    /// The procedure in the source format.
    pub markdown: String,
    pub steps: usize,
    /// The screenshots it refers to, relative to its file, still to be supplied.
    pub screenshots: Vec<String>,
}

/// Read a legacy file. Every procedure it holds (a file whose numbering
/// restarts at 1 under a new heading holds several), or every problem found.
pub fn import(file: &SourceFile) -> Result<Vec<Imported>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let lines = classify(file, &mut diags);
    let casing = Casing::collect(&lines);
    let procedures = Assembler::new(file, &lines, &casing, &mut diags).run();
    if diags.is_empty() {
        Ok(procedures)
    } else {
        crate::diag::sort(&mut diags);
        Err(diags)
    }
}

/// Why a slug cannot be a procedure's web address, if it cannot.
pub fn slug_problem(slug: &str) -> Option<String> {
    if slug.is_empty() {
        return Some("it has no letters or digits to make a web address of".to_string());
    }
    if !crate::site::is_valid_slug(slug) {
        return Some(format!(
            "its web address would be `{slug}`, and a web address takes only Latin letters, digits and hyphens"
        ));
    }
    if RESERVED_SLUGS.contains(&slug) {
        return Some(format!(
            "its web address would be `{slug}`, which is reserved for the site's own files ({})",
            RESERVED_SLUGS.join(", ")
        ));
    }
    None
}

/// A TOML basic string, quoted and escaped.
pub fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

// ---------------------------------------------------------------------------
// Pass 1: each line on its own.

#[derive(Debug)]
enum Line {
    Blank,
    Heading {
        level: usize,
        text: String,
        span: Span,
    },
    /// `---`, a page break.
    Rule,
    /// `STEP<TAB>ACTION`.
    Header {
        span: Span,
    },
    /// A tab-separated row. `number` is None for a row without a step number.
    Row {
        number: Option<u32>,
        action: String,
        span: Span,
        /// The Step cell (the whole row when it has no number).
        number_span: Span,
    },
    /// `1. Go to ...` or `1   Go to ...`: a row when it follows a table,
    /// text otherwise.
    Numbered {
        number: u32,
        action: String,
        text: String,
        span: Span,
    },
    Text {
        text: String,
        span: Span,
    },
}

fn classify(file: &SourceFile, diags: &mut Vec<Diagnostic>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut header_seen = false;
    let mut offset = 0;
    for raw in file.text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let text = raw.trim_end_matches(['\n', '\r']);
        let span = start..start + text.len();
        let trimmed = text.trim();
        // An indented line right after a row continues its action.
        if text.starts_with([' ', '\t'])
            && !trimmed.is_empty()
            && !text.contains('\t')
            && let Some(Line::Row { action, .. } | Line::Numbered { action, .. }) = out.last_mut()
        {
            action.push(' ');
            action.push_str(trimmed);
            continue;
        }
        let line = if trimmed.is_empty() {
            Line::Blank
        } else if is_header(text) {
            header_seen = true;
            Line::Header { span }
        } else if text.contains('\t') {
            match row(file, text, start, diags) {
                Some(r) => {
                    if let Line::Row { number_span, .. } = &r
                        && !header_seen
                    {
                        diags.push(file.diag(
                            Code::ImportRowBeforeHeader,
                            number_span.clone(),
                            "this row comes before any STEP/ACTION header row",
                        ));
                    }
                    r
                }
                None => Line::Blank,
            }
        } else if let Some(h) = heading(text, start) {
            h
        } else if is_rule(trimmed) || is_page_number(trimmed) {
            Line::Rule
        } else if let Some((number, action)) = numbered(trimmed) {
            Line::Numbered {
                number,
                action: action.to_string(),
                text: trimmed.to_string(),
                span,
            }
        } else {
            Line::Text {
                text: trimmed.to_string(),
                span,
            }
        };
        out.push(line);
    }
    out
}

/// Plain words of a cell, for recognising `STEP` and `ACTION`.
fn bare(cell: &str) -> String {
    cell.trim()
        .trim_matches(['*', '_', ':'])
        .trim()
        .to_ascii_lowercase()
}

fn is_header(text: &str) -> bool {
    let cells: Vec<String> = if text.contains('\t') {
        text.split('\t').map(bare).collect()
    } else {
        text.split_whitespace().map(bare).collect()
    };
    cells.len() >= 2
        && cells[0] == "step"
        && cells[1] == "action"
        && cells[2..].iter().all(String::is_empty)
}

/// A tab-separated row, or None (and a diagnostic) when it cannot be read.
fn row(file: &SourceFile, text: &str, start: usize, diags: &mut Vec<Diagnostic>) -> Option<Line> {
    let mut cells: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    for cell in text.split('\t') {
        cells.push((at, cell));
        at += cell.len() + 1;
    }
    while cells.len() > 2 && cells.last().is_some_and(|(_, c)| c.trim().is_empty()) {
        cells.pop();
    }
    let span = start..start + text.len();
    if cells.len() > 2 {
        let (at, _) = cells[2];
        diags.push(
            file.diag(
                Code::ImportUnreadable,
                start + at..start + text.len(),
                format!(
                    "this row has {} cells separated by tabs; import reads two, the step number and the action",
                    cells.len()
                ),
            )
            .with_hint("join the action's parts into one cell (replace the tabs inside it by spaces)"),
        );
        return None;
    }
    let first = cells[0].1.trim();
    let second = cells.get(1).map_or("", |(_, c)| c.trim());
    let lead = cells[0].1.len() - cells[0].1.trim_start().len();
    if let Some(number) = step_number(first) {
        return Some(Line::Row {
            number: Some(number),
            action: second.to_string(),
            span,
            number_span: start + lead..start + lead + first.len(),
        });
    }
    if first.is_empty() || second.is_empty() {
        // A row without a step number: the text is in whichever cell has it.
        let action = if first.is_empty() { second } else { first };
        return Some(Line::Row {
            number: None,
            action: action.to_string(),
            span: span.clone(),
            number_span: span,
        });
    }
    let shown: String = first.chars().take(30).collect();
    let shown = if shown.len() < first.len() {
        format!("{shown}...")
    } else {
        shown
    };
    diags.push(file.diag(
        Code::ImportUnreadable,
        start + lead..start + lead + first.len(),
        format!("`{shown}` is not a step number"),
    ));
    None
}

/// `12` or `12.`: a step number.
fn step_number(cell: &str) -> Option<u32> {
    let digits = cell.strip_suffix('.').unwrap_or(cell);
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn heading(text: &str, start: usize) -> Option<Line> {
    let lead = text.len() - text.trim_start().len();
    let t = text.trim();
    let level = t.bytes().take_while(|&b| b == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let heading = rest.trim().trim_end_matches('#').trim();
    if heading.is_empty() {
        return None;
    }
    Some(Line::Heading {
        level,
        text: heading.to_string(),
        span: start + lead..start + text.trim_end().len(),
    })
}

fn is_rule(trimmed: &str) -> bool {
    let chars: Vec<char> = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    chars.len() >= 3 && ['-', '*', '_'].iter().any(|r| chars.iter().all(|c| c == r))
}

/// `1. Go to ...` or `1   Go to ...`: the number and the rest.
fn numbered(trimmed: &str) -> Option<(u32, &str)> {
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 5 {
        return None;
    }
    let after = &trimmed[digits..];
    let after = after.strip_prefix(['.', ')']).unwrap_or(after);
    if !after.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = after.trim();
    if rest.is_empty() {
        return None;
    }
    Some((trimmed[..digits].parse().ok()?, rest))
}

// ---------------------------------------------------------------------------
// Title case: the legacy titles are often in capitals.

/// How words are written in the body of the file, to keep acronyms.
#[derive(Debug, Default)]
struct Casing {
    /// Words of 2-6 letters written in capitals somewhere in the text.
    upper: HashSet<String>,
    /// Words written with capitals inside (`NextGen`), by their capitals.
    mixed: HashMap<String, String>,
}

/// Acronyms of the courts' e-filing world, kept in capitals wherever they are.
const KNOWN_ACRONYMS: &[&str] = &[
    "CM", "ECF", "PACER", "NEXTGEN", "NEF", "PDF", "URL", "FAQ", "CJA", "ADR", "IFP", "ID", "PIN",
    "USB",
];

/// Words a title keeps in lowercase unless they start or end it.
const SMALL_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "nor", "of", "on",
    "or", "the", "to", "via", "vs", "with",
];

impl Casing {
    fn collect(lines: &[Line]) -> Casing {
        let mut casing = Casing::default();
        for line in lines {
            let text = match line {
                Line::Row { action, .. } | Line::Numbered { action, .. } => action,
                Line::Text { text, .. } => text,
                _ => continue,
            };
            for token in tokenize(text) {
                if let HtmlToken::Text(t) = token {
                    casing.add(&t);
                }
            }
        }
        casing
    }

    fn add(&mut self, text: &str) {
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            let letters = word.chars().filter(|c| c.is_alphabetic()).count();
            if letters < 2 {
                continue;
            }
            let upper = word.to_uppercase();
            if word == upper {
                if letters <= 6 {
                    self.upper.insert(upper);
                }
            } else if word.chars().skip(1).any(char::is_uppercase) {
                self.mixed.entry(upper).or_insert_with(|| word.to_string());
            }
        }
    }

    /// A title in capitals, title-cased; any other title as it is.
    fn title_case(&self, title: &str) -> String {
        if title.chars().any(char::is_lowercase) || !title.chars().any(char::is_uppercase) {
            return title.to_string();
        }
        let words: Vec<&str> = title.split(' ').collect();
        let last = words.iter().rposition(|w| !w.is_empty()).unwrap_or(0);
        let first = words.iter().position(|w| !w.is_empty()).unwrap_or(0);
        words
            .iter()
            .enumerate()
            .map(|(i, word)| {
                // A small word that starts or ends the title, or follows a
                // colon, is capitalised.
                let after_colon = i > 0 && words[i - 1].ends_with([':', '—', '–']);
                let edge = i == first || i == last || after_colon;
                let mut out = String::new();
                let mut part = String::new();
                for c in word.chars() {
                    if c == '/' || c == '-' {
                        out.push_str(&self.case_word(&part, edge));
                        out.push(c);
                        part.clear();
                    } else {
                        part.push(c);
                    }
                }
                out.push_str(&self.case_word(&part, edge));
                out
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn case_word(&self, word: &str, edge: bool) -> String {
        let core: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
        if core.is_empty() {
            return word.to_string();
        }
        let upper = core.to_uppercase();
        if let Some(mixed) = self.mixed.get(&upper) {
            return word.replacen(&core, mixed, 1);
        }
        if KNOWN_ACRONYMS.contains(&upper.as_str()) || self.upper.contains(&upper) {
            return word.to_string();
        }
        let lower = word.to_lowercase();
        if !edge && SMALL_WORDS.contains(&lower.as_str()) {
            return lower;
        }
        let mut done = false;
        lower
            .chars()
            .map(|c| {
                if !done && c.is_alphabetic() {
                    done = true;
                    c.to_uppercase().next().unwrap_or(c)
                } else {
                    c
                }
            })
            .collect()
    }
}

/// Two headings say the same when their words do, whatever the case.
/// A page header may add "(continued)".
fn same_heading(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let mut words: Vec<String> = s
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.len() > 1 && matches!(words.last().map(String::as_str), Some("continued" | "cont"))
        {
            words.pop();
        }
        words
    };
    norm(a) == norm(b)
}

/// `Page 2`, `Page 2 of 5`, `- 2 -`: a page number left by the PDF export.
fn is_page_number(trimmed: &str) -> bool {
    let words: Vec<String> = trimmed
        .split(|c: char| c.is_whitespace() || c == '-' || c == '–')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let number =
        |w: &String| !w.is_empty() && w.len() <= 4 && w.bytes().all(|b| b.is_ascii_digit());
    match words.as_slice() {
        [n] => number(n) && trimmed.starts_with('-') && trimmed.ends_with('-'),
        [p, n] => p == "page" && number(n),
        [p, n, of, m] => p == "page" && number(n) && of == "of" && number(m),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Pass 2: lines into procedures.

struct Procedure {
    /// As written in the legacy file, to recognise page headers.
    raw_title: String,
    title: String,
    title_span: Span,
    slug: String,
    summary: Option<String>,
    /// Whether the next one-line paragraph is the subtitle.
    expect_subtitle: bool,
    intro: Vec<Part>,
    sections: Vec<Section>,
    steps: usize,
    screenshots: Vec<String>,
    /// Screenshots outside steps, for their file names.
    other_images: usize,
}

struct Section {
    heading: String,
    /// As written, to recognise it repeated at a page break.
    raw: String,
    parts: Vec<Part>,
}

impl Section {
    fn new(heading: String, raw: &str) -> Self {
        Section {
            heading,
            raw: raw.to_string(),
            parts: Vec::new(),
        }
    }
}

/// A piece of a procedure's Markdown: step rows stay open so that the next
/// rows (after a page break) join the same table.
enum Part {
    Markdown(String),
    Steps(Vec<String>),
}

impl Procedure {
    fn parts(&mut self) -> &mut Vec<Part> {
        match self.sections.last_mut() {
            Some(s) => &mut s.parts,
            None => &mut self.intro,
        }
    }

    /// The file name of the next screenshot: after its step when it is in one.
    fn image_name(&mut self, step: Option<u32>, nth: usize) -> String {
        let name = match step {
            Some(n) if nth == 1 => format!("images/{}-step-{n}.png", self.slug),
            Some(n) => format!("images/{}-step-{n}-{nth}.png", self.slug),
            None => {
                self.other_images += 1;
                format!("images/{}-image-{}.png", self.slug, self.other_images)
            }
        };
        self.screenshots.push(name.clone());
        name
    }

    fn markdown(&self) -> String {
        let mut out = String::from("+++\n");
        out.push_str(&format!("title = {}\n", toml_string(&self.title)));
        if let Some(s) = &self.summary {
            out.push_str(&format!("summary = {}\n", toml_string(s)));
        }
        out.push_str("+++\n");
        let write_parts = |parts: &[Part], out: &mut String| {
            for part in parts {
                out.push('\n');
                match part {
                    Part::Markdown(md) => {
                        out.push_str(md);
                        out.push('\n');
                    }
                    Part::Steps(rows) => {
                        out.push_str("| Step | Action |\n|-----:|--------|\n");
                        for r in rows {
                            out.push_str(r);
                            out.push('\n');
                        }
                    }
                }
            }
        };
        write_parts(&self.intro, &mut out);
        for s in &self.sections {
            out.push_str(&format!("\n## {}\n", s.heading));
            write_parts(&s.parts, &mut out);
        }
        out
    }
}

struct Assembler<'a> {
    file: &'a SourceFile,
    lines: &'a [Line],
    casing: &'a Casing,
    diags: &'a mut Vec<Diagnostic>,
    done: Vec<Procedure>,
    current: Option<Procedure>,
    /// The lines of the paragraph being gathered.
    paragraph: Vec<(String, Span)>,
    /// Whether the last line that counts was a table's (header or row).
    in_table: bool,
}

impl<'a> Assembler<'a> {
    fn new(
        file: &'a SourceFile,
        lines: &'a [Line],
        casing: &'a Casing,
        diags: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Assembler {
            file,
            lines,
            casing,
            diags,
            done: Vec::new(),
            current: None,
            paragraph: Vec::new(),
            in_table: false,
        }
    }

    fn run(mut self) -> Vec<Imported> {
        for (index, line) in self.lines.iter().enumerate() {
            // A numbered line is a row only where a table is going on.
            let text = match line {
                Line::Text { text, span } => Some((text, span)),
                Line::Numbered { text, span, .. } if !self.in_table => Some((text, span)),
                _ => None,
            };
            if let Some((text, span)) = text {
                if self.current.is_none() {
                    self.no_title(span.clone());
                    return Vec::new();
                }
                self.in_table = false;
                self.paragraph.push((text.clone(), span.clone()));
                continue;
            }
            self.flush_paragraph();
            match line {
                Line::Blank | Line::Rule => {}
                Line::Heading { text, span, .. } => self.heading(index, text, span),
                Line::Header { span } | Line::Row { span, .. } | Line::Numbered { span, .. }
                    if self.current.is_none() =>
                {
                    self.no_title(span.clone());
                    return Vec::new();
                }
                Line::Header { .. } => self.in_table = true,
                Line::Row { number, action, .. } => {
                    self.in_table = true;
                    match number {
                        Some(n) => self.step(*n, action),
                        None => self.unnumbered(action),
                    }
                }
                Line::Numbered { number, action, .. } => self.step(*number, action),
                Line::Text { .. } => unreachable!("text is gathered above"),
            }
        }
        self.flush_paragraph();
        // A procedure whose rows could not be read is not reported as empty too.
        let rows_unreadable = !self.diags.is_empty();
        if self.current.is_none() && self.done.is_empty() {
            if self.diags.is_empty() {
                let d = if self.lines.iter().all(|l| matches!(l, Line::Blank)) {
                    Diagnostic::file(&self.file.path, Code::ImportNoSteps, "the file is empty")
                } else {
                    let at = self.file.text.len();
                    self.file
                        .diag(Code::ImportNoTitle, at..at, "the file has no title line")
                };
                self.diags.push(d);
            }
            return Vec::new();
        }
        self.finish_procedure();
        let mut slugs: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        for p in std::mem::take(&mut self.done) {
            if p.steps == 0 && !rows_unreadable {
                self.diags.push(self.file.diag(
                    Code::ImportNoSteps,
                    p.title_span.clone(),
                    format!("`{}` has no steps", p.title),
                ));
            }
            if let Some(problem) = slug_problem(&p.slug) {
                self.diags.push(self.file.diag(
                    Code::ImportTitleSlug,
                    p.title_span.clone(),
                    format!("the title `{}` cannot be imported: {problem}", p.title),
                ));
            } else if let Some(other) = slugs.get(&p.slug) {
                self.diags.push(
                    self.file
                        .diag(
                            Code::ImportTitleSlug,
                            p.title_span.clone(),
                            format!("this procedure and `{other}` would both be {}.md", p.slug),
                        )
                        .with_hint("give the two procedures different titles in the legacy file"),
                );
            } else {
                slugs.insert(p.slug.clone(), p.title.clone());
            }
            out.push(Imported {
                title: p.title.clone(),
                slug: p.slug.clone(),
                markdown: p.markdown(),
                steps: p.steps,
                screenshots: p.screenshots.clone(),
            });
        }
        out
    }

    fn no_title(&mut self, span: Span) {
        self.diags.push(self.file.diag(
            Code::ImportNoTitle,
            span,
            "this comes before the procedure's title line",
        ));
    }

    fn start_procedure(&mut self, raw: &str, span: &Span) {
        self.finish_procedure();
        let title = self.casing.title_case(&plain_line(raw));
        self.current = Some(Procedure {
            raw_title: raw.to_string(),
            slug: slugify(&title),
            title,
            title_span: span.clone(),
            summary: None,
            expect_subtitle: true,
            intro: Vec::new(),
            sections: Vec::new(),
            steps: 0,
            screenshots: Vec::new(),
            other_images: 0,
        });
        self.in_table = false;
    }

    fn finish_procedure(&mut self) {
        if let Some(p) = self.current.take() {
            self.done.push(p);
        }
    }

    fn proc(&mut self) -> &mut Procedure {
        self.current
            .as_mut()
            .expect("lines after the title belong to a procedure")
    }

    fn heading(&mut self, index: usize, text: &str, span: &Span) {
        let Some(p) = &self.current else {
            self.start_procedure(text, span);
            return;
        };
        let repeated = p
            .sections
            .last()
            .is_some_and(|s| same_heading(text, &s.raw));
        if same_heading(text, &p.raw_title) || repeated {
            // The title (or the section's heading) again at a page break.
            return;
        }
        if p.steps > 0 && self.starts_procedure(index) {
            self.start_procedure(text, span);
            return;
        }
        self.in_table = false;
        let heading = self.casing.title_case(&heading_text(text));
        let p = self.proc();
        p.expect_subtitle = false;
        p.sections.push(Section::new(heading, text));
    }

    /// Whether the heading at `index` begins another procedure: the next
    /// step is 1 again, and of the headings before that step this is the
    /// first of the highest level.
    fn starts_procedure(&self, index: usize) -> bool {
        let title = &self.current.as_ref().expect("checked").raw_title;
        let mut best: Option<(usize, usize)> = None;
        for (i, line) in self.lines.iter().enumerate().skip(index) {
            match line {
                Line::Heading { level, text, .. }
                    if !same_heading(text, title) && best.is_none_or(|(_, l)| *level < l) =>
                {
                    best = Some((i, *level));
                }
                Line::Row {
                    number: Some(n), ..
                }
                | Line::Numbered { number: n, .. } => {
                    return *n == 1 && best.is_some_and(|(i, _)| i == index);
                }
                _ => {}
            }
        }
        false
    }

    fn ensure_section(&mut self) {
        let p = self.proc();
        if p.sections.is_empty() {
            p.sections.push(Section::new("Steps".to_string(), ""));
        }
    }

    fn step(&mut self, number: u32, action: &str) {
        self.ensure_section();
        let mut blocks = screenshots(convert(action));
        let p = self.proc();
        p.expect_subtitle = false;
        p.steps += 1;
        let mut nth = 0;
        name_images(&mut blocks, &mut |_| {
            nth += 1;
            p.image_name(Some(number), nth)
        });
        let row = format!("| {number} | {} |", cell_markdown(&blocks));
        match p.parts().last_mut() {
            Some(Part::Steps(rows)) => rows.push(row),
            _ => p.parts().push(Part::Steps(vec![row])),
        }
    }

    /// A row without a step number: a section of its own, headed by its
    /// first words when they read as a heading.
    fn unnumbered(&mut self, action: &str) {
        let mut blocks = screenshots(convert(action));
        let heading = match blocks.first() {
            Some(Block::Para(nodes)) => heading_phrase(nodes),
            _ => None,
        };
        let heading = match heading {
            Some(h) => {
                blocks.remove(0);
                self.casing.title_case(&h)
            }
            None => "Notes".to_string(),
        };
        let p = self.proc();
        p.expect_subtitle = false;
        name_images(&mut blocks, &mut |_| p.image_name(None, 0));
        let md = blocks_markdown(&blocks);
        p.sections.push(Section::new(heading, ""));
        if !md.is_empty() {
            p.parts().push(Part::Markdown(md));
        }
    }

    /// The gathered lines of text: the subtitle, a callout, or paragraphs.
    fn flush_paragraph(&mut self) {
        if self.paragraph.is_empty() {
            return;
        }
        let lines = std::mem::take(&mut self.paragraph);
        let text = lines
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let mut blocks = screenshots(convert(&text));
        let casing = self.casing;
        let p = self.proc();
        if p.expect_subtitle
            && lines.len() == 1
            && let [Block::Para(nodes)] = &blocks[..]
            && strip_alert_label(&inline_markdown(nodes, Ctx::Block)).is_none()
        {
            let summary = plain(nodes);
            let summary = summary.trim_matches(['*', '_', ' ']);
            if !summary.is_empty() && !summary.ends_with(':') {
                p.summary = Some(casing.title_case(summary));
                p.expect_subtitle = false;
                return;
            }
        }
        p.expect_subtitle = false;
        name_images(&mut blocks, &mut |_| p.image_name(None, 0));
        let md = blocks_markdown(&blocks);
        if !md.is_empty() {
            p.parts().push(Part::Markdown(md));
        }
    }
}

/// A heading or title line as plain text (its inline HTML read).
fn plain_line(text: &str) -> String {
    let blocks = convert(text);
    let text: Vec<String> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Para(nodes) => Some(plain(nodes)),
            _ => None,
        })
        .collect();
    text.join(" ").trim_matches(['*', '_', ' ']).to_string()
}

/// A section heading as Markdown: its words, without the bold that legacy
/// headings often carry.
fn heading_text(text: &str) -> String {
    let writer = Writer {
        ctx: Ctx::Block,
        strong: false,
        em: false,
        link: false,
    };
    writer.escape(&plain_line(text))
}

/// The first words of a row without a number, when they read as a heading:
/// short, no full stop, and all in bold or underlined, or ending in a colon.
fn heading_phrase(nodes: &[Node]) -> Option<String> {
    let text = plain(nodes);
    let text = text.trim();
    if text.is_empty()
        || text.chars().count() > 60
        || text.split_whitespace().count() > 8
        || text.ends_with(['.', ',', ';', '!', '?'])
    {
        return None;
    }
    let styled = nodes.iter().all(|n| match n {
        Node::Styled(_, _) => true,
        Node::Text(t) => t.trim().is_empty(),
        _ => false,
    });
    if styled || text.ends_with(':') {
        Some(text.trim_end_matches(':').trim().to_string())
    } else {
        None
    }
}

/// `**NOTE:** text` (or `NOTE:`, `<u>Warning</u>:`...): the callout's kind
/// and the text without its label.
fn strip_alert_label(md: &str) -> Option<(&'static str, String)> {
    const OPEN: &[&str] = &["**", "__", "*", "_", "<strong>", "<em>", "<u>"];
    const CLOSE: &[&str] = &["**", "__", "*", "_", "</strong>", "</em>", "</u>"];
    let mut rest = md.trim_start();
    let mut opened: Vec<&str> = Vec::new();
    'open: loop {
        for o in OPEN {
            if let Some(r) = rest.strip_prefix(o) {
                opened.push(o);
                rest = r;
                continue 'open;
            }
        }
        break;
    }
    let word_len = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let kind = match rest[..word_len].to_ascii_uppercase().as_str() {
        "NOTE" | "NOTES" => "NOTE",
        "TIP" | "TIPS" => "TIP",
        "IMPORTANT" => "IMPORTANT",
        "WARNING" => "WARNING",
        "CAUTION" => "CAUTION",
        _ => return None,
    };
    rest = &rest[word_len..];
    let mut closed = 0;
    let mut close = |rest: &mut &str| {
        'close: loop {
            for c in CLOSE {
                if let Some(r) = rest.strip_prefix(c) {
                    closed += 1;
                    *rest = r;
                    continue 'close;
                }
            }
            break;
        }
    };
    close(&mut rest);
    rest = rest.strip_prefix(':')?;
    close(&mut rest);
    let body = rest.trim();
    if body.is_empty() {
        return None;
    }
    // "Tip: add ..." becomes "Add ...": the label no longer starts the sentence.
    let mut chars = body.chars();
    let first = chars.next().expect("not empty");
    let body = if first.is_lowercase() {
        first.to_uppercase().chain(chars).collect()
    } else {
        body.to_string()
    };
    // Markers opened before the label and not closed after it wrap the text.
    let reopen: String = opened[closed.min(opened.len())..].concat();
    Some((kind, format!("{reopen}{body}")))
}

// ---------------------------------------------------------------------------
// Cell HTML into a small tree.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sty {
    Strong,
    Em,
    Underline,
    Code,
    Kbd,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Styled(Sty, Vec<Node>),
    Link {
        href: String,
        title: Option<String>,
        content: Vec<Node>,
    },
    Break,
}

#[derive(Debug, Clone)]
enum Block {
    Para(Vec<Node>),
    List {
        ordered: bool,
        items: Vec<Vec<Block>>,
    },
    Image {
        alt: String,
        src: String,
    },
}

#[derive(Debug)]
enum FrameKind {
    /// The cell, or a list item: holds blocks.
    Container,
    Item,
    List(bool),
    Inline(Sty),
    Link {
        href: String,
        title: Option<String>,
    },
    /// `<script>`, `<style>`: everything up to the end tag is left out.
    Skip(String),
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    nodes: Vec<Node>,
    blocks: Vec<Block>,
    items: Vec<Vec<Block>>,
}

impl Frame {
    fn new(kind: FrameKind) -> Self {
        Frame {
            kind,
            nodes: Vec::new(),
            blocks: Vec::new(),
            items: Vec::new(),
        }
    }

    fn holds_blocks(&self) -> bool {
        matches!(self.kind, FrameKind::Container | FrameKind::Item)
    }

    fn flush_para(&mut self) {
        let nodes = trim_nodes(std::mem::take(&mut self.nodes));
        if !nodes.is_empty() {
            self.blocks.push(Block::Para(nodes));
        }
    }
}

struct Tree {
    stack: Vec<Frame>,
}

/// Read a cell's (or paragraph's) HTML with html5ever's tokenizer.
fn convert(html: &str) -> Vec<Block> {
    let mut tree = Tree {
        stack: vec![Frame::new(FrameKind::Container)],
    };
    for token in tokenize(html) {
        tree.token(token);
    }
    while tree.stack.len() > 1 {
        tree.pop();
    }
    let mut root = tree.stack.pop().expect("the root frame");
    root.flush_para();
    root.blocks
}

impl Tree {
    fn top(&mut self) -> &mut Frame {
        self.stack.last_mut().expect("the root frame stays")
    }

    fn token(&mut self, token: HtmlToken) {
        if let FrameKind::Skip(name) = &self.top().kind {
            if matches!(&token, HtmlToken::End { name: n } if n == name) {
                self.stack.pop();
            }
            return;
        }
        match token {
            HtmlToken::Text(text) => self.text(&text),
            HtmlToken::Start {
                name,
                attrs,
                self_closing,
            } => self.start(&name, &attrs, self_closing),
            HtmlToken::End { name } => self.end(&name),
            HtmlToken::Comment | HtmlToken::Other => {}
        }
    }

    fn text(&mut self, text: &str) {
        // HTML collapses white space; a no-break space is a space here too.
        let mut collapsed = String::with_capacity(text.len());
        let mut space = false;
        for c in text.chars() {
            if c.is_whitespace() {
                space = true;
            } else {
                if space {
                    collapsed.push(' ');
                    space = false;
                }
                collapsed.push(c);
            }
        }
        if space {
            collapsed.push(' ');
        }
        if matches!(self.top().kind, FrameKind::List(_)) {
            if collapsed.trim().is_empty() {
                return;
            }
            self.stack.push(Frame::new(FrameKind::Item));
        }
        push_node(&mut self.top().nodes, Node::Text(collapsed));
    }

    fn push_inline(&mut self, node: Node) {
        if matches!(self.top().kind, FrameKind::List(_)) {
            self.stack.push(Frame::new(FrameKind::Item));
        }
        push_node(&mut self.top().nodes, node);
    }

    fn start(&mut self, name: &str, attrs: &[(String, String)], self_closing: bool) {
        match name {
            "script" | "style" | "head" | "title" | "template" if !self_closing => {
                self.stack
                    .push(Frame::new(FrameKind::Skip(name.to_string())));
            }
            "br" => self.push_inline(Node::Break),
            "ul" | "ol" => {
                self.close_inlines();
                if matches!(self.top().kind, FrameKind::List(_)) {
                    self.stack.push(Frame::new(FrameKind::Item));
                }
                self.top().flush_para();
                self.stack.push(Frame::new(FrameKind::List(name == "ol")));
            }
            "li" => {
                self.close_inlines();
                if matches!(self.top().kind, FrameKind::Item) {
                    self.pop();
                }
                if self.top().holds_blocks() {
                    self.top().flush_para();
                    self.stack.push(Frame::new(FrameKind::List(false)));
                }
                self.stack.push(Frame::new(FrameKind::Item));
            }
            "b" | "strong" => self.open_inline(FrameKind::Inline(Sty::Strong)),
            "i" | "em" => self.open_inline(FrameKind::Inline(Sty::Em)),
            "u" => self.open_inline(FrameKind::Inline(Sty::Underline)),
            "code" | "tt" => self.open_inline(FrameKind::Inline(Sty::Code)),
            "kbd" => self.open_inline(FrameKind::Inline(Sty::Kbd)),
            "a" => {
                let attr = |n: &str| {
                    attrs
                        .iter()
                        .find(|(a, _)| a == n)
                        .map(|(_, v)| v.trim().to_string())
                };
                self.open_inline(FrameKind::Link {
                    href: attr("href").unwrap_or_default(),
                    title: attr("title").filter(|t| !t.is_empty()),
                });
            }
            _ if is_block_element(name) => {
                self.close_inlines();
                if self.top().holds_blocks() {
                    self.top().flush_para();
                }
            }
            // span, font and the like: their text is kept, the tag is not.
            _ => {}
        }
    }

    fn open_inline(&mut self, kind: FrameKind) {
        if matches!(self.top().kind, FrameKind::List(_)) {
            self.stack.push(Frame::new(FrameKind::Item));
        }
        self.stack.push(Frame::new(kind));
    }

    fn end(&mut self, name: &str) {
        let matches = |kind: &FrameKind| {
            matches!(
                (name, kind),
                ("b" | "strong", FrameKind::Inline(Sty::Strong))
                    | ("i" | "em", FrameKind::Inline(Sty::Em))
                    | ("u", FrameKind::Inline(Sty::Underline))
                    | ("code" | "tt", FrameKind::Inline(Sty::Code))
                    | ("kbd", FrameKind::Inline(Sty::Kbd))
                    | ("a", FrameKind::Link { .. })
                    | ("li", FrameKind::Item)
                    | ("ul", FrameKind::List(false))
                    | ("ol", FrameKind::List(true))
            )
        };
        match name {
            "li" | "ul" | "ol" => {
                // Close up to the element, not past the list it belongs to.
                let stop = self
                    .stack
                    .iter()
                    .rposition(|f| matches(&f.kind) || f.kind.is_container_for(name));
                if let Some(i) = stop.filter(|&i| matches(&self.stack[i].kind)) {
                    while self.stack.len() > i {
                        self.pop();
                    }
                }
            }
            _ if is_block_element(name) => {
                self.close_inlines();
                if self.top().holds_blocks() {
                    self.top().flush_para();
                }
            }
            _ => {
                let found = self
                    .stack
                    .iter()
                    .rposition(|f| {
                        matches(&f.kind) || f.holds_blocks() || matches!(f.kind, FrameKind::List(_))
                    })
                    .filter(|&i| matches(&self.stack[i].kind));
                if let Some(i) = found {
                    while self.stack.len() > i {
                        self.pop();
                    }
                }
            }
        }
    }

    /// Close the inline frames on top, keeping what they hold.
    fn close_inlines(&mut self) {
        while matches!(
            self.top().kind,
            FrameKind::Inline(_) | FrameKind::Link { .. }
        ) {
            self.pop();
        }
    }

    fn pop(&mut self) {
        let mut frame = self.stack.pop().expect("a frame above the root");
        match frame.kind {
            FrameKind::Container => unreachable!("only the root is a container"),
            FrameKind::Skip(_) => {}
            FrameKind::Inline(sty) => self.push_inline(Node::Styled(sty, frame.nodes)),
            FrameKind::Link { href, title } => self.push_inline(Node::Link {
                href,
                title,
                content: frame.nodes,
            }),
            FrameKind::Item => {
                frame.flush_para();
                strip_bullet(&mut frame.blocks);
                if let Some(list) = self
                    .stack
                    .last_mut()
                    .filter(|f| matches!(f.kind, FrameKind::List(_)))
                {
                    list.items.push(frame.blocks);
                }
            }
            FrameKind::List(ordered) => {
                let items = frame.items;
                if items.is_empty() {
                    return;
                }
                let parent = self.top();
                parent.flush_para();
                parent.blocks.push(Block::List { ordered, items });
            }
        }
    }
}

impl FrameKind {
    /// A frame that an end tag for `name` must not close past.
    fn is_container_for(&self, name: &str) -> bool {
        match name {
            "li" => matches!(self, FrameKind::List(_) | FrameKind::Container),
            _ => matches!(self, FrameKind::Container),
        }
    }
}

fn is_block_element(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "blockquote"
            | "section"
            | "center"
            | "hr"
    )
}

fn push_node(nodes: &mut Vec<Node>, node: Node) {
    if let (Some(Node::Text(prev)), Node::Text(t)) = (nodes.last_mut(), &node) {
        if prev.ends_with(' ') && t.starts_with(' ') {
            prev.push_str(&t[1..]);
        } else {
            prev.push_str(t);
        }
        return;
    }
    nodes.push(node);
}

/// Nodes without the space and line breaks at their edges.
fn trim_nodes(mut nodes: Vec<Node>) -> Vec<Node> {
    trim_edge(&mut nodes, true);
    trim_edge(&mut nodes, false);
    nodes
}

fn trim_edge(nodes: &mut Vec<Node>, start: bool) {
    loop {
        let node = if start {
            nodes.first_mut()
        } else {
            nodes.last_mut()
        };
        let Some(node) = node else { return };
        let empty = match node {
            Node::Break => true,
            Node::Text(t) => {
                *t = if start {
                    t.trim_start().to_string()
                } else {
                    t.trim_end().to_string()
                };
                t.is_empty()
            }
            Node::Styled(_, content) | Node::Link { content, .. } => {
                trim_edge(content, start);
                content.is_empty() && !matches!(node, Node::Link { .. })
            }
        };
        if !empty {
            return;
        }
        if start {
            nodes.remove(0);
        } else {
            nodes.pop();
        }
    }
}

/// Literal bullets (`• `) at the start of a list item: the list has its own.
fn strip_bullet(blocks: &mut [Block]) {
    let Some(Block::Para(nodes)) = blocks.first_mut() else {
        return;
    };
    fn strip(nodes: &mut Vec<Node>) -> bool {
        match nodes.first_mut() {
            Some(Node::Text(t)) => {
                let s = t.trim_start();
                let mut chars = s.chars();
                let Some(c) = chars.next() else { return false };
                let rest = chars.as_str();
                let bullet = matches!(
                    c,
                    '•' | '·' | '▪' | '▫' | '◦' | '‣' | '●' | '■' | '○' | '\u{f0a7}' | '\u{f0b7}'
                ) || (matches!(c, '-' | '*' | '–') && rest.starts_with(' '));
                if bullet {
                    *t = rest.trim_start().to_string();
                    if t.is_empty() {
                        nodes.remove(0);
                        trim_edge(nodes, true);
                    }
                }
                bullet
            }
            Some(Node::Styled(_, content)) => strip(content),
            _ => false,
        }
    }
    strip(nodes);
}

fn plain(nodes: &[Node]) -> String {
    let mut out = String::new();
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Styled(_, c) | Node::Link { content: c, .. } => out.push_str(&plain(c)),
            Node::Break => out.push(' '),
        }
    }
    out
}

/// "The screenshot shows ..." paragraphs become screenshots to supply, with
/// the description as their alt text.
fn screenshots(blocks: Vec<Block>) -> Vec<Block> {
    const LEADS: &[&str] = &[
        "the screenshot shows",
        "this screenshot shows",
        "the screen shot shows",
        "screenshot shows",
    ];
    blocks
        .into_iter()
        .map(|b| {
            let Block::Para(nodes) = &b else { return b };
            let text = plain(nodes);
            let text = text.trim();
            let lower = text.to_lowercase();
            let Some(lead) = LEADS.iter().find(|l| lower.starts_with(*l)) else {
                return b;
            };
            let rest = text[lead.len()..].trim_start_matches([':', ' ']);
            Block::Image {
                alt: alt_text(rest),
                src: String::new(),
            }
        })
        .collect()
}

/// A description as alt text: nothing that would end the brackets or the
/// table cell, and a capital first letter.
fn alt_text(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            '[' | '<' => '(',
            ']' | '>' => ')',
            '|' | '\\' => '/',
            '`' => '\'',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = cleaned.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn name_images(blocks: &mut [Block], name: &mut dyn FnMut(&str) -> String) {
    for b in blocks {
        match b {
            Block::Image { alt, src } => *src = name(alt),
            Block::List { items, .. } => {
                for item in items {
                    name_images(item, name);
                }
            }
            Block::Para(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------
// The tree as Markdown.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Inside a table cell: one line, `|` escaped, lists as HTML.
    Cell,
    /// A paragraph or list item of its own.
    Block,
}

/// A step's action, on one line of a table row.
fn cell_markdown(blocks: &[Block]) -> String {
    let non_lists = blocks
        .iter()
        .filter(|b| !matches!(b, Block::List { .. }))
        .count();
    let wrap = non_lists > 1
        || (non_lists == 1 && !matches!(blocks.first(), Some(Block::Para(_))))
        || (non_lists == 1
            && blocks.len() > 1
            && blocks.iter().any(|b| matches!(b, Block::Image { .. })));
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Para(nodes) if wrap => {
                out.push_str("<p>");
                out.push_str(&inline_markdown(nodes, Ctx::Cell));
                out.push_str("</p>");
            }
            Block::Para(nodes) => out.push_str(&inline_markdown(nodes, Ctx::Cell)),
            Block::Image { alt, src } if wrap => {
                out.push_str(&format!("<p>![{alt}]({src})</p>"));
            }
            Block::Image { alt, src } => out.push_str(&format!("![{alt}]({src})")),
            Block::List { ordered, items } => html_list(*ordered, items, &mut out),
        }
    }
    out
}

fn html_list(ordered: bool, items: &[Vec<Block>], out: &mut String) {
    let tag = if ordered { "ol" } else { "ul" };
    out.push_str(&format!("<{tag}>"));
    for item in items {
        out.push_str("<li>");
        let mut first = true;
        for b in item {
            match b {
                Block::Para(nodes) => {
                    if !first {
                        out.push_str("<br>");
                    }
                    out.push_str(&inline_markdown(nodes, Ctx::Cell));
                }
                Block::Image { alt, src } => {
                    if !first {
                        out.push_str("<br>");
                    }
                    out.push_str(&format!("![{alt}]({src})"));
                }
                Block::List { ordered, items } => html_list(*ordered, items, out),
            }
            first = false;
        }
        out.push_str("</li>");
    }
    out.push_str(&format!("</{tag}>"));
}

/// Blocks outside a table: paragraphs (callouts when they start with a label
/// such as `NOTE:`) and Markdown lists, a blank line apart.
fn blocks_markdown(blocks: &[Block]) -> String {
    let mut parts = Vec::new();
    for b in blocks {
        match b {
            Block::Para(nodes) => {
                let md = inline_markdown(nodes, Ctx::Block);
                match strip_alert_label(&md) {
                    // `**NOTE:** ...`: a callout.
                    Some((kind, text)) => {
                        parts.push(format!("> [!{kind}]\n> {}", escape_block_start(&text)))
                    }
                    None if !md.is_empty() => parts.push(escape_block_start(&md)),
                    None => {}
                }
            }
            Block::Image { alt, src } => parts.push(format!("![{alt}]({src})")),
            Block::List { ordered, items } => {
                let mut lines = Vec::new();
                markdown_list(*ordered, items, "", &mut lines);
                parts.push(lines.join("\n"));
            }
        }
    }
    parts.join("\n\n")
}

fn markdown_list(ordered: bool, items: &[Vec<Block>], indent: &str, lines: &mut Vec<String>) {
    for (i, item) in items.iter().enumerate() {
        let marker = if ordered {
            format!("{}.", i + 1)
        } else {
            "-".to_string()
        };
        let inner = format!("{indent}{}", " ".repeat(marker.len() + 1));
        let mut text = Vec::new();
        let mut nested = Vec::new();
        for b in item {
            match b {
                Block::Para(nodes) => text.push(inline_markdown(nodes, Ctx::Block)),
                Block::Image { alt, src } => text.push(format!("![{alt}]({src})")),
                Block::List { ordered, items } => {
                    markdown_list(*ordered, items, &inner, &mut nested)
                }
            }
        }
        let text = escape_block_start(&text.join("<br>"));
        lines.push(format!("{indent}{marker} {text}").trim_end().to_string());
        lines.extend(nested);
    }
}

/// Text that would start a heading, list, quote or rule is escaped.
fn escape_block_start(md: &str) -> String {
    let mut chars = md.chars();
    let first = chars.next();
    let second = chars.next();
    let marker = match first {
        Some('#' | '>') => true,
        Some('-' | '+' | '*') => second.is_none_or(char::is_whitespace) || is_rule(md),
        Some('_') => is_rule(md),
        _ => false,
    };
    if marker {
        return format!("\\{md}");
    }
    // `1. ` or `1) ` would start a numbered list.
    let digits = md.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0
        && md[digits..].starts_with(['.', ')'])
        && md[digits + 1..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace)
    {
        return format!("{}\\{}", &md[..digits], &md[digits..]);
    }
    md.to_string()
}

fn inline_markdown(nodes: &[Node], ctx: Ctx) -> String {
    let mut out = String::new();
    Writer {
        ctx,
        strong: false,
        em: false,
        link: false,
    }
    .nodes(nodes, None, &mut out);
    out.trim().to_string()
}

#[derive(Clone, Copy)]
struct Writer {
    ctx: Ctx,
    strong: bool,
    em: bool,
    link: bool,
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
}

fn first_char(nodes: &[Node]) -> Option<char> {
    nodes.iter().find_map(|n| match n {
        Node::Text(t) => t.chars().next(),
        Node::Break => Some('<'),
        Node::Styled(_, c) | Node::Link { content: c, .. } => first_char(c).or(Some('*')),
    })
}

impl Writer {
    fn nodes(self, nodes: &[Node], after: Option<char>, out: &mut String) {
        for (i, node) in nodes.iter().enumerate() {
            let next = first_char(&nodes[i + 1..]).or(after);
            self.node(node, next, out);
        }
    }

    fn node(self, node: &Node, next: Option<char>, out: &mut String) {
        match node {
            Node::Text(t) => out.push_str(&self.escape(t)),
            Node::Break => out.push_str("<br>"),
            Node::Styled(Sty::Strong, c) if self.strong => self.nodes(c, next, out),
            Node::Styled(Sty::Em, c) if self.em => self.nodes(c, next, out),
            Node::Styled(sty @ (Sty::Strong | Sty::Em), c) => {
                let (delim, tag) = if *sty == Sty::Strong {
                    ("**", "strong")
                } else {
                    ("*", "em")
                };
                let inner_writer = Writer {
                    strong: self.strong || *sty == Sty::Strong,
                    em: self.em || *sty == Sty::Em,
                    ..self
                };
                let mut inner = String::new();
                inner_writer.nodes(c, Some('*'), &mut inner);
                let core = inner.trim();
                if core.is_empty() {
                    out.push_str(&inner);
                    return;
                }
                let lead = &inner[..inner.len() - inner.trim_start().len()];
                let trail = &inner[inner.trim_end().len()..];
                out.push_str(lead);
                let prev = out.chars().next_back();
                let after = if trail.is_empty() { next } else { Some(' ') };
                let first = core.chars().next().expect("not empty");
                let last = core.chars().next_back().expect("not empty");
                let can_open = first != '*'
                    && prev != Some('*')
                    && (!is_punct(first) || prev.is_none_or(|p| p.is_whitespace() || is_punct(p)));
                let can_close = last != '*'
                    && after != Some('*')
                    && (!is_punct(last) || after.is_none_or(|n| n.is_whitespace() || is_punct(n)));
                if can_open && can_close {
                    out.push_str(&format!("{delim}{core}{delim}"));
                } else {
                    out.push_str(&format!("<{tag}>{core}</{tag}>"));
                }
                out.push_str(trail);
            }
            Node::Styled(Sty::Code, c) => {
                let text = plain(c);
                if !text.contains('`') && !text.trim().is_empty() {
                    let text = if self.ctx == Ctx::Cell {
                        text.replace('|', "\\|")
                    } else {
                        text
                    };
                    out.push_str(&format!("`{text}`"));
                } else {
                    out.push_str("<code>");
                    self.nodes(c, None, out);
                    out.push_str("</code>");
                }
            }
            Node::Styled(sty @ (Sty::Underline | Sty::Kbd), c) => {
                let tag = if *sty == Sty::Underline { "u" } else { "kbd" };
                out.push_str(&format!("<{tag}>"));
                self.nodes(c, None, out);
                out.push_str(&format!("</{tag}>"));
            }
            Node::Link {
                href,
                title,
                content,
            } => {
                // A link that runs code (javascript:) or goes nowhere keeps
                // only its words.
                let safe = match crate::paths::scheme(href) {
                    Some(s) => matches!(s.as_str(), "http" | "https" | "mailto" | "tel"),
                    None => !href.is_empty() && !href.starts_with('#'),
                };
                if self.link || !safe {
                    self.nodes(content, next, out);
                    return;
                }
                let mut text = String::new();
                Writer { link: true, ..self }.nodes(content, None, &mut text);
                let text = text.trim();
                let text = if text.is_empty() {
                    self.escape(href)
                } else {
                    text.to_string()
                };
                let mut url = String::new();
                for c in href.chars() {
                    match c {
                        ' ' => url.push_str("%20"),
                        '(' => url.push_str("%28"),
                        ')' => url.push_str("%29"),
                        '<' => url.push_str("%3C"),
                        '>' => url.push_str("%3E"),
                        '|' if self.ctx == Ctx::Cell => url.push_str("%7C"),
                        c => url.push(c),
                    }
                }
                let title = title
                    .as_ref()
                    .map(|t| format!(" \"{}\"", self.escape(&t.replace('"', "'"))))
                    .unwrap_or_default();
                out.push_str(&format!("[{text}]({url}{title})"));
            }
        }
    }

    fn escape(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for (i, c) in text.char_indices() {
            match c {
                '<' => out.push_str("&lt;"),
                '&' if looks_like_entity(&text[i + 1..]) => out.push_str("&amp;"),
                '|' if self.ctx == Ctx::Cell => out.push_str("\\|"),
                '[' | ']' if self.link => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out
    }
}

/// Whether `&` followed by this would be read as an entity.
fn looks_like_entity(after: &str) -> bool {
    let name = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
        .map(|i| &after[..i]);
    matches!(name, Some(n) if !n.is_empty() && after[n.len()..].starts_with(';'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(html: &str) -> String {
        cell_markdown(&screenshots(convert(html)))
    }

    #[test]
    fn cell_html_becomes_markdown() {
        assert_eq!(
            cell(r#"<p>Select <b>E-Filing (CM/ECF)</b>.</p> "#),
            "Select **E-Filing (CM/ECF)**."
        );
        assert_eq!(
            cell(r#"Go to <a href="http://x.gov/a b">x.gov</a> <i>now</i>"#),
            "Go to [x.gov](http://x.gov/a%20b) *now*"
        );
        assert_eq!(cell("<b> spaced </b>text"), "**spaced** text");
        assert_eq!(
            cell(r##"<a href="javascript:alert(1)">Run</a> <a href="#top">top</a>"##),
            "Run top"
        );
        assert_eq!(cell("word<b>(x)</b>"), "word<strong>(x)</strong>");
        assert_eq!(cell("a | b &amp; c &lt;d&gt;"), "a \\| b & c &lt;d>");
        assert_eq!(
            cell(r#"<span style="color:red">red</span> <u>under</u>"#),
            "red <u>under</u>"
        );
    }

    #[test]
    fn lists_lose_their_literal_bullets_and_styles() {
        assert_eq!(
            cell(
                r#"Try: <ul style="list-style-type: none"><li>• One.</li><li>- Two<ul><li>▪ Deep</li></ul></li></ul>"#
            ),
            "Try:<ul><li>One.</li><li>Two<ul><li>Deep</li></ul></li></ul>"
        );
    }

    #[test]
    fn screenshot_descriptions_become_images() {
        let mut blocks = screenshots(convert(
            "<p>Click.</p> <p>The screenshot shows the [login] page | with a <b>button</b>.</p>",
        ));
        name_images(&mut blocks, &mut |_| "images/x.png".to_string());
        assert_eq!(
            cell_markdown(&blocks),
            "<p>Click.</p><p>![The (login) page / with a button.](images/x.png)</p>"
        );
    }

    #[test]
    fn alert_labels() {
        assert_eq!(
            strip_alert_label("**NOTE:** You cannot."),
            Some(("NOTE", "You cannot.".to_string()))
        );
        assert_eq!(
            strip_alert_label("**Warning: do not.**"),
            Some(("WARNING", "**Do not.**".to_string()))
        );
        assert_eq!(
            strip_alert_label("Tip: press F5."),
            Some(("TIP", "Press F5.".to_string()))
        );
        assert_eq!(strip_alert_label("Notebook: no."), None);
        assert_eq!(strip_alert_label("NOTE"), None);
    }

    #[test]
    fn titles_in_capitals_are_title_cased_keeping_acronyms() {
        let mut casing = Casing::default();
        casing.add("use your PACER login in CM/ECF once we are on NextGen. DO NOT wait.");
        assert_eq!(
            casing.title_case("LINK YOUR CM/ECF ACCOUNT TO YOUR UPGRADED PACER ACCOUNT"),
            "Link Your CM/ECF Account to Your Upgraded PACER Account"
        );
        assert_eq!(
            casing.title_case("E-FILING ON NEXTGEN: THE COURT'S GUIDE"),
            "E-Filing on NextGen: The Court's Guide"
        );
        assert_eq!(
            casing.title_case("Already Mixed case"),
            "Already Mixed case"
        );
    }

    #[test]
    fn page_break_leftovers() {
        assert!(same_heading(
            "LINK YOUR ACCOUNT",
            "Link your account (continued)"
        ));
        assert!(same_heading(
            "Link your account",
            "LINK YOUR ACCOUNT - CONT."
        ));
        assert!(!same_heading("Link your account", "Link another account"));
        assert!(is_page_number("Page 2 of 5"));
        assert!(is_page_number("PAGE 3"));
        assert!(is_page_number("- 4 -"));
        assert!(!is_page_number("Page the clerk"));
        assert!(!is_page_number("4"));
    }

    #[test]
    fn slugs_the_site_would_refuse() {
        assert!(slug_problem("").is_some());
        assert!(slug_problem("images").is_some());
        assert!(slug_problem("заявление").is_some());
        assert_eq!(slug_problem("file-a-motion"), None);
    }
}
