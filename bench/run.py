#!/usr/bin/env python3
"""bench/run.py - runs the figures of bench/fig/ and reports them (make bench).

Each figure is a script bench/fig/NAME.sh taking one argument (see
bench/README.md): `meta` prints what the figure is, `wt` and `ref` print
one measurement of wt.h and of its reference as {"value": ...}. This driver
runs the two sides alternating (wt, ref, wt, ref, ...) `pairs` times, so a
machine that slows down mid-run slows both, and reports for each side the
median with min-max, the ratio wt/ref of the medians, and whether the
figure's target is met (or by how much it is missed).

    python3 bench/run.py [--bin build/bench] [--only a,b] [--pairs N] [--smoke]

Writes bench/results/<date>-<host>.json and bench/results/latest.md and
prints the markdown table. --smoke runs every figure once per side with
BENCH_SMOKE=1 (tiny sizes), judges no target, writes nothing under
bench/results/, and ends with "N passed, N failed" (a figure passes when
both sides ran and printed a value): the make test phase.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TIMEOUT_S = 180        # one side of one figure, full run
SMOKE_TIMEOUT_S = 60   # the same under --smoke
BUDGET_S = 300         # make bench's promise: under 5 minutes


def run_side(fig, side, env, timeout):
    """Runs one side (or meta); returns (parsed JSON of its last stdout line, error or None)."""
    try:
        p = subprocess.Popen(["bash", fig, side], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env, cwd=ROOT, start_new_session=True, text=True)
    except OSError as e:
        return None, str(e)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        return None, "timed out after %d s" % timeout
    lines = [l for l in out.splitlines() if l.strip()]
    if p.returncode != 0:
        tail = " | ".join((err or out).strip().splitlines()[-3:])
        return None, "exit %d: %s" % (p.returncode, tail)
    if not lines:
        return None, "no output"
    try:
        d = json.loads(lines[-1])
    except ValueError:
        return None, "not JSON: %s" % lines[-1][:200]
    if not isinstance(d, dict):
        return None, "not a JSON object: %s" % lines[-1][:200]
    if side == "meta":
        return d, None
    if "value" not in d:
        return None, "no \"value\" in %s" % lines[-1][:200]
    v = d["value"]
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
        return None, "value is not a number: %r" % (v,)
    return d, None


def summary(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def judge(target, wt, ref, ratio):
    """(met: True/False/None, note) for a figure's target."""
    if not target:
        return None, ""
    if "ratio_min" in target or "ratio_max" in target:
        if ratio is None:
            return None, "no reference to compare with"
        if "ratio_min" in target:
            goal = target["ratio_min"]
            if ratio >= goal:
                return True, "ratio %.2f >= %.2f" % (ratio, goal)
            return False, "ratio %.2f < %.2f: missed by %.0f%%" % (ratio, goal, (goal - ratio) / goal * 100)
        goal = target["ratio_max"]
        if ratio <= goal:
            return True, "ratio %.2f <= %.2f" % (ratio, goal)
        return False, "ratio %.2f > %.2f: missed by %.0f%%" % (ratio, goal, (ratio - goal) / goal * 100)
    if wt is None:
        return None, "no wt.h value"
    if "max" in target:
        goal = target["max"]
        if wt["median"] <= goal:
            return True, "%s <= %s" % (fmt(wt["median"]), fmt(goal))
        return False, "%s > %s: missed by %.0f%%" % (fmt(wt["median"]), fmt(goal), (wt["median"] - goal) / goal * 100)
    if "min" in target:
        goal = target["min"]
        if wt["median"] >= goal:
            return True, "%s >= %s" % (fmt(wt["median"]), fmt(goal))
        return False, "%s < %s: missed by %.0f%%" % (fmt(wt["median"]), fmt(goal), (goal - wt["median"]) / goal * 100)
    if "spread_max" in target:
        goal = target["spread_max"]
        if wt["n"] < 2:
            return None, "one run: no spread"
        spread = (wt["max"] - wt["min"]) / wt["median"] if wt["median"] else float("inf")
        if spread <= goal:
            return True, "spread %.0f%% <= %.0f%%" % (spread * 100, goal * 100)
        return False, "spread %.0f%% > %.0f%% (%d runs)" % (spread * 100, goal * 100, wt["n"])
    return None, "unknown target %s" % json.dumps(target)


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


def cell(s):
    if s is None:
        return "-"
    if s["n"] == 1 or s["min"] == s["max"]:
        return fmt(s["median"])
    return "%s (%s–%s)" % (fmt(s["median"]), fmt(s["min"]), fmt(s["max"]))


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"host": socket.gethostname(), "cpus": os.cpu_count(), "cpu_model": model,
            "kernel": platform.release(), "python": platform.python_version()}


