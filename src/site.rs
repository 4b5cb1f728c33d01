//! The site as a whole: its settings, every procedure in `procedures/`, and
//! every picture there. Loading reads and parses, on every core; it reports
//! what it cannot read as diagnostics and goes on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::cache::Cache;
use crate::config::{self, Config};
use crate::diag::{Code, Diagnostic};
use crate::images::{self, ImageInfo, ImageProblem};
use crate::memo::{self, Memo};
use crate::model::{Inline, Outline, slugify};
use crate::parse::{self, Doc};
use crate::paths::PROCEDURES;
use crate::render::images::{self as web, Prepared};

/// Slugs that would collide with the folders the site itself publishes.
pub const RESERVED_SLUGS: &[&str] = &[
    "images", "static", "assets", "fonts", "theme", "search", "404",
];

#[derive(Debug)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    /// Procedures in the order of their paths (those that parsed, or whose
    /// memo stands for them).
    pub entries: Vec<Entry>,
    /// How many procedure files were found (some may not have parsed).
    pub files: usize,
    /// Every picture file under `procedures/`, relative to the root.
    pub image_files: Vec<PathBuf>,
    /// What each referenced picture is, by path relative to the root.
    pub images: HashMap<PathBuf, Result<ImageInfo, ImageProblem>>,
    /// For a build: each sound picture ready to publish, or why it is not.
    pub prepared: HashMap<PathBuf, Result<Prepared, String>>,
}

/// Why a site could not be loaded at all (exit status 2).
#[derive(Debug)]
pub struct Fatal(pub String);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A procedure file that was read: parsed, or stood for by its memo (and
/// parsed only if its model is needed after all).
#[derive(Debug)]
pub struct Entry {
    /// Relative to the site root.
    pub path: PathBuf,
    pub slug: String,
    /// The file's bytes: what its memo is keyed by, and what a late parse
    /// reads (so the model is of the text the rest of the build saw).
    bytes: Vec<u8>,
    /// The key of its memo in the build cache (empty when memos are off).
    pub memo_key: String,
    doc: OnceLock<Option<Doc>>,
    /// Its memo, while that holds for this build.
    pub memo: Option<Memo>,
    pub outline: Outline,
    /// The pictures it shows, relative to the root.
    pub pictures: Vec<PathBuf>,
    /// What parsing reported, when it was parsed for this build.
    pub parse_diags: Vec<Diagnostic>,
    /// The procedures it links to, relative to the root.
    pub linked: Vec<PathBuf>,
    /// What its results read from outside its text in this build (found
    /// by [`Site::settle`]).
    pub reads: memo::Reads,
}

impl Entry {
    fn parsed(
        f: &Found,
        bytes: Vec<u8>,
        memo_key: String,
        doc: Doc,
        diags: Vec<Diagnostic>,
    ) -> Entry {
        Entry {
            path: f.path.clone(),
            slug: f.slug.clone(),
            bytes,
            memo_key,
            outline: Outline::of(&doc.procedure),
            pictures: pictures_of(&doc),
            linked: links_of(&doc),
            doc: OnceLock::from(Some(doc)),
            memo: None,
            parse_diags: diags,
            reads: memo::Reads::default(),
        }
    }

    /// Not parsed yet: its memo says what the build needs of it, if the
    /// memo holds ([`Site::settle`]).
    fn remembered(f: &Found, bytes: Vec<u8>, memo_key: String, memo: Memo) -> Entry {
        Entry {
            path: f.path.clone(),
            slug: f.slug.clone(),
            bytes,
            memo_key,
            doc: OnceLock::new(),
            outline: memo.outline.clone(),
            pictures: memo.pictures.clone(),
            linked: memo.linked.clone(),
            memo: Some(memo),
            parse_diags: Vec::new(),
            reads: memo::Reads::default(),
        }
    }

    /// The model: parsed at load, or now.
    pub fn doc(&self) -> Option<&Doc> {
        self.doc
            .get_or_init(|| parse::parse_file(&self.path, &self.slug, &self.bytes, &mut Vec::new()))
            .as_ref()
    }

    /// The model, owned (parsed now if it was not).
    pub fn into_doc(self) -> Option<Doc> {
        self.doc();
        self.doc.into_inner().flatten()
    }

    /// The model, if it was parsed at load (always, unless a memo stands
    /// for the file).
    pub fn parsed_doc(&self) -> Option<&Doc> {
        self.doc.get().and_then(Option::as_ref)
    }
}

/// The pictures a procedure shows, in order.
fn pictures_of(doc: &Doc) -> Vec<PathBuf> {
    let mut mine = Vec::new();
    doc.procedure.visit_inlines(&mut |i| {
        if let Inline::Image(img) = i
            && let Some(p) = &img.path
        {
            mine.push(p.clone());
        }
    });
    mine
}

/// The procedures a procedure links to (links to a `.md` file), in order.
fn links_of(doc: &Doc) -> Vec<PathBuf> {
    let mut mine = Vec::new();
    doc.procedure.visit_inlines(&mut |i| {
        if let Inline::Link { href, .. } = i
            && let crate::paths::Target::Local(path, _) =
                crate::paths::resolve(&doc.procedure.path, href)
            && path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("md"))
        {
            mine.push(path);
        }
    });
    mine
}

