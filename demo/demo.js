// demo.js - the page of `make demo` (examples/demo_server.c serves it).
// Plain JavaScript, no build step, nothing loaded from elsewhere.
//
// It reads /config.json ({host, port, path, sha256}) from the server that
// served it, opens a WebTransport session to https://<host>:<port><path>
// (host "": the page's own)
// pinned by the certificate's SHA-256 (serverCertificateHashes: the server
// makes a fresh self-signed certificate at every start), and then, live:
//   - a datagram every 500 ms that the server echoes: datagram round trip
//   - a bidirectional stream every second, "echo\n" + bytes: stream round trip
//   - "down N\n" and "up\n" + N bytes on one stream each: throughput
//   - "chat\n" + text: the server sends it to every page on a uni stream
// The status line (#status, its data-state: connecting, connected, closed,
// failed) says where the connection is; the figures sit in data-value
// attributes too (round trips also count theirs in data-count), for the
// tests that drive this page headless.
'use strict';

const $ = (id) => document.getElementById(id);
const enc = new TextEncoder();
const DOWN_BYTES = 16 << 20;
const UP_BYTES = 8 << 20;
const CHAT_MAX_BYTES = 2000; // the server takes up to 2 KiB
const HISTORY_MS = 60000;

let wt = null; // the live session, or null
let myId = null;
let retryMs = 1000;
const samples = { dgram: [], stream: [] }; // {t, v}: time and round trip, ms
const dgramCount = { sent: 0, back: 0 };
const sampleCount = { dgram: 0, stream: 0 }; // since the page loaded (data-count)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function setStatus(state, text) {
  const el = $('status');
  el.dataset.state = state;
  el.textContent = text;
}

function setMetric(id, value, unit, digits) {
  const el = $(id);
  el.dataset.value = String(value);
  el.textContent = value.toFixed(digits) + ' ';
  const small = document.createElement('small');
  small.textContent = unit;
  el.appendChild(small);
}

const msDigits = (v) => (v < 10 ? 2 : 1);
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
};

function addSample(kind, v) {
  const now = performance.now();
  const list = samples[kind];
  list.push({ t: now, v });
  while (list.length && list[0].t < now - HISTORY_MS) list.shift();
  setMetric(kind === 'dgram' ? 'dgram-rtt' : 'stream-rtt', v, 'ms', msDigits(v));
  $(kind === 'dgram' ? 'dgram-rtt' : 'stream-rtt').dataset.count = String(++sampleCount[kind]);
  const med = median(list.slice(-10).map((s) => s.v));
  $(kind === 'dgram' ? 'dgram-sub' : 'stream-sub').textContent =
    `median of the last 10: ${med.toFixed(msDigits(med))} ms` +
    (kind === 'dgram' ? ` · ${dgramCount.back} of ${dgramCount.sent} came back` : '');
}

function hexBytes(hex) {
  return new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
}

// Counts a stream's bytes to its end, into one reused buffer where the
// browser offers a BYOB reader (fewer, larger reads), else chunk by chunk.
async function countAll(readable, onChunk) {
  let reader;
  try { reader = readable.getReader({ mode: 'byob' }); } catch { return readAll(readable, onChunk); }
  let buf = new ArrayBuffer(1 << 20), n = 0;
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buf));
    if (done) break;
    n += value.byteLength;
    buf = value.buffer;
    onChunk(n);
  }
  return n;
}

// Reads a stream to its end: its bytes joined, or only their count.
async function readAll(readable, onChunk) {
  const reader = readable.getReader();
  const parts = [];
  let n = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (onChunk) onChunk(n);
    else parts.push(value);
  }
  if (onChunk) return n;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

// One command stream: sends head (+ body chunks), FIN, and returns the reply.
async function command(t, head, onChunk) {
  const s = await t.createBidirectionalStream();
  const w = s.writable.getWriter();
  await w.write(enc.encode(head));
  await w.close();
  return onChunk ? countAll(s.readable, onChunk) : readAll(s.readable);
}

