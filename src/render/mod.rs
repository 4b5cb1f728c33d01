//! Rendering a checked site into a staging folder: screenshots, the theme's
//! static files, the handouts, every page through the theme's Tera
//! templates, the 404 page and the sitemap. Procedures are rendered in
//! parallel (rayon); what the build cache holds is linked, not made again.

pub mod html;
pub mod images;
#[cfg(feature = "pdf")]
pub mod pdf;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use tera::Tera;

use crate::cache::{Cache, CachedFile};
use crate::diag::Diagnostic;
use crate::model::{Date, slugify};
use crate::publish::Staging;
use crate::site::{Entry, Site};
use crate::theme::Theme;
use images::WebImage;

/// What a build made, for the closing line.
#[derive(Debug, Default)]
pub struct Summary {
    pub procedures: usize,
    pub screenshots: usize,
    pub handouts: usize,
    /// Screenshots whose web copies this build made (the rest came from the
    /// build cache).
    pub made_screenshots: usize,
    /// Handouts this build laid out (the rest came from the build cache).
    pub made_handouts: usize,
    /// Each procedure's page key and (with handouts) handout key, in the
    /// order of `site.entries`: what its memo keeps.
    pub keys: Vec<(String, Option<String>)>,
}

impl Summary {
    /// Handouts taken from the build cache.
    pub fn reused_handouts(&self) -> usize {
        self.handouts.saturating_sub(self.made_handouts)
    }

    /// Screenshots whose web copies came from the build cache.
    pub fn reused_screenshots(&self) -> usize {
        self.screenshots.saturating_sub(self.made_screenshots)
    }
}

/// What a build makes besides the pages.
#[derive(Debug, Clone)]
pub struct Options {
    /// Write the printable handouts (needs the `pdf` feature).
    pub pdf: bool,
    /// Ticked once per page and once per handout written.
    pub progress: indicatif::ProgressBar,
    /// The settings handouts are made with, when the pages are rendered
    /// with others: `serve` points the pages at the preview, but a handout
    /// prints the published address, so it is the one `build` makes (and
    /// the build cache serves both).
    pub handout_config: Option<crate::config::Config>,
}

/// Why rendering stopped. `Theme` problems are in the site's files and
/// `Problems` in its procedures (exit 1); `Io` problems are with the
/// machine (exit 2).
#[derive(Debug)]
pub enum RenderError {
    Theme(String),
    Problems(Vec<Diagnostic>),
    Io(String),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderError::Theme(m) | RenderError::Io(m) => f.write_str(m),
            RenderError::Problems(d) => write!(f, "{} problems in the procedures", d.len()),
        }
    }
}

impl From<crate::publish::PublishError> for RenderError {
    fn from(e: crate::publish::PublishError) -> Self {
        RenderError::Io(e.0)
    }
}

/// The stack each worker thread gets. Typst's layout recurses deeply (a
/// handout overflowed rayon's default 2 MiB in a debug build); the memory
/// is only reserved, and used as deep as a handout needs.
const WORKER_STACK: usize = 64 * 1024 * 1024;

/// Start the worker threads (one per core) with stacks deep enough for
/// typst. Call it once, before any parallel work; a second call does nothing.
pub fn init_threads() {
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .build_global();
}

/// How the keys of handouts in the build cache begin.
const HANDOUT_KEYS: &str = "handout-";

/// Category name for procedures that have none.
pub const DEFAULT_CATEGORY: &str = "General";

/// The category a procedure is listed under on the index.
pub fn site_category(o: &crate::model::Outline) -> &str {
    o.front.category.as_deref().unwrap_or(DEFAULT_CATEGORY)
}

#[derive(Serialize)]
struct SiteCtx<'a> {
    title: &'a str,
    court: &'a str,
    lang: &'a str,
    base_url: Option<String>,
}

#[derive(Serialize, Clone)]
struct LinkCtx {
    title: String,
    href: String,
}

#[derive(Serialize)]
struct SectionCtx {
    id: String,
    title: String,
}

#[derive(Serialize)]
struct ProcedureCtx {
    /// Position in `site.entries`.
    #[serde(skip)]
    index: usize,
    slug: String,
    title: String,
    summary: Option<String>,
    category: String,
    category_id: String,
    /// "June 28, 2021".
    updated: Option<String>,
    /// "2021-06-28".
    updated_iso: Option<String>,
    /// From the site's root: `link-cmecf-pacer/`.
    href: String,
    lang: Option<String>,
    /// Position in the category: lower first, then by title.
    weight: i64,
    sections: Vec<SectionCtx>,
    steps: usize,
    /// The printable handout, once the PDF renderer makes one.
    handout: Option<HandoutCtx>,
    previous: Option<LinkCtx>,
    next: Option<LinkCtx>,
}

