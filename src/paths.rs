//! Where a link or image address in a procedure points, decided from its text
//! alone (the checker adds what only the file system can tell, such as
//! symbolic links).

use std::path::{Component, Path, PathBuf};

/// The folder that holds the procedures, relative to the site root.
pub const PROCEDURES: &str = "procedures";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `#fragment` on the same page.
    Fragment(String),
    /// An address with a scheme (`https:`, `mailto:`, `javascript:`...),
    /// lowercased as a browser reads it; `//host/x` counts as `https`.
    Scheme(String),
    /// `/x` or `C:\x`: absolute on some machine, not part of the site.
    Absolute,
    /// A relative path whose `..` climbs out of `procedures/`.
    Escapes,
    /// A file inside `procedures/`, relative to the site root, and the
    /// fragment after `#` if any.
    Local(PathBuf, Option<String>),
}

/// The scheme of an address as a browser sees it: tabs and newlines inside it
/// and control characters around it do not hide `javascript:`.
pub fn scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let colon = cleaned.find(':')?;
    let name = &cleaned[..colon];
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    (first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then(|| name.to_ascii_lowercase())
}

/// Resolve `dest`, written in the Markdown file `md_file` (relative to the
/// site root), to what it points at.
pub fn resolve(md_file: &Path, dest: &str) -> Target {
    let dest = dest.trim();
    if let Some(fragment) = dest.strip_prefix('#') {
        return Target::Fragment(fragment.to_string());
    }
    if dest.starts_with("//") || dest.starts_with("\\\\") {
        return Target::Scheme("https".to_string());
    }
    match scheme(dest) {
        // A single letter is a Windows drive (`C:\...`), not a scheme.
        Some(s) if s.len() == 1 => return Target::Absolute,
        Some(s) => return Target::Scheme(s),
        None => {}
    }
    let (path_part, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f.to_string())),
        None => (dest, None),
    };
    let path_part = path_part.split('?').next().unwrap_or("");
    if path_part.starts_with('/') || path_part.starts_with('\\') {
        return Target::Absolute;
    }
    let decoded = percent_decode(path_part);
    let mut out: Vec<String> = md_file
        .parent()
        .unwrap_or(Path::new(""))
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    for part in decoded.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
                if out.is_empty() {
                    return Target::Escapes;
                }
            }
            p => out.push(p.to_string()),
        }
    }
    if out.first().map(String::as_str) != Some(PROCEDURES) {
        return Target::Escapes;
    }
    Target::Local(out.iter().collect(), fragment)
}

/// `%20` and friends decoded; anything malformed is kept as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(p: &str) -> Target {
        Target::Local(PathBuf::from(p), None)
    }

    #[test]
    fn relative_paths_resolve_inside_procedures() {
        let md = Path::new("procedures/link.md");
        assert_eq!(
            resolve(md, "images/a.png"),
            local("procedures/images/a.png")
        );
        assert_eq!(
            resolve(md, "./images/../images/a.png"),
            local("procedures/images/a.png")
        );
        assert_eq!(
            resolve(md, "my%20shot.png"),
            local("procedures/my shot.png")
        );
        let bundle = Path::new("procedures/link/index.md");
        assert_eq!(
            resolve(bundle, "../images/a.png"),
            local("procedures/images/a.png")
        );
        assert_eq!(
            resolve(md, "other.md#step-3"),
            Target::Local(PathBuf::from("procedures/other.md"), Some("step-3".into()))
        );
    }

    #[test]
    fn paths_that_leave_are_caught() {
        let md = Path::new("procedures/link.md");
        assert_eq!(resolve(md, "../secret.png"), Target::Escapes);
        assert_eq!(resolve(md, "images/../../x.png"), Target::Escapes);
        assert_eq!(resolve(md, "/etc/passwd"), Target::Absolute);
        assert_eq!(resolve(md, "C:\\shots\\a.png"), Target::Absolute);
    }

    #[test]
    fn schemes_are_read_as_a_browser_reads_them() {
        let md = Path::new("procedures/link.md");
        assert_eq!(
            resolve(md, "JavaScript:alert(1)"),
            Target::Scheme("javascript".into())
        );
        assert_eq!(
            scheme(" java\tscript:alert(1)").as_deref(),
            Some("javascript")
        );
        assert_eq!(
            resolve(md, "//evil.example/x.png"),
            Target::Scheme("https".into())
        );
        assert_eq!(resolve(md, "#step-3"), Target::Fragment("step-3".into()));
        assert_eq!(scheme("images/a:b.png"), None);
    }
}
