//! Any text as inline HTML: through the tokenizer of `src/parse/html.rs`,
//! then in a step's action through the parser and the page renderer, held to
//! the rules of tests/common/safe_html.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)] // each target uses part of it
#[path = "../../tests/common/safe_html.rs"]
mod safe_html;

fuzz_target!(|data: &[u8]| {
    let fragment = String::from_utf8_lossy(data);
    if let Err(e) = safe_html::inline_html(&fragment) {
        panic!("{e}");
    }
});