#[derive(Serialize)]
struct HandoutCtx {
    href: String,
    pages: usize,
    size: String,
}

#[derive(Serialize)]
struct CategoryCtx<'a> {
    name: &'a str,
    id: &'a str,
    procedures: Vec<&'a ProcedureCtx>,
}

/// Render the whole site into `staging`, every page and handout on its own
/// core; the handouts come from `cache` when nothing they show has changed.
pub fn build(
    site: &Site,
    theme: &Theme,
    staging: &Staging,
    cache: &Cache,
    options: Options,
    early: Option<Early<'_, '_>>,
) -> Result<Summary, RenderError> {
    if !options.pdf {
        // A build without handouts keeps the last ones in the build cache
        // for the next build that makes them.
        cache.keep_unused(HANDOUT_KEYS);
    }
    let tera = templates(theme)?;
    crate::timing::mark("templates");
    let mut summary = Summary::default();

    // Screenshots first: pages need their sizes and names. `site::load`
    // made them ready; here they are linked into the new site.
    let mut files: BTreeMap<&str, &CachedFile> = BTreeMap::new();
    let mut web_images: HashMap<&Path, &WebImage> = HashMap::with_capacity(site.prepared.len());
    for (path, ready) in &site.prepared {
        let ready = ready.as_ref().map_err(|e| RenderError::Io(e.clone()))?;
        for (rel, blob) in &ready.files {
            files.insert(rel, blob);
        }
        summary.made_screenshots += usize::from(ready.made);
        web_images.insert(path, &ready.web);
    }
    files
        .par_iter()
        .try_for_each(|(rel, blob)| staging.link(rel, &blob.path, Some(blob.id)))?;

    crate::timing::mark("screenshots");
    let assets = write_static(theme, staging)?;
    // The theme's logo, if it is one of its static files.
    let logo = theme
        .settings
        .logo
        .as_deref()
        .and_then(|l| l.strip_prefix("static/"))
        .and_then(|l| assets.get(l))
        .cloned();
    let config = &site.config;
    let site_ctx = SiteCtx {
        title: &config.title,
        court: &config.court,
        lang: &config.language,
        base_url: config.base_url(),
    };

    let mut procedures = procedure_contexts(site);
    let slugs = slugs(site);

    let page = |to_root: &str| {
        let mut ctx = tera::Context::new();
        ctx.insert("site", &site_ctx);
        ctx.insert("root", to_root);
        ctx.insert("assets", &assets);
        ctx.insert("logo", &logo);
        ctx.insert("lang", &config.language);
        ctx
    };
    let render = |name: &str, ctx: &tera::Context| -> Result<String, RenderError> {
        tera.render(name, ctx)
            .map_err(|e| RenderError::Theme(tera_error(&e, theme)))
    };

    // A page is a function of the templates and the site-wide values they
    // print (hashed once here), its procedure's source text, its context
    // (title, handout, neighbours...) and where its links and screenshots
    // lead. Pages whose key is in the build cache are linked from it.
    let fingerprint = page_fingerprint(theme, &site_ctx, &assets, &logo)?;
    // A page the build cache holds under `key` is linked from it; any other
    // is made, stored there, and linked.
    let cached_page = |key: &str,
                       rel: &str,
                       make: &dyn Fn() -> Result<String, RenderError>|
     -> Result<(), RenderError> {
        if let Some(file) = cache.get(key).and_then(|hit| hit.files.into_iter().next()) {
            staging.link(rel, &file.path, Some(file.id))?;
            return Ok(());
        }
        let out = make()?;
        let hit = cache
            .put(
                key,
                serde_json::Value::Null,
                &[("page.html", out.as_bytes())],
            )
            .map_err(|e| RenderError::Io(e.0))?;
        let file = hit
            .files
            .first()
            .ok_or_else(|| RenderError::Io("the build cache lost a page".to_string()))?;
        staging.link(rel, &file.path, Some(file.id))?;
        Ok(())
    };
    let page_keys: Vec<std::sync::OnceLock<String>> =
        site.entries.iter().map(|_| Default::default()).collect();
    let render_page = |entry: &Entry, pctx: &ProcedureCtx| -> Result<(), RenderError> {
        let links = html::Links {
            slugs: &slugs,
            images: &web_images,
            to_root: "../",
        };
        let rel = format!("{}/index.html", entry.slug);
        // A memo that holds knows the key; otherwise it is found from the model.
        let key = match &entry.memo {
            Some(memo) => memo.page.clone(),
            None => page_key(&fingerprint, model(entry)?, pctx, &links)?,
        };
        cached_page(&key, &rel, &|| {
            let doc = model(entry)?;
            let mut ctx = page("../");
            ctx.insert("body", &html::body(&doc.procedure, &links));
            ctx.insert("procedure", pctx);
            if let Some(lang) = &pctx.lang {
                ctx.insert("lang", lang);
            }
            ctx.insert("description", &pctx.summary);
            ctx.insert(
                "canonical",
                &config.base_url().map(|b| format!("{b}{}", pctx.href)),
            );
            render("procedure.html", &ctx)
        })?;
        let _ = page_keys[pctx.index].set(key);
        options.progress.inc(1);
        Ok(())
    };
    // The index, 404 page and sitemap, once every handout is known.
    let index_done = std::sync::atomic::AtomicBool::new(false);
    let site_pages = |procedures: &[ProcedureCtx]| -> Result<(), RenderError> {
        // The index is a function of the templates and site-wide values
        // (the fingerprint) and of what it lists: an edit that leaves every
        // card as it was (a handout's size is shown rounded) finds it in the
        // build cache.
        let categories = categories(procedures);
        let listed =
            serde_json::to_string(&categories).map_err(|e| RenderError::Io(e.to_string()))?;
        let key =
            crate::cache::sha256_hex(&[b"index page 1", fingerprint.as_bytes(), listed.as_bytes()]);
        cached_page(&format!("index-{key}"), "index.html", &|| {
            let mut ctx = page("");
            ctx.insert("categories", &categories);
            ctx.insert("procedure_count", &procedures.len());
            ctx.insert("canonical", &config.base_url());
            render("index.html", &ctx)
        })?;

        // The 404 page is served at any address, so its links start from the
        // site's own path on the host.
        let absolute_root = config
            .base_url()
            .and_then(|u| u.splitn(4, '/').nth(3).map(|p| format!("/{p}")))
            .unwrap_or_else(|| "/".to_string());
        let ctx = page(&absolute_root);
        staging.write("404.html", render("404.html", &ctx)?.as_bytes())?;

        if let Some(base) = config.base_url() {
            staging.write("sitemap.xml", sitemap(&base, procedures).as_bytes())?;
        }
        index_done.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    };
    // Render the pages of `procedures` whose flag in `which` is set; with
    // every flag set, every handout is known, and the index is rendered
    // beside them.
    let render_pages = |procedures: &[ProcedureCtx], which: &[bool]| {
        let pages = || {
            site.entries
                .par_iter()
                .zip(procedures)
                .zip(which)
                .filter(|(_, wanted)| **wanted)
                .try_for_each(|((entry, pctx), _)| render_page(entry, pctx))
        };
        if which.iter().all(|w| *w) {
            let (pages, index) = rayon::join(pages, || site_pages(procedures));
            pages.and(index)
        } else {
            pages()
        }
    };

    // Each page and the index link their handout, with its size: a page
    // whose handout is in the build cache is rendered while the handouts
    // that are not are laid out; the others after.
    let mut rendered = vec![false; procedures.len()];
    let mut handout_keys = vec![None; procedures.len()];
    if options.pdf {
        let (made, done) = handouts(
            site,
            options.handout_config.as_ref().unwrap_or(&site.config),
            theme,
            staging,
            cache,
            &mut procedures,
            &options.progress,
            &render_pages,
            early,
            &mut handout_keys,
        )?;
        summary.handouts = procedures.iter().filter(|p| p.handout.is_some()).count();
        summary.made_handouts = made;
        rendered = done;
    }
    let rest: Vec<bool> = rendered.iter().map(|done| !done).collect();
    render_pages(&procedures, &rest)?;
    crate::timing::mark("handouts and pages");

    if !index_done.load(std::sync::atomic::Ordering::Relaxed) {
        site_pages(&procedures)?;
    }
    summary.procedures = procedures.len();
    summary.screenshots = web_images.len();
    summary.keys = page_keys
        .into_iter()
        .map(|k| k.into_inner().unwrap_or_default())
        .zip(handout_keys)
        .collect();
    Ok(summary)
}

