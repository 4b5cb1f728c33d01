//! The build cache in `.procdoc-cache/build/`: what a build made that takes
//! time to make again (web copies of screenshots, handouts), kept under keys
//! that hash everything the result depends on, so a rebuild redoes only what
//! changed.
//!
//! - `index.bin` lists each entry (its key, a little data as JSON text, its
//!   files) and each source picture's size, time and inode with its SHA-256,
//!   so an unchanged picture is not read again. It is bincode, not JSON: at a
//!   thousand procedures it holds about 9,000 entries and sources, read and
//!   written on every build, and bincode does both several times faster.
//! - `blobs/` holds the files. The build hard-links them into the new site
//!   (copies when it cannot), so a rebuild writes almost nothing.
//!
//! Nothing in it is trusted blindly: an index that does not parse, or that
//! another procdoc version wrote, is dropped; a file whose size, time or
//! inode differ from what the index recorded is made again. Files are written
//! under a temporary name and renamed, so a killed build leaves no torn file.
//! One build at a time holds the cache (a lock on `build/lock`); `build
//! --clean`, or deleting the folder, starts cold.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bincode::Options as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The folder under the site's root.
pub const FOLDER: &str = ".procdoc-cache";
const BUILD: &str = "build";
const INDEX: &str = "index.bin";
/// The index of builds before the binary one, deleted when seen.
const OLD_INDEX: &str = "index.json";
const BLOBS: &str = "blobs";
/// Present from the opening of a build's cache until its save has deleted
/// what it no longer needs: a build that finds it lists the blobs folder.
const UNSWEPT: &str = "unswept";
/// Entries made by another version of procdoc, or another build of its
/// code, are never used.
const VERSION: &str = concat!(
    "procdoc ",
    env!("CARGO_PKG_VERSION"),
    " (code ",
    env!("PROCDOC_CODE_HASH"),
    ") cache 3"
);
/// A source file changed this close to the index being written may have
/// changed again within the file system's clock tick: read it again.
const RACY: Duration = Duration::from_secs(2);

/// What the cache knows of one file: enough to tell it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    mtime_ns: u128,
    ctime_ns: u128,
    ino: u64,
}

impl Stamp {
    /// Same size, modification time and inode: the same bytes, unless
    /// something went out of its way to forge them.
    fn same_content(&self, other: &Stamp) -> bool {
        self.len == other.len && self.mtime_ns == other.mtime_ns && self.ino == other.ino
    }

    fn of(meta: &fs::Metadata) -> Stamp {
        let nanos = |t: io::Result<SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos())
        };
        #[cfg(unix)]
        let ctime_ns = {
            use std::os::unix::fs::MetadataExt;
            u128::try_from(meta.ctime()).unwrap_or(0) * 1_000_000_000
                + u128::try_from(meta.ctime_nsec()).unwrap_or(0)
        };
        #[cfg(not(unix))]
        let ctime_ns = 0;
        Stamp {
            len: meta.len(),
            mtime_ns: nanos(meta.modified()),
            ctime_ns,
            ino: FileId::of(meta).ino,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Source {
    stamp: Stamp,
    sha256: String,
}

/// One file of an entry, in `blobs/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Blob {
    name: String,
    stamp: Stamp,
}

/// What one cached result holds: data for the caller (JSON text), and files.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    data: String,
    files: Vec<Blob>,
}

/// The index as read; `serialise` writes the same fields from borrowed maps.
#[derive(Debug, Default, Deserialize)]
struct Index {
    version: String,
    /// When this index was written, in nanoseconds since 1970.
    written_ns: u128,
    /// Source pictures by path relative to the site's root.
    sources: HashMap<String, Source>,
    entries: HashMap<String, Entry>,
}

/// A cached result, found or just made.
#[derive(Debug, Clone)]
pub struct Hit {
    /// What the caller stored, as JSON text (see [`Hit::data`]).
    data: String,
    /// The files, in the order they were stored.
    pub files: Vec<CachedFile>,
}

impl Hit {
    /// The data stored with the result, or `None` when it is not a `T`
    /// (a cache entry that does not make sense is a miss).
    pub fn data<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.data).ok()
    }
}

/// A file the cache holds: where it is, its size, and which file it is (device and
/// inode, so that whoever links it need not look it up again).
#[derive(Debug, Clone)]
pub struct CachedFile {
    pub path: PathBuf,
    pub id: FileId,
    /// Its size in bytes.
    pub len: u64,
}

