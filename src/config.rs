//! `procdoc.toml`: the site's settings.

use std::path::Path;

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, SourceFile};
use crate::parse::front::is_language_tag;

pub const FILE: &str = "procdoc.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// The site's name, shown in every page's header.
    pub title: String,
    /// The court (or office) that publishes the procedures.
    pub court: String,
    /// Where the site is published, such as `https://www.example.uscourts.gov/procedures/`.
    pub base_url: Option<String>,
    /// The language of the procedures, as a language tag.
    pub language: String,
    /// A folder under `themes/`.
    pub theme: String,
    pub paper: Paper,
    pub images: ImageLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "Procedures".to_string(),
            court: String::new(),
            base_url: None,
            language: "en".to_string(),
            theme: "default".to_string(),
            paper: Paper::Letter,
            images: ImageLimits::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    Letter,
    A4,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ImageLimits {
    /// A screenshot with more pixels than this is refused (it is read from the
    /// file's header, so a decompression bomb is never decoded).
    pub max_pixels: u64,
    /// A screenshot file larger than this is refused.
    pub max_bytes: u64,
    /// Above this, a picture gets a warning: it is slow to load on a phone.
    pub web_max_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_pixels: 25_000_000,
            max_bytes: 20 * 1024 * 1024,
            web_max_bytes: 1024 * 1024,
        }
    }
}

/// Read `procdoc.toml` from the site root. A missing file means the defaults;
/// an invalid one is reported and the defaults are used, so the procedures
/// are still checked.
pub fn load(root: &Path, diags: &mut Vec<Diagnostic>) -> Config {
    let path = root.join(FILE);
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Config::default(),
        Err(e) => {
            diags.push(Diagnostic::file(
                FILE,
                Code::Unreadable,
                format!("cannot read {FILE}: {e}"),
            ));
            return Config::default();
        }
    };
    let source = SourceFile::new(FILE, text);
    let config: Config = match toml::from_str(&source.text) {
        Ok(c) => c,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid settings")
                .to_string();
            let mut d = source.diag(Code::ConfigInvalid, span, message.clone());
            if let Some(hint) = unknown_field_hint(&message) {
                d = d.with_hint(hint);
            }
            diags.push(d);
            return Config::default();
        }
    };
    let at = |key: &str| {
        let start = source.text.find(key).unwrap_or(0);
        start..start + key.len()
    };
    if !is_language_tag(&config.language) {
        diags.push(
            source
                .diag(
                    Code::ConfigInvalid,
                    at("language"),
                    format!("`{}` is not a language tag", config.language),
                )
                .with_hint(
                    "write a language tag such as language = \"en\" or language = \"es-US\"",
                ),
        );
    }
    if let Some(url) = &config.base_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        diags.push(
                source
                    .diag(Code::ConfigInvalid, at("base-url"), format!("`{url}` is not a web address"))
                    .with_hint("write the full address the site is published at, such as base-url = \"https://www.example.uscourts.gov/procedures/\""),
            );
    }
    config
}

/// serde says "unknown field `titel`, expected one of `title`, `court`, ...";
/// turn that into "did you mean `title`?".
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let list = names.join(", ");
    Some(match crate::diag::did_you_mean(field, &names) {
        Some(close) => format!("did you mean `{close}`? The settings here are {list}"),
        None => format!("the settings here are {list}"),
    })
}

impl Config {
    /// The base URL with exactly one trailing slash.
    pub fn base_url(&self) -> Option<String> {
        self.base_url
            .as_ref()
            .map(|u| format!("{}/", u.trim_end_matches('/')))
    }
}
