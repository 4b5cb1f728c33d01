//! The rules `procdoc check` applies to the document model. Parsing has
//! already reported what is wrong with the text itself (front matter, HTML);
//! here are the rules about meaning: numbering, cross-references, pictures,
//! links, headings, and the site as a whole.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::diag::{Code, Diagnostic, SourceFile, display_path};
use crate::images::ImageProblem;
use crate::model::{Block, Image, Inline, Step, blocks_plain_text};
use crate::parse::Doc;
use crate::paths::{self, Target};
use crate::site::Site;

/// Every rule over every procedure, and the site-wide ones: the site-wide
/// problems, and each procedure's own (in the order of `site.entries`). A
/// procedure whose memo holds is not checked again: its memo's diagnostics
/// were reported when the site was settled.
pub fn check(site: &Site) -> (Vec<Diagnostic>, Vec<Vec<Diagnostic>>) {
    let step_numbers: HashMap<&PathBuf, HashSet<u32>> = site
        .entries
        .iter()
        .map(|e| (&e.path, e.outline.step_numbers.iter().copied().collect()))
        .collect();
    // Each procedure on its own core; the site-wide rules after.
    let each: Vec<Vec<Diagnostic>> = site
        .entries
        .par_iter()
        .map(|entry| {
            let mut diags = Vec::new();
            let Some(doc) = entry.parsed_doc().filter(|_| entry.memo.is_none()) else {
                return diags;
            };
            let ctx = Ctx {
                site,
                doc,
                file: &doc.source,
                steps: &step_numbers[&doc.procedure.path],
                step_numbers: &step_numbers,
            };
            ctx.numbering(&mut diags);
            ctx.headings(&mut diags);
            doc.procedure.visit_inlines(&mut |inline| match inline {
                Inline::StepRef { number, text, span } if !ctx.steps.contains(number) => {
                    diags.push(ctx.file.diag(
                        Code::StepRefMissing,
                        span.clone(),
                        format!(
                            "`{text}` refers to step {number}, which this procedure does not have{}",
                            ctx.last_step()
                        ),
                    ));
                }
                Inline::Image(img) => ctx.image(img, &mut diags),
                Inline::Link { href, span, .. } => ctx.link(href, span.clone(), &mut diags),
                _ => {}
            });
            diags
        })
        .collect();
    let used: HashSet<&PathBuf> = site.entries.iter().flat_map(|e| &e.pictures).collect();
    let mut diags = Vec::new();
    site_pictures(site, &used, &mut diags);
    (diags, each)
}

struct Ctx<'a> {
    site: &'a Site,
    doc: &'a Doc,
    file: &'a SourceFile,
    steps: &'a HashSet<u32>,
    /// Each procedure's step numbers, by its path.
    step_numbers: &'a HashMap<&'a PathBuf, HashSet<u32>>,
}

