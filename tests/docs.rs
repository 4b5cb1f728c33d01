//! The table of diagnostics in docs/diagnostics.md lists every code with its
//! summary and hint, as the binary has them. `PROCDOC_BLESS=1` rewrites it.

use std::path::Path;

use procdoc::diag::{Code, Severity};

const START: &str = "<!-- codes:start -->\n";
const END: &str = "<!-- codes:end -->";

fn table() -> String {
    let mut out = String::from(
        "| Code | Kind | What it means | Hint |\n|------|------|---------------|------|\n",
    );
    for code in Code::ALL {
        let kind = match code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', "<br>");
        out.push_str(&format!(
            "| {} | {kind} | {} | {} |\n",
            code.id(),
            cell(code.summary()),
            cell(code.hint())
        ));
    }
    out
}

#[test]
fn the_diagnostics_table_lists_every_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md");
    let doc = std::fs::read_to_string(&path).expect("docs/diagnostics.md");
    let start = doc.find(START).expect("start marker") + START.len();
    let end = doc.find(END).expect("end marker");
    if std::env::var_os("PROCDOC_BLESS").is_some() {
        std::fs::write(
            &path,
            format!("{}{}{}", &doc[..start], table(), &doc[end..]),
        )
        .unwrap();
        return;
    }
    assert_eq!(
        &doc[start..end],
        table(),
        "docs/diagnostics.md is out of date: run PROCDOC_BLESS=1 cargo test --test docs"
    );
}
