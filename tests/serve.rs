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
        root.join(".procdoc-cache/build/index.json").is_file(),
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
