//! `procdoc new "Title"`: a procedure skeleton that passes `check`, with
//! placeholder text that tells the editor what to write where.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use super::status;
use crate::diag::display_path;
use crate::import::{slug_problem, toml_string};
use crate::model::{Date, slugify};
use crate::paths::PROCEDURES;

pub fn run(root: &Path, title: &str, category: Option<&str>) -> ExitCode {
    let procedures = procedures_folder(root);
    if !procedures.is_dir() {
        eprintln!("error: {}", no_procedures_folder(root));
        return ExitCode::from(status::COULD_NOT_RUN);
    }
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let slug = slugify(&title);
    if let Some(problem) = slug_problem(&slug) {
        eprintln!("error: the title \"{title}\" cannot be used: {problem}");
        eprintln!(
            "hint: give a title in words that says what the reader does, such as: procdoc new \"File a Motion\""
        );
        return ExitCode::from(status::PROBLEMS);
    }
    let path = procedures.join(format!("{slug}.md"));
    let bundle = procedures.join(&slug).join("index.md");
    for existing in [&path, &bundle] {
        if existing.exists() {
            eprintln!(
                "error: {} already exists; procdoc new never overwrites a procedure",
                display_path(existing)
            );
            eprintln!("hint: open that file to change it, or give the new procedure another title");
            return ExitCode::from(status::PROBLEMS);
        }
    }
    let text = skeleton(&title, category, today_utc());
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        eprintln!("error: cannot write {}: {e}", display_path(&path));
        return ExitCode::from(status::COULD_NOT_RUN);
    }
    println!("wrote {}", display_path(&path));
    eprintln!("next: replace the placeholder text in it, then run procdoc check");
    ExitCode::from(status::OK)
}

/// `procedures/` as the user sees it from where they stand.
pub fn procedures_folder(root: &Path) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(PROCEDURES)
    } else {
        root.join(PROCEDURES)
    }
}

/// The message when a site has no `procedures/` folder (as `check` says it).
pub fn no_procedures_folder(root: &Path) -> String {
    let place = if root == Path::new(".") || root.as_os_str().is_empty() {
        "this folder".to_string()
    } else {
        root.display().to_string()
    };
    format!(
        "no {PROCEDURES}/ folder in {place}: run procdoc in the site's folder, or name it with --root"
    )
}

/// The new procedure's text.
pub fn skeleton(title: &str, category: Option<&str>, updated: Date) -> String {
    let mut out = String::from("+++\n");
    out.push_str(&format!("title = {}\n", toml_string(title)));
    out.push_str(
        "summary = \"Replace this with one sentence that says what the reader can do with this procedure.\"\n",
    );
    if let Some(c) = category.map(str::trim).filter(|c| !c.is_empty()) {
        out.push_str(&format!("category = {}\n", toml_string(c)));
    }
    out.push_str(&format!("updated = {updated}\n"));
    out.push_str("+++\n");
    out.push_str(
        "
## Steps

| Step | Action |
|-----:|--------|
| 1 | Replace this text with the first thing the reader does, such as: Go to the court's website. |
| 2 | Write one action per row. Put the words the reader sees on the screen in bold, such as: Click **Utilities**. |
| 3 | To add a screenshot, save it in procedures/images/ and write `![What the screenshot shows](images/file-name.png)` in the row, without the backticks. Add a row for each further action, numbered 4, 5, 6 and so on. |
",
    );
    out
}

/// Today's date in UTC, from the system clock.
pub fn today_utc() -> Date {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    date_from_days((secs / 86_400) as i64)
}

/// The civil date `days` after 1970-01-01 (Howard Hinnant's algorithm).
pub fn date_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date {
        year: year as u16,
        month: month as u8,
        day: day as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_since_1970_are_calendar_dates() {
        let d = |days| date_from_days(days).to_string();
        assert_eq!(d(0), "1970-01-01");
        assert_eq!(d(18_806), "2021-06-28");
        assert_eq!(d(11_016), "2000-02-29");
        assert_eq!(d(11_017), "2000-03-01");
        assert_eq!(d(19_722), "2023-12-31");
        assert_eq!(d(19_723), "2024-01-01");
        assert_eq!(d(2_932_896), "9999-12-31");
    }
}