/// A procedure file found on disk.
struct Found {
    path: PathBuf,
    slug: String,
}

/// Load the site at `root`: settings, procedures (parsed in parallel) and
/// the pictures they show. With `web_copies`, each picture that is not in
/// `cache` yet is also made ready to publish, in the same pass that decodes
/// it for the check; without, the cache only saves decoding known pictures.
/// With `memos` (a build), a file whose memo the cache holds is not parsed
/// yet: [`Site::settle`] decides whether the memo holds.
pub fn load(
    root: &Path,
    cache: &Cache,
    web_copies: bool,
    memos: bool,
    diags: &mut Vec<Diagnostic>,
) -> Result<Site, Fatal> {
    if !root.is_dir() {
        return Err(Fatal(format!("{} is not a folder", root.display())));
    }
    let procedures = root.join(PROCEDURES);
    if !procedures.is_dir() {
        return Err(Fatal(format!(
            "no {PROCEDURES}/ folder in {}: run procdoc in the site's folder, or name it with --root",
            display_root(root)
        )));
    }
    let config = config::load(root, diags);
    let (found, image_files) = discover(root, diags);
    check_slugs(&found, diags);
    crate::timing::mark("find the files");

    let parsed: Vec<(Option<Entry>, Vec<Diagnostic>)> = found
        .par_iter()
        .map(|f| {
            let mut mine = Vec::new();
            let entry = match read_procedure(&root.join(&f.path)) {
                Ok(Ok(bytes)) if memos => {
                    let key = memo::key(&f.path, &f.slug, &bytes);
                    match cache.get(&key).and_then(|hit| hit.data::<Memo>()) {
                        Some(memo) => Some(Entry::remembered(f, bytes, key, memo)),
                        None => parse::parse_file(&f.path, &f.slug, &bytes, &mut mine)
                            .map(|doc| Entry::parsed(f, bytes, key, doc, mine.clone())),
                    }
                }
                Ok(Ok(bytes)) => parse::parse_file(&f.path, &f.slug, &bytes, &mut mine)
                    .map(|doc| Entry::parsed(f, bytes, String::new(), doc, Vec::new())),
                Ok(Err(bytes)) => {
                    let (mut size, mut limit) = (
                        crate::check::size(bytes),
                        crate::check::size(MAX_PROCEDURE_BYTES),
                    );
                    // Just over the limit, rounding would print the same.
                    if size == limit {
                        (size, limit) = (
                            format!("{bytes} bytes"),
                            format!("{MAX_PROCEDURE_BYTES} bytes"),
                        );
                    }
                    mine.push(Diagnostic::file(
                        &f.path,
                        Code::FileTooLarge,
                        format!("this file is {size}; a procedure can be at most {limit}"),
                    ));
                    None
                }
                Err(e) => {
                    mine.push(Diagnostic::file(
                        &f.path,
                        Code::Unreadable,
                        format!("cannot read the file: {e}"),
                    ));
                    None
                }
            };
            (entry, mine)
        })
        .collect();
    let mut entries = Vec::with_capacity(parsed.len());
    for (entry, mine) in parsed {
        diags.extend(mine);
        entries.extend(entry);
    }

    crate::timing::mark("parse");
    let canonical_procedures = procedures
        .canonicalize()
        .map_err(|e| Fatal(format!("cannot read {PROCEDURES}/: {e}")))?;
    // Sorted by bytes and deduplicated: comparing paths component by
    // component costs more than everything else done here.
    let mut wanted: Vec<PathBuf> = entries
        .par_iter()
        .flat_map_iter(|e| e.pictures.iter().cloned())
        .collect();
    wanted.par_sort_unstable_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    wanted.dedup();
    let folders = Folders::default();
    let pictures: Vec<Picture> = wanted
        .par_iter()
        .map(|p| {
            picture(
                root,
                &canonical_procedures,
                &folders,
                p,
                &config,
                cache,
                web_copies,
            )
        })
        .collect();
    // Hash maps: looking a path up in a BTreeMap compares it component by
    // component at every level, which cost more than the lookups' work.
    let mut images = Vec::with_capacity(wanted.len());
    let mut prepared = Vec::with_capacity(wanted.len());
    for (path, (info, web)) in wanted.into_iter().zip(pictures) {
        if let Some(web) = web {
            prepared.push((path.clone(), web));
        }
        images.push((path, info));
    }
    let images: HashMap<_, _> = images.into_iter().collect();
    let prepared: HashMap<_, _> = prepared.into_iter().collect();
    crate::timing::mark("pictures");
    Ok(Site {
        root: root.to_path_buf(),
        config,
        entries,
        files: found.len(),
        image_files,
        images,
        prepared,
    })
}

