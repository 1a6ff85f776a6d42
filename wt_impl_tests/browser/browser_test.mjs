// browser_test.mjs - Debian's Chromium, headless, against the wt.h server.
// Usage: node browser_test.mjs <browser_server binary>
// Prints one line per check and "N passed, N failed" last.
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const serverBin = process.argv[2];
const chromiumPath = process.env.WT_CHROMIUM || '/usr/bin/chromium';
const results = [];
const check = (name, ok, detail = '') => {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} chromium: ${name}${detail ? ' (' + detail + ')' : ''}`);
};

const dir = mkdtempSync(join(tmpdir(), 'wt-browser-'));
const server = spawn(serverBin, [dir, '-1'], { stdio: ['ignore', 'pipe', 'inherit'] });
let serverOut = '';
const waitFor = (re, ms) => new Promise((resolve) => {
  const t0 = Date.now();
  const tick = () => {
    const m = serverOut.match(re);
    if (m) return resolve(m);
    if (Date.now() - t0 > ms) return resolve(null);
    setTimeout(tick, 50);
  };
  tick();
});
server.stdout.on('data', (d) => { serverOut += d.toString(); });

const page = readFileSync(join(here, 'page.html'));
const http = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); });
await new Promise((r) => http.listen(0, '127.0.0.1', r));
const httpPort = http.address().port;

let browser;
let exitCode = 1;
try {
  const ready = await waitFor(/READY port=(\d+) hash=([0-9a-f]{64})/, 10000);
  if (!ready) throw new Error('browser_server did not start: ' + serverOut);
  const [, port, hash] = ready;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const ctx = await browser.newContext();
  const tab = await ctx.newPage();
  tab.on('console', (m) => { if (process.env.WT_TEST_LOG) console.log('  page:', m.text()); });
  await tab.goto(`http://127.0.0.1:${httpPort}/`);
  const pageResults = await tab.evaluate(([u, h]) => run(u, h), [`https://127.0.0.1:${port}/echo`, hash]);
  for (const r of pageResults) check(r.name, r.ok, r.detail);
  const open = await waitFor(/OPEN path=\/echo origin=(\S*)/, 1000);
  check('server saw the session with the page origin', open && open[1] === `http://127.0.0.1:${httpPort}`,
    open ? open[1] : 'no OPEN line');
  const closed = await waitFor(/CLOSED code=(\d+) reason=(.*) error=(-?\d+)/, 5000);
  check('server saw close code and reason', closed && closed[1] === '4242' && closed[2] === 'bye from chromium',
    closed ? closed[0] : 'no CLOSED line');
  const streams = (serverOut.match(/^STREAM /gm) || []).length;
  check('server saw every stream', streams === 12, `${streams} of 12`);
} catch (e) {
  check('browser test ran', false, e.message.split('\n')[0]);
} finally {
  if (browser) await browser.close().catch(() => {});
  http.close();
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  exitCode = failed || !results.length ? 1 : 0;
}
process.exit(exitCode);