/// Each procedure's file and slug, for links between procedures.
fn slugs(site: &Site) -> HashMap<PathBuf, String> {
    site.entries
        .iter()
        .map(|e| (e.path.clone(), e.slug.clone()))
        .collect()
}

/// A procedure's model, parsed now if its memo stood for it.
fn model(entry: &Entry) -> Result<&crate::parse::Doc, RenderError> {
    entry.doc().ok_or_else(|| {
        RenderError::Io(format!(
            "{} no longer parses as it did (a bug in procdoc)",
            crate::diag::display_path(&entry.path)
        ))
    })
}

/// What the handouts of a build are made from: the renderer, each
/// procedure's job (its key; the data too for those to lay out), what the
/// cache holds, and which are missing from it. Made before the check is
/// done, so that an edited procedure's handout is laid out while the rest
/// of the build goes on (see [`HandoutPlan::start`]).
#[cfg(feature = "pdf")]
pub struct HandoutPlan {
    renderer: pdf::Renderer,
    jobs: Vec<pdf::Job>,
    /// Page count and file of each handout the cache holds.
    files: Vec<Option<(usize, CachedFile)>>,
    missing: Vec<usize>,
}

/// Handouts begun early: the plan, and the thread laying out the few the
/// cache lacks.
#[cfg(feature = "pdf")]
pub struct Early<'p, 's> {
    plan: &'p HandoutPlan,
    laid_out: Option<std::thread::ScopedJoinHandle<'s, LaidOut>>,
}

