#!/usr/bin/env node
// Runs the Nu HTML Checker (vnu.jar from the vnu-jar package) over every HTML
// file of a site folder and reports its errors.
// Usage: node vnu.mjs <site-folder>
// Last line of output: "N passed, M failed" (files without / with errors).
// Exit status: 0 no errors, 1 errors found, 2 usage error or checker could not run.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

function fail(msg) {
  console.error(`vnu.mjs: ${msg}`);
  process.exit(2);
}

// The same files vnu checks with --skip-non-html when given a folder.
function htmlFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...htmlFiles(p));
    else if (e.isFile() && /\.(html|htm|xhtml|xht)$/i.test(e.name)) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
if (args.length !== 1 || args[0].startsWith('-')) fail('usage: node vnu.mjs <site-folder>');
if (!fs.existsSync(args[0]) || !fs.statSync(args[0]).isDirectory()) fail(`not a folder: ${args[0]}`);
const folder = fs.realpathSync(args[0]);

let jar;
try {
  jar = String(require('vnu-jar')); // the package exports the absolute path of vnu.jar
} catch {
  fail(`vnu-jar not installed; run "npm ci" in ${path.dirname(fileURLToPath(import.meta.url))}`);
}

const run = spawnSync(process.env.JAVA || 'java',
  ['-jar', jar, '--errors-only', '--format', 'json', '--skip-non-html', folder],
  { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
if (run.error) fail(`cannot run java: ${run.error.message}`);

let messages;
try {
  // vnu writes its JSON report to stderr; take the JSON object, ignore anything around it.
  const text = run.stderr.slice(run.stderr.indexOf('{'), run.stderr.lastIndexOf('}') + 1);
  messages = JSON.parse(text).messages;
} catch {
  fail(`unexpected output from vnu (exit ${run.status}):\n${run.stderr}${run.stdout}`);
}

const rel = (url) => {
  try { return path.relative(folder, fileURLToPath(url)).split(path.sep).join('/'); } catch { return url || '(unknown)'; }
};
const byFile = new Map();
for (const m of messages) {
  if (m.type === 'info') continue; // --errors-only should leave none; be safe
  const file = rel(m.url);
  if (!byFile.has(file)) byFile.set(file, []);
  byFile.get(file).push(m);
}

const files = htmlFiles(folder).map((p) => path.relative(folder, p).split(path.sep).join('/')).sort();
for (const f of byFile.keys()) if (!files.includes(f)) files.push(f);

console.log(`vnu: ${folder} (${files.length} HTML file${files.length === 1 ? '' : 's'})`);
let passed = 0;
let failed = 0;
for (const file of files) {
  const errors = byFile.get(file) || [];
  if (errors.length === 0) { passed++; continue; }
  failed++;
  for (const m of errors) {
    const line = m.firstLine ?? m.lastLine ?? '?'; // firstLine is given only when it differs
    const col = m.firstColumn ?? m.lastColumn ?? '?';
    const kind = m.type === 'error' ? 'error' : m.type;
    console.log(`${file}:${line}:${col}: ${kind}: ${m.message}`);
    if (m.extract) console.log(`    ${m.extract.replace(/\s+/g, ' ').trim()}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
