//! `procdoc serve`: a local preview of the site that rebuilds on save.
//!
//! The preview is built by the same code as `procdoc build` (check, theme,
//! render, publish), into a folder of its own under the site's
//! `.procdoc-cache/serve/`, so the published `output/` is never touched. A
//! small HTTP/1.1 server (std::net, one thread per connection, every
//! response closes its connection) serves that folder. It serves at most
//! [`MAX_CONNECTIONS`] connections at once and leaves the others waiting in
//! the listen queue (a burst of connections is served in turn, never
//! refused), and bounds each request head in size and in time, so neither
//! many clients nor slow ones can exhaust it. HTML pages get two
//! things on the way out, never on disk: a script that listens to
//! `/__procdoc/events` (server-sent events) and reloads the page on a
//! `reload` event, and, while the last save does not build, an overlay that
//! lists the problems over the last good site.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::cache::Cache;
use crate::diag::{self, Diagnostic};
use crate::publish::Staging;
use crate::render::{self, RenderError, html::esc};
use crate::theme;

/// The port `procdoc serve` tries first.
pub const DEFAULT_PORT: u16 = 3000;
/// Without `--port`, the ports tried after the default one when it is busy.
pub const FALLBACK_PORTS: u16 = 10;

/// Addresses the server answers itself; no procedure can have them (slugs
/// have no underscore).
pub const EVENTS: &str = "/__procdoc/events";
pub const SCRIPT: &str = "/__procdoc/live.js";
pub const STYLE: &str = "/__procdoc/overlay.css";
const OWN_PREFIX: &str = "/__procdoc/";

/// How long a save must be quiet before the site is rebuilt.
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// A stream of saves still rebuilds at least this often.
pub const DEBOUNCE_MAX: Duration = Duration::from_secs(2);

const MAX_HEAD: u64 = 16 * 1024;
/// Connections served at once (each has a thread); the others wait, in the
/// listen queue, for one to end.
pub const MAX_CONNECTIONS: usize = 128;
/// How many connections the listen queue holds (the system may hold fewer).
const BACKLOG: i32 = 4096;
/// The most a read or a write may wait, and the most a whole request head
/// may take to arrive: a client that sends its head a byte at a time gets a
/// 408 at the end of it instead of keeping its thread.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// A comment on the event stream this often, so a closed tab is noticed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

const LIVE_JS: &str = r#"// procdoc serve: reload this page when the site is rebuilt, and let the
// problem overlay be dismissed. Only the preview server adds this script.
(function () {
  "use strict";
  var script = document.currentScript;
  var since = (script && script.getAttribute("data-generation")) || "";
  var overlay = document.getElementById("procdoc-overlay");
  if (overlay) {
    var hide = function () {
      var hadFocus = overlay.contains(document.activeElement);
      overlay.hidden = true;
      if (hadFocus && document.activeElement) document.activeElement.blur();
    };
    var button = document.getElementById("procdoc-overlay-dismiss");
    if (button) button.addEventListener("click", hide);
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !overlay.hidden) hide();
    });
  }
  if (!window.EventSource) return;
  var events = new EventSource("/__procdoc/events?since=" + encodeURIComponent(since));
  events.addEventListener("reload", function () {
    events.close();
    window.location.reload();
  });
})();
"#;

