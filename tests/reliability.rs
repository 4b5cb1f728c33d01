//! Reliability of what a build publishes.
//!
//! - Crash-safe publishing: a build killed (SIGKILL) at any moment leaves
//!   `output/` as the old site or the new one, byte for byte, never a mix or
//!   nothing; the next build succeeds and publishes exactly what a clean
//!   build of the new content publishes, whatever the killed build left in
//!   the staging folder, the spare or the cache.
//! - Reproducible builds: the same content gives the same bytes in another
//!   folder, with other file times, cold or from the cache; the handouts'
//!   dates come from `updated` or `SOURCE_DATE_EPOCH`, never the clock.
//!
//! The kill test is seeded (`PROCDOC_KILL_SEED`, printed) and its number of
//! rounds can be raised with `PROCDOC_KILL_ROUNDS`:
//! `PROCDOC_KILL_SEED=42 PROCDOC_KILL_ROUNDS=100 cargo test --test reliability -- --nocapture`.
// Both halves are about handouts too (cached PDFs linked into the site, PDF
// dates), and the kill test sends Unix signals.
#![cfg(all(unix, feature = "pdf"))]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{copy_dir, repo, skip_for};

/// The procdoc under test, hard-linked under a name of our own: another
/// `cargo build` in the same target folder may replace the binary while these
/// tests run, and one comparison must never mix two procdocs.
fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let built = Path::new(env!("CARGO_BIN_EXE_procdoc"));
        let ours = Path::new(env!("CARGO_TARGET_TMPDIR")).join("procdoc-reliability");
        let _ = fs::remove_file(&ours);
        match fs::hard_link(built, &ours) {
            Ok(()) => ours,
            Err(_) => built.to_path_buf(),
        }
    })
}

/// procdoc run in `dir`, with no date or timing settings from the caller.
fn procdoc(dir: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("PROCDOC_TIMINGS")
        .stdin(Stdio::null());
    c
}

/// Run a command that must publish; its standard error.
fn must_publish(mut c: Command) -> String {
    let out = c.output().expect("procdoc runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "the build failed: {stderr}");
    assert!(stderr.contains("published "), "{stderr}");
    stderr
}

fn build(site: &Path) -> String {
    let mut c = procdoc(site);
    c.arg("build");
    must_publish(c)
}

/// One entry of a published folder.
#[derive(PartialEq, Eq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

/// A published folder, whole: every folder, file (with its bytes) and link,
/// hidden ones included, by path. `None` when there is no folder.
type Tree = BTreeMap<String, Node>;

fn tree(out: &Path) -> Option<Tree> {
    if !fs::symlink_metadata(out).ok()?.is_dir() {
        return None;
    }
    let mut all = Tree::new();
    for entry in walkdir::WalkDir::new(out).min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(out).unwrap();
        let rel = rel.to_str().unwrap().to_string();
        let kind = entry.file_type();
        let node = if kind.is_symlink() {
            Node::Link(fs::read_link(entry.path()).unwrap())
        } else if kind.is_dir() {
            Node::Dir
        } else {
            Node::File(fs::read(entry.path()).unwrap())
        };
        all.insert(rel, node);
    }
    Some(all)
}

/// The paths at which two trees differ, for a failure message.
fn differences(a: &Tree, b: &Tree) -> Vec<String> {
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    paths
        .into_iter()
        .filter(|p| a.get(*p) != b.get(*p))
        .map(|p| match (a.contains_key(p), b.contains_key(p)) {
            (true, false) => format!("{p} (only in the first)"),
            (false, true) => format!("{p} (only in the second)"),
            _ => format!("{p} (different bytes)"),
        })
        .collect()
}

fn assert_same(a: &Tree, b: &Tree, what: &str) {
    let diff = differences(a, b);
    assert!(diff.is_empty(), "{what}: the trees differ at {diff:#?}");
}

