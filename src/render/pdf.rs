//! The printable handout: the procedure laid out by the theme's
//! `handout.typ` with typst, exported as tagged PDF/UA-1.
//!
//! Typst runs in a sandbox of our own (`HandoutWorld`): it sees the template,
//! the procedure as data (`/data.json`), the theme's logo, the procedure's
//! screenshots and the theme's fonts, and nothing else: no system fonts, no
//! other files, no network, no packages. User text reaches the template only
//! as JSON strings, so nothing in a procedure can run Typst code.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::model::Document as _;
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use super::images::Prepared;
use crate::config::{Config, Paper};
use crate::model::{Date, Inline, Procedure};
use crate::parse::Doc;
use crate::paths::{self, Target};
use crate::theme::Theme;

/// A finished handout.
pub struct Handout {
    pub bytes: Vec<u8>,
    pub pages: usize,
}

/// What stays the same for every handout of a build: the template, the
/// fonts, typst's standard library. Made once, used for every procedure.
pub struct Renderer {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    template: String,
    template_origin: String,
    logo: Option<(String, Bytes)>,
    theme_data: ThemeData,
    /// A hash of everything above: part of each handout's cache key.
    fingerprint: String,
}

/// One handout, ready to be laid out: everything it is made from (so a
/// worker process can lay it out from this alone), and its cache key.
#[derive(Clone, Serialize, Deserialize)]
pub struct Job {
    /// The procedure's slug (the PDF's identifier).
    slug: String,
    /// The procedure's file, as shown in messages.
    shown: String,
    /// `/data.json`.
    data: String,
    /// Each screenshot's path inside the handout's world, and its file.
    images: Vec<(String, PathBuf)>,
    /// The date written into the PDF: year, month, day.
    date: (u16, u8, u8),
    /// Hashes every input: the same key, the same PDF.
    pub key: String,
}

impl Job {
    /// A job known only by its key: enough to find its handout in the
    /// build cache (a procedure whose memo holds), not to lay one out.
    pub fn known(key: String) -> Job {
        Job {
            slug: String::new(),
            shown: String::new(),
            data: String::new(),
            images: Vec::new(),
            date: (2000, 1, 1),
            key,
        }
    }
}

#[derive(Serialize, Clone)]
struct ThemeData {
    font: String,
    logo: Option<String>,
    accent: String,
    text: String,
    muted: String,
    border: String,
    surface: String,
    header_background: String,
    header_text: String,
    note: String,
    tip: String,
    important: String,
    warning: String,
    caution: String,
}

#[derive(Serialize)]
struct SiteData<'a> {
    title: &'a str,
    court: &'a str,
    lang: &'a str,
    paper: &'static str,
    /// The page's address online, printed in the footer.
    url: Option<String>,
}

#[derive(Serialize)]
struct ImageData {
    width: u32,
    height: u32,
}

#[derive(Serialize)]
struct HandoutData<'a> {
    site: SiteData<'a>,
    theme: &'a ThemeData,
    procedure: &'a Procedure,
    images: BTreeMap<String, ImageData>,
    /// Each link's address as written, and the one that works on paper: a web
    /// address, `#step-N` for a step of this handout, or "" (no link).
    links: BTreeMap<String, String>,
    /// "June 28, 2021".
    updated: Option<String>,
}

/// What a handout takes from outside its procedure: where its links lead,
/// and its screenshots (their sizes, files and hashes).
struct Inputs {
    links: BTreeMap<String, String>,
    image_data: BTreeMap<String, ImageData>,
    files: Vec<(String, PathBuf)>,
    key_parts: Vec<String>,
}

impl Inputs {
    fn of(
        procedure: &Procedure,
        config: &Config,
        images: &HashMap<PathBuf, Result<Prepared, String>>,
        slugs: &HashMap<PathBuf, String>,
    ) -> Inputs {
        let base = config.base_url();
        let mut inputs = Inputs {
            links: BTreeMap::new(),
            image_data: BTreeMap::new(),
            files: Vec::new(),
            key_parts: Vec::new(),
        };
        procedure.visit_inlines(&mut |i| match i {
            Inline::Link { href, .. } => {
                inputs.links.insert(
                    href.clone(),
                    paper_link(procedure, href, base.as_deref(), slugs),
                );
            }
            Inline::Image(img) => {
                let Some(path) = &img.path else { return };
                let Some(Ok(prepared)) = images.get(path) else {
                    return;
                };
                let key = crate::diag::display_path(path);
                if inputs.image_data.contains_key(&key) {
                    return;
                }
                let (width, height) = (prepared.web.full.width, prepared.web.full.height);
                inputs
                    .key_parts
                    .push(format!("{key}\n{}\n{width}x{height}", prepared.sha256));
                inputs
                    .files
                    .push((format!("/{key}"), prepared.original.clone()));
                inputs.image_data.insert(key, ImageData { width, height });
            }
            _ => {}
        });
        inputs
    }
}

