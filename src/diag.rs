//! Diagnostics: what `check` reports, where, and how it is printed.
//!
//! Every problem procdoc finds is a [`Diagnostic`] with a stable [`Code`], a
//! position (path, line, column) and a hint that says what to write instead.
//! Diagnostics are collected, never thrown: one run reports every problem in
//! every file.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A byte range into a source file's text.
pub type Span = Range<usize>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($( $variant:ident = $id:literal, $sev:ident, $summary:literal, $hint:literal; )*) => {
        /// Every problem procdoc can report. The identifiers are stable: editors
        /// and CI scripts may match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable identifier, such as `E003`.
            pub fn id(self) -> &'static str {
                match self { $( Code::$variant => $id, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// One line saying what the rule is about (for the documentation table).
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }

            /// The hint printed when a diagnostic brings none of its own.
            pub fn hint(self) -> &'static str {
                match self { $( Code::$variant => $hint, )* }
            }
        }
    };
}

codes! {
    FirstStepNotOne = "E001", Error, "the first step is not 1",
        "number the first step of the procedure 1";
    StepGap = "E002", Error, "a step number is skipped",
        "renumber the steps so that each is one more than the step before it";
    StepOutOfOrder = "E003", Error, "a step number is lower than the step before it",
        "put the steps in order, each one more than the step before it";
    StepDuplicate = "E004", Error, "two steps have the same number",
        "give each step its own number";
    StepNotANumber = "E005", Error, "a step number is missing or not a whole number",
        "write the step number as digits only, such as 4";
    StepEmpty = "E006", Error, "a step has no action",
        "write what the reader does in the Action column, or remove the row";
    StepRestart = "E007", Error, "a later step table starts again at 1",
        "numbering runs through the whole procedure: continue from the last step of the table before";
    StepTableColumns = "E008", Error, "a step table does not have exactly two columns",
        "a step table has two columns, `| Step | Action |`; put everything else in the Action cell";
    ImageMissing = "E010", Error, "a screenshot file does not exist",
        "add the picture at that path, or correct the path (it is relative to the Markdown file)";
    ImageUndecodable = "E011", Error, "a screenshot is not a readable PNG, JPEG, GIF or WebP picture",
        "export the screenshot again as PNG (or JPEG) and replace the file";
    ImageTooLarge = "E012", Error, "a screenshot exceeds the size limit in pixels or bytes",
        "crop or scale the screenshot down, or raise the limit under [images] in procdoc.toml";
    ImageOutside = "E013", Error, "a screenshot path leaves the procedures/ folder",
        "keep screenshots inside procedures/ (for example procedures/images/) and use a relative path";
    ImageRemote = "E014", Error, "a screenshot is loaded from another web site",
        "download the picture into procedures/images/ and refer to it by a relative path: the handout must print offline";
    AltMissing = "E015", Error, "a screenshot has no alt text",
        "describe what the screenshot shows between the brackets: ![The login form with ...](images/x.png)";
    AltNotDescriptive = "E016", Error, "a screenshot's alt text does not describe it",
        "write what a reader who cannot see the picture needs to know, not the file name or the word image";
    FrontMatterMissing = "E020", Error, "the file does not start with front matter between +++ lines",
        "start the file with:\n+++\ntitle = \"The procedure's title\"\n+++";
    FrontMatterSyntax = "E021", Error, "the front matter is not valid TOML",
        "write each setting as key = value, with text in double quotes";
    TitleMissing = "E022", Error, "the front matter has no title",
        "add title = \"The procedure's title\" to the front matter";
    FrontMatterUnknownKey = "E023", Error, "the front matter has a key procdoc does not know",
        "the keys are title, summary, category, updated, lang and weight";
    BadDate = "E024", Error, "a date is not a real date written year-month-day",
        "write the date as updated = 2021-06-28 (year-month-day)";
    FrontMatterType = "E025", Error, "a front matter value has the wrong type",
        "write text in double quotes, dates as 2021-06-28 and weights as whole numbers";
    HtmlElement = "E030", Error, "an HTML element that is not allowed",
        "the HTML allowed in a cell is br, p, ul, ol, li, b, strong, i, em, u, code, kbd and a href; otherwise write Markdown";
    HtmlAttribute = "E031", Error, "an HTML attribute that is not allowed",
        "remove the attribute; only a takes one (href, and title)";
    UnsafeLink = "E032", Error, "a link that runs code or is not a web, mail or phone address",
        "link to an http(s) address, a mailto: or tel: address, or a relative path";
    StepRefMissing = "E033", Error, "a cross-reference to a step that does not exist",
        "refer to a step that exists, or correct the number";
    HeadingSkipped = "E034", Error, "a heading level is skipped, or a second level-1 heading",
        "the title is the only level-1 heading; sections start at ## and go one level deeper at a time";
    LinkedProcedureMissing = "E035", Error, "a link to a procedure that does not exist",
        "link to a procedure that exists, by its file name relative to this file";
    DuplicateSlug = "E036", Error, "two procedures have the same slug",
        "rename one of them: procedures/<slug>.md and procedures/<slug>/index.md give the same address";
    HtmlMalformed = "E037", Error, "an HTML tag is not closed, or closed without being opened",
        "close every tag you open, in reverse order: <b><i>text</i></b>";
    BadSlug = "E038", Error, "a procedure's file name cannot be its web address",
        "name procedure files with lowercase letters, digits and hyphens, such as link-cmecf-pacer.md";
    EmptyFile = "E040", Error, "a procedure file is empty",
        "start the file with front matter (+++, title = \"...\", +++) and add the steps";
    NotUtf8 = "E041", Error, "a file has bytes that are not UTF-8 text",
        "save the file as UTF-8 in your editor (text pasted from Word often brings Windows-1252 quotes and dashes)";
    Unreadable = "E042", Error, "a file or folder could not be read",
        "check that the file exists and can be read, and that no symbolic link points back into its own folder";
    FileTooLarge = "E043", Error, "a procedure file is larger than procdoc reads",
        "split it into several procedures, one task each; a procedure file can be at most 2 MB";
    NestedTooDeep = "E044", Error, "lists, quotes, tables or formatting nested too deep",
        "flatten it (a list and each of its items, a quote, a callout, a table's rows and cells, a paragraph, and each piece of formatting or link is a level): make a deep sub-list steps of their own, or end the quote or formatting sooner";
    ConfigInvalid = "E050", Error, "procdoc.toml is not valid",
        "see the README for the settings procdoc.toml accepts";
    GlyphMissing = "E070", Error, "a character the handout's fonts cannot print",
        "write it another way (-> for an arrow, for example); an accessible PDF cannot hold a character its fonts lack";
    ImportUnreadable = "E060", Error, "a line of the legacy file that import cannot read",
        "a row is a step number, a tab and the action (or a tab and the text, for a row without a number); correct the line in the legacy file, or leave it out and write it into the Markdown afterwards";
    ImportRowBeforeHeader = "E061", Error, "a step row comes before any STEP/ACTION header row",
        "add a line STEP, a tab, ACTION above the first row, as the export writes at the top of each table";
    ImportNoSteps = "E062", Error, "the legacy file holds no steps",
        "import reads a # TITLE line, then a STEP/ACTION header row and rows of a step number, a tab and the action; check that this is the text exported from a procedure";
    ImportNoTitle = "E063", Error, "the legacy file does not start with a title line",
        "put the procedure's title on the first line of the file, as # TITLE";
    ImportTitleSlug = "E064", Error, "a procedure's title cannot give it a web address",
        "change the title line in the legacy file: the web address is made of the title's words, in Latin letters and digits";
    ImageUnused = "W001", Warning, "a picture is not used by any procedure",
        "refer to it from a procedure, or delete it";
    ImageHeavy = "W002", Warning, "a picture is large for the web",
        "crop it to the part that matters or save it with fewer colours; large pictures are slow on phones";
    NotAProcedure = "W003", Warning, "a Markdown file that is not published",
        "procedures are procedures/<slug>.md or procedures/<slug>/index.md; move the file or start its name with _";
}