/// Without handouts, nothing starts early.
#[cfg(not(feature = "pdf"))]
pub struct Early<'p, 's>(std::marker::PhantomData<(&'p (), &'s ())>);

#[cfg(feature = "pdf")]
type LaidOut = Result<Vec<(usize, pdf::Handout)>, RenderError>;

/// What a panic in typst, on the thread laying out handouts, is reported as.
#[cfg(feature = "pdf")]
fn handout_panicked() -> RenderError {
    RenderError::Io("laying out a handout failed (a bug in procdoc)".to_string())
}

#[cfg(feature = "pdf")]
#[derive(Serialize, serde::Deserialize)]
struct Stored {
    pages: usize,
}

#[cfg(feature = "pdf")]
impl HandoutPlan {
    /// Find each procedure's handout key and what the cache holds. Fails on
    /// a theme typst cannot use, or on text the handout's fonts cannot print
    /// (named with its file and place, since PDF/UA forbids it).
    pub fn new(
        site: &Site,
        config: &crate::config::Config,
        theme: &Theme,
        cache: &Cache,
    ) -> Result<HandoutPlan, RenderError> {
        use crate::diag::Code;

        let slugs = slugs(site);
        let renderer = pdf::Renderer::new(theme).map_err(|e| RenderError::Theme(e.0))?;
        crate::timing::mark("handout fonts and template");
        let job = |entry: &Entry| {
            renderer
                .job(model(entry)?, config, &site.prepared, &slugs)
                .map_err(|e| RenderError::Theme(e.0))
        };
        // A memo that holds knows the key; the rest of a job is only
        // needed for a handout the cache lacks.
        let mut jobs: Vec<pdf::Job> = site
            .entries
            .par_iter()
            .map(
                |entry| match entry.memo.as_ref().and_then(|m| m.handout.clone()) {
                    Some(key) => Ok(pdf::Job::known(key)),
                    None => job(entry),
                },
            )
            .collect::<Result<_, _>>()?;
        let files: Vec<Option<(usize, CachedFile)>> = jobs
            .par_iter()
            .map(|job| {
                let hit = cache.get(&job.key)?;
                let stored: Stored = hit.data()?;
                Some((stored.pages, hit.files.into_iter().next()?))
            })
            .collect();
        let missing: Vec<usize> = (0..jobs.len()).filter(|&i| files[i].is_none()).collect();
        for &i in &missing {
            if site.entries[i].memo.is_some() {
                jobs[i] = job(&site.entries[i])?;
            }
        }
        crate::timing::mark("handout keys");
        // A handout in the cache passed this with the same text and fonts
        // (its key says so).
        let problems: Vec<Diagnostic> = missing
            .par_iter()
            .filter_map(|&i| site.entries[i].doc())
            .flat_map_iter(|doc| {
                let mut problems = Vec::new();
                for (span, what, text) in printed_text(&doc.procedure) {
                    let missing = renderer.missing_glyphs(&text);
                    if missing.is_empty() {
                        continue;
                    }
                    let chars: Vec<String> = missing
                        .iter()
                        .map(|c| format!("“{c}” (U+{:04X})", u32::from(*c)))
                        .collect();
                    let d = match span {
                        Some(span) => doc.source.diag(Code::GlyphMissing, span, String::new()),
                        None => {
                            Diagnostic::file(&doc.procedure.path, Code::GlyphMissing, String::new())
                        }
                    };
                    problems.push(Diagnostic {
                        message: format!(
                            "{what} uses {}, which the handout's font cannot print",
                            chars.join(", ")
                        ),
                        ..d
                    });
                }
                problems
            })
            .collect();
        if !problems.is_empty() {
            return Err(RenderError::Problems(problems));
        }
        // What typst reads, for the handouts to lay out only.
        jobs.par_iter_mut()
            .zip(&site.entries)
            .zip(&files)
            .filter(|(_, found)| found.is_none())
            .try_for_each(|((job, entry), _)| {
                renderer
                    .fill(
                        job,
                        &model(entry)?.procedure,
                        config,
                        &site.prepared,
                        &slugs,
                    )
                    .map_err(|e| RenderError::Theme(e.0))
            })?;
        Ok(HandoutPlan {
            renderer,
            jobs,
            files,
            missing,
        })
    }