const OVERLAY_CSS: &str = r#"/* procdoc serve: the problem overlay. Only the preview server adds it. */
#procdoc-overlay {
  position: fixed; z-index: 2147483647; top: 0; left: 0; right: 0;
  max-height: 60vh; overflow: auto; box-sizing: border-box;
  margin: 0; padding: 1rem 1.25rem 1.25rem;
  background: #ffffff; color: #1b1b1b;
  border-bottom: 0.5rem solid #b3261e; box-shadow: 0 2px 12px rgba(0, 0, 0, 0.45);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; text-align: left;
}
#procdoc-overlay[hidden] { display: none; }
#procdoc-overlay * { color: inherit; background: transparent; font-size: 1rem; }
#procdoc-overlay .procdoc-head { display: flex; gap: 1rem; align-items: flex-start; justify-content: space-between; }
#procdoc-overlay h2 { margin: 0; padding: 0; border: 0; font-size: 1.25rem; font-weight: 700; color: #8c1d18; }
#procdoc-overlay ol { margin: 0.75rem 0; padding-left: 1.5rem; }
#procdoc-overlay li { margin: 0 0 0.75rem; }
#procdoc-overlay p { margin: 0.25rem 0; }
#procdoc-overlay code, #procdoc-overlay pre { font-family: ui-monospace, "Cascadia Mono", Consolas, monospace; font-size: 0.9rem; }
#procdoc-overlay pre { margin: 0.25rem 0; padding: 0.5rem; white-space: pre-wrap; overflow-wrap: anywhere; background: #f2f2f2; border: 1px solid #767676; }
#procdoc-overlay .procdoc-code { font-weight: 700; color: #8c1d18; }
#procdoc-overlay button {
  flex: none; padding: 0.3rem 0.9rem; cursor: pointer; font: inherit; font-weight: 600;
  color: #1b1b1b; background: #ffffff; border: 2px solid #1b1b1b; border-radius: 0.25rem;
}
#procdoc-overlay button:hover { background: #e8e8e8; }
#procdoc-overlay button:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
@media (forced-colors: active) {
  #procdoc-overlay { border: 3px solid CanvasText; }
  #procdoc-overlay h2, #procdoc-overlay .procdoc-code { color: CanvasText; }
}
@media print { #procdoc-overlay { display: none; } }
"#;

/// `--bind`: an IP address, or `localhost`.
pub fn parse_bind(s: &str) -> Result<IpAddr, String> {
    if s.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    s.parse().map_err(|_| {
        format!("`{s}` is not an IP address: write 127.0.0.1 (this computer only), or 0.0.0.0 (every network)")
    })
}

/// Where the preview is built: a folder of its own in the site's cache.
pub fn preview_dir(root: &Path) -> PathBuf {
    root.join(".procdoc-cache").join("serve").join("site")
}

/// A problem that keeps the last save from being served: a diagnostic at a
/// place in a file, or a message (a template, the theme, the machine).
#[derive(Debug, Clone)]
pub enum Problem {
    At(Diagnostic),
    Message(String),
    /// The site cannot be read at all (no `procedures/` folder).
    Fatal(String),
}

/// Build the preview of the site at `root` into `out`, the way `procdoc
/// build` does, with `base_url` as the site's address. Diagnostics are
/// printed on standard error as they are found; what stops the build comes
/// back as problems for the overlay.
pub fn build(
    root: &Path,
    out: &Path,
    base_url: &str,
    pdf: bool,
) -> Result<render::Summary, Vec<Problem>> {
    let cache = Cache::open(root, false).map_err(|e| vec![Problem::Fatal(e.0)])?;
    let result = build_with(root, out, base_url, pdf, &cache);
    if let Err(e) = cache.save(result.is_ok()) {
        eprintln!("warning: {e}");
    }
    result
}

fn build_with(
    root: &Path,
    out: &Path,
    base_url: &str,
    pdf: bool,
    cache: &Cache,
) -> Result<render::Summary, Vec<Problem>> {
    let (mut site, diags) =
        crate::cmd::check_site(root, cache, true).map_err(|f| vec![Problem::Fatal(f.0)])?;
    crate::cmd::print_human(&diags);
    let errors: Vec<Problem> = diags
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .map(Problem::At)
        .collect();
    if !errors.is_empty() {
        eprintln!("{}", diag::summary(&diags, site.files));
        return Err(errors);
    }
    // Links that name the site's address (the canonical link, the sitemap,
    // the 404 page's links) point at the preview instead.
    let published = site.config.clone();
    site.config.base_url = Some(base_url.to_string());
    let theme = theme::load(root, &site.config.theme).map_err(|e| vec![Problem::Message(e.0)])?;
    let staging =
        Staging::begin(out, cache.spare_for(out)).map_err(|e| vec![Problem::Message(e.0)])?;
    let options = render::Options {
        pdf: pdf && cfg!(feature = "pdf"),
        progress: indicatif::ProgressBar::hidden(),
        handout_config: Some(published),
    };
    let summary =
        render::build(&site, &theme, &staging, cache, options, None).map_err(|e| match e {
            RenderError::Problems(mut problems) => {
                if root != Path::new(".") {
                    for d in &mut problems {
                        d.path = root.join(&d.path);
                    }
                }
                diag::sort(&mut problems);
                crate::cmd::print_human(&problems);
                problems.into_iter().map(Problem::At).collect()
            }
            RenderError::Theme(m) | RenderError::Io(m) => vec![Problem::Message(m)],
        })?;
    staging.commit().map_err(|e| vec![Problem::Message(e.0)])?;
    Ok(summary)
}

/// What the server threads share with the one that builds.
pub struct Shared {
    /// The folder served.
    dir: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
    /// Connections being served, and a signal when one ends.
    connections: Mutex<usize>,
    ended: Condvar,
}

#[derive(Default)]
struct State {
    /// Counts builds, good or bad; each one reloads the open pages.
    generation: u64,
    /// Whether a build has ever succeeded, so that there is a site to serve.
    built: bool,
    /// The overlay over every page while the last build failed.
    overlay: Option<String>,
    stopping: bool,
}

impl Shared {
    pub fn new(dir: PathBuf) -> Arc<Shared> {
        Arc::new(Shared {
            dir,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            connections: Mutex::new(0),
            ended: Condvar::new(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A build finished: serve its outcome and reload the open pages.
    pub fn finished(&self, problems: &[Problem]) {
        let mut state = self.state();
        state.generation += 1;
        if problems.is_empty() {
            state.built = true;
            state.overlay = None;
        } else {
            state.overlay = Some(overlay(problems));
        }
        drop(state);
        self.changed.notify_all();
    }

    /// A connection ended: its place is free.
    fn release(&self) {
        let mut count = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        *count = count.saturating_sub(1);
        drop(count);
        self.ended.notify_one();
    }

    /// Close the event streams.
    pub fn stop(&self) {
        self.state().stopping = true;
        self.changed.notify_all();
    }
}

/// Bind the server's socket. `port` None means the default port, or one of
/// the next few when it is busy (the caller says which it got); a port that
/// was asked for and is busy is an error.
pub fn bind(ip: IpAddr, port: Option<u16>) -> Result<TcpListener, String> {
    let in_use = |port: u16| {
        format!(
            "port {port} on {ip} is in use (is another procdoc serve running?); choose another with --port, or --port 0 for any free port"
        )
    };
    let failed =
        |port: u16, e: io::Error| format!("cannot serve on {}: {e}", SocketAddr::new(ip, port));
    match port {
        Some(port) => TcpListener::bind((ip, port)).map_err(|e| {
            if e.kind() == io::ErrorKind::AddrInUse {
                in_use(port)
            } else {
                failed(port, e)
            }
        }),
        None => {
            for port in DEFAULT_PORT..=DEFAULT_PORT + FALLBACK_PORTS {
                match TcpListener::bind((ip, port)) {
                    Ok(l) => return Ok(l),
                    Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                    Err(e) => return Err(failed(port, e)),
                }
            }
            Err(format!(
                "ports {DEFAULT_PORT} to {} on {ip} are all in use; choose another with --port, or --port 0 for any free port",
                DEFAULT_PORT + FALLBACK_PORTS
            ))
        }
    }
}

/// The address to give a browser on this machine for the server's socket:
/// an unspecified address (0.0.0.0, ::) is reached through the loopback.
pub fn local_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/", SocketAddr::new(ip, addr.port()))
}

/// Accept connections on a thread of their own, one thread per connection,
/// at most [`MAX_CONNECTIONS`] at once.
pub fn spawn(listener: TcpListener, shared: Arc<Shared>) -> io::Result<()> {
    // A burst of connections waits in the queue while the ones before it
    // are served; std listens with a queue of 128, beyond which the system
    // drops connections and clients wait seconds to try again. Listening
    // again sets the queue's length (Linux and the BSDs).
    #[cfg(unix)]
    let _ = rustix::net::listen(&listener, BACKLOG);
    std::thread::Builder::new()
        .name("procdoc-serve".into())
        .spawn(move || {
            loop {
                // Wait for a free place before taking the next connection.
                {
                    let count = shared.connections.lock().unwrap_or_else(|e| e.into_inner());
                    let mut count = shared
                        .ended
                        .wait_while(count, |c| *c >= MAX_CONNECTIONS)
                        .unwrap_or_else(|e| e.into_inner());
                    *count += 1;
                }
                let stream = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(_) => {
                        // Out of file descriptors, or a connection reset
                        // before it was accepted: go on.
                        shared.release();
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                };
                let conn = Arc::clone(&shared);
                let spawned = std::thread::Builder::new()
                    .name("procdoc-serve-conn".into())
                    .spawn(move || {
                        let _ = connection(stream, &conn);
                        conn.release();
                    });
                if spawned.is_err() {
                    // No thread to be had: the connection is closed
                    // unanswered, and the server goes on.
                    shared.release();
                }
            }
        })
        .map(|_| ())
}

/// A parsed request line.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    head_only: bool,
    /// The request target exactly as sent: printable ASCII, no spaces.
    target: String,
}

/// Why a request cannot be answered with a page.
#[derive(Debug, PartialEq, Eq)]
enum BadRequest {
    /// The client closed the connection before sending a request.
    Gone,
    Status(u16),
}

/// Reads from a socket that end at a deadline, whatever arrives meanwhile.
struct Deadline<'a> {
    stream: &'a TcpStream,
    until: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut stream = self.stream;
        stream.read(buf)
    }
}

fn connection(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let result = read_request(&mut BufReader::new(Deadline {
        stream: &stream,
        until: Instant::now() + IO_TIMEOUT,
    }));
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    let outcome = match result {
        Err(BadRequest::Gone) => Ok(()),
        Err(BadRequest::Status(status)) => {
            let allow = if status == 405 {
                vec![("Allow", "GET, HEAD".to_string())]
            } else {
                Vec::new()
            };
            let body = format!("{} {}\n", status, reason(status));
            send(
                &mut stream,
                status,
                "text/plain; charset=utf-8",
                &allow,
                body.as_bytes(),
                false,
            )
        }
        Ok(request) => respond(&mut stream, shared, &request),
    };
    // Close gently: the client may still be sending (a body, a pipelined
    // request); reading it first keeps the answer from being cut off.
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < 64 * 1024 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
    outcome
}

/// Read the request line and headers (the headers are not needed).
fn read_request(reader: &mut impl BufRead) -> Result<Request, BadRequest> {
    let mut limited = reader.take(MAX_HEAD);
    let mut line = Vec::new();
    let mut request_line: Option<Vec<u8>> = None;
    let mut started = false;
    loop {
        line.clear();
        let n = limited.read_until(b'\n', &mut line).map_err(|e| {
            let late = matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            );
            match (started || !line.is_empty(), late) {
                (true, true) => BadRequest::Status(408),
                (true, false) => BadRequest::Status(400),
                (false, _) => BadRequest::Gone,
            }
        })?;
        if n == 0 {
            return Err(if started {
                BadRequest::Status(400)
            } else {
                BadRequest::Gone
            });
        }
        started = true;
        if !line.ends_with(b"\n") {
            // The limit cut the line: the head is too large.
            return Err(BadRequest::Status(431));
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        match &request_line {
            // Empty lines before the request line are allowed (RFC 9112 2.2).
            None if text.is_empty() => continue,
            None => request_line = Some(text.to_vec()),
            Some(_) if text.is_empty() => break,
            Some(_) => {
                let valid = !text.starts_with(b" ")
                    && !text.starts_with(b"\t")
                    && text.iter().position(|&b| b == b':').is_some_and(|i| i > 0)
                    && !text.iter().any(|&b| b == 0 || b == b'\r');
                if !valid {
                    return Err(BadRequest::Status(400));
                }
            }
        }
    }
    parse_request_line(&request_line.unwrap_or_default())
}

fn parse_request_line(line: &[u8]) -> Result<Request, BadRequest> {
    let bad = BadRequest::Status(400);
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [method, target, version] = parts.as_slice() else {
        return Err(bad);
    };
    let token = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
    };
    if !token(method) || target.is_empty() || !target.iter().all(|b| (0x21..0x7f).contains(b)) {
        return Err(bad);
    }
    match *version {
        b"HTTP/1.1" | b"HTTP/1.0" => {}
        v if v.len() == 8
            && v.starts_with(b"HTTP/")
            && v[5].is_ascii_digit()
            && v[6] == b'.'
            && v[7].is_ascii_digit() =>
        {
            return Err(BadRequest::Status(505));
        }
        _ => return Err(bad),
    }
    let head_only = match *method {
        b"GET" => false,
        b"HEAD" => true,
        _ => return Err(BadRequest::Status(405)),
    };
    Ok(Request {
        head_only,
        target: String::from_utf8_lossy(target).into_owned(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

fn send(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    headers: &[(&str, String)],
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

fn respond(stream: &mut TcpStream, shared: &Shared, request: &Request) -> io::Result<()> {
    let (path, query) = match request.target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (request.target.as_str(), None),
    };
    let head_only = request.head_only;
    match path {
        EVENTS => return events(stream, shared, query, head_only),
        SCRIPT => {
            return send(
                stream,
                200,
                "text/javascript; charset=utf-8",
                &[],
                LIVE_JS.as_bytes(),
                head_only,
            );
        }
        STYLE => {
            return send(
                stream,
                200,
                "text/css; charset=utf-8",
                &[],
                OVERLAY_CSS.as_bytes(),
                head_only,
            );
        }
        _ => {}
    }
    let (generation, built, overlay) = {
        let state = shared.state();
        (state.generation, state.built, state.overlay.clone())
    };
    if !built {
        // No build has succeeded yet: every address shows the problems.
        let page = inject(&placeholder(), generation, overlay.as_deref());
        return send(
            stream,
            503,
            "text/html; charset=utf-8",
            &[("Retry-After", "1".to_string())],
            page.as_bytes(),
            head_only,
        );
    }
    let resolved = if path.starts_with(OWN_PREFIX) {
        Resolved::NotFound
    } else {
        resolve(&shared.dir, &request.target)
    };
    let (status, file) = match resolved {
        Resolved::Redirect(location) => {
            return send(
                stream,
                301,
                "text/plain; charset=utf-8",
                &[("Location", location)],
                b"301 Moved Permanently\n",
                head_only,
            );
        }
        Resolved::File(file) => (200, file),
        Resolved::NotFound => (404, shared.dir.join("404.html")),
    };
    // The file may go between the look and the read, when a rebuild swaps
    // in a site without it (a screenshot renamed): then it is not found.
    let read = std::fs::read(&file)
        .map(|b| (status, file.clone(), b))
        .or_else(|_| {
            let missing = shared.dir.join("404.html");
            std::fs::read(&missing).map(|b| (404, missing, b))
        });
    let (status, file, bytes) = match read {
        Ok(found) => found,
        // No 404 page.
        Err(_) => {
            return send(
                stream,
                404,
                "text/plain; charset=utf-8",
                &[],
                b"404 Not Found\n",
                head_only,
            );
        }
    };
    let content_type = content_type(&file);
    if content_type.starts_with("text/html") {
        let page = inject(
            &String::from_utf8_lossy(&bytes),
            generation,
            overlay.as_deref(),
        );
        send(
            stream,
            status,
            content_type,
            &[],
            page.as_bytes(),
            head_only,
        )
    } else {
        send(stream, status, content_type, &[], &bytes, head_only)
    }
}

/// The event stream: `reload` after each build. A page passes the build it
/// was served from (`since`); if another build finished in between, it is
/// told at once.
fn events(
    stream: &mut TcpStream,
    shared: &Shared,
    query: Option<&str>,
    head_only: bool,
) -> io::Result<()> {
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
    )?;
    if head_only {
        return stream.flush();
    }
    let since: Option<u64> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("since="))
        .and_then(|v| v.parse().ok());
    let mut seen = shared.state().generation;
    stream.write_all(b"retry: 1000\n\n")?;
    if since.is_some_and(|s| s != seen) {
        write!(stream, "event: reload\ndata: {seen}\n\n")?;
    }
    stream.flush()?;
    loop {
        let state = shared.state();
        let (state, _) = shared
            .changed
            .wait_timeout_while(state, KEEP_ALIVE, |s| s.generation == seen && !s.stopping)
            .unwrap_or_else(|e| e.into_inner());
        let (generation, stopping) = (state.generation, state.stopping);
        drop(state);
        if stopping {
            return Ok(());
        }
        if generation != seen {
            seen = generation;
            write!(stream, "event: reload\ndata: {seen}\n\n")?;
        } else {
            stream.write_all(b": keep-alive\n\n")?;
        }
        stream.flush()?;
    }
}

/// What a request target names in the served folder.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    File(PathBuf),
    /// A folder asked for without its slash: where it is.
    Redirect(String),
    NotFound,
}

/// The file a request target names inside `dir`, never outside it. Each
/// segment of the path is decoded on its own; a segment that decodes to
/// something with a slash, a backslash, a colon, a control character, or
/// that starts with a dot (`.`, `..`, hidden files) names nothing, and so
/// does an empty segment (`//`). Whatever the checks let through is still
/// checked against the folder once symbolic links are resolved.
pub fn resolve(dir: &Path, target: &str) -> Resolved {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let path = path.split_once('#').map_or(path, |(p, _)| p);
    let Some(rest) = path.strip_prefix('/') else {
        return Resolved::NotFound;
    };
    let mut segments: Vec<&str> = rest.split('/').collect();
    let folder = segments.last().is_some_and(|s| s.is_empty());
    if folder {
        segments.pop();
    }
    let mut file = dir.to_path_buf();
    for segment in segments {
        let Some(name) = decode_segment(segment) else {
            return Resolved::NotFound;
        };
        let mut components = Path::new(&name).components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) => file.push(&name),
            _ => return Resolved::NotFound,
        }
    }
    if folder {
        file.push("index.html");
    } else if file.is_dir() {
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        return Resolved::Redirect(format!("{path}/{query}"));
    }
    let (Ok(real), Ok(real_dir)) = (file.canonicalize(), dir.canonicalize()) else {
        return Resolved::NotFound;
    };
    if real.starts_with(&real_dir) && real.is_file() {
        Resolved::File(file)
    } else {
        Resolved::NotFound
    }
}

