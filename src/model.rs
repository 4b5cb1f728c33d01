//! The document model: one procedure as the parser understood it.
//!
//! Built once per file by [`crate::parse`]; the checker and both renderers read
//! it and never look at Markdown again. Spans are byte ranges into the file's
//! text (after a UTF-8 byte-order mark, if any, is removed) so that every
//! problem can be reported at its line and column.
//!
//! The model serialises to JSON (for snapshots, and as the data the PDF
//! template receives); every enum is tagged with `"type"`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::diag::Span;

#[derive(Debug, Clone, Serialize)]
pub struct Procedure {
    /// The web address of the procedure: `output/<slug>/`.
    pub slug: String,
    /// The Markdown file, relative to the site root.
    pub path: PathBuf,
    pub front: FrontMatter,
    /// Content before the first `##` section (usually callouts).
    pub intro: Vec<Block>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontMatter {
    pub title: String,
    pub summary: Option<String>,
    pub category: Option<String>,
    pub updated: Option<Date>,
    /// Language of the procedure, when it differs from the site's.
    pub lang: Option<String>,
    /// Position in its category; lower comes first, then by title.
    pub weight: Option<i64>,
    /// The whole front matter block, `+++` lines included.
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut parts = text.splitn(3, '-').map(str::parse::<u16>);
        match (parts.next(), parts.next(), parts.next()) {
            (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) if month <= 12 && day <= 31 => {
                Ok(Date {
                    year,
                    month: month as u8,
                    day: day as u8,
                })
            }
            _ => Err(serde::de::Error::custom(format!("not a date: {text}"))),
        }
    }
}

/// What the rest of the site reads of a procedure: its front matter, its
/// sections and its step numbers (its card on the index, its neighbours'
/// links to it, other procedures' links to its steps). A procedure's memo
/// in the build cache keeps it, so that a rebuild need not parse a file that
/// has not changed (see `memo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outline {
    pub front: FrontMatter,
    /// Each `##` section's id and its title as plain text.
    pub sections: Vec<(String, String)>,
    /// How many steps the procedure has.
    pub steps: usize,
    /// The numbers written on its steps.
    pub step_numbers: Vec<u32>,
}

