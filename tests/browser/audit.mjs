#!/usr/bin/env node
// Browser audit of a static site folder: serves it on 127.0.0.1, opens every
// .html page in Debian's Chromium (via playwright-core) and checks
// accessibility (axe-core, light and dark), reflow at 320 px, internal links
// and images, and that no request leaves 127.0.0.1.
// Usage: node audit.mjs <site-folder> [--label NAME] [--json FILE] [--base /PATH/]
// --base serves the folder under that path, as the site is published (its
// 404 page uses links from the site's own path on the host).
// Last line of output: "N passed, M failed" over (page, check) pairs.
// Exit status: 0 all passed, 1 something failed, 2 usage or launch error.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AXE_PATH = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync'];
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const CHECKS = ['axe-light', 'axe-dark', 'axe-forced-colors', 'reflow-320', 'focus', 'print', 'links', 'images', 'requests'];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.gif': 'image/gif', '.webp': 'image/webp', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.pdf': 'application/pdf',
  '.xml': 'application/xml', '.txt': 'text/plain; charset=utf-8',
};

function usage(msg) {
  if (msg) console.error(`audit.mjs: ${msg}`);
  console.error('usage: node audit.mjs <site-folder> [--label NAME] [--json FILE] [--base /PATH/]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { folder: null, label: null, json: null, base: '/' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--label' || a === '--json' || a === '--base') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      opts[a.slice(2)] = argv[++i];
    } else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (opts.folder) usage('only one site folder may be given');
    else opts.folder = a;
  }
  if (!opts.folder) usage('no site folder given');
  if (!fs.existsSync(opts.folder) || !fs.statSync(opts.folder).isDirectory()) usage(`not a folder: ${opts.folder}`);
  opts.folder = fs.realpathSync(opts.folder);
  opts.base = ('/' + opts.base + '/').replace(/\/+/g, '/');
  return opts;
}

function htmlFiles(root, dir = root) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...htmlFiles(root, p));
    else if (e.isFile() && e.name.endsWith('.html')) out.push(path.relative(root, p).split(path.sep).join('/'));
  }
  return out;
}