// ---------------------------------------------------------------- connection
async function connect() {
  let cfg;
  setStatus('connecting', 'Reading /config.json from the demo server…');
  try {
    const r = await fetch('/config.json', { cache: 'no-store' });
    cfg = await r.json();
  } catch (e) {
    return retry(`Cannot reach the demo server (${e.message})`);
  }
  if (typeof WebTransport === 'undefined') {
    setStatus('failed', window.isSecureContext
      ? 'This browser has no WebTransport: use Chrome, Edge (97+) or Firefox (114+).'
      : 'Not a secure context: open this page as http://localhost:… or http://127.0.0.1:…');
    return;
  }
  const url = `https://${cfg.host || location.hostname}:${cfg.port}${cfg.path}`;
  setStatus('connecting', `Connecting to ${url}…`);
  let t;
  try {
    t = new WebTransport(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value: hexBytes(cfg.sha256) }] });
    await t.ready;
  } catch (e) {
    return retry(`Could not connect to ${url} (${e.message || e})`);
  }
  wt = t;
  retryMs = 1000;
  setStatus('connected', `Connected to ${url} over HTTP/3 · certificate pinned by SHA-256 ${cfg.sha256.slice(0, 16)}…`);
  setEnabled(true);
  // a server that is stopping asks its sessions to wind down (DRAIN): leave
  if (t.draining) {
    t.draining.then(() => {
      lost(t, 'The server is stopping');
      t.close({ closeCode: 0, reason: 'the server is stopping' });
    }, () => {});
  }
  t.closed.then((info) => lost(t, `The server closed the session (code ${info.closeCode}${info.reason ? ', ' + info.reason : ''})`),
    (e) => lost(t, `Connection lost (${e.message || e})`));
  readMessages(t);
  readDatagrams(t);
  datagramPings(t);
  streamPings(t);
  throughput(t);
}

function lost(t, why) {
  if (wt !== t) return;
  wt = null;
  $('status').dataset.lost = why; // stays while the status line moves on
  setEnabled(false);
  addChat(null, 'Disconnected.');
  retry(why);
}

function retry(why) {
  setStatus('closed', `${why}. Trying again in ${retryMs / 1000} s…`);
  setTimeout(connect, retryMs);
  retryMs = Math.min(retryMs * 2, 10000);
}

function setEnabled(on) {
  for (const id of ['chat-input', 'chat-send', 'bulk']) $(id).disabled = !on;
}

// ---------------------------------------------------------------- round trips
async function datagramPings(t) {
  const w = t.datagrams.writable.getWriter();
  for (let seq = 0; wt === t; seq++) {
    const b = new DataView(new ArrayBuffer(16));
    b.setUint32(0, seq);
    b.setFloat64(8, performance.now());
    try {
      await w.write(new Uint8Array(b.buffer));
    } catch {
      break;
    }
    dgramCount.sent++;
    await sleep(500);
  }
}

async function readDatagrams(t) {
  const r = t.datagrams.readable.getReader();
  for (;;) {
    let got;
    try { got = await r.read(); } catch { break; }
    if (got.done) break;
    const v = got.value;
    if (v.byteLength !== 16) continue;
    dgramCount.back++;
    addSample('dgram', performance.now() - new DataView(v.buffer, v.byteOffset, 16).getFloat64(8));
  }
}

async function streamPings(t) {
  while (wt === t) {
    try {
      const t0 = performance.now();
      const payload = `ping ${t0}`;
      const back = await command(t, `echo\n${payload}`);
      if (new TextDecoder().decode(back) === payload) addSample('stream', performance.now() - t0);
    } catch (e) {
      if (wt === t) console.log('stream round trip failed:', e.message || e);
    }
    await sleep(1000);
  }
}

// ---------------------------------------------------------------- throughput
async function throughput(t) {
  const MiB = 1 << 20;
  $('bulk').disabled = true;
  $('bulk-note').textContent = 'measuring…';
  try {
    let t0 = performance.now();
    const n = await command(t, `down ${DOWN_BYTES}\n`, (sofar) => {
      $('down-sub').textContent = `${(sofar / MiB).toFixed(1)} of ${DOWN_BYTES / MiB} MiB…`;
    });
    let secs = (performance.now() - t0) / 1000;
    if (n !== DOWN_BYTES) throw new Error(`download: ${n} of ${DOWN_BYTES} bytes`);
    setMetric('down', n / secs / 1e6, 'MB/s', 1);
    $('down-sub').textContent = `${DOWN_BYTES / MiB} MiB in ${secs.toFixed(2)} s · ${(n * 8 / secs / 1e6).toFixed(0)} Mbit/s`;

    t0 = performance.now();
    const s = await t.createBidirectionalStream();
    const w = s.writable.getWriter();
    await w.write(enc.encode('up\n'));
    for (let sent = 0; sent < UP_BYTES; sent += 65536) {
      await w.write(new Uint8Array(65536)); // a fresh buffer: a write may keep it
      if (sent % (MiB) === 0) $('up-sub').textContent = `${(sent / MiB).toFixed(0)} of ${UP_BYTES / MiB} MiB…`;
    }
    await w.close();
    const reply = new TextDecoder().decode(await readAll(s.readable));
    secs = (performance.now() - t0) / 1000;
    if (parseInt(reply, 10) !== UP_BYTES) throw new Error(`upload: the server counted ${reply.trim()} bytes`);
    setMetric('up', UP_BYTES / secs / 1e6, 'MB/s', 1);
    $('up-sub').textContent = `${UP_BYTES / MiB} MiB in ${secs.toFixed(2)} s · ${(UP_BYTES * 8 / secs / 1e6).toFixed(0)} Mbit/s`;
    $('bulk-note').textContent = '';
  } catch (e) {
    $('bulk-note').textContent = `failed: ${e.message || e}`;
  } finally {
    $('bulk').disabled = wt !== t;
  }
}