/// A source file as diagnostics see it: its path (as printed) and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as shown to the user, relative to the site root.
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset. An offset
    /// in a line's ending (the LF of a CR/LF, say, where TOML reports an
    /// unclosed string) is the column just past the line's last character.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let end = start + self.line_text(line + 1).len();
        let col = self.text[start..floor_char_boundary(&self.text, offset.min(end))]
            .chars()
            .count();
        (line + 1, col + 1)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// A diagnostic at `span` of this file, with the code's default hint.
    pub fn diag(&self, code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        let (line, column) = self.line_col(span.start);
        let (end_line, end_column) = self.line_col(span.end.max(span.start));
        let line_text = self.line_text(line);
        let line_chars = line_text.chars().count();
        // The caret covers the span on its first line, at least one character.
        let width = if end_line == line {
            (end_column - column).max(1)
        } else {
            (line_chars + 1 - column).max(1)
        };
        let source = SourceLine::excerpt(line_text, line_chars, column, width);
        Diagnostic {
            path: self.path.clone(),
            line,
            column,
            severity: code.severity(),
            code,
            message: message.into(),
            hint: code.hint().to_string(),
            source: Some(source),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLine {
    /// The line, or the part of a long line around the problem.
    pub text: String,
    /// The 1-based column in `text` where the caret starts.
    pub column: usize,
    /// How many characters the caret underlines.
    pub width: usize,
}

/// How many characters of a long line a diagnostic shows: a line of a
/// megabyte, copied into each of its diagnostics, made thousands of them take
/// gigabytes, and nobody reads it in a terminal.
const SHOWN: usize = 120;

impl SourceLine {
    /// The line as shown under a diagnostic at `column` (1-based, of
    /// `chars` characters): whole when it is short, otherwise `SHOWN`
    /// characters around the column, with `…` where it was cut.
    fn excerpt(line: &str, chars: usize, column: usize, width: usize) -> SourceLine {
        if chars <= SHOWN {
            return SourceLine {
                text: line.to_string(),
                column,
                width,
            };
        }
        let from = column.saturating_sub(1 + SHOWN / 3).min(chars - SHOWN);
        let to = from + SHOWN;
        let mut text = String::new();
        if from > 0 {
            text.push('…');
        }
        text.extend(line.chars().skip(from).take(SHOWN));
        if to < chars {
            text.push('…');
        }
        // The caret's character, counted from the line's start.
        let at = column - 1;
        SourceLine {
            text,
            column: at - from + 1 + usize::from(from > 0),
            width: width.min(to.saturating_sub(at)).max(1),
        }
    }
}

/// Serialisable so that a procedure's diagnostics can be kept in the
/// build cache beside what else it yields (see `memo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Relative to the site root.
    pub path: PathBuf,
    /// 1-based; 0 when the problem is with the file as a whole.
    pub line: usize,
    /// 1-based, in characters; 0 when the problem is with the file as a whole.
    pub column: usize,
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub hint: String,
    pub source: Option<SourceLine>,
}

impl Diagnostic {
    /// A diagnostic about a whole file (or folder), with no line to show.
    pub fn file(path: impl Into<PathBuf>, code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            line: 0,
            column: 0,
            severity: code.severity(),
            code,
            message: message.into(),
            hint: code.hint().to_string(),
            source: None,
        }
    }

    /// Replace the code's default hint with one specific to this problem.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn sort_key(&self) -> (&Path, usize, usize, Code, &str) {
        (&self.path, self.line, self.column, self.code, &self.message)
    }
}