// Static file server: "/x/" -> "/x/index.html", "/x" (a folder) -> redirect to "/x/",
// unknown paths -> 404 with the site's 404.html, paths outside the folder -> 403.
export function serve(root, base = '/') {
  const notFound = path.join(root, '404.html');
  const server = http.createServer((req, res) => {
    const send = (status, headers, body) => {
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    let rel;
    try { rel = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { return send(400, {}, 'bad request'); }
    if (!(rel + '/').startsWith(base)) {
      const body = fs.existsSync(notFound) ? fs.readFileSync(notFound) : 'not found';
      return send(404, { 'content-type': 'text/html; charset=utf-8' }, body);
    }
    rel = '/' + rel.slice(base.length);
    let file = path.resolve(root, '.' + rel);
    const inside = (p) => p === root || p.startsWith(root + path.sep);
    if (rel.includes('\0') || !inside(file)) return send(403, { 'content-type': 'text/plain' }, 'forbidden');
    try {
      if (fs.statSync(file).isDirectory()) {
        if (!rel.endsWith('/')) return send(301, { location: req.url.replace(/^([^?#]*)/, '$1/') }, '');
        file = path.join(file, 'index.html');
      }
      file = fs.realpathSync(file);
      if (!inside(file)) return send(403, { 'content-type': 'text/plain' }, 'forbidden');
      const body = fs.readFileSync(file);
      send(200, { 'content-type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream' }, body);
    } catch {
      const body = fs.existsSync(notFound) ? fs.readFileSync(notFound) : 'not found';
      send(404, { 'content-type': 'text/html; charset=utf-8' }, body);
    }
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// --- checks that run inside the page -------------------------------------------

async function runAxe(page) {
  await page.addScriptTag({ path: AXE_PATH });
  const result = await page.evaluate((values) => window.axe.run(document, { runOnly: { type: 'tag', values } }), AXE_TAGS);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, count: v.nodes.length,
    nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target.join(' '), failureSummary: n.failureSummary })),
  }));
}

function measureOverflow() {
  const innerWidth = window.innerWidth;
  const scrollWidth = document.documentElement.scrollWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') +
    [...el.classList].map((c) => `.${c}`).join('');
  const offenders = scrollWidth <= innerWidth ? [] : [...document.body.querySelectorAll('*')]
    .map((el) => ({ el, r: el.getBoundingClientRect() }))
    .filter(({ r }) => r.right > innerWidth + 0.5 && r.width > 0)
    .sort((a, b) => b.r.right - a.r.right).slice(0, 5)
    .map(({ el, r }) => ({ element: describe(el), width: Math.round(r.width), right: Math.round(r.right) }));
  return { scrollWidth, innerWidth, offenders };
}

function collectRefs() {
  const abs = (u) => { try { return new URL(u, document.baseURI).href; } catch { return null; } };
  const refs = [];
  for (const a of document.querySelectorAll('a[href]')) refs.push({ kind: 'a', raw: a.getAttribute('href'), url: abs(a.getAttribute('href')) });
  for (const el of document.querySelectorAll('img[src]')) refs.push({ kind: 'img', raw: el.getAttribute('src'), url: abs(el.getAttribute('src')) });
  for (const el of document.querySelectorAll('img[srcset], picture source[srcset]')) {
    for (const cand of el.getAttribute('srcset').split(',')) {
      const raw = cand.trim().split(/\s+/)[0];
      if (raw) refs.push({ kind: 'srcset', raw, url: abs(raw) });
    }
  }
  return refs;
}

async function loadAllImages(timeoutMs) {
  const imgs = [...document.images];
  for (const img of imgs) { img.loading = 'eager'; img.scrollIntoView({ block: 'center' }); }
  const settle = (img) => img.complete ? null : new Promise((r) => { img.addEventListener('load', r); img.addEventListener('error', r); });
  await Promise.race([Promise.all(imgs.map(settle)), new Promise((r) => setTimeout(r, timeoutMs))]);
  window.scrollTo(0, 0);
  return imgs.filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => ({ src: img.getAttribute('src'), currentSrc: img.currentSrc, complete: img.complete }));
}

// --- link targets (cached across pages) ----------------------------------------

function makeLinkChecker(context, origin) {
  const statusCache = new Map();
  const idCache = new Map();
  const status = (url) => {
    if (!statusCache.has(url)) {
      statusCache.set(url, fetch(url, { redirect: 'follow' })
        .then((r) => ({ status: r.status, type: r.headers.get('content-type') || '' }))
        .catch((e) => ({ status: 0, type: '', error: String(e) })));
    }
    return statusCache.get(url);
  };
  const ids = (url) => {
    if (!idCache.has(url)) {
      idCache.set(url, (async () => {
        const probe = await context.newPage();
        try {
          await probe.goto(url, { waitUntil: 'domcontentloaded' });
          return new Set(await probe.evaluate(() => [...document.querySelectorAll('[id]')].map((e) => e.id)
            .concat([...document.querySelectorAll('a[name]')].map((e) => e.name))));
        } finally { await probe.close(); }
      })());
    }
    return idCache.get(url);
  };
  // Returns a problem string, or null when the reference is fine or not internal.
  return async (ref) => {
    if (!ref.url) return `unparsable URL "${ref.raw}"`;
    const u = new URL(ref.url);
    if (u.origin !== origin) return null;
    const frag = u.hash ? decodeURIComponent(u.hash.slice(1)) : '';
    u.hash = '';
    const r = await status(u.href);
    if (r.status !== 200) return `${ref.raw} -> HTTP ${r.status || r.error}`;
    if (ref.kind === 'a' && frag && frag.toLowerCase() !== 'top' && r.type.startsWith('text/html')
        && !(await ids(u.href)).has(frag)) return `${ref.raw} -> no element with id "${frag}" on ${u.pathname}`;
    return null;
  };
}

// --- per-page audit ------------------------------------------------------------

async function auditPage(page, url, origin, checkRef, requests) {
  const results = {};
  const guard = async (name, fn) => {
    try { results[name] = await fn(); } catch (e) { results[name] = { ok: false, error: String(e.message || e).split('\n')[0] }; }
  };
  const load = async () => {
    const resp = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    if (!resp || resp.status() !== 200) throw new Error(`page answered HTTP ${resp ? resp.status() : 'nothing'}`);
  };
  await page.setViewportSize({ width: 1280, height: 800 });
  for (const scheme of ['light', 'dark']) {
    await guard(`axe-${scheme}`, async () => {
      await page.emulateMedia({ colorScheme: scheme });
      await load();
      const violations = await runAxe(page);
      return { ok: violations.length === 0, violations };
    });
    if (scheme === 'light') {
      await guard('links', async () => {
        const refs = await page.evaluate(collectRefs);
        const problems = [...new Set((await Promise.all(refs.map(checkRef))).filter(Boolean))];
        return { ok: problems.length === 0, checked: refs.length, problems };
      });
      await guard('images', async () => {
        const broken = await page.evaluate(loadAllImages, 10000);
        return { ok: broken.length === 0, broken };
      });
    }
  }
  // Windows high-contrast (forced colours): still no violation.
  await guard('axe-forced-colors', async () => {
    await page.emulateMedia({ colorScheme: 'light', forcedColors: 'active' });
    await load();
    const violations = await runAxe(page);
    await page.emulateMedia({ forcedColors: 'none' });
    return { ok: violations.length === 0, violations };
  });
  // Keyboard: the first Tab lands on the skip link, which shows itself; every
  // focused element (first 15 Tabs) draws a visible outline.
  await guard('focus', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await load();
    const problems = [];
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const cs = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        return {
          el: el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ')[0] : ''),
          text: (el.textContent || '').trim().slice(0, 40),
          outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
          visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0,
          href: el.getAttribute('href'),
        };
      });
      if (!f) break;
      if (i === 0 && f.href !== '#main') problems.push(`the first Tab reaches ${f.el} "${f.text}", not the skip link`);
      if (!f.outline || !f.visible) problems.push(`focus on ${f.el} "${f.text}" is not visible`);
    }
    return { ok: problems.length === 0, problems };
  });
  // Print: navigation hidden, web addresses written after links in the content.
  await guard('print', async () => {
    await page.emulateMedia({ media: 'print', colorScheme: 'light' });
    await load();
    const r = await page.evaluate(() => {
      const shown = [...document.querySelectorAll('.skip-link, .site-nav, .breadcrumbs, .pager, .filter, .toc')]
        .filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.className);
      const links = [...document.querySelectorAll('main a[href^="http"]')];
      const bare = links.filter((a) => !getComputedStyle(a, '::after').content.includes(a.getAttribute('href')))
        .map((a) => a.getAttribute('href'));
      return { shown, bare, links: links.length };
    });
    await page.emulateMedia({ media: 'screen' });
    const problems = [...r.shown.map((c) => `printed: ${c}`), ...r.bare.map((h) => `printed without its address: ${h}`)];
    return { ok: problems.length === 0, problems };
  });
  await guard('reflow-320', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 320, height: 640 });
    await load();
    const m = await page.evaluate(measureOverflow);
    return { ok: m.scrollWidth <= m.innerWidth, ...m };
  });
  results.requests = {
    ok: requests.external.length === 0 && requests.failed.length === 0,
    external: [...new Set(requests.external)], failed: [...new Set(requests.failed)],
  };
  return results;
}

