//! Compiles the shipped themes into the binary, so that a site folder with
//! only `procdoc.toml` and `procedures/` builds. Every file under `themes/`
//! becomes an entry of `THEME_FILES` (theme name, path in the theme, bytes).
//!
//! It also hashes procdoc's own code (`src/` and `Cargo.lock`) into
//! `PROCDOC_CODE_HASH`: the build cache drops what another build of procdoc
//! made, even one with the same version number.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=themes");
    let mut files = Vec::new();
    collect(Path::new("themes"), &mut files);
    files.sort();
    let mut out = String::from("pub static THEME_FILES: &[(&str, &str, &[u8])] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path.strip_prefix("themes").unwrap();
        let mut parts = rel
            .iter()
            .map(|p| p.to_str().expect("theme file names are UTF-8"));
        let theme = parts.next().unwrap();
        let inner: Vec<&str> = parts.collect();
        let abs = std::fs::canonicalize(path).unwrap();
        let _ = writeln!(
            out,
            "    ({theme:?}, {:?}, include_bytes!({:?})),",
            inner.join("/"),
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("themes.rs");
    std::fs::write(dest, out).unwrap();

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.lock");
    let mut code = Vec::new();
    collect(Path::new("src"), &mut code);
    code.push(PathBuf::from("Cargo.lock"));
    code.sort();
    // SipHash with fixed keys: the same code gives the same number.
    let mut hasher = std::hash::DefaultHasher::new();
    for path in &code {
        path.hash(&mut hasher);
        std::fs::read(path).unwrap_or_default().hash(&mut hasher);
    }
    println!("cargo:rustc-env=PROCDOC_CODE_HASH={:016x}", hasher.finish());
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