/// Sort diagnostics by path, line and column, and drop exact repeats.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup();
}

/// Forward slashes on every platform, so output and tests read the same.
pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Terminal colours, used only when asked for.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Render one diagnostic the way a compiler does:
///
/// ```text
/// procedures/x.md:14:3: error[E003]: step 5 follows step 3 (expected 4)
///    |
/// 14 | | 5 | Click **Utilities**. |
///    |   ^
///    = hint: renumber the steps ...
/// ```
pub fn render_human(d: &Diagnostic, style: Style) -> String {
    let mut out = String::new();
    let (label, color) = match d.severity {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
    };
    let location = if d.line == 0 {
        display_path(&d.path)
    } else {
        format!("{}:{}:{}", display_path(&d.path), d.line, d.column)
    };
    let _ = writeln!(
        out,
        "{}: {}: {}",
        style.paint("1", &location),
        style.paint(color, &format!("{label}[{}]", d.code.id())),
        style.paint("1", &d.message)
    );
    let gutter = d.line.to_string().len();
    let bar = style.paint("1;34", "|");
    if let Some(src) = &d.source {
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, "{pad} {bar}");
        let _ = writeln!(
            out,
            "{} {bar} {}",
            style.paint("1;34", &d.line.to_string()),
            src.text
        );
        // Keep tabs so that the caret lines up under the same character.
        let lead: String = src
            .text
            .chars()
            .take(src.column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let caret = style.paint(color, &"^".repeat(src.width));
        let _ = writeln!(out, "{pad} {bar} {lead}{caret}");
    }
    let pad = " ".repeat(if d.source.is_some() { gutter } else { 0 });
    let mut lines = d.hint.lines();
    if let Some(first) = lines.next() {
        let _ = writeln!(out, "{pad} = {}: {first}", style.paint("1", "hint"));
        for more in lines {
            let _ = writeln!(out, "{pad}         {more}");
        }
    }
    out
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    path: String,
    line: usize,
    column: usize,
    severity: Severity,
    code: &'static str,
    message: &'a str,
    hint: &'a str,
}

