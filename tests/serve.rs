//! `procdoc serve`, end to end: the real binary serves a copy of the real
//! site over HTTP, rebuilds it when a procedure is saved, tells the open
//! pages to reload, and shows a broken save's problems over the last good
//! site. Every request goes over a raw TcpStream. Nothing here measures
//! time: each wait polls until a generous limit, and the server is always
//! killed when a test ends, however it ends.
#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any one thing may take before the test gives up on it.
const LIMIT: Duration = Duration::from_secs(30);
/// The first build of a debug binary, with the handouts, takes longest.
const START_LIMIT: Duration = Duration::from_secs(300);

const PROCEDURE: &str = "procedures/link-cmecf-pacer.md";
const STEP_4: &str = "| 4 | Click **Utilities**. |";

/// A running `procdoc serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Start `procdoc serve --port 0 ARGS` in `site` and wait until it
    /// answers on the port it prints.
    fn start(site: &Path, args: &[&str]) -> Server {
        let mut all = vec!["--port", "0"];
        all.extend(args);
        Server::start_with(site, &all)
    }

    /// Start `procdoc serve ARGS` in `site` and wait for its address.
    fn start_with(site: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_procdoc"))
            .arg("serve")
            .args(args)
            .current_dir(site)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("procdoc serve starts");
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        let mut server = Server {
            child,
            port: 0,
            stdout,
            stderr,
        };
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Some(port) = printed_port(&server.stdout()) {
                server.port = port;
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "procdoc serve exited ({status}) before serving:\n{}",
                    server.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "procdoc serve printed no address:\n{}",
                server.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn get(&self, target: &str) -> Response {
        request(
            self.port,
            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes(),
        )
    }

    /// Poll `target` until `ok` holds for the page.
    fn wait_for_page(&self, target: &str, what: &str, ok: impl Fn(&str) -> bool) -> Response {
        let deadline = Instant::now() + LIMIT;
        loop {
            let r = self.get(target);
            if ok(&r.body) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "{target} never showed {what}; last page:\n{}\nserver said:\n{}",
                r.body,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Send SIGTERM and wait for the exit status.
    fn terminate(&mut self) -> i32 {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status
                    .code()
                    .expect("it exits, it is not killed by the signal");
            }
            assert!(Instant::now() < deadline, "procdoc serve did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Read a pipe into a string on a thread of its own, so the child never
/// blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let into = Arc::clone(&text);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    text
}

/// The port in "... at http://127.0.0.1:PORT/ ...".
fn printed_port(stdout: &str) -> Option<u16> {
    let rest = &stdout[stdout.find("http://127.0.0.1:")? + "http://127.0.0.1:".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    rest[digits.len()..]
        .starts_with('/')
        .then(|| digits.parse().ok())?
}

struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// Send raw bytes and read the whole answer (every response closes its
/// connection).
fn request(port: u16, bytes: &[u8]) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream.write_all(bytes).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("the server answers");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    Response {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// An open `/__procdoc/events` stream.
struct Events {
    stream: TcpStream,
    text: String,
}

impl Events {
    fn open(port: u16) -> Events {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /__procdoc/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut events = Events {
            stream,
            text: String::new(),
        };
        events.wait_until("the stream's head", |t| t.contains("\r\n\r\n"));
        let head = events.text.split("\r\n\r\n").next().unwrap().to_string();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/event-stream"),
            "{head}"
        );
        events
    }

    fn reloads(&self) -> usize {
        self.text.matches("event: reload\n").count()
    }

    /// Wait for one more `reload` event than already seen.
    fn wait_for_reload(&mut self) {
        let before = self.reloads();
        self.wait_until("a reload event", |t| {
            t.matches("event: reload\n").count() > before
        });
    }

    fn wait_until(&mut self, what: &str, ok: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + LIMIT;
        let mut buf = [0u8; 4096];
        while !ok(&self.text) {
            assert!(
                Instant::now() < deadline,
                "the event stream never sent {what}:\n{}",
                self.text
            );
            match self.stream.read(&mut buf) {
                Ok(0) => panic!("the event stream closed:\n{}", self.text),
                Ok(n) => self.text.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("reading the event stream: {e}"),
            }
        }
    }
}

/// The 1-based line of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("the line is there")
        + 1
}

const SCRIPT_TAG: &str = "<script src=\"/__procdoc/live.js\"";

#[test]
fn serves_the_site_and_reloads_it_on_each_save() {
    let site = common::real_site_copy("default");
    let root = site.path();
    let mut server = Server::start(root, &[]);

    let index = server.get("/");
    assert_eq!(index.status, 200, "{}", index.head);
    assert_eq!(
        index.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(index.body.contains("Link Your CM/ECF Account"));
    assert!(index.body.contains(SCRIPT_TAG), "{}", index.body);
    assert!(!index.body.contains("procdoc-overlay"));

    let page = server.get("/link-cmecf-pacer/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Click <strong>Utilities</strong>"));
    assert_eq!(page.body.matches(SCRIPT_TAG).count(), 1);
    let script_at = page.body.find(SCRIPT_TAG).unwrap();
    assert!(script_at < page.body.rfind("</body>").unwrap());

    let script = server.get("/__procdoc/live.js");
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert!(script.body.contains("EventSource(\"/__procdoc/events"));
    assert!(script.body.contains("\"reload\""));

    // The preview is built in the cache, the script is only added on the
    // way out, and output/ is never made.
    let built = root.join(".procdoc-cache/serve/site/link-cmecf-pacer/index.html");
    let on_disk = std::fs::read_to_string(&built).expect("the preview is built in the cache");
    assert!(!on_disk.contains("__procdoc"));
    assert!(!root.join("output").exists());

    // The handout, with the build's own code (default features).
    if cfg!(feature = "pdf") {
        let pdf = server.get("/link-cmecf-pacer/link-cmecf-pacer.pdf");
        assert_eq!(pdf.status, 200);
        assert_eq!(
            pdf.header("content-type").as_deref(),
            Some("application/pdf")
        );
        assert!(pdf.body.starts_with("%PDF-"));
    }

    // A word changed in step 4: the open pages are told, the page changes.
    let mut events = Events::open(server.port);
    let source_path = root.join(PROCEDURE);
    let source = std::fs::read_to_string(&source_path).unwrap();
    assert!(source.contains(STEP_4));
    let edited = source.replace(STEP_4, "| 4 | Choose **Utilities**. |");
    std::fs::write(&source_path, &edited).unwrap();
    events.wait_for_reload();
    let page = server.wait_for_page("/link-cmecf-pacer/", "the changed word", |b| {
        b.contains("Choose <strong>Utilities</strong>")
    });
    assert!(!page.body.contains("procdoc-overlay"));
    // The rebuild went through the build cache: the screenshots were not
    // made again.
    assert!(
        root.join(".procdoc-cache/build/index.bin").is_file(),
        "serve keeps the same build cache as build"
    );
    let log = server.stderr();
    assert!(log.contains("2 screenshots ("), "{log}");
    assert!(log.contains(" from the build cache)"), "{log}");

    // Step 4 numbered 5: the last good page stays, with the problem over it.
    let broken = edited.replace("| 4 | Choose", "| 5 | Choose");
    std::fs::write(&source_path, &broken).unwrap();
    events.wait_for_reload();
    let line = line_of(&broken, "| 5 | Choose");
    let place = format!("procedures/link-cmecf-pacer.md:{line}:3");
    let page = server.wait_for_page("/link-cmecf-pacer/", "the overlay", |b| {
        b.contains("procdoc-overlay")
    });
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("role=\"alert\""), "{body}");
    assert!(body.contains(&place), "no {place} in:\n{body}");
    assert!(body.contains("error[E002]"), "{body}");
    assert!(body.contains("Hint: "), "{body}");
    assert!(body.contains("id=\"procdoc-overlay-dismiss\""));
    // The source line is shown escaped, never as markup.
    assert!(body.contains("<pre>"), "{body}");
    assert!(
        body.contains("Choose <strong>Utilities</strong>"),
        "the last good page"
    );
    assert!(body.contains(SCRIPT_TAG));
    // Every page shows it, the index and the 404 page too.
    assert!(server.get("/").body.contains(&place));
    let missing = server.get("/no-such-page/");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains(&place));
    // The cache still holds the last good site, without the overlay.
    let on_disk = std::fs::read_to_string(&built).unwrap();
    assert!(on_disk.contains("Choose <strong>Utilities</strong>"));
    assert!(!on_disk.contains("procdoc-overlay"));

    // Corrected: the overlay goes, the new text comes.
    let fixed = edited.replace("| 4 | Choose", "| 4 | Select");
    std::fs::write(&source_path, &fixed).unwrap();
    events.wait_for_reload();
    server.wait_for_page("/link-cmecf-pacer/", "the corrected page", |b| {
        b.contains("Select <strong>Utilities</strong>") && !b.contains("procdoc-overlay")
    });

    // An editor's swap and backup files are not changes: with a real save
    // right after them, the rebuild names the procedure alone.
    std::fs::write(root.join("procedures/.link-cmecf-pacer.md.swp"), "x").unwrap();
    std::fs::write(root.join("procedures/link-cmecf-pacer.md~"), "x").unwrap();
    std::fs::write(root.join("procedures/4913"), "").unwrap();
    std::fs::write(&source_path, &edited).unwrap();
    events.wait_for_reload();
    server.wait_for_page("/link-cmecf-pacer/", "the last save", |b| {
        b.contains("Choose <strong>Utilities</strong>")
    });
    let log = server.stderr();
    assert!(
        log.contains("changed: procedures/link-cmecf-pacer.md;"),
        "{log}"
    );
    for temporary in [".swp", ".md~", "4913"] {
        assert!(
            !log.contains(temporary),
            "{temporary} was taken for a change:\n{log}"
        );
    }

    assert_eq!(server.terminate(), 0, "{}", server.stderr());
    let deadline = Instant::now() + LIMIT;
    while !server.stdout().contains("procdoc serve stopped") {
        assert!(Instant::now() < deadline, "{}", server.stdout());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The handout the preview made last (it prints the published address,
    // not the preview's) is the one the build publishes: from the cache.
    if cfg!(feature = "pdf") {
        let (status, _, stderr) = common::procdoc(root, &["build"]);
        assert_eq!(status, 0, "{stderr}");
        assert!(stderr.contains("reusing 1 handout"), "{stderr}");
    }
}

#[test]
fn answers_only_for_files_inside_the_site() {
    let site = common::real_site_copy("default");
    let server = Server::start(site.path(), &["--no-pdf"]);

    for target in [
        "/../Cargo.toml",
        "/../procdoc.toml",
        "/%2e%2e/procdoc.toml",
        "/%2E%2E/%2E%2E/procdoc.toml",
        "/..%2fprocdoc.toml",
        "/..%2Fprocdoc.toml",
        "/static/..%5c..%5cprocdoc.toml",
        "/static\\..\\..\\procdoc.toml",
        "/static/../../procdoc.toml",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/procdoc.toml%00.html",
        "/.procdoc-output",
        "/link-cmecf-pacer/%2e%2e/%2e%2e/procdoc.toml",
        "/no-such-page/",
    ] {
        let r = server.get(target);
        assert_eq!(r.status, 404, "{target}: {}", r.head);
        assert!(!r.body.contains("base-url"), "{target} served procdoc.toml");
        // The site's own 404 page.
        assert!(r.body.contains("<html"), "{target}: {}", r.body);
    }
    // An absolute target names no file here either.
    let r = request(
        server.port,
        b"GET /etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    assert_eq!(r.status, 404);
    let r = request(
        server.port,
        b"GET http://127.0.0.1/procdoc.toml HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    assert_eq!(r.status, 404);

    // Malformed requests get an answer, and the server goes on.
    for bad in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"\x00\x01\x02 / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    ] {
        let r = request(server.port, bad);
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(bad),
            r.head
        );
    }
    assert_eq!(
        request(server.port, b"DELETE / HTTP/1.1\r\n\r\n").status,
        405
    );
    // A client that connects and says nothing, or half a line, and goes.
    drop(TcpStream::connect(("127.0.0.1", server.port)).unwrap());
    let mut half = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    half.write_all(b"GET /link-cm").unwrap();
    drop(half);
    assert_eq!(server.get("/").status, 200, "the server still answers");

    // Content types, the folder redirect, HEAD.
    let page = server.get("/link-cmecf-pacer");
    assert_eq!(page.status, 301);
    assert_eq!(
        page.header("location").as_deref(),
        Some("/link-cmecf-pacer/")
    );
    let index = server.get("/").body;
    let css = index
        .split('"')
        .find(|s| s.starts_with("static/style.css"))
        .expect("the page links its stylesheet");
    let r = server.get(&format!("/{css}"));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert!(!r.body.contains("__procdoc"), "only HTML gets the script");
    let r = server.get("/static/logo.svg");
    assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
    let font = server.get("/static/fonts/AtkinsonHyperlegibleNext-Regular.woff2");
    assert_eq!(font.header("content-type").as_deref(), Some("font/woff2"));
    let sitemap = server.get("/sitemap.xml");
    assert_eq!(
        sitemap.header("content-type").as_deref(),
        Some("application/xml")
    );
    // The site's address is the preview's while it is served.
    assert!(sitemap.body.contains(&format!(
        "<loc>http://127.0.0.1:{}/link-cmecf-pacer/</loc>",
        server.port
    )));
    let screenshot = std::fs::read_dir(site.path().join(".procdoc-cache/serve/site/images"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".png"))
        .expect("a screenshot in the preview");
    let r = server.get(&format!("/images/{screenshot}"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("image/png"));

    let head = request(
        server.port,
        b"HEAD /link-cmecf-pacer/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    let get = server.get("/link-cmecf-pacer/");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string())
    );
}

#[test]
fn template_errors_show_over_the_last_good_site() {
    let site = common::real_site_copy("default");
    let root = site.path();
    let server = Server::start(root, &["--no-pdf"]);
    let mut events = Events::open(server.port);

    // templates/ does not exist yet: the server notices it being made.
    std::fs::create_dir_all(root.join("templates/partials")).unwrap();
    std::fs::write(
        root.join("templates/partials/footer.html"),
        "<footer>{% if %}</footer>",
    )
    .unwrap();
    events.wait_for_reload();
    let page = server.wait_for_page("/link-cmecf-pacer/", "the template error", |b| {
        b.contains("procdoc-overlay")
    });
    assert!(page.body.contains("footer.html"), "{}", page.body);
    assert!(page.body.contains("Click <strong>Utilities</strong>"));

    std::fs::write(
        root.join("templates/partials/footer.html"),
        "<footer><p>Preview footer</p></footer>",
    )
    .unwrap();
    events.wait_for_reload();
    server.wait_for_page("/link-cmecf-pacer/", "the new footer", |b| {
        b.contains("Preview footer") && !b.contains("procdoc-overlay")
    });
}

#[test]
fn a_site_that_does_not_build_yet_is_served_once_corrected() {
    let site = common::real_site_copy("default");
    let root = site.path();
    let source_path = root.join(PROCEDURE);
    let source = std::fs::read_to_string(&source_path).unwrap();
    std::fs::write(
        &source_path,
        source.replace(STEP_4, "| 5 | Click **Utilities**. |"),
    )
    .unwrap();
    let server = Server::start(root, &["--no-pdf"]);

    let page = server.get("/link-cmecf-pacer/");
    assert_eq!(page.status, 503);
    assert!(page.body.contains("error[E002]"), "{}", page.body);
    assert!(page.body.contains(SCRIPT_TAG));

    std::fs::write(&source_path, &source).unwrap();
    let page = server.wait_for_page("/link-cmecf-pacer/", "the site", |b| {
        b.contains("Click <strong>Utilities</strong>")
    });
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("procdoc-overlay"));
}

#[test]
fn a_port_in_use_is_refused_with_status_2() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let site = common::real_site_copy("default");
    let mut child = Command::new(env!("CARGO_BIN_EXE_procdoc"))
        .args(["serve", "--port", &port])
        .current_dir(site.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("procdoc serve did not refuse a port in use");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} on 127.0.0.1 is in use")),
        "{stderr}"
    );
    assert!(
        !site.path().join(".procdoc-cache").exists(),
        "nothing was built"
    );
}

#[test]
fn without_port_a_busy_default_port_means_the_next_free_one() {
    // Hold port 3000 (if something else already does, it is busy all the same).
    let _held = TcpListener::bind("127.0.0.1:3000");
    let site = common::real_site_copy("default");
    let server = Server::start_with(site.path(), &["--no-pdf"]);
    assert_ne!(server.port, 3000);
    assert!((3001..=3010).contains(&server.port), "{}", server.port);
    // Said on standard error, which is read on a thread of its own.
    let note = format!(
        "port 3000 is in use, so the preview uses port {}",
        server.port
    );
    let deadline = Instant::now() + LIMIT;
    while !server.stderr().contains(&note) {
        assert!(Instant::now() < deadline, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn help_shows_an_example() {
    let (code, out, _) = common::procdoc(Path::new("."), &["serve", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("procdoc serve --open"), "{out}");
    assert!(out.contains("--port <N>"));
    assert!(out.contains("--bind <ADDR>"));
}

// ---------------------------------------------------------------------------
// Under load: thousands of concurrent requests while the site is rebuilt.

/// Connections opened at once in each round of the load test.
const CONCURRENT: usize = 2_000;
/// Procedures in the load test's site (the real one and copies of it).
const LOAD_PROCEDURES: usize = 4;
/// Rounds of `CONCURRENT` requests at least, and at most.
const MIN_ROUNDS: usize = 3;
const MAX_ROUNDS: usize = 12;
/// Builds (distinct `data-generation`s) the pages served during the load
/// must come from: the first build and at least two rebuilds.
const MIN_GENERATIONS: usize = 3;
const SCRIPT_END: &str = "\" defer></script>\n";

/// Raise the soft limit on open files towards `want`, up to the hard limit
/// (the server, started afterwards, inherits it); the limit then in force.
fn raise_open_files(want: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current < want {
        let raised = limit.maximum.map_or(want, |max| want.min(max));
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(raised),
                maximum: limit.maximum,
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Every version of every file of the preview that was published, as the
/// SHA-256 of its bytes, with its length; and the HTML versions themselves.
#[derive(Default)]
struct Published {
    files: std::collections::HashMap<String, Vec<([u8; 32], usize)>>,
    /// In how many snapshots each file was.
    present: std::collections::HashMap<String, usize>,
    html: Vec<(String, String)>,
    snapshots: usize,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

impl Published {
    /// Record the files of the preview as it is now.
    fn record(&mut self, dir: &Path) {
        self.snapshots += 1;
        for entry in walkdir::WalkDir::new(dir) {
            let entry = entry.expect("the preview can be read");
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            // A file swapped out between the listing and the read: the
            // snapshot before or after has it.
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            let version = (sha256(&bytes), bytes.len());
            *self.present.entry(rel.clone()).or_default() += 1;
            let versions = self.files.entry(rel.clone()).or_default();
            if !versions.contains(&version) {
                versions.push(version);
                if rel.ends_with(".html") {
                    self.html
                        .push((rel, String::from_utf8(bytes).expect("pages are UTF-8")));
                }
            }
        }
    }

    fn is_version(&self, rel: &str, hash: &[u8; 32]) -> bool {
        self.files
            .get(rel)
            .is_some_and(|v| v.iter().any(|(h, _)| h == hash))
    }
}

/// What a request of the load asks for, and what must come back.
#[derive(Clone, Debug)]
struct LoadTarget {
    request: String,
    head_only: bool,
    expect: Expect,
}

#[derive(Clone, Debug)]
enum Expect {
    /// 200 with a published version of this file (relative to the preview),
    /// or, if some build did not have it, 404 with the site's 404 page.
    File(String),
    /// 404 with the site's 404 page.
    NotFound,
    /// 301 to this address.
    Redirect(String),
}

/// One complete response, reduced to what is checked against the versions
/// once every version is known.
struct Got {
    target: usize,
    status: u16,
    /// Of the body, without the live-reload script for a page.
    hash: [u8; 32],
    content_length: usize,
    /// The build a page says it was served from.
    generation: Option<u64>,
    location: Option<String>,
}

/// The requests of the load, from the preview's first build: every page,
/// stylesheet, screenshot and handout, a missing page, folder redirects,
/// HEAD requests and HTTP/1.0.
fn load_targets(dir: &Path) -> Vec<LoadTarget> {
    let get = |path: &str, version: &str, expect: Expect| LoadTarget {
        request: format!(
            "GET {path} HTTP/{version}\r\nHost: 127.0.0.1\r\nUser-Agent: load\r\nAccept: */*\r\n\r\n"
        ),
        head_only: false,
        expect,
    };
    let head = |path: &str, rel: &str| LoadTarget {
        request: format!("HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        head_only: true,
        expect: Expect::File(rel.to_string()),
    };
    let mut targets = vec![
        get("/", "1.1", Expect::File("index.html".into())),
        get("/index.html", "1.0", Expect::File("index.html".into())),
        get("/no-such-page/", "1.1", Expect::NotFound),
        head("/", "index.html"),
    ];
    let mut files: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let mut kinds = [0usize; 4];
    for rel in files {
        let path = format!("/{rel}");
        if let Some(slug) = rel.strip_suffix("/index.html") {
            kinds[0] += 1;
            targets.push(get(&format!("/{slug}/"), "1.1", Expect::File(rel.clone())));
            targets.push(get(&format!("/{slug}/"), "1.0", Expect::File(rel.clone())));
            targets.push(head(&format!("/{slug}/"), &rel));
            targets.push(get(
                &format!("/{slug}?from=load"),
                "1.1",
                Expect::Redirect(format!("/{slug}/?from=load")),
            ));
        } else if rel.ends_with(".pdf") {
            kinds[1] += 1;
            targets.push(get(&path, "1.1", Expect::File(rel.clone())));
            targets.push(head(&path, &rel));
        } else if rel.ends_with(".png") {
            kinds[2] += 1;
            targets.push(get(&path, "1.1", Expect::File(rel.clone())));
        } else if rel.ends_with(".css") {
            kinds[3] += 1;
            targets.push(get(
                &format!("{path}?v=1"),
                "1.1",
                Expect::File(rel.clone()),
            ));
        }
    }
    assert!(
        kinds[0] >= LOAD_PROCEDURES
            && kinds[1] >= LOAD_PROCEDURES
            && kinds[2] >= 2
            && kinds[3] >= 1,
        "pages, handouts, screenshots, stylesheets: {kinds:?}"
    );
    targets
}

/// Check that `raw` is one whole HTTP response for `target`: a status line,
/// headers, a Content-Length that is the length of the body received, and
/// for a page a whole document with the live-reload script once.
fn check_response(index: usize, target: &LoadTarget, raw: &[u8]) -> Result<Got, String> {
    let what = |m: &str| format!("{} -> {m}", target.request.lines().next().unwrap_or(""));
    if raw.is_empty() {
        return Err(what("an empty reply"));
    }
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| what("no end of head"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| what("a head that is not UTF-8"))?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let (version, code, reason) = (parts.next(), parts.next(), parts.next());
    let status: u16 = code
        .and_then(|c| c.parse().ok())
        .filter(|_| version == Some("HTTP/1.1") && reason.is_some_and(|r| !r.is_empty()))
        .ok_or_else(|| what(&format!("a bad status line {status_line:?}")))?;
    let mut headers = std::collections::HashMap::new();
    for line in lines {
        let (name, value) = line
            .split_once(": ")
            .ok_or_else(|| what(&format!("a bad header {line:?}")))?;
        headers.insert(name.to_ascii_lowercase(), value.to_string());
    }
    let content_length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| what("no Content-Length"))?;
    if headers.get("connection").map(String::as_str) != Some("close") {
        return Err(what("no Connection: close"));
    }
    let expected_body = if target.head_only { 0 } else { content_length };
    if body.len() != expected_body {
        return Err(what(&format!(
            "{status}: Content-Length {content_length} but {} bytes of body",
            body.len()
        )));
    }
    let html = headers
        .get("content-type")
        .is_some_and(|t| t == "text/html; charset=utf-8");
    let mut generation = None;
    let mut page = body.to_vec();
    if html && !target.head_only {
        let text = std::str::from_utf8(body).map_err(|_| what("a page that is not UTF-8"))?;
        if !text.trim_end().ends_with("</html>") {
            return Err(what("a page that does not end with </html>"));
        }
        if text.contains("procdoc-overlay") {
            return Err(what("the problem overlay: a save did not build"));
        }
        let start = text
            .find(SCRIPT_TAG)
            .ok_or_else(|| what("a page without the live-reload script"))?;
        let rest = &text[start..];
        let end = rest
            .find(SCRIPT_END)
            .ok_or_else(|| what("a cut script tag"))?
            + SCRIPT_END.len();
        let digits: String = rest[..end]
            .split("data-generation=\"")
            .nth(1)
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        generation = Some(digits.parse().map_err(|_| what("no generation"))?);
        page = format!("{}{}", &text[..start], &rest[end..]).into_bytes();
        if String::from_utf8_lossy(&page).contains(SCRIPT_TAG) {
            return Err(what("the live-reload script twice"));
        }
    }
    Ok(Got {
        target: index,
        status,
        hash: sha256(&page),
        content_length,
        generation,
        location: headers.get("location").cloned(),
    })
}

/// The figures of one round.
struct Round {
    got: Vec<Got>,
    failures: Vec<String>,
    max_open: usize,
}

/// Open `CONCURRENT` connections from as many threads, send a request on
/// each, and only once every one is open read the answers: all of them are
/// held at the same time.
fn load_round(port: u16, targets: &Arc<Vec<LoadTarget>>, offset: usize) -> Round {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let barrier = Arc::new(Barrier::new(CONCURRENT));
    let open = Arc::new(AtomicUsize::new(0));
    let max_open = Arc::new(AtomicUsize::new(0));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let handles: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let (barrier, open, max_open) = (barrier.clone(), open.clone(), max_open.clone());
            let targets = Arc::clone(targets);
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let index = (offset + i * 7) % targets.len();
                    let target = &targets[index];
                    let mut stream = TcpStream::connect_timeout(&addr, LIMIT)
                        .map_err(|e| format!("connect: {e}"));
                    if let Ok(s) = &mut stream {
                        let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                        max_open.fetch_max(now, Ordering::SeqCst);
                        // The request waits in the socket until the server
                        // takes the connection.
                        if let Err(e) = s.write_all(target.request.as_bytes()) {
                            stream = Err(format!("send: {e}"));
                            open.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                    barrier.wait();
                    let mut stream = stream?;
                    stream.set_read_timeout(Some(LIMIT)).unwrap();
                    let mut raw = Vec::new();
                    let read = stream.read_to_end(&mut raw);
                    drop(stream);
                    open.fetch_sub(1, Ordering::SeqCst);
                    read.map_err(|e| {
                        format!(
                            "{}: reset or cut after {} bytes: {e}",
                            target.request.lines().next().unwrap_or(""),
                            raw.len()
                        )
                    })?;
                    check_response(index, target, &raw)
                })
                .expect("a client thread starts")
        })
        .collect();
    let mut round = Round {
        got: Vec::new(),
        failures: Vec::new(),
        max_open: 0,
    };
    for h in handles {
        match h.join().expect("a client thread does not panic") {
            Ok(got) => round.got.push(got),
            Err(e) => round.failures.push(e),
        }
    }
    round.max_open = max_open.load(Ordering::SeqCst);
    round
}

/// Write `bytes` to `path` the way editors save: a hidden file beside it,
/// renamed over it, so a build never reads half a file.
fn save(path: &Path, bytes: &[u8]) {
    let tmp = path.with_file_name(format!(
        ".{}.saving",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn under_load_while_rebuilding_every_response_is_a_whole_published_file() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    // Each client connection is a descriptor here; the server, which
    // inherits the limit, holds a bounded number of them.
    let wanted = (CONCURRENT + 512) as u64;
    let limit = raise_open_files(wanted);
    if common::skip_for((limit < wanted).then(|| {
        format!("{CONCURRENT} connections need {wanted} open files; the hard limit is {limit}")
    })) {
        return;
    }

    let site = common::real_site_copy("default");
    let root = site.path().to_path_buf();
    let source_path = root.join(PROCEDURE);
    let source = std::fs::read_to_string(&source_path).unwrap();
    let title = source.lines().find(|l| l.starts_with("title = ")).unwrap();
    for i in 1..LOAD_PROCEDURES {
        std::fs::write(
            root.join(format!("procedures/load-{i}.md")),
            source.replace(title, &format!("title = \"Load Test Procedure {i}\"")),
        )
        .unwrap();
    }
    let server = Server::start(&root, &[]);
    let preview = root.join(".procdoc-cache/serve/site");
    let published = Arc::new(Mutex::new(Published::default()));
    published.lock().unwrap().record(&preview);
    let targets = Arc::new(load_targets(&preview));

    // The editor: saves the procedure again and again, and every other time
    // a screenshot too (which renames it: its old address goes 404), waiting
    // for each save to be published before recording it and saving again.
    let stop = Arc::new(AtomicBool::new(false));
    let edits = Arc::new(AtomicUsize::new(0));
    let editor = {
        let (stop, edits, published) = (stop.clone(), edits.clone(), published.clone());
        let (root, preview) = (root.clone(), preview.clone());
        std::thread::spawn(move || {
            let shot_path = root.join("procedures/images/efiling-link.png");
            let original = std::fs::read(&shot_path).unwrap();
            let mut shot = image::load_from_memory(&original).unwrap().to_rgba8();
            let page = preview.join("link-cmecf-pacer/index.html");
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                save(
                    &source_path,
                    source
                        .replace(STEP_4, &format!("| 4 | Click **Utilities** ({n}). |"))
                        .as_bytes(),
                );
                if n % 2 == 0 {
                    for x in 0..40 {
                        for y in 0..40 {
                            shot.put_pixel(x, y, image::Rgba([(n * 37 % 256) as u8, 0, 0, 255]));
                        }
                    }
                    let mut png = Vec::new();
                    shot.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                        .unwrap();
                    save(&shot_path, &png);
                }
                let marker = format!("Click <strong>Utilities</strong> ({n}).");
                let deadline = Instant::now() + LIMIT;
                while !std::fs::read_to_string(&page).is_ok_and(|p| p.contains(&marker)) {
                    assert!(Instant::now() < deadline, "save {n} was never published");
                    std::thread::sleep(Duration::from_millis(20));
                }
                published.lock().unwrap().record(&preview);
                edits.store(n, Ordering::SeqCst);
            }
        })
    };

    let mut rounds = Vec::new();
    let mut generations = std::collections::BTreeSet::new();
    loop {
        let round = load_round(server.port, &targets, rounds.len());
        generations.extend(round.got.iter().filter_map(|g| g.generation));
        rounds.push(round);
        let enough = rounds.len() >= MIN_ROUNDS && generations.len() >= MIN_GENERATIONS;
        if enough || rounds.len() == MAX_ROUNDS || editor.is_finished() {
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    editor
        .join()
        .expect("the editor's saves were all published");
    let published = published.lock().unwrap();

    // Every response was whole and is a version that was published.
    let mut failures: Vec<String> = rounds.iter().flat_map(|r| r.failures.clone()).collect();
    let not_found = "404.html";
    for got in rounds.iter().flat_map(|r| &r.got) {
        let target = &targets[got.target];
        let first = target.request.lines().next().unwrap();
        let ok = match (&target.expect, got.status) {
            (Expect::File(rel), 200) if target.head_only => {
                // The length of a version, with the script for a page.
                published.files[rel].iter().any(|&(_, len)| {
                    let extra = got.content_length.checked_sub(len);
                    if rel.ends_with(".html") {
                        // `<script src=".." data-generation="N" defer></script>\n`
                        let digits = extra.and_then(|e| e.checked_sub(SCRIPT_TAG.len() + 36));
                        digits.is_some_and(|d| (1..=6).contains(&d))
                    } else {
                        extra == Some(0)
                    }
                })
            }
            (Expect::File(rel), 200) => published.is_version(rel, &got.hash),
            // A screenshot renamed by a rebuild.
            (Expect::File(rel), 404) => {
                published.present[rel] < published.snapshots
                    && (target.head_only || published.is_version(not_found, &got.hash))
            }
            (Expect::NotFound, 404) => published.is_version(not_found, &got.hash),
            (Expect::Redirect(to), 301) => got.location.as_ref() == Some(to),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{first} -> {} that is no published version",
                got.status
            ));
        }
    }
    // Every version of every page is a whole document.
    for (rel, html) in &published.html {
        let doc = scraper::Html::parse_document(html);
        let title = scraper::Selector::parse("title").unwrap();
        let titles: Vec<String> = doc.select(&title).map(|t| t.text().collect()).collect();
        assert!(
            titles.len() == 1 && !titles[0].trim().is_empty(),
            "{rel}: {titles:?}"
        );
        assert!(html.trim_end().ends_with("</html>"), "{rel}");
    }

    let sent = rounds.len() * CONCURRENT;
    let complete = rounds.iter().map(|r| r.got.len()).sum::<usize>();
    let held = rounds.iter().map(|r| r.max_open).max().unwrap_or(0);
    let pages = rounds
        .iter()
        .flat_map(|r| &r.got)
        .filter(|g| g.generation.is_some())
        .count();
    println!(
        "load: {} rounds of {CONCURRENT} connections; {sent} requests sent, {complete} complete responses ({pages} pages), at most {held} connections held at once; {} saves published during the load, pages served from {} builds; open-file limit {limit}",
        rounds.len(),
        edits.load(Ordering::SeqCst),
        generations.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {sent} responses were not whole published files, e.g.:\n{}\nserver said:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        server.stderr()
    );
    assert_eq!(complete, sent);
    assert_eq!(
        held, CONCURRENT,
        "every connection of a round was open at once"
    );
    assert!(
        generations.len() >= MIN_GENERATIONS,
        "the pages served came from {} builds only: the site was not rebuilt during the load ({} saves)\n{}",
        generations.len(),
        edits.load(Ordering::SeqCst),
        server.stderr()
    );
    // And the server still answers, with the last save.
    let last = edits.load(Ordering::SeqCst);
    let page = server.get("/link-cmecf-pacer/");
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("Click <strong>Utilities</strong> ({last}).")),
        "{}",
        page.body
    );
}

// ---------------------------------------------------------------------------
// Malformed and hostile requests (besides the ones in
// answers_only_for_files_inside_the_site).

/// Send `bytes` from a thread of its own (the server may answer, and close,
/// before it has read them all) and read the answer: whatever came before
/// the connection closed or was reset.
fn raw_exchange(port: u16, bytes: Vec<u8>) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        // A reset is what a server that stops reading does.
        let _ = writer.write_all(&bytes);
    });
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("no answer: {e} after {raw:?}"),
        }
    }
    drop(stream);
    sending.join().unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

/// The server answers a normal request with the whole page.
fn answers_normally(server: &Server, after: &str) {
    let r = server.get("/link-cmecf-pacer/");
    assert_eq!(r.status, 200, "after {after}: {}", r.head);
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string()),
        "after {after}"
    );
    assert!(
        r.body.contains("<title>") && r.body.trim_end().ends_with("</html>"),
        "after {after}: {}",
        r.body
    );
}

