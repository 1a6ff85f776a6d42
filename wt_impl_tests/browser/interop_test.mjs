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
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bound, checker, closeBrowser, finish, launchTab, servePage, watchOutput } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const serverBin = resolve(process.argv[2] || ''); // it runs in its own directory
const which = process.argv[3] || 'chromium';
const { results, check } = checker(`${which} interop`);
const deadline = bound(`${which} interop`, 150000); // never hang CI

const dir = mkdtempSync(join(tmpdir(), 'wt-interop-'));
// the server writes its certificate into its working directory
const server = spawn(serverBin, ['--port', '-1', '--protocol', 'chat-v1'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
const out = watchOutput(server);
const { waitFor } = out;
const http = await servePage(join(here, 'interop_page.html'));
const httpPort = http.port;

let b;
try {
  const ready = await waitFor(/READY port=(\d+) hash=([0-9a-f]{64})/, 10000);
  if (!ready) throw new Error('interop_server did not start: ' + out.text);
  const [, port, hash] = ready;
  const base = `https://127.0.0.1:${port}`;
  // http://127.0.0.1 is a secure context; about:blank has no WebTransport
  b = await launchTab(which, `http://127.0.0.1:${httpPort}/`);
  const report = (rs) => { for (const r of rs) check(r.name, r.ok, r.detail); };

  report(await b.call('echo', base, hash));
  const closed = await waitFor(/CLOSED id=\d+ path=\/echo code=(\d+) reason=(.*) error=(-?\d+)/, 5000);
  check('echo: the server saw the browser\'s code and reason', closed && closed[1] === '4243' && closed[2] === 'interop bye',
    closed ? closed[0] : 'no CLOSED line');
  report(await b.call('serverClose', base, hash));
  report(await b.call('notFound', base, hash));
  const opened404 = (out.text.match(/^OPEN id=\d+ path=\/no-such-endpoint/gm) || []).length;
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
  if (b) await closeBrowser(b);
  http.close();
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  finish(results, deadline);
}