impl Site {
    /// Decide which memos hold for this build, whose results read
    /// `context` ([`memo::context`]): a memo holds when it was found under
    /// this site digest, and its category's members, the step numbers of
    /// the procedures it links to and its pictures are what they were (see
    /// `memo`). A procedure whose memo does not hold is parsed now (its
    /// problems go to `diags`); one whose memo holds gets the memo's
    /// diagnostics instead.
    pub fn settle(&mut self, context: &str, diags: &mut Vec<Diagnostic>) {
        let site = memo::site_digest(
            context,
            self.entries
                .iter()
                .map(|e| (e.path.as_path(), e.slug.as_str())),
        );
        let outlines: Vec<(&str, &Outline)> = self
            .entries
            .iter()
            .map(|e| (e.slug.as_str(), &e.outline))
            .collect();
        let neighbours = memo::neighbours_states(&outlines);
        let steps: HashMap<&Path, &[u32]> = self
            .entries
            .iter()
            .map(|e| (e.path.as_path(), e.outline.step_numbers.as_slice()))
            .collect();
        let reads: Vec<memo::Reads> = self
            .entries
            .par_iter()
            .zip(neighbours)
            .map(|(e, neighbours)| memo::Reads {
                site: site.clone(),
                neighbours,
                links: memo::links_state(&e.linked, &steps),
                pictures: memo::picture_state(&self.images, &self.prepared, &e.pictures),
            })
            .collect();
        // The same text gives the same outline and pictures; only what is
        // read from outside it may differ.
        let reparsed: Vec<bool> = self
            .entries
            .par_iter_mut()
            .zip(reads)
            .map(|(e, reads)| {
                e.reads = reads;
                let holds = e
                    .memo
                    .as_ref()
                    .is_some_and(|m| !e.reads.site.is_empty() && m.reads == e.reads);
                if holds || e.memo.is_none() {
                    return false;
                }
                e.memo = None;
                let mut mine = Vec::new();
                e.doc = OnceLock::from(parse::parse_file(&e.path, &e.slug, &e.bytes, &mut mine));
                e.parse_diags = mine;
                true
            })
            .collect();
        for (e, reparsed) in self.entries.iter().zip(reparsed) {
            if let Some(m) = &e.memo {
                diags.extend(m.diagnostics.iter().cloned());
            } else if reparsed {
                diags.extend(e.parse_diags.iter().cloned());
            }
        }
        if crate::timing::enabled() {
            let remembered = self.entries.iter().filter(|e| e.memo.is_some()).count();
            eprintln!(
                "timing: {} procedures parsed and checked, {remembered} stood for by their memos",
                self.entries.len() - remembered
            );
        }
        crate::timing::mark("procedure memos");
    }
}

/// The largest procedure file procdoc reads. The longest real procedures are
/// tens of kilobytes (a 5,000-step table is about 300 KB); a file far larger
/// is a mistake (a log or an export saved as .md), and reading it would cost
/// memory and time out of proportion (the model, the spans and the page are
/// each several times the size of the text).
pub const MAX_PROCEDURE_BYTES: u64 = 2 * 1024 * 1024;