    /// Start laying out, on a thread of its own, the handouts the cache
    /// lacks when they are few (an editor's rebuild); many (a cold build)
    /// are left to worker processes once the check has passed. The thread
    /// stops before its next handout once `cancel` is set.
    pub fn start<'p, 's>(
        &'p self,
        scope: &'s std::thread::Scope<'s, '_>,
        cancel: &'s std::sync::atomic::AtomicBool,
    ) -> Early<'p, 's>
    where
        'p: 's,
    {
        let few = !self.missing.is_empty() && self.missing.len() <= pdf::batch_size();
        let laid_out = few
            .then(|| {
                std::thread::Builder::new()
                    .name("procdoc-handouts".into())
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, move || {
                        // A panic in typst becomes an error here: a scope
                        // whose thread panicked would panic in turn, even
                        // for a build that stopped at the check.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            self.lay_out_here(cancel)
                        }))
                        .unwrap_or_else(|_| Err(handout_panicked()))
                    })
                    .ok()
            })
            .flatten();
        Early {
            plan: self,
            laid_out,
        }
    }

    /// Lay out the missing handouts in this process.
    fn lay_out_here(&self, cancel: &std::sync::atomic::AtomicBool) -> LaidOut {
        let one = |i: usize| -> Result<(usize, pdf::Handout), RenderError> {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(RenderError::Io("the build stopped".to_string()));
            }
            let handout = self
                .renderer
                .compile(&self.jobs[i])
                .map_err(|e| RenderError::Theme(e.0))?;
            Ok((i, handout))
        };
        match self.missing.as_slice() {
            [i] => one(*i).map(|h| vec![h]),
            many => many.par_iter().map(|&i| one(i)).collect(),
        }
    }
}

