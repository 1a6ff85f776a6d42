// demo_test.mjs - the demo of `make demo` (examples/demo_server.c + demo/) as
// a user meets it.
// Usage: node demo_test.mjs <demo_server binary> http|chromium|firefox
//   http:     the page's HTTP server over raw TCP: the three paths, 404s,
//             no path traversal, 405 for other methods (HEAD without a
//             body), 400 for broken requests, 431 past 4 KiB, slow and
//             surplus clients bounded
//   chromium, firefox: the page loaded headless (as common.mjs
//             launches them); its status reports a live session, round-trip
//             times and throughput above 0, a chat message comes back and
//             reaches a second tab, streams that break the demo's protocol
//             are reset while the session goes on, a page from another
//             origin is refused; a screenshot goes to
//             <build>/artifacts/demo-<browser>.png ($WT_ARTIFACTS moves it)
// Prints one line per check and "N passed, N failed" last.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checker, closeBrowser, finish, launch, sleep } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const serverBin = resolve(process.argv[2] || 'build/examples/demo_server');
const which = process.argv[3] || 'http';
const root = join(here, '..', '..', 'demo');
// build/examples/demo_server or build/demo_server_san: build/artifacts
const artifacts = process.env.WT_ARTIFACTS ||
  join(dirname(serverBin), basename(dirname(serverBin)) === 'examples' ? '..' : '.', 'artifacts');
const { results, check } = checker(`demo ${which}`);
const deadline = setTimeout(() => {
  console.log(`FAIL demo ${which}: took over 90 s`);
  console.log(serverOut.trimEnd().replace(/^/gm, '  server: '));
  console.log('0 passed, 1 failed');
  server.kill('SIGKILL');
  process.exit(1);
}, 90000);

// ---------------------------------------------------------------- the server
const server = spawn(serverBin, ['--port', '-1', '--http-port', '0', '--root', root, '--http-timeout-ms', '1500'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
let serverOut = '';
server.stdout.on('data', (d) => { serverOut += d.toString(); });
server.stderr.on('data', (d) => { serverOut += d.toString(); });
const exited = new Promise((r) => server.on('exit', (code, sig) => r({ code, sig })));
let stopped = null;
const stopServer = () => { // SIGTERM once; the exit status, or null after 5 s
  if (!stopped) {
    server.kill('SIGTERM');
    stopped = Promise.race([exited, sleep(5000).then(() => null)]);
  }
  return stopped;
};
async function waitFor(cond, ms) { // cond() truthy, polled, or null at the deadline
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - t0 > ms) return null;
    await sleep(100);
  }
}

// ---------------------------------------------------------------- raw HTTP
// Sends bytes, reads until the server closes; {status, headers, body, raw, closed}.
function raw(port, bytes, { ms = 5000, keepOpen = false } = {}) {
  return new Promise((done) => {
    const s = connect(port, '127.0.0.1');
    const chunks = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const m = head.match(/^HTTP\/1\.1 (\d{3}) /);
      const headers = {};
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      s.destroy();
      done({ status: m ? Number(m[1]) : 0, headers, body: rest.join('\r\n\r\n'), raw: text, closed });
    };
    const timer = setTimeout(finish, ms);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => { closed = true; finish(); });
    s.on('close', () => { closed = true; finish(); });
    s.on('connect', () => { if (bytes) s.write(bytes); if (!keepOpen) s.end(); });
  });
}
const get = (port, path) => raw(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);