/// The content the sites start with ("A"): the three-procedure fixture and
/// the real site's procedure, four handouts and four screenshots.
fn content_a(site: &Path) {
    copy_dir(&repo().join("tests/fixtures/site/multi"), site);
    let procedures = site.join("procedures");
    fs::copy(
        repo().join("procedures/link-cmecf-pacer.md"),
        procedures.join("link-cmecf-pacer.md"),
    )
    .unwrap();
    for picture in ["efiling-link.png", "pacer-login.png"] {
        fs::copy(
            repo().join("procedures/images").join(picture),
            procedures.join("images").join(picture),
        )
        .unwrap();
    }
}

/// The content after an editor's day ("B"): a procedure edited, one added,
/// one removed, and a screenshot replaced by another picture.
fn content_b(site: &Path) {
    content_a(site);
    let procedures = site.join("procedures");
    let motion = procedures.join("file-a-motion.md");
    let text = fs::read_to_string(&motion).unwrap();
    let edited = text.replace("Check the receipt.", "Check the receipt and keep a copy.");
    assert_ne!(text, edited);
    fs::write(&motion, edited).unwrap();
    fs::write(
        procedures.join("pay-a-filing-fee.md"),
        "+++\ntitle = \"Pay a Filing Fee\"\ncategory = \"E-Filing (CM/ECF)\"\nupdated = 2024-03-01\n+++\n\n\
         | Step | Action |\n|-----:|--------|\n\
         | 1 | Open the receipt. ![The receipt page with the document number.](images/small.png) |\n\
         | 2 | Select **Pay now** and follow [the linking guide](link-accounts.md) if asked to log in. |\n",
    )
    .unwrap();
    fs::remove_file(procedures.join("jury-duty.md")).unwrap();
    // Same size, other pixels: new web copies and a new handout.
    let wide = procedures.join("images/wide.png");
    image::open(&wide).unwrap().fliph().save(&wide).unwrap();
}

/// Replace the site's sources with those of `content` (a folder).
fn switch_to(site: &Path, content: &Path) {
    fs::remove_dir_all(site.join("procedures")).unwrap();
    copy_dir(&content.join("procedures"), &site.join("procedures"));
}

/// What a clean build (no cache, nothing published before) of `content`
/// publishes, built in a folder of its own.
fn clean_build(content: &Path) -> Tree {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(content, dir.path());
    build(dir.path());
    tree(&dir.path().join("output")).unwrap()
}

// ---------------------------------------------------------------------------
// Crash-safe publishing
// ---------------------------------------------------------------------------

/// A small seeded generator (splitmix64): the same seed, the same kills.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, max].
    fn up_to(&mut self, max: Duration) -> Duration {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        max.mul_f64(unit)
    }
}

/// The build's stages, as `PROCDOC_TIMINGS=1` marks their ends on standard
/// error, in order.
const MARKS: [&str; 14] = [
    "start",
    "open the build cache",
    "find the files",
    "parse",
    "pictures",
    "check",
    "load and check",
    "theme and staging",
    "templates",
    "screenshots",
    "handouts and pages",
    "render",
    "publish",
    "save the build cache",
];

/// Where a build was when it died, from the last mark it printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Opening the cache, reading and checking: output/ and the spare are
    /// not touched yet.
    LoadAndCheck,
    /// `Staging::begin`: the staging folder made from the spare.
    BeginStaging,
    /// Writing the staging folder: screenshots linked, handouts laid out and
    /// stored in the cache, pages written over the spare's files.
    WriteStaging,
    /// `Staging::commit`: the sweep of what the spare held, the exchange,
    /// the replaced site set aside as the next spare.
    SweepAndSwap,
    /// The cache's index saved, blobs not used dropped.
    SaveCache,
    /// Exiting after everything was done.
    Exit,
    /// The build ended before the kill.
    Finished,
}