fn site_data<'a>(procedure: &'a Procedure, config: &'a Config) -> SiteData<'a> {
    SiteData {
        title: &config.title,
        court: &config.court,
        lang: procedure.front.lang.as_deref().unwrap_or(&config.language),
        paper: match config.paper {
            Paper::Letter => "us-letter",
            Paper::A4 => "a4",
        },
        url: config.base_url().map(|b| format!("{b}{}/", procedure.slug)),
    }
}

/// Why a handout could not be made. The message names the file.
#[derive(Debug)]
pub struct PdfError(pub String);

impl Renderer {
    /// Read the theme's template, fonts and logo.
    pub fn new(theme: &Theme) -> Result<Renderer, PdfError> {
        let file = |rel: &str| {
            theme
                .files
                .get(rel)
                .ok_or_else(|| PdfError(format!("the theme `{}` has no {rel}", theme.name)))
        };
        let template_file = file("handout.typ")?;
        let template = String::from_utf8(template_file.bytes.to_vec())
            .map_err(|_| PdfError(format!("{}: not UTF-8 text", template_file.origin)))?;
        let settings = &theme.settings;
        let mut fonts = Vec::new();
        for rel in [
            &settings.fonts.regular,
            &settings.fonts.bold,
            &settings.fonts.italic,
            &settings.fonts.bold_italic,
        ] {
            let f = file(rel)?;
            let before = fonts.len();
            fonts.extend(Font::iter(Bytes::new(f.bytes.to_vec())));
            if fonts.len() == before {
                return Err(PdfError(format!(
                    "{}: not a font typst can read (TTF or OTF)",
                    f.origin
                )));
            }
        }
        let logo = match &settings.logo {
            Some(rel) => {
                let f = file(rel)?;
                Some((format!("/theme/{rel}"), Bytes::new(f.bytes.to_vec())))
            }
            None => None,
        };
        let p = &settings.light;
        let theme_data = ThemeData {
            font: settings.fonts.family.clone(),
            logo: logo
                .as_ref()
                .map(|(path, _)| path.trim_start_matches('/').to_string()),
            accent: p.accent.clone(),
            text: p.text.clone(),
            muted: p.muted.clone(),
            border: p.border.clone(),
            surface: p.surface.clone(),
            header_background: p.header_background.clone(),
            header_text: p.header_text.clone(),
            note: p.note.clone(),
            tip: p.tip.clone(),
            important: p.important.clone(),
            warning: p.warning.clone(),
            caution: p.caution.clone(),
        };
        let theme_json = serde_json::to_vec(&theme_data)
            .map_err(|e| PdfError(format!("the theme's settings: {e}")))?;
        let mut parts: Vec<&[u8]> = vec![
            b"handout 1",
            template.as_bytes(),
            &theme_json,
            logo.as_ref().map_or(&b""[..], |(_, b)| b.as_slice()),
        ];
        parts.extend(fonts.iter().map(|f| f.data().as_slice()));
        let fingerprint = crate::cache::sha256_hex(&parts);
        Ok(Renderer {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
            template,
            template_origin: template_file.origin.clone(),
            logo,
            theme_data,
            fingerprint,
        })
    }

