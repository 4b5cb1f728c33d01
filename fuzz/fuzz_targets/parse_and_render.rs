//! Any bytes as a procedure file: the parser and the page renderer must not
//! panic, every diagnostic must lie inside the file, and the page body must
//! hold only what `src/render/html.rs` writes on purpose. The rules are those
//! of the property tests (tests/robustness.rs), from the same file.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)] // each target uses part of it
#[path = "../../tests/common/safe_html.rs"]
mod safe_html;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = safe_html::parse_and_render(data) {
        panic!("{e}");
    }
});