fn phase(marks: &[String], killed: bool) -> Phase {
    if !killed {
        return Phase::Finished;
    }
    let last = marks
        .iter()
        .filter_map(|l| l.strip_prefix("timing: "))
        .filter_map(|l| l.split(" done at ").next())
        .filter_map(|stage| MARKS.iter().position(|m| *m == stage))
        .max();
    let at = |name: &str| MARKS.iter().position(|m| *m == name).unwrap();
    match last {
        None => Phase::LoadAndCheck,
        Some(i) if i < at("load and check") => Phase::LoadAndCheck,
        Some(i) if i < at("theme and staging") => Phase::BeginStaging,
        Some(i) if i < at("render") => Phase::WriteStaging,
        Some(i) if i < at("publish") => Phase::SweepAndSwap,
        Some(i) if i < at("save the build cache") => Phase::SaveCache,
        Some(_) => Phase::Exit,
    }
}

/// When to send the kill: a delay after the build starts, or after it
/// prints the end of a stage.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    Start,
    After(&'static str),
}

/// Start `procdoc build` in `site` and SIGKILL it `delay` after `trigger`;
/// where it was when it died, and the stages it finished (see
/// [`Windows::learn`]).
fn build_and_kill(site: &Path, trigger: Trigger, delay: Duration) -> (Phase, String) {
    let mut child = procdoc(site)
        .arg("build")
        .env("PROCDOC_TIMINGS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("procdoc starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    if let Trigger::After(stage) = trigger {
        let wanted = format!("timing: {stage} done");
        // Ends with the mark, or when the build ends without it.
        while let Ok(line) = rx.recv() {
            if line.starts_with(&wanted) {
                break;
            }
        }
    }
    std::thread::sleep(delay);
    // SIGKILL; a build that already ended is left as it is.
    let _ = child.kill();
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    let killed = status.signal() == Some(9);
    assert!(
        killed || status.success(),
        "a build that was not killed published: {status:?}\n{}",
        lines.join("\n")
    );
    (phase(&lines, killed), lines.join("\n"))
}

/// The seconds at which each stage of a build ended.
fn stage_times(stderr: &str) -> BTreeMap<String, f64> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("timing: "))
        .filter_map(|l| l.split_once(" done at "))
        .filter_map(|(stage, at)| Some((stage.to_string(), at.strip_suffix(" s")?.parse().ok()?)))
        .collect()
}

/// How long a build takes on this machine now, and its stages that a kill
/// aims at; learnt again from every build that gets that far, since other
/// work on the machine makes them longer or shorter.
struct Windows {
    /// From start to exit.
    whole: Duration,
    /// Writing the staging folder: from the "theme and staging" mark to the
    /// "render" mark.
    writing: Duration,
    /// The commit (sweep, swap, spare set aside): "render" to "publish".
    committing: Duration,
}

impl Windows {
    /// Take what a build's `PROCDOC_TIMINGS` marks show; the commit's only
    /// from a build that had the removed procedures to sweep.
    fn learn(&mut self, stderr: &str, swept_removed: bool) {
        let times = stage_times(stderr);
        let at = |stage: &str| times.get(stage).map(|s| Duration::from_secs_f64(*s));
        if let (Some(staged), Some(rendered)) = (at("theme and staging"), at("render")) {
            self.writing = rendered.saturating_sub(staged);
        }
        if let (true, Some(rendered), Some(published)) =
            (swept_removed, at("render"), at("publish"))
        {
            self.committing = published.saturating_sub(rendered);
        }
    }
}

/// A build that must publish, with its marks; how long it took.
fn timed_build(site: &Path, windows: &mut Windows, swept_removed: bool) -> String {
    let started = Instant::now();
    let mut c = procdoc(site);
    c.arg("build").env("PROCDOC_TIMINGS", "1");
    let stderr = must_publish(c);
    windows.whole = started.elapsed();
    windows.learn(&stderr, swept_removed);
    stderr
}