/// A procedure's bytes, or its size when it is over the limit. The size is
/// read from the file's metadata first, so a huge file is never read; the
/// read itself stops past the limit, in case the file grew in between.
fn read_procedure(path: &Path) -> std::io::Result<Result<Vec<u8>, u64>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > MAX_PROCEDURE_BYTES {
        return Ok(Err(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_PROCEDURE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_PROCEDURE_BYTES {
        return Ok(Err(bytes.len() as u64));
    }
    Ok(Ok(bytes))
}

/// Whether each folder of pictures really is inside `procedures/` (symbolic
/// links followed), found once per folder rather than once per picture.
type Folders = std::sync::Mutex<HashMap<PathBuf, Result<(), ImageProblem>>>;

/// Refuse a picture whose real location (after symbolic links) is outside
/// `procedures/` (`top` as the site names it, `procedures` as it really is).
/// A file that is not itself a link (`is_link`, from the `lstat` the caller
/// made) is where its folder is.
fn inside(
    full: &Path,
    is_link: bool,
    top: &Path,
    procedures: &Path,
    folders: &Folders,
) -> Result<(), ImageProblem> {
    match full.parent() {
        Some(folder) if !is_link => folder_inside(folder, top, procedures, folders),
        _ => verdict(full, procedures),
    }
}

/// Whether a path's real location is inside `procedures/`.
fn verdict(path: &Path, procedures: &Path) -> Result<(), ImageProblem> {
    match path.canonicalize() {
        Ok(real) if !real.starts_with(procedures) => Err(ImageProblem::Outside),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(ImageProblem::Unreadable(e.to_string()))
        }
        _ => Ok(()),
    }
}

/// Whether a folder under `top` really is inside `procedures/`, once per
/// folder: a folder that is not a link is where its parent is, so only
/// links are resolved (one `lstat` per folder, not a `realpath`).
fn folder_inside(
    folder: &Path,
    top: &Path,
    procedures: &Path,
    folders: &Folders,
) -> Result<(), ImageProblem> {
    if folder == top {
        return Ok(());
    }
    let known = |f: &Path| {
        folders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(f)
            .cloned()
    };
    if let Some(v) = known(folder) {
        return v;
    }
    let v = match (std::fs::symlink_metadata(folder), folder.parent()) {
        (Ok(m), Some(parent)) if !m.is_symlink() && parent.starts_with(top) => {
            folder_inside(parent, top, procedures, folders)
        }
        _ => verdict(folder, procedures),
    };
    folders
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(folder.to_path_buf(), v.clone());
    v
}

/// What the check learns of a picture, and (for a build) the picture ready
/// to publish or why it could not be made so.
type Picture = (
    Result<ImageInfo, ImageProblem>,
    Option<Result<Prepared, String>>,
);

/// Read a picture once: refuse one whose real location (after symbolic
/// links) is outside `procedures/`, take what the cache knows of its content,
/// and otherwise decode it (and make its web copies).
fn picture(
    root: &Path,
    procedures: &Path,
    folders: &Folders,
    rel: &Path,
    config: &Config,
    cache: &Cache,
    web_copies: bool,
) -> Picture {
    let full = root.join(rel);
    // One `lstat` says whether the file is a link and, when it is not, all
    // the rest.
    let lstat = std::fs::symlink_metadata(&full);
    let is_link = lstat.as_ref().is_ok_and(|m| m.is_symlink());
    if let Err(problem) = inside(&full, is_link, &root.join(PROCEDURES), procedures, folders) {
        return (Err(problem), None);
    }
    let limits = &config.images;
    let meta = match lstat {
        Ok(m) if !is_link => m,
        _ => match images::metadata(&full) {
            Ok(m) => m,
            Err(problem) => return (Err(problem), None),
        },
    };
    if let Err(problem) = images::within(&meta, limits) {
        return (Err(problem), None);
    }
    let name = rel.to_string_lossy().replace('\\', "/");
    let (sha256, bytes) = match cache.source_hash(&name, &full, &meta) {
        Ok(r) => r,
        Err(e) => return (Err(ImageProblem::Unreadable(e.to_string())), None),
    };
    let key = web::cache_key(&sha256, limits);
    if let Some(hit) = cache.get(&key)
        && let Some((info, prepared)) = web::from_cache(rel, &sha256, &hit)
    {
        return (Ok(info), web_copies.then_some(Ok(prepared)));
    }
    let bytes = match bytes {
        Some(b) => b,
        None => match images::read_within(&full, limits) {
            Ok(b) => b,
            Err(problem) => return (Err(problem), None),
        },
    };
    match images::decode(&bytes, limits) {
        Ok((info, decoded)) => {
            let prepared =
                web_copies.then(|| web::make(rel, &sha256, &bytes, &info, &decoded, cache, &key));
            (Ok(info), prepared)
        }
        Err(problem) => (Err(problem), None),
    }
}

fn display_root(root: &Path) -> String {
    if root == Path::new(".") || root.as_os_str().is_empty() {
        "this folder".to_string()
    } else {
        root.display().to_string()
    }
}

/// Walk `procedures/`: procedure files, pictures, and what does not belong.
fn discover(root: &Path, diags: &mut Vec<Diagnostic>) -> (Vec<Found>, Vec<PathBuf>) {
    // Symbolic links are rare in `procedures/`: the walk that follows them
    // asks for the metadata of every entry (a `stat` each) to find them. A
    // walk that reads the types from the folder listings goes first, and
    // gives way to that one at the first link.
    let mut quiet = Vec::new();
    if let Some(found) = walk(root, false, &mut quiet) {
        diags.extend(quiet);
        return found;
    }
    walk(root, true, diags).unwrap_or_default()
}

/// Walk `procedures/`, following symbolic links or not; without following,
/// `None` at the first link.
fn walk(
    root: &Path,
    follow_links: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Vec<Found>, Vec<PathBuf>)> {
    let mut found = Vec::new();
    let mut pictures = Vec::new();
    let walker = WalkDir::new(root.join(PROCEDURES))
        .follow_links(follow_links)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || !e.file_name().to_string_lossy().starts_with(['_', '.'])
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| relative(root, p))
                    .unwrap_or_else(|| PathBuf::from(PROCEDURES));
                let message = if e.loop_ancestor().is_some() {
                    "a symbolic link here points back into its own folder".to_string()
                } else {
                    format!(
                        "cannot read: {}",
                        e.io_error()
                            .map(|io| io.to_string())
                            .unwrap_or_else(|| e.to_string())
                    )
                };
                diags.push(Diagnostic::file(path, Code::Unreadable, message));
                continue;
            }
        };
        if entry.path_is_symlink() && !follow_links {
            return None;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = relative(root, entry.path());
        let is_md = rel
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"));
        if images::is_image_name(&rel) {
            pictures.push(rel);
        } else if is_md {
            let stem = rel
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            match entry.depth() {
                1 => found.push(Found {
                    slug: stem,
                    path: rel,
                }),
                2 if stem == "index" => {
                    let folder = rel.parent().and_then(|p| p.file_name()).unwrap_or_default();
                    found.push(Found {
                        slug: folder.to_string_lossy().into_owned(),
                        path: rel,
                    });
                }
                _ => diags.push(Diagnostic::file(
                    &rel,
                    Code::NotAProcedure,
                    "this Markdown file is not a procedure and is not published",
                )),
            }
        }
    }
    Some((found, pictures))
}