impl Ctx<'_> {
    fn last_step(&self) -> String {
        match self.steps.iter().max() {
            Some(n) => format!(" (its steps are 1 to {n})"),
            None => " (it has no steps)".to_string(),
        }
    }

    /// Step numbers run 1, 2, 3... through every step table of the procedure.
    /// After a mistake the count goes on from the number written, so that one
    /// wrong number gives one error, not one for every step after it.
    fn numbering(&self, diags: &mut Vec<Diagnostic>) {
        let mut prev: Option<u32> = None;
        let mut seen: HashMap<u32, usize> = HashMap::new();
        // Each step with the number written on the step after it, if any.
        let steps: Vec<&Step> = self.doc.procedure.steps().collect();
        let mut after = steps.iter().skip(1).map(|s| s.number);
        for block in self.doc.procedure.top_blocks() {
            let Block::Steps(table) = block else { continue };
            // A table that starts again at 1 is reported once; its rows are
            // then read as if it had continued.
            let mut offset = 0;
            for (row, step) in table.steps.iter().enumerate() {
                let next = after.next().flatten();
                self.empty_action(step, diags);
                let Some(written) = step.number else {
                    diags.push(self.not_a_number(step));
                    continue;
                };
                let at = step.number_span.clone();
                let expected = prev.map_or(1, |p| p + 1);
                if let Some(p) = prev.filter(|_| row == 0 && written == 1) {
                    diags.push(
                        self.file
                            .diag(Code::StepRestart, at.clone(), format!("this table starts again at step 1; the steps before it end at {p}"))
                            .with_hint(format!(
                                "number this step {expected}: numbering runs through the whole procedure (a separate procedure needs its own file)"
                            )),
                    );
                    offset = p;
                    prev = Some(expected);
                    seen.entry(expected)
                        .or_insert_with(|| self.file.line_col(at.start).0);
                    continue;
                }
                let n = written + offset;
                // A slip of the keyboard: the steps on both sides say which
                // number this one is, so the count goes on from there and
                // the steps after it are not blamed.
                let slip = prev.is_some()
                    && n != expected
                    && next.map(|w| w + offset) == Some(expected + 1);
                if let Some(&first_line) = seen.get(&n) {
                    diags.push(
                        self.file
                            .diag(
                                Code::StepDuplicate,
                                at.clone(),
                                format!(
                                    "step {written} appears twice (first on line {first_line})"
                                ),
                            )
                            .with_hint(format!(
                                "number this step {expected}, or remove one of the two"
                            )),
                    );
                } else if slip && let Some(p) = prev {
                    let code = if n > expected {
                        Code::StepGap
                    } else {
                        Code::StepOutOfOrder
                    };
                    diags.push(
                        self.file
                            .diag(code, at.clone(), format!("step {n} follows step {p} (expected {expected})"))
                            .with_hint(format!("the steps before and after it are {p} and {}: number this step {expected}", expected + 1)),
                    );
                } else if prev.is_none() && n != 1 {
                    diags.push(self.file.diag(
                        Code::FirstStepNotOne,
                        at,
                        format!("the first step is {n}, not 1"),
                    ));
                } else if let Some(p) = prev.filter(|_| n != expected) {
                    diags.push(if n > expected {
                        let missing = if n == expected + 1 {
                            format!("step {expected} is missing")
                        } else {
                            format!("steps {expected} to {} are missing", n - 1)
                        };
                        self.file
                            .diag(Code::StepGap, at, format!("step {n} follows step {p} (expected {expected})"))
                            .with_hint(format!("{missing}: number this step {expected}, or add the missing steps"))
                    } else {
                        self.file
                            .diag(Code::StepOutOfOrder, at, format!("step {n} follows step {p} (expected {expected})"))
                            .with_hint(format!("number this step {expected}, or move the row to where step {n} belongs"))
                    });
                }
                // A slip counts as the number it should have had.
                let counted = if slip { expected } else { n };
                seen.entry(counted)
                    .or_insert_with(|| self.file.line_col(step.number_span.start).0);
                prev = Some(if slip {
                    expected
                } else {
                    prev.map_or(n, |p| p.max(n))
                });
            }
        }
    }

    fn empty_action(&self, step: &Step, diags: &mut Vec<Diagnostic>) {
        if !blocks_plain_text(&step.action).trim().is_empty() || has_image(&step.action) {
            return;
        }
        let (label, at) = if step.label.is_empty() {
            ("this step".to_string(), step.span.clone())
        } else {
            (format!("step {}", step.label), step.number_span.clone())
        };
        diags.push(
            self.file
                .diag(Code::StepEmpty, at, format!("{label} has no action")),
        );
    }

    fn not_a_number(&self, step: &Step) -> Diagnostic {
        if step.label.is_empty() {
            return self
                .file
                .diag(Code::StepNotANumber, step.span.clone(), "this row has no step number")
                .with_hint("number the row, or move text that is not a step out of the table, under its own ## heading (such as ## Reminders)");
        }
        let d = self.file.diag(
            Code::StepNotANumber,
            step.number_span.clone(),
            format!("`{}` is not a step number", step.label),
        );
        let digits: String = step.label.chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() && digits.len() < 7 {
            d.with_hint(format!("write the number alone: {digits}"))
        } else {
            d
        }
    }

    /// The title is the page's only level-1 heading; levels go down one at a time.
    fn headings(&self, diags: &mut Vec<Diagnostic>) {
        let mut prev = 1u8;
        let mut visit = |level: u8, span: std::ops::Range<usize>| {
            if level == 1 {
                diags.push(
                    self.file
                        .diag(Code::HeadingSkipped, span, "a level-1 heading in the body: the title in the front matter is the page's only level-1 heading")
                        .with_hint("start sections at ## (level 2)"),
                );
            } else if level > prev + 1 {
                let hashes = "#".repeat(usize::from(prev) + 1);
                diags.push(
                    self.file
                        .diag(
                            Code::HeadingSkipped,
                            span,
                            format!("a level-{level} heading follows a level-{prev} heading"),
                        )
                        .with_hint(format!(
                            "use {hashes} here: screen-reader users navigate by heading level"
                        )),
                );
            }
            prev = level;
        };
        let p = &self.doc.procedure;
        for b in &p.intro {
            if let Block::Heading(h) = b {
                visit(h.level, h.span.clone());
            }
        }
        for s in &p.sections {
            visit(s.heading.level, s.heading.span.clone());
            for b in &s.blocks {
                if let Block::Heading(h) = b {
                    visit(h.level, h.span.clone());
                }
            }
        }
    }

    fn image(&self, img: &Image, diags: &mut Vec<Diagnostic>) {
        let span = img.span.clone();
        let shown = &img.src;
        match paths::resolve(&self.doc.procedure.path, &img.src) {
            Target::Scheme(s) if s == "http" || s == "https" => {
                diags.push(self.file.diag(
                    Code::ImageRemote,
                    span.clone(),
                    format!("the screenshot {shown} is on another web site"),
                ));
            }
            Target::Scheme(s) => diags.push(self.file.diag(
                Code::ImageOutside,
                span.clone(),
                format!("the screenshot address {s}: is not a file in procedures/"),
            )),
            Target::Absolute => diags.push(self.file.diag(
                Code::ImageOutside,
                span.clone(),
                format!(
                    "the screenshot path {shown} is absolute; it must be relative to this file"
                ),
            )),
            Target::Escapes => diags.push(self.file.diag(
                Code::ImageOutside,
                span.clone(),
                format!("the screenshot path {shown} leaves the procedures/ folder"),
            )),
            Target::Fragment(_) => diags.push(self.file.diag(
                Code::ImageMissing,
                span.clone(),
                "the screenshot has no file name",
            )),
            Target::Local(path, _) => {
                if let Some(Err(problem)) = self.site.images.get(&path) {
                    let mut d = self.image_problem(problem, &path, span.clone());
                    if let Some(hint) = self.percent_in_name(img, problem) {
                        d = d.with_hint(hint);
                    }
                    diags.push(d);
                }
            }
        }
        self.alt_text(img, diags);
    }

    /// An address is a URL: `%20` in it is a space, as a browser or an
    /// editor's preview reads it. A missing picture whose name, read as
    /// written, is a file that exists (`my%20shot.png`) gets a hint saying
    /// how to write that name.
    fn percent_in_name(&self, img: &Image, problem: &ImageProblem) -> Option<String> {
        if !matches!(problem, ImageProblem::Missing) || !img.src.contains('%') {
            return None;
        }
        let written = img.src.trim().split(['#', '?']).next().unwrap_or("");
        let literal = self.doc.procedure.path.parent()?.join(written);
        if !self.site.root.join(&literal).is_file() {
            return None;
        }
        Some(format!(
            "in an address % and two digits stand for a character (%20 is a space); to show the file {}, write `%` as %25: {}, or rename the file without %",
            display_path(&literal),
            written.replace('%', "%25")
        ))
    }

    fn image_problem(
        &self,
        problem: &ImageProblem,
        path: &std::path::Path,
        span: std::ops::Range<usize>,
    ) -> Diagnostic {
        let p = display_path(path);
        match problem {
            ImageProblem::Missing => {
                self.file
                    .diag(Code::ImageMissing, span, format!("{p} does not exist"))
            }
            ImageProblem::Unreadable(e) => {
                self.file
                    .diag(Code::ImageMissing, span, format!("{p} cannot be read: {e}"))
            }
            ImageProblem::Outside => self.file.diag(
                Code::ImageOutside,
                span,
                format!("{p} is a symbolic link that leads outside the procedures/ folder"),
            ),
            ImageProblem::NotAnImage(what) => {
                self.file
                    .diag(Code::ImageUndecodable, span, format!("{p} is {what}"))
            }
            ImageProblem::Corrupt(e) => self.file.diag(
                Code::ImageUndecodable,
                span,
                format!("{p} cannot be decoded: {e}"),
            ),
            ImageProblem::TooManyPixels {
                width,
                height,
                limit,
            } => self.file.diag(
                Code::ImageTooLarge,
                span,
                format!("{p} is {width}×{height} pixels, more than the limit of {limit} pixels"),
            ),
            ImageProblem::TooManyBytes { bytes, limit } => self.file.diag(
                Code::ImageTooLarge,
                span,
                format!(
                    "{p} is {}, more than the limit of {}",
                    size(*bytes),
                    size(*limit)
                ),
            ),
        }
    }

    fn alt_text(&self, img: &Image, diags: &mut Vec<Diagnostic>) {
        let alt = img.alt.trim();
        if alt.is_empty() {
            diags.push(self.file.diag(
                Code::AltMissing,
                img.span.clone(),
                "this screenshot has no alt text",
            ));
            return;
        }
        let lower = alt.to_lowercase();
        let file_name = img
            .src
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .to_lowercase();
        let stem = file_name
            .rsplit_once('.')
            .map_or(file_name.as_str(), |(s, _)| s);
        let bare = lower
            .trim_start_matches("a ")
            .trim_start_matches("an ")
            .trim_start_matches("the ");
        let bare = bare.trim_end_matches(|c: char| {
            c.is_ascii_digit() || c == ' ' || c == '.' || c == '-' || c == '_'
        });
        const GENERIC: &[&str] = &[
            "image",
            "screenshot",
            "screen shot",
            "picture",
            "photo",
            "img",
            "graphic",
            "figure",
            "screen capture",
            "pic",
            "icon",
        ];
        let looks_like_file = [".png", ".jpg", ".jpeg", ".gif", ".webp"]
            .iter()
            .any(|e| lower.ends_with(e));
        if lower == file_name || lower == stem || looks_like_file {
            diags.push(self.file.diag(
                Code::AltNotDescriptive,
                img.span.clone(),
                format!("the alt text `{alt}` is a file name"),
            ));
        } else if GENERIC.contains(&bare) {
            diags.push(self.file.diag(
                Code::AltNotDescriptive,
                img.span.clone(),
                format!("the alt text `{alt}` does not say what the screenshot shows"),
            ));
        }
    }

    fn link(&self, href: &str, span: std::ops::Range<usize>, diags: &mut Vec<Diagnostic>) {
        match paths::resolve(&self.doc.procedure.path, href) {
            Target::Scheme(s) if matches!(s.as_str(), "http" | "https" | "mailto" | "tel") => {}
            Target::Scheme(s) => {
                let message = if s == "javascript" {
                    "a javascript: link runs code in the reader's browser".to_string()
                } else {
                    format!("a {s}: link is not a web, mail or phone address")
                };
                diags.push(self.file.diag(Code::UnsafeLink, span, message));
            }
            Target::Fragment(f) => {
                if let Some(n) = step_fragment(&f)
                    && !self.steps.contains(&n)
                {
                    diags.push(self.file.diag(
                            Code::StepRefMissing,
                            span,
                            format!("the link to #{f} points at step {n}, which this procedure does not have{}", self.last_step()),
                        ));
                }
            }
            Target::Local(path, fragment)
                if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("md")) =>
            {
                let Some(target_steps) = self.step_numbers.get(&path) else {
                    diags.push(
                        self.file
                            .diag(
                                Code::LinkedProcedureMissing,
                                span,
                                format!(
                                    "the link points at {}, which is not a procedure",
                                    display_path(&path)
                                ),
                            )
                            .with_hint(self.procedure_suggestion(&path)),
                    );
                    return;
                };
                if let Some(n) = fragment.as_deref().and_then(step_fragment)
                    && !target_steps.contains(&n)
                {
                    diags.push(self.file.diag(
                        Code::StepRefMissing,
                        span,
                        format!(
                            "the link points at step {n} of {}, which has no such step",
                            display_path(&path)
                        ),
                    ));
                }
            }
            // Other relative and absolute links (court pages, forms) are the
            // web team's to keep; the site renderer checks what it publishes.
            Target::Local(..) | Target::Absolute | Target::Escapes => {}
        }
    }

    fn procedure_suggestion(&self, missing: &std::path::Path) -> String {
        let wanted = missing
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let slugs: Vec<&str> = self.site.entries.iter().map(|e| e.slug.as_str()).collect();
        match crate::diag::did_you_mean(&wanted, &slugs) {
            Some(s) => format!("did you mean {s}.md?"),
            None => Code::LinkedProcedureMissing.hint().to_string(),
        }
    }
}

fn step_fragment(fragment: &str) -> Option<u32> {
    fragment.strip_prefix("step-")?.parse().ok()
}

fn has_image(blocks: &[Block]) -> bool {
    let mut found = false;
    for b in blocks {
        b.visit_inlines(&mut |i| found |= matches!(i, Inline::Image(_)));
    }
    found
}

/// Pictures nobody uses, and pictures that are heavy for the web.
fn site_pictures(site: &Site, used: &HashSet<&PathBuf>, diags: &mut Vec<Diagnostic>) {
    for file in &site.image_files {
        if !used.contains(file) {
            diags.push(Diagnostic::file(
                file,
                Code::ImageUnused,
                "no procedure uses this picture",
            ));
        }
    }
    for (path, probe) in &site.images {
        if let Ok(info) = probe
            && info.bytes > site.config.images.web_max_bytes
        {
            diags.push(Diagnostic::file(
                path,
                Code::ImageHeavy,
                format!(
                    "this picture is {}; pages load it slowly on a phone",
                    size(info.bytes)
                ),
            ));
        }
    }
}

/// A byte count as a person reads it.
pub fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        format!("{bytes} bytes")
    }
}