    /// Characters of `text` that none of the theme's fonts can print.
    pub fn missing_glyphs(&self, text: &str) -> Vec<char> {
        let mut missing: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control() && *c != '\u{200b}')
            .filter(|c| {
                !self
                    .fonts
                    .iter()
                    .any(|f| f.info().coverage.contains(*c as u32))
            })
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// Gather what one procedure's handout is made from, and its cache key.
    /// `images` holds each sound screenshot ready to publish. The key hashes
    /// the procedure's source text (the model is made from it alone) rather
    /// than the handout's data, which only handouts to lay out need: call
    /// [`Renderer::fill`] for those.
    pub fn job(
        &self,
        doc: &Doc,
        config: &Config,
        images: &HashMap<PathBuf, Result<Prepared, String>>,
        slugs: &HashMap<PathBuf, String>,
    ) -> Result<Job, PdfError> {
        let procedure = &doc.procedure;
        let shown = crate::diag::display_path(&procedure.path);
        let inputs = Inputs::of(procedure, config, images, slugs);
        let site = site_data(procedure, config);
        let site_json =
            serde_json::to_string(&site).map_err(|e| PdfError(format!("{shown}: {e}")))?;
        let links_json =
            serde_json::to_string(&inputs.links).map_err(|e| PdfError(format!("{shown}: {e}")))?;
        let date = reproducible_date(procedure.front.updated);
        let date_text = date.to_string();
        let path_text = procedure.path.to_string_lossy();
        let mut parts: Vec<&[u8]> = vec![
            b"handout data 2",
            self.fingerprint.as_bytes(),
            procedure.slug.as_bytes(),
            path_text.as_bytes(),
            date_text.as_bytes(),
            doc.source.text.as_bytes(),
            site_json.as_bytes(),
            links_json.as_bytes(),
        ];
        parts.extend(inputs.key_parts.iter().map(|k| k.as_bytes()));
        Ok(Job {
            key: format!(
                "{}{}",
                super::HANDOUT_KEYS,
                crate::cache::sha256_hex(&parts)
            ),
            slug: procedure.slug.clone(),
            shown,
            data: String::new(),
            images: inputs.files,
            date: (date.year, date.month, date.day),
        })
    }

    /// Write the data a job's handout is laid out from (`/data.json`).
    pub fn fill(
        &self,
        job: &mut Job,
        procedure: &Procedure,
        config: &Config,
        images: &HashMap<PathBuf, Result<Prepared, String>>,
        slugs: &HashMap<PathBuf, String>,
    ) -> Result<(), PdfError> {
        let inputs = Inputs::of(procedure, config, images, slugs);
        let data = HandoutData {
            site: site_data(procedure, config),
            theme: &self.theme_data,
            procedure,
            images: inputs.image_data,
            links: inputs.links,
            updated: procedure.front.updated.map(super::long_date),
        };
        job.data =
            serde_json::to_string(&data).map_err(|e| PdfError(format!("{}: {e}", job.shown)))?;
        Ok(())
    }

    /// Lay out and export one handout.
    pub fn compile(&self, job: &Job) -> Result<Handout, PdfError> {
        let shown = &job.shown;
        let fail = |what: &str, diags: &[SourceDiagnostic], world: &HandoutWorld| {
            let details: Vec<String> = diags.iter().map(|d| self.describe(d, world)).collect();
            PdfError(format!("{shown}: {what}:\n{}", details.join("\n")))
        };
        let mut files: HashMap<FileId, Bytes> = HashMap::new();
        for (name, path) in &job.images {
            let bytes = std::fs::read(path)
                .map_err(|e| PdfError(format!("cannot read {}: {e}", path.display())))?;
            files.insert(file_id(name)?, Bytes::new(bytes));
        }
        if let Some((path, bytes)) = &self.logo {
            files.insert(file_id(path)?, bytes.clone());
        }
        files.insert(
            file_id("/data.json")?,
            Bytes::new(job.data.as_bytes().to_vec()),
        );

        let date = Date {
            year: job.date.0,
            month: job.date.1,
            day: job.date.2,
        };
        let world = HandoutWorld {
            renderer: self,
            main: Source::new(file_id("/handout.typ")?, self.template.clone()),
            files,
            today: Datetime::from_ymd(i32::from(date.year), date.month, date.day)
                .ok_or_else(|| PdfError(format!("{shown}: the date {date} is out of range")))?,
        };
        let compiled = typst::compile::<PagedDocument>(&world);
        let document = compiled
            .output
            .map_err(|errors| fail("the handout could not be laid out", &errors, &world))?;
        if document.info().title.is_none() {
            return Err(PdfError(format!(
                "{}: the template sets no document title",
                self.template_origin
            )));
        }
        let timestamp = Datetime::from_ymd_hms(i32::from(date.year), date.month, date.day, 0, 0, 0)
            .map(Timestamp::new_utc);
        let options = PdfOptions {
            ident: Smart::Custom(format!("procdoc/{}", job.slug)),
            creator: Smart::Custom(Some("procdoc".into())),
            timestamp,
            standards: PdfStandards::new(&[PdfStandard::Ua_1])
                .map_err(|e| PdfError(format!("PDF/UA-1: {e:?}")))?,
            tagged: true,
            ..PdfOptions::default()
        };
        let bytes = typst_pdf::pdf(&document, &options)
            .map_err(|errors| fail("the handout is not valid PDF/UA-1", &errors, &world))?;
        let pages = document.pages().len();
        // typst remembers layouts between documents; with hundreds of
        // handouts that memory would only grow. Forget what is not reused.
        drop(world);
        drop(document);
        typst::comemo::evict(0);
        Ok(Handout { bytes, pages })
    }