/// The staging folder and the spare a killed build may leave; each gets a
/// file that no build writes, which must never be published.
fn plant_in_leftovers(site: &Path) -> (bool, bool) {
    const PLANTED: &str = "planted-by-the-kill-test.html";
    let staging = site.join(".output.procdoc-new");
    let staged = staging.is_dir();
    if staged {
        fs::write(staging.join(PLANTED), "left over").unwrap();
    }
    let spares = site.join(".procdoc-cache/build/spare");
    let mut spare = false;
    for s in fs::read_dir(&spares).into_iter().flatten().flatten() {
        if s.path().is_dir() {
            spare = true;
            fs::write(s.path().join(PLANTED), "left over").unwrap();
        }
    }
    (staged, spare)
}

fn has_spare(site: &Path) -> bool {
    fs::read_dir(site.join(".procdoc-cache/build/spare"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|s| s.path().is_dir())
}

/// Fill the spare with the folders of a site that has since shrunk (100
/// procedures removed, ten files each): the build must sweep them all from
/// its staging folder before the swap, which makes the sweep long enough for
/// a kill to land in it. False when there is no spare (a killed build took
/// it).
fn plant_removed_procedures(site: &Path) -> bool {
    let mut planted = false;
    for s in fs::read_dir(site.join(".procdoc-cache/build/spare"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for i in 0..100 {
            let folder = s.path().join(format!("removed-procedure-{i}"));
            fs::create_dir_all(&folder).unwrap();
            for j in 0..10 {
                fs::write(folder.join(format!("file-{j}.html")), "removed").unwrap();
            }
        }
        planted = true;
    }
    planted
}

#[test]
fn a_killed_build_leaves_the_old_site_or_the_new_one_and_the_next_build_publishes() {
    let seed = std::env::var("PROCDOC_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let rounds: usize = std::env::var("PROCDOC_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!("kill test: seed {seed} (PROCDOC_KILL_SEED={seed} replays it), {rounds} rounds");
    let mut rng = Rng(seed);
    let test_started = Instant::now();

    let contents = tempfile::tempdir().unwrap();
    let (a, b) = (contents.path().join("a"), contents.path().join("b"));
    content_a(&a);
    content_b(&b);
    let clean = [clean_build(&a), clean_build(&b)];
    assert_ne!(
        differences(&clean[0], &clean[1]).len(),
        0,
        "the two contents publish different sites"
    );

    let dir = tempfile::tempdir().unwrap();
    let site = dir.path();
    let out = site.join("output");
    copy_dir(&a, site);
    build(site);
    assert_same(&tree(&out).unwrap(), &clean[0], "the first build");

    // How long a rebuild takes here (A to B: an edit, a new procedure, a
    // removed one, a changed screenshot, and a spare to sweep), and when its
    // stages end: the kills are spread over that.
    switch_to(site, &b);
    assert!(
        plant_removed_procedures(site),
        "the first build left a spare"
    );
    let mut windows = Windows {
        whole: Duration::ZERO,
        writing: Duration::ZERO,
        committing: Duration::ZERO,
    };
    timed_build(site, &mut windows, true);
    assert_same(&tree(&out).unwrap(), &clean[1], "the measured rebuild");
    println!(
        "a rebuild takes {:.3} s here: staging written in {:.3} s, 1,000 files swept and the site swapped in {:.3} s",
        windows.whole.as_secs_f64(),
        windows.writing.as_secs_f64(),
        windows.committing.as_secs_f64()
    );

    // Each round publishes the other content: B was just published, so the
    // first round goes back to A, the next to B, and so on; every rebuild
    // has real work (handouts and copies the last published build dropped
    // from the cache) and starts from the spare.
    let mut kills: BTreeMap<(Phase, &str), usize> = BTreeMap::new();
    let (mut leftover_staging, mut spare_in_use, mut finished, mut twice_in_a_row) = (0, 0, 0, 0);
    let mut current = 1;
    for round in 0..rounds {
        let target = 1 - current;
        switch_to(site, if target == 0 { &a } else { &b });
        let (old, new) = (&clean[current], &clean[target]);
        // Two kills in a row every fifth round.
        let attempts = if round % 5 == 4 { 2 } else { 1 };
        let mut published = false;
        let mut killed_here = 0;
        for attempt in 0..attempts {
            let spare_before = has_spare(site);
            // The directions (A to B, B to A) and the kinds of kill take
            // turns with different periods: every pair is met.
            let mut swept_removed = false;
            let (trigger, delay) = match (round + attempt) % 3 {
                // Anywhere in the build, a little past its end included.
                0 => (Trigger::Start, rng.up_to(windows.whole.mul_f64(1.05))),
                // While the staging folder (started from the spare) is
                // written.
                1 => (
                    Trigger::After("theme and staging"),
                    rng.up_to(windows.writing),
                ),
                // Near the swap: the sweep of a large spare, the exchange,
                // the replaced site set aside, the cache saved.
                _ => {
                    swept_removed = plant_removed_procedures(site);
                    (
                        Trigger::After("render"),
                        rng.up_to(windows.committing.mul_f64(1.2)),
                    )
                }
            };
            let published_before = published;
            let (at, marks) = build_and_kill(site, trigger, delay);
            windows.learn(&marks, swept_removed);
            let now = tree(&out).unwrap_or_else(|| {
                panic!("seed {seed}, round {round}: no output/ after a kill at {at:?} ({trigger:?} + {delay:?})")
            });
            let is = if now == *old && !published {
                "old"
            } else if now == *new {
                "new"
            } else {
                let against = if published { new } else { old };
                panic!(
                    "seed {seed}, round {round}: after a kill at {at:?} ({trigger:?} + {delay:?}), output/ is neither the old site nor the new one; against the {}: {:#?}",
                    if published { "new" } else { "old" },
                    differences(&now, against)
                );
            };
            published |= is == "new";
            // Before the commit, nothing is published; once the swap is
            // reported done, the new site is.
            if at <= Phase::WriteStaging && !published_before {
                assert_eq!(is, "old", "seed {seed}, round {round}: killed at {at:?}");
            }
            if at >= Phase::SaveCache {
                assert_eq!(is, "new", "seed {seed}, round {round}: killed at {at:?}");
            }
            if spare_before && (Phase::BeginStaging..=Phase::SweepAndSwap).contains(&at) {
                spare_in_use += 1;
            }
            if at == Phase::Finished {
                finished += 1;
            } else {
                killed_here += 1;
            }
            *kills.entry((at, is)).or_default() += 1;
            println!(
                "round {round:2}: to {}, kill {:?} + {:.3} s: {at:?}, output/ was the {is} site ({:.1} s into the test)",
                if target == 0 { "A" } else { "B" },
                trigger,
                delay.as_secs_f64(),
                test_started.elapsed().as_secs_f64()
            );
            let (staged, _) = plant_in_leftovers(site);
            leftover_staging += usize::from(staged);
        }
        twice_in_a_row += usize::from(killed_here == 2);
        let stderr = timed_build(site, &mut windows, false);
        assert_same(
            &tree(&out).unwrap(),
            new,
            &format!("seed {seed}, round {round}: the build after the kill ({stderr})"),
        );
        for leftover in [".output.procdoc-new", ".output.procdoc-old"] {
            assert!(
                !site.join(leftover).exists(),
                "seed {seed}, round {round}: {leftover} is left after a build"
            );
        }
        current = target;
    }

    // The cache the killed builds left is right: a build with a cold cache
    // publishes the same.
    let mut c = procdoc(site);
    c.args(["build", "--clean"]);
    must_publish(c);
    assert_same(&tree(&out).unwrap(), &clean[current], "the cold rebuild");

    let killed: usize = kills.values().sum::<usize>() - finished;
    println!("{killed} kills and {finished} builds that ended before their kill:");
    for ((at, is), n) in &kills {
        println!("  {n:3} at {at:?}: output/ was the {is} site");
    }
    println!(
        "{spare_in_use} kills while the spare was in use as the staging folder; {leftover_staging} left a staging folder, never published; {twice_in_a_row} rounds killed twice in a row"
    );
    // The points the issue names were reached.
    let reached = |p: Phase| kills.keys().any(|(at, _)| *at == p);
    assert!(reached(Phase::WriteStaging), "{kills:?}");
    assert!(
        reached(Phase::SweepAndSwap) || reached(Phase::SaveCache),
        "{kills:?}"
    );
    assert!(leftover_staging > 0);
    assert!(spare_in_use > 0);
}

// ---------------------------------------------------------------------------
// Reproducible builds
// ---------------------------------------------------------------------------

/// Give every file and folder of the site's sources (not what a build makes)
/// its own access and modification time: `base`, then `step` seconds more for
/// each.
fn set_times(site: &Path, base: i64, step: i64) {
    let sources = walkdir::WalkDir::new(site)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            name != "output" && !name.starts_with('.')
        });
    for (k, entry) in sources.enumerate() {
        let entry = entry.unwrap();
        let secs = base + step * k as i64;
        let time = UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap());
        let times = fs::FileTimes::new().set_accessed(time).set_modified(time);
        fs::File::open(entry.path())
            .unwrap()
            .set_times(times)
            .unwrap();
    }
}