#[test]
fn malformed_and_hostile_requests_never_stop_the_server() {
    let site = common::real_site_copy("default");
    let root = site.path();
    let server = Server::start(root, &[]);
    // Secrets beside the served folder and above it.
    const SECRET: &str = "SECRET-9f1c";
    std::fs::write(root.join("secret.txt"), SECRET).unwrap();
    std::fs::write(root.join(".procdoc-cache/serve/secret.txt"), SECRET).unwrap();
    let port = server.port;

    // Garbage bytes: no request line at all.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..4096)
        .map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if i == 0 { 0xff } else { seed as u8 }
        })
        .collect();
    let r = raw_exchange(port, garbage);
    assert!(r.starts_with("HTTP/1.1 400 "), "{r:?}");
    answers_normally(&server, "garbage");

    // A 1 MB request line, and a head of 10,000 headers: refused once the
    // head passes its bound, not read whole.
    let mut long = b"GET /".to_vec();
    long.extend(std::iter::repeat_n(b'a', 1 << 20));
    long.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let r = raw_exchange(port, long);
    assert!(r.starts_with("HTTP/1.1 431 "), "{r:?}");
    answers_normally(&server, "a 1 MB request line");
    let mut many = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_vec();
    for i in 0..10_000 {
        many.extend_from_slice(format!("X-Header-{i}: {i}\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let r = raw_exchange(port, many);
    assert!(r.starts_with("HTTP/1.1 431 "), "{r:?}");
    answers_normally(&server, "10,000 headers");

    // Invalid UTF-8 and control bytes in the target: a bad request; invalid
    // percent-encoding, or encoding of invalid UTF-8: no such page.
    for bad in [
        &b"GET /\xff\xfe/ HTTP/1.1\r\n\r\n"[..],
        b"GET /caf\xc3\xa9/ HTTP/1.1\r\n\r\n",
        b"GET /a\x7fb HTTP/1.1\r\n\r\n",
    ] {
        let r = raw_exchange(port, bad.to_vec());
        assert!(
            r.starts_with("HTTP/1.1 400 "),
            "{:?}: {r:?}",
            String::from_utf8_lossy(bad)
        );
    }
    for target in [
        "/%ff%fe/",
        "/%",
        "/%4",
        "/%zz/",
        "/%c3%28/",
        "/link-cmecf-pacer%/",
        "/%00/",
    ] {
        let r = server.get(target);
        assert_eq!(r.status, 404, "{target}: {}", r.head);
        assert!(r.body.contains("<html"), "{target}: the site's 404 page");
    }
    answers_normally(&server, "invalid encodings");

    // Traversal, plain and encoded, to files beside and above the folder.
    for target in [
        "/../secret.txt",
        "/../../secret.txt",
        "/../../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/.%2e/.%2e/.%2e/secret.txt",
        "/%2e./%2e./secret.txt",
        "/..%252f..%252f..%252fsecret.txt",
        "/%252e%252e/secret.txt",
        "/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt",
        "/link-cmecf-pacer/..%2f..%2f..%2f..%2fsecret.txt",
        "/images/..%5c..%5c..%5csecret.txt",
        "/%2fsecret.txt",
        "/./secret.txt",
    ] {
        let r = server.get(target);
        assert_eq!(r.status, 404, "{target}: {}", r.head);
        assert!(
            !r.body.contains(SECRET),
            "{target} served a file outside the site"
        );
    }
    // Absolute-form and authority-form targets name no file here.
    for request in [
        format!("GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        format!("GET http://127.0.0.1:{port}/../secret.txt HTTP/1.1\r\n\r\n"),
        "GET https://example.com/secret.txt HTTP/1.1\r\n\r\n".to_string(),
        "GET //127.0.0.1/../secret.txt HTTP/1.1\r\n\r\n".to_string(),
        "GET file:///etc/passwd HTTP/1.1\r\n\r\n".to_string(),
        "GET 127.0.0.1:80 HTTP/1.1\r\n\r\n".to_string(),
    ] {
        let r = request_raw(port, &request);
        assert!(r.starts_with("HTTP/1.1 404 "), "{request:?}: {r:?}");
        assert!(!r.contains(SECRET) && !r.contains("root:"), "{request:?}");
    }
    answers_normally(&server, "traversal");

    // Methods other than GET and HEAD; HTTP/2's preface.
    for request in [
        "FOO / HTTP/1.1\r\n\r\n",
        "get / HTTP/1.1\r\n\r\n",
        "PROPFIND / HTTP/1.1\r\nDepth: 1\r\n\r\n",
        "CONNECT 127.0.0.1:80 HTTP/1.1\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\n\r\n",
        "PUT /index.html HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    ] {
        let r = request_raw(port, request);
        assert!(r.starts_with("HTTP/1.1 405 "), "{request:?}: {r:?}");
        assert!(r.contains("\r\nAllow: GET, HEAD\r\n"), "{r:?}");
    }
    let r = request_raw(port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 505 "), "{r:?}");
    let index = std::fs::read(root.join(".procdoc-cache/serve/site/index.html")).unwrap();
    assert!(!String::from_utf8_lossy(&index).contains("hello"));
    answers_normally(&server, "other methods");

    // Clients that go away in the middle of a response (a handout).
    let pdf = server.get("/link-cmecf-pacer/link-cmecf-pacer.pdf");
    assert_eq!(pdf.status, 200);
    for _ in 0..20 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"GET /link-cmecf-pacer/link-cmecf-pacer.pdf HTTP/1.1\r\n\r\n")
            .unwrap();
        let mut some = [0u8; 64];
        let _ = s.read(&mut some);
        // Closed with most of the handout unread: a reset for the server.
    }
    answers_normally(&server, "clients gone mid-response");

    // A slow client that never finishes its head: others are answered
    // while it hangs.
    let mut hanging = TcpStream::connect(("127.0.0.1", port)).unwrap();
    hanging.write_all(b"GET / HTTP/1.1\r\nHost: 127.0").unwrap();
    answers_normally(&server, "a head that never ends");
    hanging.set_nonblocking(true).unwrap();
    let mut none = [0u8; 16];
    assert!(
        matches!(hanging.read(&mut none), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the slow client is still waited for"
    );
    drop(hanging);

    // More slow clients than the server serves at once, each sending its
    // head a byte at a time and never finishing it: each is sent away in the
    // end (time, not bytes, bounds a head), so a request after them is
    // answered, as it would not be if they held the server forever.
    const SLOW: usize = 160;
    let slow: Vec<TcpStream> = (0..SLOW)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    let dripping = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let drip = {
        let mut slow: Vec<TcpStream> = slow.iter().map(|s| s.try_clone().unwrap()).collect();
        let dripping = Arc::clone(&dripping);
        std::thread::spawn(move || {
            while dripping.load(std::sync::atomic::Ordering::SeqCst) {
                for s in &mut slow {
                    let _ = s.write_all(b"a");
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    answers_normally(&server, "slow clients");
    let r = raw_exchange(
        port,
        b"GET /link-cmecf-pacer/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
    );
    assert!(r.starts_with("HTTP/1.1 200 "), "{r:?}");
    for mut s in slow {
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 408 "),
            "a slow client: {answer:?}"
        );
    }
    dripping.store(false, std::sync::atomic::Ordering::SeqCst);
    drip.join().unwrap();
    answers_normally(&server, "slow clients sent away");
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

/// Send a request and read the raw answer.
fn request_raw(port: u16, request: &str) -> String {
    raw_exchange(port, request.as_bytes().to_vec())
}