    /// One typst diagnostic as `file:line:col: message (hint)`.
    fn describe(&self, d: &SourceDiagnostic, world: &HandoutWorld) -> String {
        let mut out = String::new();
        if let Some(id) = d.span.id() {
            let place = world.range(d.span).and_then(|range| {
                let text = if id == world.main.id() {
                    world.main.text().to_string()
                } else {
                    let bytes = world.files.get(&id)?;
                    String::from_utf8_lossy(bytes.as_slice()).into_owned()
                };
                let start = range.start.min(text.len());
                let line = text[..start].matches('\n').count() + 1;
                let col = text[..start]
                    .chars()
                    .rev()
                    .take_while(|c| *c != '\n')
                    .count()
                    + 1;
                Some((line, col))
            });
            let name = if id == world.main.id() {
                self.template_origin.clone()
            } else {
                id.vpath().get_without_slash().to_string()
            };
            match place {
                Some((line, col)) => out.push_str(&format!("  {name}:{line}:{col}: ")),
                None => out.push_str(&format!("  {name}: ")),
            }
        } else {
            out.push_str("  ");
        }
        out.push_str(&d.message);
        for hint in &d.hints {
            out.push_str(&format!(" (hint: {})", hint.v));
        }
        out
    }
}

/// How many handouts one worker process lays out. typst keeps memory from
/// one document to the next that evicting its caches does not give back
/// (about 8 MB a handout with three screenshots), so a build that makes many
/// handouts makes them in worker processes of this many each, and its memory
/// stays flat however large the site. `PROCDOC_HANDOUT_BATCH` changes it.
pub const BATCH: usize = 16;

/// The batch size in use: [`BATCH`] unless `PROCDOC_HANDOUT_BATCH` says.
pub fn batch_size() -> usize {
    std::env::var("PROCDOC_HANDOUT_BATCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(BATCH)
}

/// The hidden command a worker process runs.
pub const WORKER_COMMAND: &str = "__handouts";

/// One handout for a worker: what to lay out, and the file to write.
#[derive(Serialize, Deserialize)]
struct WorkItem {
    job: Job,
    out: PathBuf,
}

/// What a worker says of one handout.
#[derive(Serialize, Deserialize)]
enum WorkResult {
    Done { pages: usize },
    Failed(String),
}

/// Lay out `jobs` in a worker process (this program run again with the
/// hidden `__handouts` command), writing each PDF into `scratch`.
pub fn compile_in_worker(
    root: &Path,
    theme: &str,
    jobs: &[&Job],
    scratch: &Path,
) -> Result<Vec<Result<Handout, PdfError>>, PdfError> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let fail = |what: String| PdfError(format!("the handout worker {what}"));
    let items: Vec<WorkItem> = jobs
        .iter()
        .map(|job| WorkItem {
            job: (*job).clone(),
            out: scratch.join(format!("{}.pdf", job.key)),
        })
        .collect();
    let input = serde_json::to_vec(&items).map_err(|e| fail(e.to_string()))?;
    let exe = std::env::current_exe().map_err(|e| fail(format!("cannot start: {e}")))?;
    let mut child = Command::new(exe)
        .arg("--root")
        .arg(root)
        .arg(WORKER_COMMAND)
        .arg(theme)
        // One thread each: the build runs one worker per core.
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| fail("has no input".into()))?;
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .map_err(|e| fail(format!("failed: {e}")))?;
    let _ = writer.join();
    if !output.status.success() {
        return Err(fail(format!("stopped ({})", output.status)));
    }
    let results: Vec<WorkResult> =
        serde_json::from_slice(&output.stdout).map_err(|e| fail(format!("answered badly: {e}")))?;
    if results.len() != items.len() {
        return Err(fail("answered for the wrong number of handouts".into()));
    }
    Ok(items
        .iter()
        .zip(results)
        .map(|(item, result)| match result {
            WorkResult::Done { pages } => {
                let bytes = std::fs::read(&item.out)
                    .map_err(|e| PdfError(format!("cannot read {}: {e}", item.out.display())))?;
                let _ = std::fs::remove_file(&item.out);
                Ok(Handout { bytes, pages })
            }
            WorkResult::Failed(message) => Err(PdfError(message)),
        })
        .collect())
}

