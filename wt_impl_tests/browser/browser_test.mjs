// browser_test.mjs - a real browser, headless, against the wt.h server.
// Usage: node browser_test.mjs <browser_server binary> [chromium|firefox]
//   (the browsers as common.mjs launches them)
// Prints one line per check and "N passed, N failed" last.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bound, checker, closeBrowser, finish, launchTab, servePage, watchOutput } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const serverBin = process.argv[2];
const which = process.argv[3] || 'chromium';
const { results, check } = checker(which);
const deadline = bound(`${which}`, 120000); // never hang CI

const dir = mkdtempSync(join(tmpdir(), 'wt-browser-'));
const server = spawn(serverBin, [dir, '-1'], { stdio: ['ignore', 'pipe', 'inherit'] });
const out = watchOutput(server);
const { waitFor } = out;
const http = await servePage(join(here, 'page.html'));
const httpPort = http.port;

let b;
try {
  const ready = await waitFor(/READY port=(\d+) hash=([0-9a-f]{64})/, 10000);
  if (!ready) throw new Error('browser_server did not start: ' + out.text);
  const [, port, hash] = ready;
  const url = `https://127.0.0.1:${port}/echo`;
  // http://127.0.0.1 is a secure context; about:blank has no WebTransport
  b = await launchTab(which, `http://127.0.0.1:${httpPort}/`);
  const rejected = await b.call('expectRejected', url, hash);
  check(rejected.name, rejected.ok, rejected.detail);
  const opensBefore = (out.text.match(/^OPEN /gm) || []).length;
  check('the refused attempt never reached the application', opensBefore === 0, `${opensBefore} sessions`);
  for (const r of await b.call('run', url, hash)) check(r.name, r.ok, r.detail);
  const open = await waitFor(/OPEN path=\/echo origin=(\S*)/, 1000);
  check('server saw the session with the page origin', open && open[1] === `http://127.0.0.1:${httpPort}`,
    open ? open[1] : 'no OPEN line');
  const closed = await waitFor(/CLOSED code=(\d+) reason=(.*) error=(-?\d+)/, 5000);
  check('server saw close code and reason', closed && closed[1] === '4242' && closed[2] === 'bye from the browser',
    closed ? closed[0] : 'no CLOSED line');
  const streams = (out.text.match(/^STREAM /gm) || []).length;
  check('server saw every stream', streams === 12, `${streams} of 12`);
  for (const r of await b.call('conformance', `https://127.0.0.1:${port}`, hash)) check(r.name, r.ok, r.detail);
  check('server answered with 202', await waitFor(/^OPEN202$/m, 1000));
  const cc = await waitFor(/CLOSECONN rv=(-?\d+)[\s\S]*CLOSEDCONN error=(-?\d+)/, 5000);
  check('server closed the connection and its session ended with WT_ERR_CLOSED', cc && cc[1] === '0' && cc[2] === '-9',
    cc ? cc[0].replace(/\n/g, ' ') : 'no CLOSECONN/CLOSEDCONN lines');
  // last: it stops the server. SIGTERM = wt_app_stop (graceful), with the
  // shutdown code and reason browser_server sets
  {
    const opened = await b.call('gracefulStopOpen', url, hash);
    check(opened.name, opened.ok, opened.detail);
    const exited = new Promise((r) => { server.once('exit', (c) => r(c)); setTimeout(() => r('still running'), 15000); });
    server.kill('SIGTERM');
    for (const r of await b.call('gracefulStopResult', 3003, 'server stopping')) check(r.name, r.ok, r.detail);
    const rc = server.exitCode !== null ? server.exitCode : await exited;
    check('the server exits 0 once stopped', rc === 0 && /^STOPPED$/m.test(out.text), `exit ${rc}`);
  }
} catch (e) {
  check('browser test ran', false, e.message.split('\n')[0]);
} finally {
  if (b) await closeBrowser(b);
  http.close();
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  finish(results, deadline);
}