def git_commit():
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def markdown(res):
    m = res["machine"]
    out = ["wt.h `make bench`, %s, %s (%s CPUs, %s, Linux %s), commit %s%s" %
           (res["date"], m["host"], m["cpus"], m["cpu_model"] or "unknown CPU", m["kernel"], res["commit"],
            " — SMOKE run, sizes too small to mean anything" if res["smoke"] else ""),
           "",
           "| figure | unit | wt.h median (min–max) | reference median (min–max) | reference | wt/ref | pairs | target |",
           "|---|---|---|---|---|---|---|---|"]
    for f in res["figures"]:
        if f.get("error") and f["wt"] is None:
            out.append("| %s | %s | FAILED: %s | | | | | |" % (f["name"], f.get("unit", ""), f["error"].replace("|", "/")))
            continue
        ratio = "%.2f" % f["ratio"] if f["ratio"] is not None else "-"
        if f["met"] is True:
            tgt = "met: " + f["note"]
        elif f["met"] is False:
            tgt = "**missed**: " + f["note"]
        else:
            tgt = f["note"] or "-"
        if f.get("error"):
            tgt += " (error: %s)" % f["error"].replace("|", "/")
        out.append("| %s: %s | %s | %s | %s | %s | %s | %d | %s |" % (
            f["name"], f["title"], f["unit"], cell(f["wt"]), cell(f["ref"]), f["ref_desc"], ratio, f["pairs"], tgt))
    out.append("")
    out.append("Each pair runs wt.h then its reference (a reference that prints null runs once); medians, "
               "min–max over the runs; %.0f s in all." % res["seconds"])
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description="runs bench/fig/*.sh and reports wt.h against its references")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bench"), help="built bench binaries")
    ap.add_argument("--only", default="", help="comma-separated figure names")
    ap.add_argument("--pairs", type=int, default=0, help="override every figure's pair count")
    ap.add_argument("--smoke", action="store_true", help="BENCH_SMOKE=1, one pair, no targets, no results file")
    ap.add_argument("--results", default=os.path.join(HERE, "results"), help="where the JSON and latest.md go")
    a = ap.parse_args()

    figs = sorted(glob.glob(os.path.join(HERE, "fig", "*.sh")))
    if a.only:
        want = set(a.only.split(","))
        figs = [f for f in figs if os.path.basename(f)[:-3] in want]
        missing = want - set(os.path.basename(f)[:-3] for f in figs)
        if missing:
            print("run.py: no such figure: %s" % ", ".join(sorted(missing)), file=sys.stderr)
            return 2
    if not figs:
        print("run.py: no figures", file=sys.stderr)
        return 2
    tmp_root = tempfile.mkdtemp(prefix="wt-bench-")
    env = dict(os.environ)
    env["BENCH_BIN"] = os.path.abspath(a.bin)
    if a.smoke:
        env["BENCH_SMOKE"] = "1"
    else:
        env.pop("BENCH_SMOKE", None)
    timeout = SMOKE_TIMEOUT_S if a.smoke else TIMEOUT_S
    t0 = time.monotonic()
    res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "commit": git_commit(), "smoke": a.smoke, "figures": []}
    passed = failed = 0
    try:
        for fig in figs:
            name = os.path.basename(fig)[:-3]
            env["BENCH_TMP"] = os.path.join(tmp_root, name)
            os.makedirs(env["BENCH_TMP"], exist_ok=True)
            f = {"name": name, "title": name, "unit": "", "better": "", "ref_desc": "", "target": None,
                 "pairs": 0, "wt": None, "ref": None, "ratio": None, "met": None, "note": "", "error": None,
                 "runs": {"wt": [], "ref": []}}
            res["figures"].append(f)
            meta, err = run_side(fig, "meta", env, 30)
            if err:
                f["error"] = "meta: %s" % err
                failed += 1
                print("%-18s meta FAILED: %s" % (name, err), file=sys.stderr)
                continue
            f.update(title=meta.get("title", name), unit=meta.get("unit", ""), better=meta.get("better", ""),
                     ref_desc=meta.get("ref", ""), target=meta.get("target"), pairs=int(meta.get("pairs", 3)))
            t_fig = time.monotonic()
            pairs = 1 if a.smoke else (a.pairs or f["pairs"])
            f["pairs"] = pairs
            ref_null = False
            errors = []
            for i in range(pairs):
                for side in ("wt", "ref"):
                    if side == "ref" and ref_null:
                        continue  # no reference: asking again tells nothing new
                    d, err = run_side(fig, side, env, timeout)
                    if err:
                        errors.append("%s run %d: %s" % (side, i + 1, err))
                        print("%-18s %-3s run %d FAILED: %s" % (name, side, i + 1, err), file=sys.stderr)
                        continue
                    f["runs"][side].append(d)
                    if side == "ref" and d["value"] is None:
                        ref_null = True
                    print("%-18s %-3s run %d: %s %s" % (name, side, i + 1, fmt(d["value"]), f["unit"]),
                          file=sys.stderr)
            f["wt"] = summary([d["value"] for d in f["runs"]["wt"]])
            f["ref"] = summary([d["value"] for d in f["runs"]["ref"]])
            if f["wt"] and f["ref"] and f["ref"]["median"]:
                f["ratio"] = f["wt"]["median"] / f["ref"]["median"]
            if errors:
                f["error"] = "; ".join(errors)
            ok = not errors and f["wt"] is not None and len(f["runs"]["ref"]) > 0
            if a.smoke:
                f["note"] = "smoke: not judged"
            else:
                f["met"], f["note"] = judge(f["target"], f["wt"], f["ref"], f["ratio"])
            f["seconds"] = round(time.monotonic() - t_fig, 1)
            passed += ok
            failed += not ok
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    res["seconds"] = round(time.monotonic() - t0, 1)
    md = markdown(res)
    print(md)
    if not a.smoke:
        os.makedirs(a.results, exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M")
        path = os.path.join(a.results, "%s-%s.json" % (stamp, res["machine"]["host"]))
        with open(path, "w") as fh:
            json.dump(res, fh, indent=1)
            fh.write("\n")
        with open(os.path.join(a.results, "latest.md"), "w") as fh:
            fh.write(md)
        print("wrote %s and %s" % (os.path.relpath(path, ROOT), os.path.relpath(os.path.join(a.results, "latest.md"), ROOT)))
        if res["seconds"] > BUDGET_S:
            print("run.py: took %.0f s, over the %d s budget" % (res["seconds"], BUDGET_S), file=sys.stderr)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