/// A slug that can be a web address: lowercase ASCII letters and digits in
/// words joined by single hyphens.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Slugs must be usable as web addresses, not reserved, and unique.
fn check_slugs(found: &[Found], diags: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &Path> = HashMap::new();
    for f in found {
        if !is_valid_slug(&f.slug) {
            let suggestion = slugify(&f.slug);
            let target = if f.path.ends_with("index.md") {
                format!("the folder to procedures/{suggestion}/")
            } else {
                format!("the file to {suggestion}.md")
            };
            diags.push(
                Diagnostic::file(
                    &f.path,
                    Code::BadSlug,
                    format!("`{}` cannot be a web address", f.slug),
                )
                .with_hint(format!(
                    "rename {target}: lowercase letters, digits and hyphens"
                )),
            );
        } else if RESERVED_SLUGS.contains(&f.slug.as_str()) {
            diags.push(
                Diagnostic::file(
                    &f.path,
                    Code::BadSlug,
                    format!("`{}` is reserved for the site's own files", f.slug),
                )
                .with_hint(format!(
                    "rename it; these names are reserved: {}",
                    RESERVED_SLUGS.join(", ")
                )),
            );
        }
        if let Some(other) = first.get(f.slug.as_str()) {
            diags.push(Diagnostic::file(
                &f.path,
                Code::DuplicateSlug,
                format!(
                    "this procedure and {} both publish to {}/",
                    crate::diag::display_path(other),
                    f.slug
                ),
            ));
        } else {
            first.insert(&f.slug, &f.path);
        }
    }
}

fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}