/// Percent-decode one path segment; None if it cannot name a file here.
fn decode_segment(segment: &str) -> Option<String> {
    if segment.is_empty() {
        return None;
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let name = String::from_utf8(out).ok()?;
    let refused = name.starts_with('.')
        || name
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\' | ':'));
    (!refused).then_some(name)
}

/// The Content-Type of a file of the site, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Add the live-reload script (before `</body>`) and, when there are
/// problems, the overlay (first in the body, so it is read first).
pub fn inject(html: &str, generation: u64, overlay: Option<&str>) -> String {
    let lower = html.to_ascii_lowercase();
    let script =
        format!("<script src=\"{SCRIPT}\" data-generation=\"{generation}\" defer></script>\n");
    let mut out = String::with_capacity(html.len() + script.len() + overlay.map_or(0, str::len));
    let body_start = find_body_start(&lower);
    let body_end = lower
        .rfind("</body")
        .filter(|&e| body_start.is_none_or(|s| e >= s));
    let (head, rest) = html.split_at(body_start.unwrap_or(0));
    out.push_str(head);
    if let Some(o) = overlay {
        out.push_str(o);
    }
    let rest_start = head.len();
    match body_end {
        Some(end) => {
            out.push_str(&html[rest_start..end]);
            out.push_str(&script);
            out.push_str(&html[end..]);
        }
        None => {
            out.push_str(rest);
            out.push_str(&script);
        }
    }
    out
}

/// Just past the `<body ...>` tag, if there is one.
fn find_body_start(lower: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = lower[from..].find("<body") {
        let at = from + i;
        let after = lower.as_bytes().get(at + 5).copied();
        if matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')) {
            return lower[at..].find('>').map(|j| at + j + 1);
        }
        from = at + 5;
    }
    None
}