// ---------------------------------------------------------------- chat
async function readMessages(t) {
  const r = t.incomingUnidirectionalStreams.getReader();
  for (;;) {
    let got;
    try { got = await r.read(); } catch { break; }
    if (got.done) break;
    readAll(got.value).then((bytes) => {
      const text = new TextDecoder().decode(bytes);
      const nl = text.indexOf('\n');
      const [kind, arg] = text.slice(0, nl).split(' ');
      if (kind === 'hello') {
        myId = Number(arg);
        addChat(null, `Connected as page #${myId}.`);
      } else if (kind === 'members') {
        $('members').textContent = `· ${arg} page${arg === '1' ? '' : 's'} connected`;
      } else if (kind === 'chat') {
        addChat(Number(arg), text.slice(nl + 1));
      }
    }, () => {});
  }
}

function addChat(from, text) {
  const log = $('chat-log');
  const line = document.createElement('div');
  if (from === null) {
    line.className = 'sys';
    line.textContent = text;
  } else {
    if (from === myId) line.className = 'me';
    const who = document.createElement('b');
    who.textContent = from === myId ? `#${from} (you): ` : `#${from}: `;
    line.append(who, text); // text, never HTML
  }
  log.appendChild(line);
  while (log.childElementCount > 200) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}

$('chat-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('chat-input');
  const text = input.value.trim();
  const t = wt;
  if (!text || !t) return;
  if (enc.encode(text).byteLength > CHAT_MAX_BYTES) {
    addChat(null, 'That message is too long.');
    return;
  }
  input.value = '';
  try {
    await command(t, `chat\n${text}`);
  } catch (err) {
    addChat(null, `Not sent: ${err.message || err}`);
  }
});

$('bulk').addEventListener('click', () => { if (wt) throughput(wt); });

// ---------------------------------------------------------------- chart
function drawChart() {
  const canvas = $('chart');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 560, h = canvas.clientHeight || 220;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const left = 44, right = 8, top = 8, bottom = 20;
  const now = performance.now();
  const all = [...samples.dgram, ...samples.stream].filter((s) => s.t >= now - HISTORY_MS);
  // a round top for the y axis: 1, 2 or 5 times a power of ten
  const peak = Math.max(0.1, ...all.map((s) => s.v));
  const step = 10 ** Math.floor(Math.log10(peak));
  const ymax = [1, 2, 5, 10].map((m) => m * step).find((v) => v >= peak);
  const x = (t) => left + (w - left - right) * (1 - (now - t) / HISTORY_MS);
  const y = (v) => top + (h - top - bottom) * (1 - v / ymax);
  const style = getComputedStyle(document.documentElement);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#667085';
  g.strokeStyle = '#e5e7eb';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    g.beginPath();
    g.moveTo(left, Math.round(y(v)) + 0.5);
    g.lineTo(w - right, Math.round(y(v)) + 0.5);
    g.stroke();
    g.fillText(`${+v.toPrecision(3)} ms`, 2, y(v) + 4);
  }
  for (let s = 0; s <= 60; s += 15) g.fillText(s ? `-${s}s` : 'now', x(now - s * 1000) - (s ? 12 : 20), h - 5);
  for (const [kind, color] of [['dgram', '--dgram'], ['stream', '--stream']]) {
    const pts = samples[kind].filter((s) => s.t >= now - HISTORY_MS);
    g.strokeStyle = g.fillStyle = style.getPropertyValue(color).trim() || '#000';
    g.lineWidth = 2;
    g.beginPath();
    pts.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p.v)) : g.moveTo(x(p.t), y(p.v))));
    g.stroke();
    for (const p of pts) g.fillRect(x(p.t) - 1.5, y(p.v) - 1.5, 3, 3);
  }
}
setInterval(drawChart, 500);
drawChart();

connect();