/// Device and inode numbers: which file a path leads to (zeros where the
/// system has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    pub fn of(meta: &fs::Metadata) -> FileId {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            FileId { dev: 0, ino: 0 }
        }
    }
}

/// The cache of one build. `Cache::disabled()` stores nothing and finds
/// nothing, for `procdoc check` without a cache folder.
pub struct Cache {
    dir: PathBuf,
    enabled: bool,
    writable: bool,
    /// What the last build left, read on a thread of its own while the
    /// build finds and parses the procedures (see [`Cache::old`]).
    old: std::sync::OnceLock<Index>,
    reading: Mutex<Option<std::thread::JoinHandle<Index>>>,
    sources: Mutex<HashMap<String, Source>>,
    entries: Mutex<HashMap<String, Entry>>,
    counter: AtomicU64,
    /// Whether this build stored anything or read a source anew.
    changed: std::sync::atomic::AtomicBool,
    /// The last build did not finish its save: list the blobs to sweep.
    full_sweep: bool,
    /// The index to save after publishing, serialised meanwhile.
    prepared: Mutex<Option<Vec<u8>>>,
    _lock: Option<File>,
}

/// Why the cache cannot be used (exit status 2: a problem with the machine).
#[derive(Debug)]
pub struct CacheError(pub String);

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// SHA-256 as 64 hexadecimal digits.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())
}

