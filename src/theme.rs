//! Themes: Tera templates, static files and `theme.toml`, layered.
//!
//! A theme's files come, lowest layer first, from the theme it extends, the
//! themes compiled into procdoc, the site's `themes/<name>/` folder, and the
//! site's own `templates/` (which overrides single templates). `theme.toml`
//! holds the colours, fonts and logo that the page and the handout share.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/themes.rs"));

/// One file of a theme, and where it came from (for error messages).
#[derive(Debug, Clone)]
pub struct ThemeFile {
    pub bytes: Cow<'static, [u8]>,
    /// The file on disk, or `(built in) themes/<name>/<path>`.
    pub origin: String,
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub settings: Settings,
    /// By path inside the theme: `templates/base.html`, `static/style.css`.
    pub files: BTreeMap<String, ThemeFile>,
}

/// `theme.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Shown to the web team; not published.
    pub name: String,
    /// A theme whose files this one starts from.
    #[serde(default)]
    pub extends: Option<String>,
    pub light: Palette,
    pub dark: Palette,
    pub fonts: Fonts,
    /// A picture in the theme, such as `static/logo.svg`, shown in the header.
    #[serde(default)]
    pub logo: Option<String>,
}

/// The colours of one scheme. The page's CSS reads them as custom
/// properties (`--background`, `--accent`...); the handout reads the light one.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Palette {
    pub background: String,
    pub surface: String,
    pub text: String,
    pub muted: String,
    pub border: String,
    pub accent: String,
    pub link: String,
    pub focus: String,
    pub header_background: String,
    pub header_text: String,
    pub note: String,
    pub tip: String,
    pub important: String,
    pub warning: String,
    pub caution: String,
}

/// Font files in the theme (TTF or OTF), for the handout; the page's CSS
/// loads its own web copies.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Fonts {
    pub family: String,
    pub regular: String,
    pub bold: String,
    pub italic: String,
    pub bold_italic: String,
}

/// Why a theme could not be used. The message names the file.
#[derive(Debug)]
pub struct ThemeError(pub String);

impl std::fmt::Display for ThemeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names of the themes compiled into procdoc.
pub fn built_in_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = THEME_FILES.iter().map(|(t, _, _)| *t).collect();
    names.dedup();
    names
}

