//! `PROCDOC_TIMINGS=1`: when each stage of a build ended, on standard error,
//! counted from the first mark (for the benchmark notes in
//! docs/PERFORMANCE.md; nothing is printed without the variable).

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<&'static Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    START
        .get_or_init(|| std::env::var_os("PROCDOC_TIMINGS").map(|_| Instant::now()))
        .as_ref()
}

/// Whether timings are being printed.
pub fn enabled() -> bool {
    start().is_some()
}

/// Note that `stage` is done.
pub fn mark(stage: &str) {
    if let Some(start) = start() {
        // Resident memory (Linux): the second field of statm, in pages.
        let resident = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|pages| format!(", {} MB resident", pages * 4096 / 1_000_000))
            .unwrap_or_default();
        eprintln!(
            "timing: {stage} done at {:.3} s{resident}",
            start.elapsed().as_secs_f64()
        );
    }
}