/// Bytes as lowercase hexadecimal digits.
pub fn hex(bytes: &[u8]) -> String {
    // Not `write!` per byte: the formatting machinery cost 2% of a
    // rebuild, which hashes a key for every picture, page and handout.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

impl Cache {
    /// A cache that holds nothing.
    pub fn disabled() -> Cache {
        Cache {
            dir: PathBuf::new(),
            enabled: false,
            writable: false,
            old: std::sync::OnceLock::from(Index::default()),
            reading: Mutex::default(),
            sources: Mutex::default(),
            entries: Mutex::default(),
            counter: AtomicU64::new(0),
            changed: Default::default(),
            full_sweep: false,
            prepared: Mutex::default(),
            _lock: None,
        }
    }

    /// Read the cache without changing it (for `procdoc check`): what an
    /// earlier build learnt about the pictures saves decoding them again.
    pub fn read_only(root: &Path) -> Cache {
        let dir = root.join(FOLDER).join(BUILD);
        Cache {
            old: std::sync::OnceLock::from(read_index(&dir)),
            dir,
            enabled: true,
            ..Cache::disabled()
        }
    }

    /// Open the cache of the site at `root` for a build, waiting for any
    /// other build that holds it. `clean` empties it first.
    pub fn open(root: &Path, clean: bool) -> Result<Cache, CacheError> {
        let top = root.join(FOLDER);
        let dir = top.join(BUILD);
        let fail = |what: &str, path: &Path, e: io::Error| {
            CacheError(format!(
                "cannot {what} {}: {e} (procdoc keeps what it made there to build faster; make the folder writable, or remove it)",
                path.display()
            ))
        };
        fs::create_dir_all(dir.join(BLOBS)).map_err(|e| {
            // Name the folder that refused (the site's, on a first build),
            // not only the one that was to be made in it.
            let denied = matches!(
                e.kind(),
                io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
            );
            match dir.ancestors().skip(1).find(|a| a.is_dir()) {
                Some(there) if denied => CacheError(format!(
                    "cannot create {}: {} cannot be written ({e}); procdoc keeps what it makes there to build faster, so make that folder writable, or build a copy of the site in a folder you can write",
                    dir.display(),
                    std::path::absolute(there)
                        .unwrap_or_else(|_| there.to_path_buf())
                        .display()
                )),
                _ => fail("create", &dir, e),
            }
        })?;
        let tag = top.join("CACHEDIR.TAG");
        if !tag.exists() {
            let _ = fs::write(
                &tag,
                "Signature: 8a477f597d28d172789f06886806bc55\n# procdoc's build cache: safe to delete; see https://bford.info/cachedir/\n",
            );
        }
        let lock_path = dir.join("lock");
        let lock = File::create(&lock_path).map_err(|e| fail("write", &lock_path, e))?;
        lock_exclusive(&lock).map_err(|e| fail("lock", &lock_path, e))?;
        let marker = dir.join(UNSWEPT);
        let full_sweep = marker.exists();
        File::create(&marker).map_err(|e| fail("write", &marker, e))?;
        let scratch = dir.join("tmp");
        let _ = fs::remove_dir_all(&scratch);
        fs::create_dir_all(&scratch).map_err(|e| fail("create", &scratch, e))?;
        let old = std::sync::OnceLock::new();
        let mut reading = None;
        if clean {
            let blobs = dir.join(BLOBS);
            let _ = fs::remove_file(dir.join(INDEX));
            let _ = fs::remove_dir_all(dir.join("spare"));
            fs::remove_dir_all(&blobs).map_err(|e| fail("empty", &blobs, e))?;
            fs::create_dir_all(&blobs).map_err(|e| fail("create", &blobs, e))?;
            let _ = old.set(Index::default());
        } else {
            let at = dir.clone();
            reading = std::thread::Builder::new()
                .name("procdoc-cache-index".into())
                .spawn(move || read_index(&at))
                .ok();
            if reading.is_none() {
                let _ = old.set(read_index(&dir));
            }
        }
        Ok(Cache {
            dir,
            enabled: true,
            writable: true,
            old,
            reading: Mutex::new(reading),
            sources: Mutex::default(),
            entries: Mutex::default(),
            counter: AtomicU64::new(0),
            changed: Default::default(),
            full_sweep,
            prepared: Mutex::default(),
            _lock: Some(lock),
        })
    }

    /// The index the last build saved (empty when there was none, or it
    /// could not be trusted), once the thread reading it is done.
    fn old(&self) -> &Index {
        self.old.get_or_init(|| {
            lock(&self.reading)
                .take()
                .and_then(|reading| reading.join().ok())
                .unwrap_or_default()
        })
    }

    /// A folder for this build's temporary files (emptied when the cache is
    /// opened).
    pub fn scratch(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// Where the site that a build to `out` replaces is kept, for the next
    /// build to `out` to start from (see [`crate::publish::Staging::begin`]).
    /// `None` for a cache that is not written.
    pub fn spare_for(&self, out: &Path) -> Option<PathBuf> {
        if !self.writable {
            return None;
        }
        let out = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
        let key = sha256_hex(&[out.as_os_str().as_encoded_bytes()]);
        Some(self.dir.join("spare").join(&key[..16]))
    }

    /// The SHA-256 of a source file, and its bytes when they had to be read.
    /// An unchanged file (same size, times and inode as last time) is not read.
    pub fn source_hash(
        &self,
        rel: &str,
        path: &Path,
        meta: &fs::Metadata,
    ) -> io::Result<(String, Option<Vec<u8>>)> {
        let stamp = Stamp::of(meta);
        if self.enabled
            && let Some(known) = self.old().sources.get(rel)
            && known.stamp == stamp
            && stamp.mtime_ns + RACY.as_nanos() < self.old().written_ns
            && stamp.ctime_ns + RACY.as_nanos() < self.old().written_ns
        {
            self.remember_source(rel, known.clone());
            return Ok((known.sha256.clone(), None));
        }
        let bytes = fs::read(path)?;
        // The plain SHA-256 of the file, as `sha256sum` prints it.
        let sha256 = hex(&Sha256::digest(&bytes));
        // Stat again: a file changed while it was read is not remembered.
        self.changed.store(true, Ordering::Relaxed);
        if fs::metadata(path).map(|m| Stamp::of(&m)).ok() == Some(stamp) {
            self.remember_source(
                rel,
                Source {
                    stamp,
                    sha256: sha256.clone(),
                },
            );
        }
        Ok((sha256, Some(bytes)))
    }

    fn remember_source(&self, rel: &str, source: Source) {
        if self.writable {
            lock(&self.sources).insert(rel.to_string(), source);
        }
    }

    /// The result stored under `key`, if its files are all there unchanged.
    pub fn get(&self, key: &str) -> Option<Hit> {
        if !self.enabled {
            return None;
        }
        let entry = self.old().entries.get(key)?.clone();
        let blobs = self.dir.join(BLOBS);
        let mut files = Vec::with_capacity(entry.files.len());
        for blob in &entry.files {
            // A name is ours only if it is a plain file name.
            if !plain_name(&blob.name) {
                return None;
            }
            let path = blobs.join(&blob.name);
            let meta = fs::symlink_metadata(&path).ok()?;
            // Not the change time: linking the file into a site changes it.
            if !meta.is_file() || !Stamp::of(&meta).same_content(&blob.stamp) {
                return None;
            }
            files.push(CachedFile {
                path,
                id: FileId::of(&meta),
                len: meta.len(),
            });
        }
        let hit = Hit {
            data: entry.data.clone(),
            files,
        };
        if self.writable {
            lock(&self.entries).insert(key.to_string(), entry);
        }
        Some(hit)
    }

    /// Store a result under `key`: its data and its files, each given as a
    /// name suffix (such as `720.png`) and the bytes.
    pub fn put(
        &self,
        key: &str,
        data: serde_json::Value,
        files: &[(&str, &[u8])],
    ) -> Result<Hit, CacheError> {
        if !self.writable {
            return Err(CacheError(
                "the build cache is open read-only; this is a bug in procdoc".to_string(),
            ));
        }
        let blobs = self.dir.join(BLOBS);
        let short = &key[..key.len().min(32)];
        let mut stored = Vec::with_capacity(files.len());
        let mut paths = Vec::with_capacity(files.len());
        for (suffix, bytes) in files {
            let name = format!("{short}-{suffix}");
            let path = blobs.join(&name);
            let (stamp, id) = self
                .write_atomic(&path, bytes)
                .map_err(|e| CacheError(format!("cannot write {}: {e}", path.display())))?;
            stored.push(Blob { name, stamp });
            paths.push(CachedFile {
                path,
                id,
                len: stamp.len,
            });
        }
        let data = data.to_string();
        lock(&self.entries).insert(
            key.to_string(),
            Entry {
                data: data.clone(),
                files: stored,
            },
        );
        self.changed.store(true, Ordering::Relaxed);
        Ok(Hit { data, files: paths })
    }

    /// Write a file under a temporary name, then rename it into place.
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> io::Result<(Stamp, FileId)> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_file_name(format!(".tmp-{}-{n}", std::process::id()));
        let result = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            drop(f);
            fs::rename(&tmp, path)?;
            fs::symlink_metadata(path).map(|m| (Stamp::of(&m), FileId::of(&m)))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Keep the entries whose keys start with `prefix` although this build
    /// did not use them: a build that makes no handouts keeps the handouts
    /// of the last one for the next build that makes them.
    pub fn keep_unused(&self, prefix: &str) {
        if !self.writable {
            return;
        }
        let mut entries = lock(&self.entries);
        for (key, entry) in &self.old().entries {
            if key.starts_with(prefix) {
                entries.entry(key.clone()).or_insert_with(|| entry.clone());
            }
        }
    }

    /// Serialise the index a published build will save, while the site is
    /// being published (see [`Cache::save`], which writes it).
    pub fn prepare_publish(&self) -> Result<(), CacheError> {
        if !self.writable {
            return Ok(());
        }
        let entries = lock(&self.entries);
        let sources = lock(&self.sources);
        let json = serialise(&entries, &sources)?;
        *lock(&self.prepared) = Some(json);
        Ok(())
    }

    /// Write the index. After a build that published, only what it used is
    /// kept and the other files are deleted; after one that failed, what the
    /// earlier builds made is kept too, for the build that follows the fix.
    ///
    /// Deleting: the files of the last index's entries that this build did
    /// not use. Files no index names (left by a build that was killed, or by
    /// another version of procdoc) are found by listing the folder, which
    /// is done when the last build did not end its save (the `unswept`
    /// marker is still there) or the last index was not ours.
    pub fn save(&self, published: bool) -> Result<(), CacheError> {
        if !self.writable {
            return Ok(());
        }
        let full_sweep = self.full_sweep || self.old().version != VERSION;
        let marker = self.dir.join(UNSWEPT);
        // A build that used exactly what the index holds: nothing to write.
        if !full_sweep
            && !self.changed.load(Ordering::Relaxed)
            && lock(&self.entries).len() == self.old().entries.len()
            && lock(&self.sources).len() == self.old().sources.len()
        {
            let _ = fs::remove_file(&marker);
            return Ok(());
        }
        let prepared = lock(&self.prepared).take();
        let mut entries = lock(&self.entries);
        let mut sources = lock(&self.sources);
        let json = match prepared {
            Some(json) if published => json,
            _ => {
                if !published {
                    for (k, e) in &self.old().entries {
                        entries.entry(k.clone()).or_insert_with(|| e.clone());
                    }
                    for (k, s) in &self.old().sources {
                        sources.entry(k.clone()).or_insert_with(|| s.clone());
                    }
                }
                serialise(&entries, &sources)?
            }
        };
        let path = self.dir.join(INDEX);
        self.write_atomic(&path, &json)
            .map_err(|e| CacheError(format!("cannot write {}: {e}", path.display())))?;
        if !published {
            // Every file this build wrote is in the index just written.
            if !full_sweep {
                let _ = fs::remove_file(&marker);
            }
            return Ok(());
        }
        let kept: HashSet<&str> = entries
            .values()
            .flat_map(|e| e.files.iter().map(|b| b.name.as_str()))
            .collect();
        let blobs = self.dir.join(BLOBS);
        if full_sweep {
            let _ = fs::remove_file(self.dir.join(OLD_INDEX));
            if let Ok(list) = fs::read_dir(&blobs) {
                for item in list.flatten() {
                    let name = item.file_name();
                    if !kept.contains(name.to_string_lossy().as_ref()) {
                        let _ = fs::remove_file(item.path());
                    }
                }
            }
        } else {
            for blob in self.old().entries.values().flat_map(|e| &e.files) {
                if !kept.contains(blob.name.as_str()) && plain_name(&blob.name) {
                    let _ = fs::remove_file(blobs.join(&blob.name));
                }
            }
        }
        let _ = fs::remove_file(&marker);
        Ok(())
    }
}

/// A blob's name as the index gives it is used only if it is a plain file
/// name in the blobs folder.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.')
}

/// The index as written to disk.
fn serialise(
    entries: &HashMap<String, Entry>,
    sources: &HashMap<String, Source>,
) -> Result<Vec<u8>, CacheError> {
    #[derive(Serialize)]
    struct IndexRef<'a> {
        version: &'a str,
        written_ns: u128,
        sources: &'a HashMap<String, Source>,
        entries: &'a HashMap<String, Entry>,
    }
    bincode_options()
        .serialize(&IndexRef {
            version: VERSION,
            written_ns: now_ns(),
            sources,
            entries,
        })
        .map_err(|e| CacheError(format!("cannot write the build cache's index: {e}")))
}