/// The worker's side: read the handouts to make on standard input, lay each
/// out, write it where it was asked, and say how each went on standard output.
pub fn worker(theme: &Theme) -> Result<(), String> {
    use std::io::Read as _;
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| e.to_string())?;
    let items: Vec<WorkItem> = serde_json::from_slice(&input).map_err(|e| e.to_string())?;
    let renderer = Renderer::new(theme).map_err(|e| e.0)?;
    let lay_out = || {
        items
            .iter()
            .map(|item| match renderer.compile(&item.job) {
                Ok(handout) => match std::fs::write(&item.out, &handout.bytes) {
                    Ok(()) => WorkResult::Done {
                        pages: handout.pages,
                    },
                    Err(e) => {
                        WorkResult::Failed(format!("cannot write {}: {e}", item.out.display()))
                    }
                },
                Err(e) => WorkResult::Failed(e.0),
            })
            .collect::<Vec<_>>()
    };
    // On a thread with the workers' deep stack (typst recurses deeply).
    let results = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(super::WORKER_STACK)
            .spawn_scoped(scope, lay_out)
            .map_err(|e| e.to_string())?
            .join()
            .map_err(|_| "a handout could not be laid out (typst stopped)".to_string())
    })?;
    let out = serde_json::to_vec(&results).map_err(|e| e.to_string())?;
    std::io::Write::write_all(&mut std::io::stdout(), &out).map_err(|e| e.to_string())
}

fn file_id(path: &str) -> Result<FileId, PdfError> {
    let vpath = VirtualPath::new(path).map_err(|e| PdfError(format!("{path}: {e}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// The date written into the PDF: the procedure's `updated` date, else
/// `SOURCE_DATE_EPOCH`, else a fixed date; never the clock, so two builds
/// give the same bytes.
fn reproducible_date(updated: Option<Date>) -> Date {
    if let Some(d) = updated {
        return d;
    }
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    match epoch {
        Some(secs) => civil_from_days(secs.div_euclid(86_400)),
        None => Date {
            year: 2000,
            month: 1,
            day: 1,
        },
    }
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    Date { year, month, day }
}

/// A link's address on paper: a full web address, `#step-N` for a step of
/// this procedure, or "" (the words stay, without a link).
fn paper_link(
    p: &Procedure,
    href: &str,
    base: Option<&str>,
    slugs: &HashMap<PathBuf, String>,
) -> String {
    match paths::resolve(&p.path, href) {
        Target::Scheme(s) if matches!(s.as_str(), "http" | "https" | "mailto" | "tel") => {
            href.trim().to_string()
        }
        Target::Fragment(f) if f.starts_with("step-") => format!("#{f}"),
        Target::Local(target, fragment) => match (slugs.get(&target), base) {
            (Some(slug), _)
                if *slug == p.slug
                    && fragment.as_deref().is_some_and(|f| f.starts_with("step-")) =>
            {
                format!("#{}", fragment.unwrap_or_default())
            }
            (Some(slug), Some(base)) => {
                format!(
                    "{base}{slug}/{}",
                    fragment.map(|f| format!("#{f}")).unwrap_or_default()
                )
            }
            _ => String::new(),
        },
        // Not `C:\x`: a file on someone's machine is no address on paper.
        Target::Absolute if paths::scheme(href).is_none() => match base.and_then(origin) {
            Some(o) => format!("{o}{}", href.trim()),
            None => String::new(),
        },
        _ => String::new(),
    }
}

/// `https://host` of a base URL.
fn origin(base: &str) -> Option<String> {
    let rest = base.split_once("://")?;
    let host = rest.1.split('/').next()?;
    Some(format!("{}://{host}", rest.0))
}

/// The sandbox typst runs in.
struct HandoutWorld<'a> {
    renderer: &'a Renderer,
    main: Source,
    files: HashMap<FileId, Bytes>,
    today: Datetime,
}

impl World for HandoutWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.renderer.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.renderer.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if self.files.contains_key(&id) {
            Err(FileError::NotSource)
        } else {
            Err(denied(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.text().to_string()));
        }
        self.files.get(&id).cloned().ok_or_else(|| denied(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.renderer.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

fn denied(id: FileId) -> FileError {
    FileError::Other(Some(
        format!(
            "{} is not an input of this handout (it may read data.json, the theme's logo and the procedure's screenshots)",
            id.vpath().get_with_slash()
        )
        .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_source_date_epoch() {
        assert_eq!(civil_from_days(0).to_string(), "1970-01-01");
        assert_eq!(civil_from_days(18_806).to_string(), "2021-06-28");
        assert_eq!(civil_from_days(19_782).to_string(), "2024-02-29");
    }
}
