#!/usr/bin/env python3
"""bench/bulk_fig.py FIGURE SIDE - the bulk figures (bench/fig/bulk_down.sh,
bulk_up.sh, bulk_peak_rss.sh call it) in the figure protocol of `make bench`:
SIDE meta prints the figure's description, wt and ref one measurement.

  bulk_down      1 GiB on one stream, server to client, MB/s (higher is better)
  bulk_up        1 GiB on one stream, client to server, MB/s
  bulk_peak_rss  the server's peak RSS (VmHWM, KiB) over one download and one
                 upload of 256 MiB each (lower is better)

wt side: build/bench/wt_bench_server (/source?bytes=N, /sink) and
build/bench/wt_bulk. ref side: ngtcp2 1.24's own example server and client
(build/bench/ngtcp2_server, ngtcp2_client from bench/ngtcp2_examples.sh,
run here if they are missing; when it skips, ref prints {"value": null}):
the download is GET /N (the example server makes N bytes), the upload a
POST of an N-byte file (the example client mmaps it; it is read once
before the timing so it is in the page cache).

MB/s = bytes / the client process's wall time / 1e6, the same for both
sides: from exec to exit, the handshake included (servers are started and
ready before). Both servers get the same ECDSA P-256 certificate and 4 MiB
socket buffers (wt.h's default limits.udp_buffer; the example through the
patch's $NGTCP2_EXAMPLE_UDP_BUFFER). Each side checks that all the bytes
arrived: wt_bulk compares counts, the example client's --show-stat
bytes_recv/bytes_sent must cover them.

Environment (the figure protocol): BENCH_BIN (default build/bench),
BENCH_SMOKE=1 (1 MiB transfers), BENCH_TMP (scratch; default a fresh
temporary directory). BULK_BYTES overrides the transfer size.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
UDP_BUFFER = 4 * 1024 * 1024
GIB = 1 << 30

FIGURES = {
    "bulk_down": {"title": "bulk download, 1 GiB on one stream", "unit": "MB/s", "better": "higher",
                  "target": {"ratio_min": 1.15}},
    "bulk_up": {"title": "bulk upload, 1 GiB on one stream", "unit": "MB/s", "better": "higher",
                "target": {"ratio_min": 1.15}},
    "bulk_peak_rss": {"title": "server peak RSS, 256 MiB down + 256 MiB up", "unit": "KiB",
                      "better": "lower", "target": None},
}
REF = "ngtcp2 1.24's example server/client (clang-19, libc++), same static wolfSSL/ngtcp2/nghttp3"


def fail(msg):
    print("bulk_fig: " + msg, file=sys.stderr)
    sys.exit(1)


def size_for(fig):
    if os.environ.get("BULK_BYTES"):
        return int(os.environ["BULK_BYTES"])
    if os.environ.get("BENCH_SMOKE") == "1":
        return 1 << 20
    return GIB // 4 if fig == "bulk_peak_rss" else GIB


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def udp_bound(port):
    """True once some socket is bound to this UDP port (/proc/net/udp)."""
    hexport = ":%04X" % port
    for name in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    if line.split()[1].endswith(hexport):
                        return True
        except OSError:
            pass
    return False


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def make_cert(tmp):
    cert, key = os.path.join(tmp, "bulk_cert.pem"), os.path.join(tmp, "bulk_key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)):
        if not shutil.which("openssl"):
            fail("openssl (the command) is needed to make the servers' certificate")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-keyout", key, "-out", cert, "-days", "10", "-subj", "/CN=localhost"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            fail("openssl req failed: " + r.stderr.strip())
    return cert, key


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def timed(cmd, env=None, timeout=120):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=timeout)
    return time.monotonic() - t0, r


# ---------------------------------------------------------------- wt.h
class WtServer:
    def __init__(self, bindir, cert, key, tmp):
        exe = os.path.join(bindir, "wt_bench_server")
        if not os.access(exe, os.X_OK):
            fail("%s is missing (make bench-bins)" % exe)
        self.err = open(os.path.join(tmp, "wt_bench_server.err"), "w+")
        self.proc = subprocess.Popen([exe, "--host", "127.0.0.1", "--port", "-1", "--cert", cert, "--key", key],
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        line = self.proc.stdout.readline()  # printed once the socket is bound
        try:
            info = json.loads(line)
        except ValueError:
            stop(self.proc)
            self.err.seek(0)
            fail("wt_bench_server did not start: " + self.err.read().strip()[-500:])
        self.port, self.sha = info["port"], info["sha256"]

    def close(self):
        stop(self.proc)
        self.err.close()


def wt_transfer(bindir, srv, up, n):
    exe = os.path.join(bindir, "wt_bulk")
    if not os.access(exe, os.X_OK):
        fail("%s is missing (make bench-bins)" % exe)
    secs, r = timed([exe, "--url", "https://127.0.0.1:%d" % srv.port, "--pin", srv.sha,
                     "--up" if up else "--down", str(n)])
    if r.returncode != 0:
        fail("wt_bulk failed: " + r.stderr.strip()[-500:])
    got = json.loads(r.stdout.strip().splitlines()[-1])
    if got["bytes"] != n:
        fail("wt_bulk moved %s bytes of %d" % (got["bytes"], n))
    return secs, got


# ---------------------------------------------------------------- ngtcp2's example
def ref_bins(bindir):
    srv, cli = os.path.join(bindir, "ngtcp2_server"), os.path.join(bindir, "ngtcp2_client")
    if not (os.access(srv, os.X_OK) and os.access(cli, os.X_OK)):
        r = subprocess.run(["bash", os.path.join(HERE, "ngtcp2_examples.sh"), bindir],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode == 77:
            why = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "skipped"
            print(json.dumps({"value": None, "skipped": why}))
            sys.exit(0)
        if r.returncode != 0:
            fail("bench/ngtcp2_examples.sh failed: " + r.stderr.strip()[-800:])
    return srv, cli


def ref_env():
    env = dict(os.environ)
    env["NGTCP2_EXAMPLE_UDP_BUFFER"] = str(UDP_BUFFER)
    return env


class RefServer:
    def __init__(self, exe, cert, key, tmp, n):
        self.port = free_udp_port()
        self.err = open(os.path.join(tmp, "ngtcp2_server.err"), "w+")
        # -d: an empty document root (the upload's POST /1 is answered
        # with 1 generated byte, never a file)
        docroot = os.path.join(tmp, "ngtcp2_htdocs")
        os.makedirs(docroot, exist_ok=True)
        self.proc = subprocess.Popen([exe, "-q", "-d", docroot, "--max-dyn-length=%d" % max(n, 1),
                                      "127.0.0.1", str(self.port), key, cert],
                                     stdout=subprocess.DEVNULL, stderr=self.err, env=ref_env())
        deadline = time.monotonic() + 10
        while not udp_bound(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                stop(self.proc)
                self.err.seek(0)
                fail("ngtcp2_server did not start: " + self.err.read().strip()[-500:])
            time.sleep(0.01)

    def close(self):
        stop(self.proc)
        self.err.close()


def show_stat(text, name):
    m = re.search(r"^%s=(\d+)" % name, text, re.M)
    return int(m.group(1)) if m else None


def ref_transfer(cli, srv, up, n, tmp):
    url = "https://127.0.0.1:%d/" % srv.port
    cmd = [cli, "-q", "--show-stat", "--exit-on-all-streams-close"]
    if up:
        data = os.path.join(tmp, "bulk_up_%d.bin" % n)
        if not os.path.exists(data) or os.path.getsize(data) != n:
            with open(data, "wb") as f:
                f.truncate(n)  # sparse: zeros without writing them
        with open(data, "rb") as f:  # into the page cache, outside the timing
            while f.read(1 << 20):
                pass
        cmd += ["-m", "POST", "-d", data, "127.0.0.1", str(srv.port), url + "1"]
    else:
        cmd += ["127.0.0.1", str(srv.port), url + str(n)]
    secs, r = timed(cmd, env=ref_env())
    if r.returncode != 0:
        fail("ngtcp2_client failed (%d): %s" % (r.returncode, r.stderr.strip()[-500:]))
    moved = show_stat(r.stdout + r.stderr, "bytes_sent" if up else "bytes_recv")
    if moved is None or moved < n:
        fail("ngtcp2_client moved %s bytes, fewer than %d: %s" % (moved, n, r.stderr.strip()[-500:]))
    return secs


# ---------------------------------------------------------------- main
def main():
    if len(sys.argv) != 3 or sys.argv[1] not in FIGURES or sys.argv[2] not in ("meta", "wt", "ref"):
        fail("usage: bulk_fig.py bulk_down|bulk_up|bulk_peak_rss meta|wt|ref")
    fig, side = sys.argv[1], sys.argv[2]
    if side == "meta":
        m = dict(FIGURES[fig])
        print(json.dumps({"title": m["title"], "unit": m["unit"], "better": m["better"], "ref": REF,
                          "target": m["target"], "pairs": 3}))
        return
    bindir = os.environ.get("BENCH_BIN") or os.path.join(ROOT, "build", "bench")
    bindir = os.path.abspath(bindir)
    own_tmp = None
    tmp = os.environ.get("BENCH_TMP")
    if not tmp:
        tmp = own_tmp = tempfile.mkdtemp(prefix="wt_bulk_")
    os.makedirs(tmp, exist_ok=True)
    n = size_for(fig)
    try:
        cert, key = make_cert(tmp)
        if side == "wt":
            srv = WtServer(bindir, cert, key, tmp)
            try:
                if fig == "bulk_peak_rss":
                    wt_transfer(bindir, srv, False, n)
                    wt_transfer(bindir, srv, True, n)
                    print(json.dumps({"value": peak_rss_kib(srv.proc.pid), "bytes_each_way": n}))
                else:
                    secs, got = wt_transfer(bindir, srv, fig == "bulk_up", n)
                    print(json.dumps({"value": round(n / secs / 1e6, 1), "seconds": round(secs, 4),
                                      "bytes": n, "client_reported_mb_per_s": got["mb_per_s"]}))
            finally:
                srv.close()
        else:
            srv_exe, cli = ref_bins(bindir)
            srv = RefServer(srv_exe, cert, key, tmp, n)
            try:
                if fig == "bulk_peak_rss":
                    ref_transfer(cli, srv, False, n, tmp)
                    ref_transfer(cli, srv, True, n, tmp)
                    print(json.dumps({"value": peak_rss_kib(srv.proc.pid), "bytes_each_way": n}))
                else:
                    secs = ref_transfer(cli, srv, fig == "bulk_up", n, tmp)
                    print(json.dumps({"value": round(n / secs / 1e6, 1), "seconds": round(secs, 4), "bytes": n}))
            finally:
                srv.close()
    finally:
        if own_tmp:
            shutil.rmtree(own_tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