/// All diagnostics as one JSON array.
pub fn render_json(diags: &[Diagnostic]) -> String {
    let items: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| JsonDiagnostic {
            path: display_path(&d.path),
            line: d.line,
            column: d.column,
            severity: d.severity,
            code: d.code.id(),
            message: &d.message,
            hint: &d.hint,
        })
        .collect();
    serde_json::to_string_pretty(&items).expect("diagnostics serialise") + "\n"
}

/// Counts for the closing line of a run.
pub fn summary(diags: &[Diagnostic], files: usize) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let checked = plural(files, "procedure");
    match (errors, warnings) {
        (0, 0) => format!("checked {checked}: no problems"),
        (0, w) => format!("checked {checked}: {}", plural(w, "warning")),
        (e, 0) => format!("checked {checked}: {}", plural(e, "error")),
        (e, w) => format!(
            "checked {checked}: {}, {}",
            plural(e, "error"),
            plural(w, "warning")
        ),
    }
}

/// Edit distance, for "did you mean" hints.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (levenshtein(&word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let f = SourceFile::new("x.md", "ab\ncé d\r\nlast".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(f.line_col(6), (2, 3));
        assert_eq!(f.line_text(2), "cé d");
        assert_eq!(f.line_col(f.text.len()), (3, 5));
        // The CR and the LF of line 2 are both just past its end.
        assert_eq!(f.line_col(8), (2, 5));
        assert_eq!(f.line_col(9), (2, 5));
    }

    #[test]
    fn caret_keeps_tabs_and_underlines_the_span() {
        let f = SourceFile::new("p/x.md", "a\n\tfoo bar\n".to_string());
        let d = f.diag(Code::StepGap, 7..10, "msg");
        let out = render_human(&d, Style { color: false });
        assert_eq!(
            out,
            "p/x.md:2:6: error[E002]: msg\n  |\n2 | \tfoo bar\n  | \t    ^^^\n  = hint: renumber the steps so that each is one more than the step before it\n"
        );
    }

    #[test]
    fn a_long_line_is_shown_around_the_problem() {
        let line = format!("{}<b>{}", "a".repeat(1000), "z".repeat(1000));
        let f = SourceFile::new("x.md", line.clone());
        let out = render_human(
            &f.diag(Code::HtmlMalformed, 1000..1003, "m"),
            Style { color: false },
        );
        let shown: Vec<&str> = out.lines().collect();
        let excerpt = format!("…{}<b>{}…", "a".repeat(40), "z".repeat(77));
        assert_eq!(shown[0], "x.md:1:1001: error[E037]: m");
        assert_eq!(shown[2], format!("1 | {excerpt}"));
        assert_eq!(shown[3], format!("  | {}^^^", " ".repeat(41)));
        // At the end of the line, the caret stays within what is shown.
        let d = f.diag(Code::HtmlMalformed, 1990..line.len() + 5, "m");
        let src = d.source.unwrap();
        assert_eq!(src.text, format!("…{}", "z".repeat(120)));
        assert_eq!((src.column, src.width), (109, 13));
        // A short line is shown whole.
        let f = SourceFile::new("x.md", "short".to_string());
        let d = f.diag(Code::HtmlMalformed, 2..3, "m");
        assert_eq!(d.source.unwrap().text, "short");
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut ids: Vec<_> = Code::ALL.iter().map(|c| c.id()).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate code id");
        for c in Code::ALL {
            let prefix = match c.severity() {
                Severity::Error => 'E',
                Severity::Warning => 'W',
            };
            assert!(c.id().starts_with(prefix) && c.id().len() == 4, "{c:?}");
        }
    }

    #[test]
    fn suggestions_find_typos_only() {
        let keys = ["title", "summary", "category", "updated"];
        assert_eq!(did_you_mean("titel", &keys), Some("title"));
        assert_eq!(did_you_mean("Categroy", &keys), Some("category"));
        assert_eq!(did_you_mean("colour", &keys), None);
    }
}