fn available(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = built_in_names().into_iter().map(String::from).collect();
    if let Ok(entries) = std::fs::read_dir(root.join("themes")) {
        for e in entries.flatten() {
            if e.path().join("theme.toml").is_file() {
                names.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Load the theme `name` for the site at `root`, with every layer applied.
/// The selected theme's `theme.toml` is the one used; the themes it extends
/// contribute their files.
pub fn load(root: &Path, name: &str) -> Result<Theme, ThemeError> {
    let mut chain: Vec<String> = Vec::new();
    let mut layers = Vec::new();
    let mut selected: Option<Settings> = None;
    let mut next = Some(name.to_string());
    while let Some(current) = next {
        if chain.contains(&current) {
            return Err(ThemeError(format!(
                "themes/{}/theme.toml: themes extend each other in a circle ({} → {current})",
                chain.last().map(String::as_str).unwrap_or(name),
                chain.join(" → ")
            )));
        }
        let files = theme_layer(root, &current)?;
        let Some(toml_file) = files.get("theme.toml") else {
            let known = available(root).join(", ");
            return Err(ThemeError(match chain.last() {
                None => format!(
                    "the theme `{current}` does not exist: there is no themes/{current}/theme.toml (the themes here are {known})"
                ),
                Some(child) => format!(
                    "themes/{child}/theme.toml: extends `{current}`, which does not exist (the themes here are {known})"
                ),
            }));
        };
        let text = String::from_utf8_lossy(&toml_file.bytes);
        let settings: Settings = toml::from_str(&text).map_err(|e| {
            ThemeError(format!(
                "{}: {}",
                toml_file.origin,
                e.to_string().trim_end()
            ))
        })?;
        next = settings.extends.clone();
        chain.push(current);
        layers.push(files);
        selected.get_or_insert(settings);
    }
    // Lowest layer first: the base theme, then each theme extending it.
    let mut files = BTreeMap::new();
    for layer in layers.into_iter().rev() {
        files.extend(layer);
    }
    // The site's own templates override single files of the theme.
    for (rel, file) in read_dir_files(&root.join("templates"))? {
        files.insert(format!("templates/{rel}"), file);
    }
    Ok(Theme {
        name: name.to_string(),
        settings: selected.expect("the loop reads at least one theme"),
        files,
    })
}

/// The files of one theme: the built-in copy, overlaid by `themes/<name>/`.
fn theme_layer(root: &Path, name: &str) -> Result<BTreeMap<String, ThemeFile>, ThemeError> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(ThemeError(format!("`{name}` is not a theme name")));
    }
    let mut files: BTreeMap<String, ThemeFile> = THEME_FILES
        .iter()
        .filter(|(t, _, _)| *t == name)
        .map(|(t, p, bytes)| {
            (
                p.to_string(),
                ThemeFile {
                    bytes: Cow::Borrowed(*bytes),
                    origin: format!("(built in) themes/{t}/{p}"),
                },
            )
        })
        .collect();
    files.extend(read_dir_files(&root.join("themes").join(name))?);
    Ok(files)
}

/// Every file under `dir`, by its path relative to `dir` with `/` separators.
fn read_dir_files(dir: &Path) -> Result<BTreeMap<String, ThemeFile>, ThemeError> {
    let mut files = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| ThemeError(format!("cannot read {}: {e}", dir.display())))?;
        if !entry.file_type().is_file() || entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let rel: PathBuf = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .into();
        let bytes = std::fs::read(entry.path())
            .map_err(|e| ThemeError(format!("cannot read {}: {e}", entry.path().display())))?;
        let key = rel
            .iter()
            .map(|p| p.to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        files.insert(
            key,
            ThemeFile {
                bytes: Cow::Owned(bytes),
                origin: entry
                    .path()
                    .strip_prefix(".")
                    .unwrap_or(entry.path())
                    .display()
                    .to_string(),
            },
        );
    }
    Ok(files)
}

impl Theme {
    /// The theme's templates, by name (`base.html`, `partials/header.html`).
    pub fn templates(&self) -> impl Iterator<Item = (&str, &ThemeFile)> {
        self.files
            .iter()
            .filter_map(|(p, f)| p.strip_prefix("templates/").map(|n| (n, f)))
    }

    /// The theme's static files, by path under `static/`.
    pub fn statics(&self) -> impl Iterator<Item = (&str, &ThemeFile)> {
        self.files
            .iter()
            .filter_map(|(p, f)| p.strip_prefix("static/").map(|n| (n, f)))
    }

    /// The colours as CSS custom properties, light by default and dark when
    /// the reader's system asks for it.
    pub fn palette_css(&self) -> String {
        let vars = |p: &Palette| {
            let pairs = [
                ("background", &p.background),
                ("surface", &p.surface),
                ("text", &p.text),
                ("muted", &p.muted),
                ("border", &p.border),
                ("accent", &p.accent),
                ("link", &p.link),
                ("focus", &p.focus),
                ("header-background", &p.header_background),
                ("header-text", &p.header_text),
                ("note", &p.note),
                ("tip", &p.tip),
                ("important", &p.important),
                ("warning", &p.warning),
                ("caution", &p.caution),
            ];
            pairs
                .iter()
                .map(|(k, v)| format!("  --{k}: {v};\n"))
                .collect::<String>()
        };
        format!(
            "/* Generated by procdoc from theme.toml ({}). */\n:root {{\n  color-scheme: light dark;\n{}}}\n@media (prefers-color-scheme: dark) {{\n  :root {{\n{}  }}\n}}\n",
            self.settings.name,
            vars(&self.settings.light),
            vars(&self.settings.dark)
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>()
        )
    }
}