/// How the index is encoded. The limit is the file's own size, so a damaged
/// length inside it cannot make the reader reserve more memory than that.
fn bincode_options() -> bincode::DefaultOptions {
    bincode::DefaultOptions::new()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The index at `dir`, or an empty one when it is missing, unreadable,
/// corrupt or from another version.
fn read_index(dir: &Path) -> Index {
    let Ok(bytes) = fs::read(dir.join(INDEX)) else {
        return Index::default();
    };
    let index = match bincode_options()
        .with_limit(bytes.len() as u64)
        .deserialize::<Index>(&bytes)
    {
        Ok(index) if index.version == VERSION => index,
        _ => Index::default(),
    };
    crate::timing::mark("read the cache index (on its own thread)");
    index
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> io::Result<()> {
    rustix::fs::flock(file, rustix::fs::FlockOperation::LockExclusive).map_err(io::Error::from)
}

#[cfg(not(unix))]
fn lock_exclusive(_: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_parts_are_length_prefixed() {
        assert_ne!(sha256_hex(&[b"ab", b"c"]), sha256_hex(&[b"a", b"bc"]));
        assert_eq!(sha256_hex(&[b"x"]).len(), 64);
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn put_then_get_in_the_next_build() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        assert!(cache.get("k1").is_none());
        cache
            .put("k1", serde_json::json!({"pages": 3}), &[("a.pdf", b"%PDF")])
            .unwrap();
        cache.save(true).unwrap();
        drop(cache);

        let cache = Cache::open(dir.path(), false).unwrap();
        let hit = cache.get("k1").expect("stored in the last build");
        assert_eq!(hit.data::<serde_json::Value>().unwrap()["pages"], 3);
        assert_eq!(fs::read(&hit.files[0].path).unwrap(), b"%PDF");
        // A file changed behind the cache's back is not trusted.
        fs::write(&hit.files[0].path, b"%PDF-garbage").unwrap();
        assert!(cache.get("k1").is_none());
    }

    #[test]
    fn a_corrupt_index_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        cache
            .put("k", serde_json::json!(1), &[("x", b"x")])
            .unwrap();
        cache.save(true).unwrap();
        drop(cache);
        let index = dir.path().join(FOLDER).join(BUILD).join(INDEX);
        let bytes = fs::read(&index).unwrap();
        fs::write(&index, &bytes[..bytes.len() / 2]).unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        assert!(cache.get("k").is_none());
    }

    #[test]
    fn a_published_build_forgets_what_it_did_not_use() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        cache
            .put("a", serde_json::json!(1), &[("x", b"x")])
            .unwrap();
        cache
            .put("b", serde_json::json!(2), &[("y", b"y")])
            .unwrap();
        cache.save(true).unwrap();
        drop(cache);
        // A failed build that used only `a` keeps `b` for later.
        let cache = Cache::open(dir.path(), false).unwrap();
        assert!(cache.get("a").is_some());
        cache.save(false).unwrap();
        drop(cache);
        let cache = Cache::open(dir.path(), false).unwrap();
        assert!(cache.get("b").is_some());
        drop(cache);
        // A published build that used only `a` drops `b` and its file.
        let cache = Cache::open(dir.path(), false).unwrap();
        assert!(cache.get("a").is_some());
        cache.save(true).unwrap();
        drop(cache);
        let cache = Cache::open(dir.path(), false).unwrap();
        assert!(cache.get("b").is_none());
        let blobs: Vec<_> = fs::read_dir(dir.path().join(FOLDER).join(BUILD).join(BLOBS))
            .unwrap()
            .collect();
        assert_eq!(blobs.len(), 1);
    }

    fn blob_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir.join(FOLDER).join(BUILD).join(BLOBS))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn what_a_killed_build_wrote_is_swept_by_the_next_published_one() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        cache
            .put("a", serde_json::json!(1), &[("x", b"x")])
            .unwrap();
        cache.save(true).unwrap();
        drop(cache);
        // A build stores `b`, then dies before saving: no index names its
        // file, and the marker says the folder must be listed.
        let cache = Cache::open(dir.path(), false).unwrap();
        cache
            .put("b", serde_json::json!(2), &[("y", b"y")])
            .unwrap();
        std::mem::forget(cache);
        assert_eq!(blob_names(dir.path()).len(), 2);
        // (The killed build's lock went with its process; here, with the
        // test's: take the lock file away instead.)
        let build = dir.path().join(FOLDER).join(BUILD);
        fs::remove_file(build.join("lock")).unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        assert!(cache.get("a").is_some());
        assert!(
            cache.get("b").is_none(),
            "the killed build's index was never written"
        );
        cache.save(true).unwrap();
        drop(cache);
        assert_eq!(blob_names(dir.path()), vec!["a-x".to_string()]);
        assert!(!build.join(UNSWEPT).exists());
    }

    #[test]
    fn a_prepared_index_is_the_one_saved_after_publishing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        cache
            .put("a", serde_json::json!(1), &[("x", b"x")])
            .unwrap();
        cache.prepare_publish().unwrap();
        cache.save(true).unwrap();
        drop(cache);
        let cache = Cache::open(dir.path(), false).unwrap();
        assert_eq!(cache.get("a").unwrap().data::<u32>(), Some(1));
        // Publishing failed after all: the prepared index is not used, and
        // what the earlier builds made is kept.
        cache
            .put("b", serde_json::json!(2), &[("y", b"y")])
            .unwrap();
        cache.prepare_publish().unwrap();
        cache.save(false).unwrap();
        drop(cache);
        let cache = Cache::open(dir.path(), false).unwrap();
        assert!(cache.get("a").is_some() && cache.get("b").is_some());
    }

    #[test]
    fn unchanged_sources_are_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.png");
        fs::write(&file, b"picture").unwrap();
        // Pretend the file was written long before the index.
        let old = SystemTime::now() - Duration::from_secs(60);
        File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let cache = Cache::open(dir.path(), false).unwrap();
        let meta = |f: &Path| fs::metadata(f).unwrap();
        let (sha, bytes) = cache.source_hash("p.png", &file, &meta(&file)).unwrap();
        assert!(bytes.is_some());
        cache.save(true).unwrap();
        drop(cache);
        let cache = Cache::open(dir.path(), false).unwrap();
        let (again, bytes) = cache.source_hash("p.png", &file, &meta(&file)).unwrap();
        assert_eq!(again, sha);
        // ctime is "now" in this test, so the file counts as racy and is read
        // again; that is the safe side.
        let _ = bytes;
        fs::write(&file, b"another picture").unwrap();
        let (changed, bytes) = cache.source_hash("p.png", &file, &meta(&file)).unwrap();
        assert_ne!(changed, sha);
        assert!(bytes.is_some());
    }
}