/// The overlay listing the problems of the last save, escaped.
pub fn overlay(problems: &[Problem]) -> String {
    const SHOWN: usize = 50;
    let count = problems.len();
    let title = if count == 1 {
        "1 problem".to_string()
    } else {
        format!("{count} problems")
    };
    let mut out = format!(
        "<link rel=\"stylesheet\" href=\"{STYLE}\">\n<section id=\"procdoc-overlay\" role=\"alert\" aria-labelledby=\"procdoc-overlay-title\">\n<div class=\"procdoc-head\">\n<h2 id=\"procdoc-overlay-title\">{title} in the last save: this page shows the last version that built</h2>\n<button type=\"button\" id=\"procdoc-overlay-dismiss\">Dismiss</button>\n</div>\n<ol>\n"
    );
    for problem in problems.iter().take(SHOWN) {
        out.push_str("<li>");
        match problem {
            Problem::At(d) => {
                let location = if d.line == 0 {
                    diag::display_path(&d.path)
                } else {
                    format!("{}:{}:{}", diag::display_path(&d.path), d.line, d.column)
                };
                let label = match d.severity {
                    diag::Severity::Error => "error",
                    diag::Severity::Warning => "warning",
                };
                let _ = write!(
                    out,
                    "<p><code>{}</code> <span class=\"procdoc-code\">{label}[{}]</span>: {}</p>",
                    esc(&location),
                    d.code.id(),
                    esc(&d.message)
                );
                if let Some(src) = &d.source {
                    let gutter = d.line.to_string();
                    let pad = " ".repeat(gutter.len());
                    let lead: String = src
                        .text
                        .chars()
                        .take(d.column.saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    let _ = write!(
                        out,
                        "<pre>{gutter} | {}\n{pad} | {lead}{}</pre>",
                        esc(&src.text),
                        "^".repeat(src.width)
                    );
                }
                if !d.hint.is_empty() {
                    let _ = write!(out, "<p>Hint: {}</p>", esc(&d.hint).replace('\n', "<br>"));
                }
            }
            Problem::Message(m) | Problem::Fatal(m) => {
                let _ = write!(
                    out,
                    "<p><span class=\"procdoc-code\">error</span>: {}</p>",
                    esc(m)
                );
            }
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n");
    if count > SHOWN {
        let _ = writeln!(out, "<p>And {} more: see the terminal.</p>", count - SHOWN);
    }
    out.push_str("<p>Save the file again once it is corrected: this message goes away by itself.</p>\n</section>\n");
    out
}

/// The page served at every address while no build has succeeded yet.
fn placeholder() -> String {
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>procdoc preview: the site does not build yet</title>\n</head>\n<body>\n<main>\n<h1>The site does not build yet</h1>\n<p>procdoc shows the site here as soon as the problems listed are corrected.</p>\n</main>\n</body>\n</html>\n".to_string()
}

/// Does a file-system event concern the site's sources (`procedures/`,
/// `themes/`, `templates/`, `procdoc.toml` under `root`), and not only an
/// editor's temporary file or a read?
pub fn relevant(root: &Path, event: &notify::Event) -> bool {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode};
    match event.kind {
        // Reads, including procdoc's own while it builds.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
        EventKind::Access(_) => return false,
        _ => {}
    }
    event.paths.iter().any(|p| source_path(root, p))
}

/// Is `path` one of the site's sources, not an editor's temporary file?
pub fn source_path(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let names: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let Some(first) = names.first() else {
        return false;
    };
    let watched = match first.as_str() {
        "procdoc.toml" => names.len() == 1,
        "procedures" | "themes" | "templates" => true,
        _ => false,
    };
    watched && !names.iter().any(|n| editor_temporary(n))
}

/// Files editors write beside the one being saved: vim's swap files and
/// its `4913` probe, backups ending in `~`, Emacs's `.#lock` and `#autosave#`
/// files, and anything hidden.
pub fn editor_temporary(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.ends_with('~')
        || name == "4913"
        || (name.starts_with('#') && name.ends_with('#'))
        || [".swp", ".swx", ".swo", ".tmp", ".bak"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        let ok = |s: &str| parse_request_line(s.as_bytes());
        assert_eq!(
            ok("GET /a/ HTTP/1.1"),
            Ok(Request {
                head_only: false,
                target: "/a/".into()
            })
        );
        assert!(ok("HEAD / HTTP/1.0").unwrap().head_only);
        assert_eq!(ok("POST / HTTP/1.1"), Err(BadRequest::Status(405)));
        assert_eq!(ok("GET / HTTP/2.0"), Err(BadRequest::Status(505)));
        for bad in [
            "GET /",
            "GET  / HTTP/1.1",
            "G\u{e9}T / HTTP/1.1",
            "GET /\u{1} HTTP/1.1",
            "",
            "GET / FTP/1.0",
        ] {
            assert_eq!(ok(bad), Err(BadRequest::Status(400)), "{bad:?}");
        }
    }

    #[test]
    fn request_heads() {
        let read = |s: &str| read_request(&mut s.as_bytes());
        assert!(read("GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_ok());
        assert!(read("\r\nGET / HTTP/1.1\nHost: x\n\n").is_ok());
        assert_eq!(read(""), Err(BadRequest::Gone));
        assert_eq!(
            read("GET / HTTP/1.1\r\nHost x\r\n\r\n"),
            Err(BadRequest::Status(400))
        );
        assert_eq!(
            read("GET / HTTP/1.1\r\nHost: x\r\n"),
            Err(BadRequest::Status(400))
        );
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
        assert_eq!(read(&huge), Err(BadRequest::Status(431)));
    }

    #[test]
    fn a_head_sent_slowly_ends_at_its_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nX: ").unwrap();
            // A byte at a time, each well within any timeout between reads,
            // until the server closes.
            while s.write_all(b"a").is_ok() {
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(Deadline {
            stream: &stream,
            until: Instant::now() + Duration::from_millis(300),
        });
        assert_eq!(read_request(&mut reader), Err(BadRequest::Status(408)));
        drop(reader);
        drop(stream);
        client.join().unwrap();
    }

    #[test]
    fn targets_stay_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("a/static")).unwrap();
        std::fs::write(site.join("index.html"), "i").unwrap();
        std::fs::write(site.join("a/index.html"), "a").unwrap();
        std::fs::write(site.join("a/static/x.css"), "x").unwrap();
        std::fs::write(site.join(".procdoc-output"), "m").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
        let r = |t: &str| resolve(&site, t);
        assert_eq!(r("/"), Resolved::File(site.join("index.html")));
        assert_eq!(r("/?x=1"), Resolved::File(site.join("index.html")));
        assert_eq!(r("/a/"), Resolved::File(site.join("a/index.html")));
        assert_eq!(
            r("/a/static/x.css?v=12"),
            Resolved::File(site.join("a/static/x.css"))
        );
        assert_eq!(r("/%61/"), Resolved::File(site.join("a/index.html")));
        assert_eq!(r("/a"), Resolved::Redirect("/a/".into()));
        assert_eq!(r("/a?q=1"), Resolved::Redirect("/a/?q=1".into()));
        for bad in [
            "/../secret.txt",
            "/a/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E/secret.txt",
            "/..%2fsecret.txt",
            "/a/..%2F..%2Fsecret.txt",
            "/a/..%5c..%5csecret.txt",
            "/a\\..\\..\\secret.txt",
            "//secret.txt",
            "/.procdoc-output",
            "/a/%00",
            "/a%00/",
            "/%zz",
            "/%c0%ae%c0%ae/secret.txt",
            "secret.txt",
            "http://x/secret.txt",
            "*",
            "/C:/secret.txt",
            "/missing.html",
            "/a/static/",
        ] {
            assert_eq!(r(bad), Resolved::NotFound, "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), site.join("link.txt"))
                .unwrap();
            assert_eq!(r("/link.txt"), Resolved::NotFound);
        }
    }

    #[test]
    fn injection_places_script_and_overlay() {
        let page = "<!DOCTYPE html><html><head></head><BODY class=x>\n<p>hi</p>\n</body></html>";
        let out = inject(page, 7, Some("<div>O</div>"));
        assert_eq!(
            out,
            "<!DOCTYPE html><html><head></head><BODY class=x><div>O</div>\n<p>hi</p>\n<script src=\"/__procdoc/live.js\" data-generation=\"7\" defer></script>\n</body></html>"
        );
        let bare = inject("<p>x</p>", 1, None);
        assert!(bare.starts_with("<p>x</p><script"));
        // `<bodyguard>` is not the body.
        assert!(inject("<bodyguard></bodyguard>", 1, Some("O")).starts_with("O<bodyguard>"));
    }

    #[test]
    fn overlay_escapes_everything() {
        let source = crate::diag::SourceFile::new(
            "procedures/x.md",
            "a\n| 5 | <script>alert(1)</script> |\n".to_string(),
        );
        let d = source.diag(crate::diag::Code::StepGap, 4..5, "step 5 <follows> step 3");
        let html = overlay(&[
            Problem::At(d),
            Problem::Message("templates/base.html: '<oops>'".into()),
        ]);
        assert!(html.contains("role=\"alert\""));
        assert!(html.contains("<code>procedures/x.md:2:3</code>"));
        assert!(html.contains("error[E002]"));
        assert!(html.contains("step 5 &lt;follows&gt; step 3"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&#39;&lt;oops&gt;&#39;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("2 problems"));
    }

    #[test]
    fn editor_files_are_ignored() {
        let root = Path::new("/site");
        let yes = |p: &str| source_path(root, &root.join(p));
        assert!(yes("procedures/x.md"));
        assert!(yes("procedures/images/a.png"));
        assert!(yes("procdoc.toml"));
        assert!(yes("themes/court/static/style.css"));
        assert!(yes("templates/partials/footer.html"));
        for no in [
            "procedures/.x.md.swp",
            "procedures/.x.md.swx",
            "procedures/x.md~",
            "procedures/.#x.md",
            "procedures/#x.md#",
            "procedures/4913",
            "procedures/.git/index",
            "output/index.html",
            ".procdoc-cache/serve/site/index.html",
            "procdoc.toml.swp",
            "src/main.rs",
        ] {
            assert!(!yes(no), "{no}");
        }
        assert!(!source_path(root, Path::new("/elsewhere/procedures/x.md")));
    }

    #[test]
    fn types() {
        for (name, t) in [
            ("a.html", "text/html; charset=utf-8"),
            ("a.CSS", "text/css; charset=utf-8"),
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("a.woff2", "font/woff2"),
            ("a.ttf", "font/ttf"),
            ("a.pdf", "application/pdf"),
            ("a.xml", "application/xml"),
            ("a.txt", "text/plain; charset=utf-8"),
            ("a", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(name)), t);
        }
    }
}