impl Outline {
    pub fn of(p: &Procedure) -> Outline {
        Outline {
            front: p.front.clone(),
            sections: p
                .sections
                .iter()
                .map(|s| (s.heading.id.clone(), plain_text(&s.heading.content)))
                .collect(),
            steps: p.steps().count(),
            step_numbers: p.steps().filter_map(|s| s.number).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub heading: Heading,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Heading {
    pub level: u8,
    pub content: Vec<Inline>,
    /// Unique within the procedure; the fragment that links to it.
    pub id: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CalloutKind {
    Note,
    Tip,
    Important,
    Warning,
    Caution,
}

impl CalloutKind {
    /// The word a reader sees (and a screen reader announces).
    pub fn label(self) -> &'static str {
        match self {
            CalloutKind::Note => "Note",
            CalloutKind::Tip => "Tip",
            CalloutKind::Important => "Important",
            CalloutKind::Warning => "Warning",
            CalloutKind::Caution => "Caution",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Block {
    Paragraph {
        content: Vec<Inline>,
    },
    List {
        ordered: bool,
        /// The first number of an ordered list.
        start: u64,
        items: Vec<Vec<Block>>,
    },
    /// A GitHub alert: `> [!NOTE]`.
    Callout {
        kind: CalloutKind,
        blocks: Vec<Block>,
        span: Span,
    },
    Quote {
        blocks: Vec<Block>,
    },
    Code {
        lang: Option<String>,
        text: String,
    },
    /// A heading below a section's own (`###` and deeper).
    Heading(Heading),
    /// One step table. Its steps continue the numbering of the one before.
    Steps(StepTable),
    /// A table that is not a step table.
    Table(Table),
    Rule,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepTable {
    pub steps: Vec<Step>,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The number as written in the Step column.
    pub label: String,
    /// The number, when the label is a whole number.
    pub number: Option<u32>,
    pub action: Vec<Block>,
    /// The whole row.
    pub span: Span,
    /// The Step cell.
    pub number_span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub head: Vec<Vec<Block>>,
    pub rows: Vec<Vec<Vec<Block>>>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    Strong,
    Emphasis,
    Strikethrough,
    Underline,
    Code,
    Kbd,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Inline {
    Text {
        text: String,
    },
    Styled {
        style: Style,
        content: Vec<Inline>,
    },
    Link {
        href: String,
        title: Option<String>,
        content: Vec<Inline>,
        span: Span,
    },
    Image(Image),
    /// "step 10" in running text: a cross-reference to a step of this procedure.
    StepRef {
        number: u32,
        /// The words as written, such as "step 10".
        text: String,
        span: Span,
    },
    LineBreak,
    SoftBreak,
}

#[derive(Debug, Clone, Serialize)]
pub struct Image {
    /// The path or address as written in the source.
    pub src: String,
    /// The file, relative to the site root, when `src` is a local path that
    /// stays inside `procedures/`.
    pub path: Option<PathBuf>,
    pub alt: String,
    pub title: Option<String>,
    pub span: Span,
}

impl Procedure {
    /// Every block of the procedure, in document order, top level only.
    pub fn top_blocks(&self) -> impl Iterator<Item = &Block> {
        self.intro
            .iter()
            .chain(self.sections.iter().flat_map(|s| s.blocks.iter()))
    }

    /// Every step of every step table, in document order.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.top_blocks()
            .filter_map(|b| match b {
                Block::Steps(t) => Some(t.steps.iter()),
                _ => None,
            })
            .flatten()
    }

    /// Visit every inline of the procedure (headings, blocks, steps), depth first.
    pub fn visit_inlines(&self, f: &mut dyn FnMut(&Inline)) {
        for s in &self.sections {
            visit_inlines_in(&s.heading.content, f);
        }
        for b in self.top_blocks() {
            b.visit_inlines(f);
        }
    }
}

impl Block {
    pub fn visit_inlines(&self, f: &mut dyn FnMut(&Inline)) {
        let blocks = |bs: &[Block], f: &mut dyn FnMut(&Inline)| {
            for b in bs {
                b.visit_inlines(f);
            }
        };
        match self {
            Block::Paragraph { content } => visit_inlines_in(content, f),
            Block::List { items, .. } => items.iter().for_each(|i| blocks(i, f)),
            Block::Callout { blocks: bs, .. } | Block::Quote { blocks: bs } => blocks(bs, f),
            Block::Heading(h) => visit_inlines_in(&h.content, f),
            Block::Steps(t) => t.steps.iter().for_each(|s| blocks(&s.action, f)),
            Block::Table(t) => t
                .head
                .iter()
                .chain(t.rows.iter().flatten())
                .for_each(|c| blocks(c, f)),
            Block::Code { .. } | Block::Rule => {}
        }
    }
}

fn visit_inlines_in(inlines: &[Inline], f: &mut dyn FnMut(&Inline)) {
    for i in inlines {
        f(i);
        match i {
            Inline::Styled { content, .. } | Inline::Link { content, .. } => {
                visit_inlines_in(content, f)
            }
            _ => {}
        }
    }
}

/// The plain text of some inlines (for titles, ids and alt-text checks).
pub fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    push_plain(inlines, &mut out);
    out
}

fn push_plain(inlines: &[Inline], out: &mut String) {
    for i in inlines {
        match i {
            Inline::Text { text } | Inline::StepRef { text, .. } => out.push_str(text),
            Inline::Styled { content, .. } | Inline::Link { content, .. } => {
                push_plain(content, out)
            }
            Inline::Image(img) => out.push_str(&img.alt),
            Inline::LineBreak | Inline::SoftBreak => out.push(' '),
        }
    }
}

/// The plain text of blocks, paragraphs separated by spaces.
pub fn blocks_plain_text(blocks: &[Block]) -> String {
    let mut parts = Vec::new();
    for b in blocks {
        match b {
            Block::Paragraph { content } => parts.push(plain_text(content)),
            Block::Heading(h) => parts.push(plain_text(&h.content)),
            Block::List { items, .. } => parts.extend(items.iter().map(|i| blocks_plain_text(i))),
            Block::Callout { blocks, .. } | Block::Quote { blocks } => {
                parts.push(blocks_plain_text(blocks))
            }
            Block::Code { text, .. } => parts.push(text.clone()),
            Block::Steps(_) | Block::Table(_) | Block::Rule => {}
        }
    }
    parts.retain(|p| !p.trim().is_empty());
    parts.join(" ")
}

/// A heading's text as a URL fragment: lowercase words joined by hyphens.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            if c.is_ascii() {
                out.push(c);
            } else {
                out.extend(fold_accent(c));
            }
        } else if c != '\'' && c != '’' {
            pending_dash = true;
        }
    }
    out
}

/// Latin letters with accents become their base letter, so that slugs stay ASCII;
/// other scripts are kept as they are.
fn fold_accent(c: char) -> Option<char> {
    const FROM: &str = "àáâãäåāçćčèéêëēėęìíîïīñńòóôõöøōùúûüūýÿžźż";
    const TO: &str = "aaaaaaaccceeeeeeeiiiiinnooooooouuuuuyyzzz";
    match FROM.chars().position(|f| f == c) {
        Some(i) => TO.chars().nth(i),
        None => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_hyphens() {
        assert_eq!(
            slugify("Link Your CM/ECF Account to Your Upgraded PACER Account"),
            "link-your-cm-ecf-account-to-your-upgraded-pacer-account"
        );
        assert_eq!(slugify("  What's next?  "), "whats-next");
        assert_eq!(slugify("Résumé (2021)"), "resume-2021");
        assert_eq!(slugify("--"), "");
    }
}
