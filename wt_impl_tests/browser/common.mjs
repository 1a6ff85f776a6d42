// common.mjs - what the browser tests (browser_test.mjs, interop_test.mjs,
// demo_test.mjs) share: the headless browsers, the check lines, a server's
// output to wait on, the page's HTTP server and the end of a run.
//   chromium: Debian's chromium driven by playwright-core
//   firefox:  Debian's firefox-esr driven by puppeteer-core over WebDriver BiDi
//             (Playwright's Firefox needs its own patched build)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One "ok"/"FAIL" line per check, prefixed with label; results collects them.
export function checker(label) {
  const results = [];
  const check = (name, ok, detail = '') => {
    results.push({ name, ok: !!ok });
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}: ${name}${detail ? ' (' + detail + ')' : ''}`);
  };
  return { results, check };
}

// Never hang CI: past ms the run fails with one line, whatever it was doing.
export const bound = (label, ms) => setTimeout(() => {
  console.log(`FAIL ${label}: took over ${ms / 1000} s\n0 passed, 1 failed`);
  process.exit(1);
}, ms);

// Prints "N passed, N failed" and exits, 1 if any failed or none ran.
export function finish(results, deadline) {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  clearTimeout(deadline);
  process.exit(failed || !results.length ? 1 : 0);
}

// Collects a child's stdout; waitFor(re, ms) resolves to the first match
// of re in it, or null once ms pass.
export function watchOutput(child) {
  const out = { text: '' };
  child.stdout.on('data', (d) => { out.text += d.toString(); });
  out.waitFor = (re, ms) => new Promise((resolve) => {
    const t0 = Date.now();
    const tick = () => {
      const m = out.text.match(re);
      if (m) return resolve(m);
      if (Date.now() - t0 > ms) return resolve(null);
      setTimeout(tick, 50);
    };
    tick();
  });
  return out;
}

// Serves one HTML file at every path of http://127.0.0.1:<port>/ (a secure
// context; about:blank has no WebTransport).
export async function servePage(file) {
  const page = readFileSync(file);
  const http = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  return { port: http.address().port, close: () => http.close() };
}

async function launchChromium(viewport) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.WT_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // as root Chromium needs --no-sandbox; QUIC stays on (no --disable-quic)
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const ctx = await browser.newContext(viewport ? { viewport } : {});
  return { newTab: () => ctx.newPage(), close: () => browser.close() };
}

async function launchFirefox(viewport) {
  const puppeteer = (await import('puppeteer-core')).default;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.WT_FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
    protocol: 'webDriverBiDi',
    // release builds honour services.settings.server only with this set:
    // it keeps Firefox's background sync on a dead loopback port
    env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' },
    extraPrefsFirefox: {
      'services.settings.server': 'http://127.0.0.1:9/',
      'network.connectivity-service.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.trr.mode': 5,
    },
  });
  return {
    newTab: async () => {
      const tab = await browser.newPage();
      if (viewport) await tab.setViewport(viewport);
      return tab;
    },
    close: () => browser.close(),
  };
}

// A headless browser ('firefox' or else chromium): { newTab(), close() },
// its tabs of viewport's size if given.
export const launch = (which, viewport) => (which === 'firefox' ? launchFirefox(viewport) : launchChromium(viewport));

// A browser with one tab on url: { tab, close(), call(fn, ...args) }, call
// running window[fn](...args) in the page (the two drivers pass arguments
// apart). The page's console goes to ours with $WT_TEST_LOG set.
export async function launchTab(which, url) {
  const b = await launch(which);
  let tab;
  try {
    tab = await b.newTab();
    tab.on('console', (m) => { if (process.env.WT_TEST_LOG) console.log('  page:', m.text()); });
    await tab.goto(url);
  } catch (e) {
    await closeBrowser(b); // the caller has no handle on it yet
    throw e;
  }
  const call = which === 'firefox'
    ? (fn, ...a) => tab.evaluate((f, args) => window[f](...args), fn, a)
    : (fn, ...a) => tab.evaluate(([f, args]) => window[f](...args), [fn, a]);
  return { tab, close: b.close, call };
}

// Closes a browser, giving up after 10 s (a hung browser must not hang CI).
export const closeBrowser = (b) => Promise.race([b.close().catch(() => {}), sleep(10000)]);