const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function describe(name, r) {
  if (r.error) return [`error: ${r.error}`];
  switch (name) {
    case 'axe-light': case 'axe-dark': case 'axe-forced-colors':
      return r.violations.flatMap((v) => [`${v.id} (${v.impact}, ${v.count} node${v.count > 1 ? 's' : ''}): ${v.help}`,
        ...v.nodes.map((n) => `    at ${n.target}: ${clip((n.failureSummary || '').replace(/\s*\n\s*/g, ' '), 200)}`)]);
    case 'reflow-320':
      return [`scrollWidth ${r.scrollWidth} > innerWidth ${r.innerWidth}; widest:`,
        ...r.offenders.map((o) => `    ${o.element} (width ${o.width}px, right edge ${o.right}px)`)];
    case 'links': case 'focus': case 'print': return r.problems;
    case 'images': return r.broken.map((b) => `not loaded: ${b.src || b.currentSrc}`);
    case 'requests': return [...r.external.map((u) => `external request: ${u}`), ...r.failed.map((u) => `failed request: ${u}`)];
    default: return [];
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pages = htmlFiles(opts.folder);
  if (!fs.existsSync(AXE_PATH)) usage(`axe-core not installed (${AXE_PATH}); run "npm ci" in ${HERE}`);
  const server = await serve(opts.folder, opts.base);
  const origin = `http://127.0.0.1:${server.address().port}`;
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (e) {
    console.error(`audit.mjs: cannot launch ${CHROMIUM}: ${String(e.message || e).split('\n')[0]}`);
    server.close();
    process.exit(2);
  }
  const label = opts.label ? ` [${opts.label}]` : '';
  console.log(`audit${label}: ${opts.folder} (${pages.length} page${pages.length === 1 ? '' : 's'}) served at ${origin}${opts.base}`);
  const context = await browser.newContext();
  // Anything not on our server is recorded by the request listener and then refused.
  await context.route('**/*', (route) => new URL(route.request().url()).origin === origin ? route.continue() : route.abort());
  const checkRef = makeLinkChecker(context, origin);
  const report = { label: opts.label, folder: opts.folder, origin, pages: [], passed: 0, failed: 0 };
  for (const rel of pages) {
    const url = `${origin}${opts.base}${rel.replace(/(^|\/)index\.html$/, '$1')}`;
    const requests = { external: [], failed: [] };
    const page = await context.newPage();
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (!['data:', 'blob:', 'about:'].includes(u.protocol) && u.hostname !== '127.0.0.1') requests.external.push(req.url());
    });
    page.on('response', (resp) => { if (resp.status() >= 400) requests.failed.push(`${resp.url()} (HTTP ${resp.status()})`); });
    const checks = await auditPage(page, url, origin, checkRef, requests);
    await page.close();
    console.log(`\n${rel}`);
    for (const name of CHECKS) {
      const r = checks[name];
      r.ok ? report.passed++ : report.failed++;
      console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${name}`);
      if (!r.ok) for (const line of describe(name, r)) console.log(`         ${line}`);
    }
    report.pages.push({ page: rel, url, checks });
  }
  await browser.close();
  server.close();
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
  console.log(`\n${report.passed} passed, ${report.failed} failed`);
  process.exit(report.failed ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  main().catch((e) => { console.error(`audit.mjs: ${e.stack || e}`); process.exit(2); });
}
