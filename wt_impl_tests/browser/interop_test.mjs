// interop_test.mjs - a real browser, headless, against examples/interop_server.
// Usage: node interop_test.mjs <interop_server binary> [chromium|firefox]
//   (the browsers as in browser_test.mjs: Debian's chromium through
//   playwright-core, Debian's firefox-esr through puppeteer-core + BiDi)
// Checks /echo (both stream kinds, datagrams, the browser's close code and
// reason as the server saw them), /close (the server's code and reason), a
// 404, /stats, the `protocols` option, and a Devious Baton game run to
// completion by the page. Prints one line per check and "N passed, N failed"
// last; a check the browser cannot make says "skipped: ..." and passes.
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const serverBin = resolve(process.argv[2] || ''); // it runs in its own directory
const which = process.argv[3] || 'chromium';
const results = [];
const check = (name, ok, detail = '') => {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${which} interop: ${name}${detail ? ' (' + detail + ')' : ''}`);
};
// never hang CI: the whole run is bounded
const deadline = setTimeout(() => { console.log(`FAIL ${which} interop: took over 150 s\n0 passed, 1 failed`); process.exit(1); }, 150000);

async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.WT_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // as root Chromium needs --no-sandbox; QUIC stays on (no --disable-quic)
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const tab = await (await browser.newContext()).newPage();
  return { tab, close: () => browser.close(), call: (fn, ...a) => tab.evaluate(([f, args]) => window[f](...args), [fn, a]) };
}

async function launchFirefox() {
  const puppeteer = (await import('puppeteer-core')).default;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.WT_FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
    protocol: 'webDriverBiDi',
    env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' },
    extraPrefsFirefox: {
      'services.settings.server': 'http://127.0.0.1:9/',
      'network.connectivity-service.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.trr.mode': 5,
    },
  });
  const tab = await browser.newPage();
  return { tab, close: () => browser.close(), call: (fn, ...a) => tab.evaluate((f, args) => window[f](...args), fn, a) };
}

const dir = mkdtempSync(join(tmpdir(), 'wt-interop-'));
// the server writes its certificate into its working directory
const server = spawn(serverBin, ['--port', '-1', '--protocol', 'chat-v1'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
let serverOut = '';
server.stdout.on('data', (d) => { serverOut += d.toString(); });
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

const page = readFileSync(join(here, 'interop_page.html'));
const http = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); });
await new Promise((r) => http.listen(0, '127.0.0.1', r));
const httpPort = http.address().port;

let b;
try {
  const ready = await waitFor(/READY port=(\d+) hash=([0-9a-f]{64})/, 10000);
  if (!ready) throw new Error('interop_server did not start: ' + serverOut);
  const [, port, hash] = ready;
  const base = `https://127.0.0.1:${port}`;
  b = which === 'firefox' ? await launchFirefox() : await launchChromium();
  b.tab.on('console', (m) => { if (process.env.WT_TEST_LOG) console.log('  page:', m.text()); });
  // http://127.0.0.1 is a secure context; about:blank has no WebTransport
  await b.tab.goto(`http://127.0.0.1:${httpPort}/`);
  const report = (rs) => { for (const r of rs) check(r.name, r.ok, r.detail); };

  report(await b.call('echo', base, hash));
  const closed = await waitFor(/CLOSED id=\d+ path=\/echo code=(\d+) reason=(.*) error=(-?\d+)/, 5000);
  check('echo: the server saw the browser\'s code and reason', closed && closed[1] === '4243' && closed[2] === 'interop bye',
    closed ? closed[0] : 'no CLOSED line');
  report(await b.call('serverClose', base, hash));
  report(await b.call('notFound', base, hash));
  const opened404 = (serverOut.match(/^OPEN id=\d+ path=\/no-such-endpoint/gm) || []).length;
  check('404: the refused path never opened a session', opened404 === 0, `${opened404} opened`);
  report(await b.call('stats', base, hash));
  const protos = await b.call('protocols', base, hash);
  report(protos);
  if (protos.length && protos[0].detail.startsWith('skipped')) {
    const offered = await waitFor(/^OPEN id=\d+ path=\/echo\?lacks-protocols protocol=(\S*)$/m, 2000);
    console.log(`     ${which} interop: with the protocols option the server saw ` +
      (offered ? (offered[1] ? `an offer (chose ${offered[1]})` : 'no offer') : 'no session'));
  } else if (protos.length) {
    const seen = await waitFor(/^OPEN id=\d+ path=\/echo protocol=chat-v1$/m, 2000);
    check('protocols: the server read the same choice', seen, seen ? seen[0] : 'no OPEN line with protocol=chat-v1');
  }
  report(await b.call('baton', base, hash, 3, 240));
  const batonClosed = await waitFor(/CLOSED id=\d+ path=\/webtransport\/devious-baton\?version=0\S* code=0 reason= error=0/, 5000);
  check('devious baton: the server saw a clean end', batonClosed, batonClosed ? batonClosed[0] : 'no clean CLOSED line');
} catch (e) {
  check('interop test ran', false, e.message.split('\n')[0]);
} finally {
  if (b) await Promise.race([b.close().catch(() => {}), new Promise((r) => setTimeout(r, 10000))]);
  http.close();
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  clearTimeout(deadline);
  process.exit(failed || !results.length ? 1 : 0);
}