/// Write every handout: from the cache when its key is there, else laid
/// out by typst (begun early, when `early` says so). While typst works,
/// `meanwhile` is given the procedures and which of them already have
/// their handout (from the cache), to render their pages. Returns how many
/// handouts were laid out and which pages `meanwhile` was asked for.
#[cfg(feature = "pdf")]
#[allow(clippy::too_many_arguments)]
fn handouts(
    site: &Site,
    config: &crate::config::Config,
    theme: &Theme,
    staging: &Staging,
    cache: &Cache,
    procedures: &mut [ProcedureCtx],
    progress: &indicatif::ProgressBar,
    meanwhile: &Meanwhile<'_>,
    early: Option<Early<'_, '_>>,
    keys: &mut [Option<String>],
) -> Result<(usize, Vec<bool>), RenderError> {
    let own;
    let (plan, early) = match early {
        Some(Early { plan, laid_out }) => (plan, laid_out),
        None => {
            own = HandoutPlan::new(site, config, theme, cache)?;
            (&own, None)
        }
    };
    let HandoutPlan {
        jobs,
        files,
        missing,
        ..
    } = plan;
    progress.inc((jobs.len() - missing.len()) as u64);
    for (key, job) in keys.iter_mut().zip(jobs) {
        *key = Some(job.key.clone());
    }
    let context = |i: usize, (pages, file): &(usize, CachedFile)| -> HandoutCtx {
        HandoutCtx {
            href: format!("{}.pdf", site.entries[i].slug),
            pages: *pages,
            size: crate::check::size(file.len),
        }
    };
    let link = |i: usize, file: &CachedFile| -> Result<(), RenderError> {
        let slug = &site.entries[i].slug;
        staging.link(&format!("{slug}/{slug}.pdf"), &file.path, Some(file.id))?;
        Ok(())
    };
    let ready: Vec<bool> = files.iter().map(Option::is_some).collect();
    for (i, (pctx, found)) in procedures.iter_mut().zip(files).enumerate() {
        pctx.handout = found.as_ref().map(|f| context(i, f));
    }
    // The handouts from the cache are linked into the site, and their
    // pages rendered, while typst lays out the others.
    let meanwhile = |procedures: &[ProcedureCtx], ready: &[bool]| -> Result<(), RenderError> {
        let (linked, rendered) = rayon::join(
            || {
                files
                    .par_iter()
                    .enumerate()
                    .filter_map(|(i, found)| found.as_ref().map(|(_, file)| (i, file)))
                    .try_for_each(|(i, file)| link(i, file))
            },
            || meanwhile(procedures, ready),
        );
        linked.and(rendered)
    };
    // Few handouts to make (an editor's rebuild): here, in parallel. Many (a
    // cold build): in worker processes, a batch each, so memory stays flat.
    // Either way, the pages whose handouts are ready are rendered meanwhile.
    let batch = pdf::batch_size();
    let lay_out = || -> LaidOut {
        if missing.len() <= batch {
            return plan.lay_out_here(&std::sync::atomic::AtomicBool::new(false));
        }
        let scratch = cache.scratch();
        let batches: Vec<Vec<(usize, pdf::Handout)>> = missing
            .par_chunks(batch)
            .map(|chunk| {
                let these: Vec<&pdf::Job> = chunk.iter().map(|&i| &jobs[i]).collect();
                let made = pdf::compile_in_worker(&site.root, &site.config.theme, &these, &scratch)
                    .map_err(|e| RenderError::Io(e.0))?;
                progress.inc(chunk.len() as u64);
                chunk
                    .iter()
                    .zip(made)
                    .map(|(&i, h)| h.map(|h| (i, h)).map_err(|e| RenderError::Theme(e.0)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        Ok(batches.into_iter().flatten().collect())
    };
    // Begun early: its thread is already at work, so the pages go first
    // (a rayon worker waiting on it would leave the pages one core).
    let (laid_out, early) = match early {
        Some(thread) => {
            let pages = meanwhile(procedures, &ready);
            let laid_out = thread.join().unwrap_or_else(|_| Err(handout_panicked()));
            (laid_out, pages)
        }
        None => rayon::join(lay_out, || meanwhile(procedures, &ready)),
    };
    let laid_out = laid_out?;
    early?;
    let made = laid_out.len();
    if missing.len() <= batch {
        progress.inc(made as u64);
    }
    if crate::timing::enabled() && made > 0 {
        if made <= batch {
            eprintln!("timing: {made} handouts laid out by the build itself");
        } else {
            eprintln!(
                "timing: {made} handouts laid out by {} worker processes",
                made.div_ceil(batch)
            );
        }
    }
    let stored: Vec<(usize, HandoutCtx)> = laid_out
        .into_par_iter()
        .map(|(i, handout)| {
            let data = serde_json::to_value(Stored {
                pages: handout.pages,
            })
            .map_err(|e| RenderError::Io(e.to_string()))?;
            let hit = cache
                .put(&jobs[i].key, data, &[("handout.pdf", &handout.bytes)])
                .map_err(|e| RenderError::Io(e.0))?;
            let file = hit
                .files
                .into_iter()
                .next()
                .ok_or_else(|| RenderError::Io("the build cache lost a handout".to_string()))?;
            link(i, &file)?;
            Ok((i, context(i, &(handout.pages, file))))
        })
        .collect::<Result<_, RenderError>>()?;
    for (i, handout) in stored {
        procedures[i].handout = Some(handout);
    }
    if let Some(p) = procedures.iter().find(|p| p.handout.is_none()) {
        return Err(RenderError::Io(format!(
            "no handout was made for {}",
            p.slug
        )));
    }
    Ok((made, ready))
}

/// The text a handout prints, piece by piece: where it is written (when the
/// model knows), what to call it, and the text.
#[cfg(feature = "pdf")]
fn printed_text(
    p: &crate::model::Procedure,
) -> Vec<(Option<std::ops::Range<usize>>, String, String)> {
    use crate::model::{Block, blocks_plain_text, plain_text};
    let front = p.front.span.clone();
    let mut out = vec![(
        Some(front.clone()),
        "the front matter".to_string(),
        format!(
            "{} {}",
            p.front.title,
            p.front.summary.clone().unwrap_or_default()
        ),
    )];
    let blocks = |bs: &[Block], out: &mut Vec<_>| {
        for b in bs {
            match b {
                Block::Steps(t) => {
                    for s in &t.steps {
                        out.push((
                            Some(s.number_span.clone()),
                            format!("step {}", s.label),
                            blocks_plain_text(&s.action),
                        ));
                    }
                }
                Block::Callout { span, blocks, .. } => {
                    out.push((
                        Some(span.clone()),
                        "a callout".to_string(),
                        blocks_plain_text(blocks),
                    ));
                }
                Block::Table(t) => out.push((
                    Some(t.span.clone()),
                    "a table".to_string(),
                    t.head
                        .iter()
                        .chain(t.rows.iter().flatten())
                        .map(|c| blocks_plain_text(c))
                        .collect::<Vec<_>>()
                        .join(" "),
                )),
                other => out.push((
                    None,
                    "the procedure".to_string(),
                    blocks_plain_text(std::slice::from_ref(other)),
                )),
            }
        }
    };
    blocks(&p.intro, &mut out);
    for s in &p.sections {
        out.push((
            Some(s.heading.span.clone()),
            "a heading".to_string(),
            plain_text(&s.heading.content),
        ));
        blocks(&s.blocks, &mut out);
    }
    out
}

#[cfg(not(feature = "pdf"))]
#[allow(clippy::too_many_arguments)]
fn handouts(
    _: &Site,
    _: &crate::config::Config,
    _: &Theme,
    _: &Staging,
    _: &Cache,
    procedures: &mut [ProcedureCtx],
    _: &indicatif::ProgressBar,
    _: &Meanwhile<'_>,
    _: Option<Early<'_, '_>>,
    _: &mut [Option<String>],
) -> Result<(usize, Vec<bool>), RenderError> {
    Ok((0, vec![false; procedures.len()]))
}

/// Work to do while handouts are laid out (see `handouts`).
type Meanwhile<'a> = dyn Fn(&[ProcedureCtx], &[bool]) -> Result<(), RenderError> + Sync + 'a;

/// The theme's templates in one Tera instance. User content is never added
/// as a template: it reaches the templates only as escaped values.
fn templates(theme: &Theme) -> Result<Tera, RenderError> {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".xml"]);
    tera.set_escape_fn(html::esc);
    let sources: Vec<(String, String)> = theme
        .templates()
        .map(|(name, file)| {
            (
                name.to_string(),
                String::from_utf8_lossy(&file.bytes).into_owned(),
            )
        })
        .collect();
    tera.add_raw_templates(sources)
        .map_err(|e| RenderError::Theme(tera_error(&e, theme)))?;
    for required in ["base.html", "index.html", "procedure.html", "404.html"] {
        if !tera.get_template_names().any(|n| n == required) {
            return Err(RenderError::Theme(format!(
                "the theme `{}` has no templates/{required}",
                theme.name
            )));
        }
    }
    Ok(tera)
}

/// A Tera error with the template's file named, and every cause in the chain
/// (the line and column of a syntax error are in a cause).
fn tera_error(e: &tera::Error, theme: &Theme) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    let text = parts.join(": ");
    // Tera names the template in quotes; name its file instead.
    let file = theme
        .templates()
        .filter(|(name, _)| text.contains(&format!("'{name}'")))
        .max_by_key(|(name, _)| name.len())
        .map(|(_, f)| f.origin.clone());
    match file {
        Some(origin) => format!("{origin}: {}", text.trim_end()),
        None => format!("the theme's templates: {}", text.trim_end()),
    }
}

/// Copy the theme's static files and the generated palette; return the URL
/// (relative to the site's root) of each, with a version so caches refresh.
fn write_static(theme: &Theme, staging: &Staging) -> Result<BTreeMap<String, String>, RenderError> {
    let mut assets = BTreeMap::new();
    let palette = theme.palette_css();
    let generated = [("palette.css".to_string(), palette.into_bytes())];
    let files = theme
        .statics()
        .map(|(p, f)| (p.to_string(), f.bytes.to_vec()))
        .chain(generated);
    for (path, bytes) in files {
        staging.write(&format!("static/{path}"), &bytes)?;
        assets.insert(
            path.clone(),
            format!("static/{path}?v={}", images::content_hash(&bytes)),
        );
    }
    Ok(assets)
}

/// What every procedure page shares: the templates and the site-wide
/// values they are given.
fn page_fingerprint(
    theme: &Theme,
    site_ctx: &SiteCtx,
    assets: &BTreeMap<String, String>,
    logo: &Option<String>,
) -> Result<String, RenderError> {
    fn json<T: Serialize + ?Sized>(v: &T) -> Result<String, RenderError> {
        serde_json::to_string(v).map_err(|e| RenderError::Io(e.to_string()))
    }
    // The site's language is in `site_ctx`; it is also what the templates
    // get as `lang` unless the procedure has its own (in its context).
    let shared = format!("{}\n{}\n{}", json(site_ctx)?, json(assets)?, json(logo)?);
    let mut parts: Vec<&[u8]> = vec![b"procedure page 2", shared.as_bytes()];
    for (name, file) in theme.templates() {
        parts.push(name.as_bytes());
        parts.push(&file.bytes);
    }
    Ok(crate::cache::sha256_hex(&parts))
}

/// The build cache key of a procedure's page.
fn page_key(
    fingerprint: &str,
    doc: &crate::parse::Doc,
    pctx: &ProcedureCtx,
    links: &html::Links,
) -> Result<String, RenderError> {
    let p = &doc.procedure;
    let context = serde_json::to_string(pctx).map_err(|e| RenderError::Io(e.to_string()))?;
    let outside = html::outside_inputs(p, links);
    let path = p.path.to_string_lossy();
    let key = crate::cache::sha256_hex(&[
        fingerprint.as_bytes(),
        path.as_bytes(),
        p.slug.as_bytes(),
        doc.source.text.as_bytes(),
        context.as_bytes(),
        outside.as_bytes(),
    ]);
    Ok(format!("page-{key}"))
}

fn procedure_contexts(site: &Site) -> Vec<ProcedureCtx> {
    let mut ctxs: Vec<ProcedureCtx> = site
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| procedure_ctx(i, e))
        .collect();
    // Previous and next within each category, in the index's order.
    for members in categories(&ctxs)
        .iter()
        .map(|c| c.procedures.iter().map(|p| p.index).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    {
        for (k, &i) in members.iter().enumerate() {
            let link = |j: usize| LinkCtx {
                title: ctxs[j].title.clone(),
                href: format!("../{}", ctxs[j].href),
            };
            let previous = k.checked_sub(1).map(|k| link(members[k]));
            let next = members.get(k + 1).map(|&j| link(j));
            ctxs[i].previous = previous;
            ctxs[i].next = next;
        }
    }
    ctxs
}

fn procedure_ctx(index: usize, e: &Entry) -> ProcedureCtx {
    let o = &e.outline;
    let f = &o.front;
    let category = site_category(o).to_string();
    ProcedureCtx {
        index,
        slug: e.slug.clone(),
        title: f.title.clone(),
        summary: f.summary.clone(),
        category_id: format!("category-{}", slugify(&category)),
        category,
        updated: f.updated.map(long_date),
        updated_iso: f.updated.map(|d| d.to_string()),
        href: format!("{}/", e.slug),
        lang: f.lang.clone(),
        weight: f.weight.unwrap_or(0),
        sections: o
            .sections
            .iter()
            .map(|(id, title)| SectionCtx {
                id: id.clone(),
                title: title.clone(),
            })
            .collect(),
        steps: o.steps,
        handout: None,
        previous: None,
        next: None,
    }
}

fn categories(procedures: &[ProcedureCtx]) -> Vec<CategoryCtx<'_>> {
    let mut by_name: BTreeMap<&str, Vec<&ProcedureCtx>> = BTreeMap::new();
    for p in procedures {
        by_name.entry(&p.category).or_default().push(p);
    }
    by_name
        .into_iter()
        .map(|(name, mut list)| {
            list.sort_by(|a, b| (a.weight, &a.title, &a.slug).cmp(&(b.weight, &b.title, &b.slug)));
            CategoryCtx {
                name,
                id: &list[0].category_id,
                procedures: list,
            }
        })
        .collect()
}

/// "June 28, 2021".
pub fn long_date(d: Date) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    format!("{} {}, {}", MONTHS[usize::from(d.month) - 1], d.day, d.year)
}

fn sitemap(base: &str, procedures: &[ProcedureCtx]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    out.push_str(&format!("  <url><loc>{}</loc></url>\n", html::esc(base)));
    let mut sorted: Vec<&ProcedureCtx> = procedures.iter().collect();
    sorted.sort_by(|a, b| a.slug.cmp(&b.slug));
    for p in sorted {
        let lastmod = p
            .updated_iso
            .as_ref()
            .map(|d| format!("<lastmod>{d}</lastmod>"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  <url><loc>{}{}</loc>{lastmod}</url>\n",
            html::esc(base),
            html::esc(&p.href)
        ));
    }
    out.push_str("</urlset>\n");
    out
}