async function httpChecks(port, wtPort, hash) {
  let r = await get(port, '/');
  check('GET / is the page', r.status === 200 && /^text\/html/.test(r.headers['content-type']) &&
    r.body.includes('<script src="/demo.js">') && Number(r.headers['content-length']) === r.body.length,
  `${r.status} ${r.headers['content-type']}`);
  check('... closed after the response, no caching', r.closed && r.headers.connection === 'close' &&
    r.headers['cache-control'] === 'no-store');
  r = await get(port, '/index.html');
  check('GET /index.html is the same page', r.status === 200 && r.body.includes('<script src="/demo.js">'));
  r = await get(port, '/demo.js');
  check('GET /demo.js', r.status === 200 && /^text\/javascript/.test(r.headers['content-type']) &&
    r.body.includes('serverCertificateHashes'), `${r.status} ${r.headers['content-type']}`);
  r = await get(port, '/config.json?ignored=1');
  let cfg = null;
  try { cfg = JSON.parse(r.body); } catch { /* checked below */ }
  check('GET /config.json (query ignored): the WebTransport address, path and certificate hash the server printed',
    r.status === 200 && cfg && cfg.host === '127.0.0.1' && cfg.port === wtPort && cfg.path === '/demo' &&
    cfg.sha256 === hash, r.body.trim());
  for (const p of ['/nope', '/demo', '/index.htm', '/demo.js/', '/config.json/x']) {
    r = await get(port, p);
    check(`GET ${p}: 404`, r.status === 404, String(r.status));
  }
  // no path reaches a file the server did not name: the Makefile is a file
  // next to demo/, wt.h one above it
  for (const p of ['/../Makefile', '/demo/../../Makefile', '/%2e%2e/Makefile', '/..%2fMakefile', '/../wt.h',
    '/index.html/../../Makefile', '//etc/passwd', '/./demo.js', '/%64emo.js']) {
    r = await get(port, p);
    check(`GET ${p}: 404, nothing read`, r.status === 404 && !r.body.includes('check-symbols') && !r.body.includes('root:'),
      String(r.status));
  }
  r = await raw(port, 'HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  check('HEAD /: 405, Allow: GET, no body', r.status === 405 && r.headers.allow === 'GET' && r.body === '',
    `${r.status} allow=${r.headers.allow} body=${JSON.stringify(r.body)}`);
  for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'BREW']) {
    r = await raw(port, `${m} / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello`);
    check(`${m} /: 405 with Allow: GET`, r.status === 405 && r.headers.allow === 'GET', String(r.status));
  }
  for (const [name, req] of [['a line that is no request', 'hello\r\n\r\n'], ['HTTP/0.9', 'GET /\r\n\r\n'],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n'], ['a NUL byte', 'GET /\0 HTTP/1.1\r\n\r\n'],
    ['two spaces', 'GET  / HTTP/1.1\r\n\r\n']]) {
    r = await raw(port, req);
    check(`${name}: 400`, r.status === 400, String(r.status));
  }
  r = await raw(port, 'GET / HTTP/1.0\n\n');
  check('HTTP/1.0 with bare newlines: 200', r.status === 200, String(r.status));
  r = await raw(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
  check('a request head over 4 KiB: 431, then closed', r.status === 431 && r.closed, String(r.status));
  r = await raw(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fits: ${'a'.repeat(3900)}\r\n\r\n`);
  check('one just under 4 KiB: 200', r.status === 200, String(r.status));
  // a client that never finishes its request is closed at the timeout
  const t0 = Date.now();
  const slowP = raw(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n', { ms: 8000, keepOpen: true });
  r = await get(port, '/config.json');
  check('a slow client does not hold up the others', r.status === 200);
  r = await slowP;
  check('the slow client is closed without an answer after its timeout (1.5 s)', r.closed && r.raw === '' &&
    Date.now() - t0 < 6000, `${Date.now() - t0} ms`);
  // more idle clients than slots (16): the rest wait, then are served
  const idle = Array.from({ length: 20 }, () => raw(port, '', { ms: 8000, keepOpen: true }));
  await sleep(200);
  r = await raw(port, 'GET /config.json HTTP/1.1\r\n\r\n', { ms: 8000 });
  check('past 16 idle clients a request waits for a slot, then is answered', r.status === 200, String(r.status));
  const idleDone = await Promise.all(idle);
  check('every idle client was closed at its timeout', idleDone.every((x) => x.closed && x.raw === ''));
}

// ---------------------------------------------------------------- browsers
const value = (tab, id) => tab.evaluate(`Number(document.getElementById(${JSON.stringify(id)}).dataset.value || 0)`);
const statusOf = (tab) => tab.evaluate(`[document.getElementById('status').dataset.state, document.getElementById('status').textContent]`);
const chatText = (tab) => tab.evaluate(`document.getElementById('chat-log').textContent`);
const say = (tab, text) => tab.evaluate(`(() => { const i = document.getElementById('chat-input');
  i.value = ${JSON.stringify(text)}; document.getElementById('chat-form').requestSubmit(); })()`);

async function browserChecks(port) {
  const b = await launch(which, { width: 1100, height: 860 });
  try {
    const url = `http://127.0.0.1:${port}/`;
    const tab = await b.newTab();
    if (process.env.WT_TEST_LOG) tab.on('console', (m) => console.log('  page:', m.text()));
    await tab.goto(url);
    let st = await waitFor(async () => { const s = await statusOf(tab); return s[0] === 'connected' && s; }, 15000);
    check('the status line reports a live session', st, st ? st[1] : (await statusOf(tab)).join(': '));
    const dg = await waitFor(() => value(tab, 'dgram-rtt'), 10000);
    check('a datagram round-trip time', dg > 0, `${dg} ms`);
    const sr = await waitFor(() => value(tab, 'stream-rtt'), 10000);
    check('a stream round-trip time', sr > 0, `${sr} ms`);
    const down = await waitFor(() => value(tab, 'down'), 40000);
    check('download throughput above 0', down > 0, `${down} MB/s`);
    const up = await waitFor(() => value(tab, 'up'), 40000);
    check('upload throughput above 0', up > 0, `${up} MB/s`);
    const msg = `hello from ${which} ${Math.random().toString(36).slice(2, 8)}`;
    await say(tab, msg);
    const echoed = await waitFor(async () => (await chatText(tab)).includes(msg), 10000);
    check('a chat message comes back through the server', echoed);
    const tab2 = await b.newTab();
    await tab2.goto(`http://localhost:${port}/`); // the other secure-context name
    st = await waitFor(async () => (await statusOf(tab2))[0] === 'connected', 15000);
    check('a second tab, from http://localhost, connects too', st, (await statusOf(tab2)).join(': '));
    const both = await waitFor(async () => /2 pages connected/.test(await tab.evaluate(`document.getElementById('members').textContent`)), 10000);
    check('the first tab sees two pages connected', both);
    const msg2 = `and hello from the second ${which} tab`;
    await say(tab2, msg2);
    const across = await waitFor(async () => (await chatText(tab)).includes(msg2) && (await chatText(tab2)).includes(msg2), 10000);
    check('a message from the second tab reaches both', across);
    // what the server refuses: each such stream is reset, the session goes on
    const refused = await tab.evaluate(`(async () => {
      const enc = new TextEncoder();
      const tryOne = async (bytes) => {
        const s = await wt.createBidirectionalStream();
        const w = s.writable.getWriter();
        await w.write(enc.encode(bytes)).catch(() => {});
        await w.close().catch(() => {});
        const r = s.readable.getReader();
        try { for (;;) { const { done } = await r.read(); if (done) return 'ended'; } }
        catch (e) { return 'reset ' + (e.streamErrorCode ?? ''); }
      };
      return Promise.all(['bogus\\n', 'down 999999999999\\n', 'echo\\n' + 'x'.repeat(5000), 'no newline at all']
        .map((b) => Promise.race([tryOne(b), new Promise((r) => setTimeout(() => r('no answer'), 10000))])));
    })()`);
    check('unknown commands, oversized requests and a missing command line are reset',
      refused.every((r) => r.startsWith('reset')), refused.join(', '));
    const count = () => tab.evaluate(`Number(document.getElementById('stream-rtt').dataset.count)`);
    const n0 = await count();
    const more = await waitFor(async () => (await count()) > n0, 10000);
    check('... and the session goes on (a new stream round trip)', more && (await statusOf(tab))[0] === 'connected',
      `${n0} round trips before`);
    // a page from another site (here other.localhost, which browsers also
    // send to the loopback address) is refused: it cannot join the chat
    const tab3 = await b.newTab();
    await tab3.goto(`http://other.localhost:${port}/`);
    const refusedOrigin = await waitFor(() => serverOut.match(/^refused a page from (\S+): only/m), 15000);
    check('a page from another origin is refused by the server', refusedOrigin &&
      refusedOrigin[1] === `http://other.localhost:${port}`, refusedOrigin ? refusedOrigin[0] : 'no refusal');
    st = await waitFor(async () => { const x = await statusOf(tab3); return x[0] === 'closed' && x; }, 10000);
    check('... and its status line says it could not connect', st, st ? st[1] : (await statusOf(tab3)).join(': '));
    await tab3.close();
    const joined = (serverOut.match(/^page #\d+ joined/gm) || []).length;
    check('the server saw both pages join', joined === 2, `${joined} joins`);
    await tab2.close();
    await sleep(300); // the chart gets one more frame
    mkdirSync(artifacts, { recursive: true });
    const shot = join(artifacts, `demo-${which}.png`);
    await tab.screenshot({ path: shot, fullPage: true });
    check('screenshot saved', true, shot);
    // the server stops: the page says so, with the server's code and reason
    // (demo_server keeps wt_app's defaults: 0, "server shutting down"), or,
    // in a browser with `draining`, leaves on the DRAIN itself. Never a
    // "Connection lost": the page keeps opening streams here, which on a
    // GOAWAY took Chromium's network service down (see wt__app_conn_holds_wt)
    const stopping = stopServer();
    st = await waitFor(() => tab.evaluate(`document.getElementById('status').dataset.lost`), 10000);
    check('the status line reports the server closing the session cleanly',
      /^The server closed the session \(code 0, server shutting down\)$|^The server is stopping$/.test(st || ''),
      st || (await statusOf(tab)).join(': '));
    await stopping;
  } finally {
    await closeBrowser(b);
  }
}

// ---------------------------------------------------------------- run
try {
  const ready = await waitFor(() => serverOut.match(/open http:\/\/127\.0\.0\.1:(\d+)\//), 10000);
  const wt = serverOut.match(/WebTransport on https:\/\/127\.0\.0\.1:(\d+)\/demo, certificate sha256 ([0-9a-f]{64})/);
  check('demo_server starts and says which URL to open', ready && wt, ready ? ready[0] : serverOut.trim());
  if (!ready || !wt) throw new Error('no server');
  if (which === 'http') await httpChecks(Number(ready[1]), Number(wt[1]), wt[2]);
  else await browserChecks(Number(ready[1]));
  const ex = await stopServer();
  check('demo_server stops on SIGTERM', ex && ex.code === 0, ex ? `exit ${ex.code} ${ex.sig || ''}` : 'still running');
} catch (e) {
  check('demo test ran', false, e.message.split('\n')[0]);
} finally {
  server.kill('SIGKILL');
  if (results.some((r) => !r.ok) || process.env.WT_TEST_LOG) console.log(serverOut.trimEnd().replace(/^/gm, '  server: '));
  finish(results, deadline);
}