/// Build the site at `root` from another folder (`procdoc --root <absolute>
/// build`), publishing to `<root>/output`.
fn build_from_elsewhere(root: &Path, epoch: Option<&str>, clean: bool) -> String {
    let mut c = procdoc(Path::new("/"));
    c.arg("--root").arg(root).arg("build");
    if clean {
        c.arg("--clean");
    }
    if let Some(e) = epoch {
        c.env("SOURCE_DATE_EPOCH", e);
    }
    must_publish(c)
}

/// Build the site in its own folder (`procdoc build`).
fn build_here(site: &Path, epoch: Option<&str>, clean: bool) -> String {
    let mut c = procdoc(site);
    c.arg("build");
    if clean {
        c.arg("--clean");
    }
    if let Some(e) = epoch {
        c.env("SOURCE_DATE_EPOCH", e);
    }
    must_publish(c)
}

/// A handout's creation and modification dates, as `pdfinfo -isodates`
/// prints them.
fn pdf_dates(pdf: &Path) -> (String, String) {
    let out = Command::new("pdfinfo")
        .arg("-isodates")
        .arg(pdf)
        .output()
        .expect("pdfinfo runs");
    assert!(out.status.success(), "pdfinfo {}", pdf.display());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("{} has no {name}\n{text}", pdf.display()))
    };
    (field("CreationDate:"), field("ModDate:"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Today's date by the clock, as "YYYYMMDD" (the PDF date form).
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    let d = procdoc::cmd::new::date_from_days(days as i64);
    format!("{:04}{:02}{:02}", d.year, d.month, d.day)
}

#[test]
fn the_same_site_gives_the_same_bytes_in_any_folder_at_any_time() {
    // Two copies in folders with different absolute paths and names (one
    // with a space), every source file with other times.
    let one_parent = tempfile::Builder::new()
        .prefix("reproducible-one-")
        .tempdir()
        .unwrap();
    let two_parent = tempfile::Builder::new()
        .prefix("elsewhere-")
        .tempdir()
        .unwrap();
    let one = one_parent.path().join("court guides");
    let two = two_parent.path().join("deeper/Another-Site_2");
    content_a(&one);
    content_a(&two);
    set_times(&one, 1_000_000_000, 3 * 86_400 + 17); // from 2001, days apart
    set_times(&two, 1_900_000_000, -(5 * 3_600 + 3)); // from 2030, hours back

    // Without SOURCE_DATE_EPOCH, both caches cold.
    build_here(&one, None, false);
    build_from_elsewhere(&two, None, false);
    let plain = tree(&one.join("output")).unwrap();
    assert_same(
        &plain,
        &tree(&two.join("output")).unwrap(),
        "two folders, other times, no SOURCE_DATE_EPOCH",
    );
    // Every kind of file is compared.
    for kind in [".html", ".pdf", ".png", "sitemap.xml", ".css"] {
        assert!(plain.keys().any(|p| p.ends_with(kind)), "no {kind} file");
    }
    // Neither folder's path, nor the clock's date, is in any file.
    let today = today();
    let iso_today = format!("{}-{}-{}", &today[..4], &today[4..6], &today[6..]);
    for (path, node) in &plain {
        let Node::File(bytes) = node else { continue };
        for leak in [
            one_parent.path().to_str().unwrap(),
            two_parent.path().to_str().unwrap(),
            "court guides",
            "Another-Site_2",
            &format!("D:{today}"),
            &iso_today,
        ] {
            assert!(!contains(bytes, leak.as_bytes()), "{path} holds {leak}");
        }
    }

    // With SOURCE_DATE_EPOCH (2023-11-14T22:13:20Z), both caches cold.
    let epoch = "1700000000";
    build_here(&one, Some(epoch), true);
    build_from_elsewhere(&two, Some(epoch), true);
    let dated = tree(&one.join("output")).unwrap();
    assert_same(
        &dated,
        &tree(&two.join("output")).unwrap(),
        "two folders, other times, the same SOURCE_DATE_EPOCH",
    );
    // SOURCE_DATE_EPOCH dates only the handout of the procedure without
    // `updated` (link-accounts); the others keep their `updated` date.
    let pdfs_differing: Vec<String> = differences(&plain, &dated)
        .into_iter()
        .filter(|d| d.contains(".pdf"))
        .collect();
    assert_eq!(
        pdfs_differing,
        ["link-accounts/link-accounts.pdf (different bytes)"]
    );

    // A cached rebuild, after every source file got other times again,
    // publishes what the cold build published, with and without the epoch.
    set_times(&one, 1_234_567_890, 61);
    let line = build_here(&one, None, false);
    assert!(line.contains("reusing 3 handouts"), "{line}");
    assert_same(
        &tree(&one.join("output")).unwrap(),
        &plain,
        "a cached rebuild against the cold build",
    );
    set_times(&one, 1_600_000_000, 7);
    let line = build_here(&one, Some(epoch), false);
    assert!(line.contains("reusing 3 handouts"), "{line}");
    assert_same(
        &tree(&one.join("output")).unwrap(),
        &dated,
        "a cached rebuild with SOURCE_DATE_EPOCH against the cold build",
    );

    // The dates themselves, as a PDF reader shows them.
    if skip_for(
        Command::new("pdfinfo")
            .arg("-v")
            .output()
            .err()
            .map(|e| format!("pdfinfo (poppler-utils) is not installed: {e}")),
    ) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let show = |t: &Tree, rel: &str| {
        let Some(Node::File(bytes)) = t.get(rel) else {
            panic!("no {rel}")
        };
        let path = scratch.path().join(rel.replace('/', "_"));
        fs::write(&path, bytes).unwrap();
        pdf_dates(&path)
    };
    let cases = [
        (
            &plain,
            "link-accounts/link-accounts.pdf",
            "no updated, no SOURCE_DATE_EPOCH",
            "2000-01-01",
        ),
        (
            &dated,
            "link-accounts/link-accounts.pdf",
            "no updated, SOURCE_DATE_EPOCH=1700000000",
            "2023-11-14",
        ),
        (
            &plain,
            "file-a-motion/file-a-motion.pdf",
            "updated = 2024-02-29, no SOURCE_DATE_EPOCH",
            "2024-02-29",
        ),
        (
            &dated,
            "file-a-motion/file-a-motion.pdf",
            "updated = 2024-02-29, SOURCE_DATE_EPOCH=1700000000",
            "2024-02-29",
        ),
    ];
    for (t, rel, what, day) in cases {
        let (created, modified) = show(t, rel);
        println!("{rel} ({what}): CreationDate {created}, ModDate {modified}");
        assert!(created.starts_with(day), "{rel} ({what}): {created}");
        assert!(modified.starts_with(day), "{rel} ({what}): {modified}");
    }
}
