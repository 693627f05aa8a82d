#!/usr/bin/python3
"""bench.py: measuring and judging for bench/run (stdlib only).

    bench.py measure --out G.json [--runs N] [--warmup N] [--prepare CMD]
                     [--watch PID ...]
                     --cmd NAME=CMD [--cmd NAME=CMD ...]
    bench.py verdict --records R.jsonl --case ID --title TEXT
                     --metric time|rss|cpu|allcpu|bytes|rate [--bytes N]
                     (--subject G.json:NAME | --subject-value X)
                     [--baseline G.json:NAME | --baseline-value X]
                     [--le T | --within LO HI] [--note TEXT]
    bench.py skip|error --records R.jsonl --case ID --title TEXT --note TEXT
    bench.py finish --records R.jsonl --out results.json [--meta KEY=VALUE ...]
    bench.py gen BYTES
    bench.py markdown results.json

measure runs the commands in rounds, interleaved (A B C, then C B A, ...)
so that a change of load on the machine during the run hits subject and
baseline alike; each command runs under "bash -c 'set -o pipefail; CMD'"
with stdout on /dev/null unless it redirects, after the untimed prepare
command.  It keeps each run's wall time, peak RSS (ru_maxrss of the
reaped child, the number "/usr/bin/time -f %M" prints; for a pipeline the
largest process), CPU seconds (user + system of the command and every
process it waited for) and that plus the CPU the --watch'ed server
processes (postmaster with its reaped backends, radosgw, ceph-osd) spent
meanwhile: on a loaded machine the CPU it took says more than the wall
clock about where the work went.  A command that exits non-zero stops the measurement
with its last stderr lines: a broken case is an error, not a slow one.
SIGTERM or SIGINT stops the command being measured too; with
BENCH_MEASURE_PID set, its pid is written there for bench/run's cleanup.

verdict turns two measurements into a ratio of medians (subject/baseline),
judges it against the target from issue 7 (PASS or MISS; INFO when the
number has no target) and appends one record; finish
prints the table and writes results.json.  gen writes BYTES incompressible
bytes to stdout at pipe speed (a 16 MiB random block, repeated).  markdown
prints results.json as the table bench/README.md records.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time


def stats(xs):
    xs = list(xs)
    return {
        "n": len(xs),
        "median": statistics.median(xs),
        "min": min(xs),
        "max": max(xs),
        "stdev": statistics.stdev(xs) if len(xs) > 1 else 0.0,
        "values": xs,
    }


def proc_cpu(pid):
    """CPU seconds of pid, its threads and the children it reaped."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def servers_cpu(watch):
    return sum(proc_cpu(pid) for pid in watch)


def children(watch):
    """How many processes the watched ones have (a backend per session)."""
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            n += ppid in watch
    return n


def settle(watch, before):
    """Wait (2 s at most) until the backends a command opened are reaped:
    only then does the postmaster's counter hold their CPU."""
    end = time.monotonic() + 2
    while children(watch) > before and time.monotonic() < end:
        time.sleep(0.02)


CURRENT = [0]		# the process group of the command being run, or 0


def on_stop(sig, frame):
    """Stopped: take the command being measured along (it has a session of
    its own, so no terminal signal reaches it)."""
    if CURRENT[0]:
        try:
            os.killpg(CURRENT[0], signal.SIGTERM)
        except OSError:
            pass
    sys.exit(128 + sig)


def run_one(cmd, log, timeout):
    """Run CMD once; (seconds, peak RSS KiB, CPU seconds).  Raises on a failure."""
    with open(log, "ab") as err:
        err.write(("=== %s\n" % cmd).encode())
        err.flush()
        t0 = time.perf_counter()
        p = subprocess.Popen(["bash", "-c", "set -o pipefail; " + cmd],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=err, start_new_session=True)
        CURRENT[0] = p.pid
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(p.pid, 9)
                os.wait4(p.pid, 0)
                raise RuntimeError("timed out after %d s: %s" % (timeout, cmd))
            time.sleep(0.002)
        t1 = time.perf_counter()
        CURRENT[0] = 0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        with open(log, "rb") as f:
            tail = f.read().decode(errors="replace").splitlines()[-6:]
        raise RuntimeError("exit %d: %s\n  %s" % (p.returncode, cmd, "\n  ".join(tail)))
    return t1 - t0, ru.ru_maxrss, ru.ru_utime + ru.ru_stime


def measure(a):
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    pidfile = os.environ.get("BENCH_MEASURE_PID")
    if pidfile:
        with open(pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    try:
        measure_runs(a)
    finally:
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass


def measure_runs(a):
    cmds = []
    for c in a.cmd:
        name, _, cmd = c.partition("=")
        if not name or not cmd:
            sys.exit("bench.py: --cmd wants NAME=CMD, not %r" % c)
        cmds.append((name, cmd))
    log = a.out + ".log"
    open(log, "w").close()
    watch = []
    for w in a.watch or []:
        try:
            watch.append(int(w))
        except ValueError:
            sys.exit("bench.py: --watch wants a pid, not %r" % w)
    res = {name: {"cmd": cmd, "time": [], "rss": [], "cpu": [], "allcpu": []}
           for name, cmd in cmds}
    try:
        for i in range(a.warmup):
            for name, cmd in cmds:
                if a.prepare:
                    run_one(a.prepare, log, a.timeout)
                run_one(cmd, log, a.timeout)
        for r in range(a.runs):
            order = cmds if r % 2 == 0 else list(reversed(cmds))
            for name, cmd in order:
                if a.prepare:
                    run_one(a.prepare, log, a.timeout)
                k0 = children(watch) if watch else 0
                c0 = servers_cpu(watch)
                s, rss, cpu = run_one(cmd, log, a.timeout)
                if watch:
                    settle(watch, k0)
                srv = servers_cpu(watch) - c0
                res[name]["time"].append(s)
                res[name]["rss"].append(rss)
                res[name]["cpu"].append(cpu)
                res[name]["allcpu"].append(cpu + srv)
                print("    %-14s run %d/%d: %8.3f s %7.1f MiB  cpu %6.2f + servers %6.2f s"
                      "  load %.1f" % (name, r + 1, a.runs, s, rss / 1024, cpu, srv,
                                       os.getloadavg()[0]), flush=True)
    except RuntimeError as e:
        print("bench.py: %s" % e, file=sys.stderr)
        sys.exit(1)
    out = {}
    for name, r in res.items():
        out[name] = {"cmd": r["cmd"], "time": stats(r["time"]), "rss": stats(r["rss"]),
                     "cpu": stats(r["cpu"]), "allcpu": stats(r["allcpu"])}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


def load_metric(ref, metric, nbytes=None):
    """rate: bytes per second of each run, from --bytes and its wall time."""
    path, _, name = ref.rpartition(":")
    with open(path) as f:
        m = json.load(f)[name]
    if metric == "rate":
        return name, stats(nbytes / t for t in m["time"]["values"]), m["cmd"]
    return name, m[metric], m["cmd"]


UNITS = {"time": "s", "rss": "KiB", "cpu": "s", "allcpu": "s", "bytes": "bytes",
         "rate": "B/s"}


def append(records, rec):
    with open(records, "a") as f:
        f.write(json.dumps(rec) + "\n")


def verdict(a):
    rec = {"case": a.case, "title": a.title, "metric": a.metric,
           "unit": UNITS[a.metric], "note": a.note or ""}
    if a.subject:
        name, s, cmd = load_metric(a.subject, a.metric, a.bytes)
        rec["subject"] = dict(s, label=name, cmd=cmd)
    else:
        rec["subject"] = {"label": "subject", "median": a.subject_value, "n": 1,
                          "min": a.subject_value, "max": a.subject_value, "stdev": 0.0}
    if a.baseline:
        name, b, cmd = load_metric(a.baseline, a.metric, a.bytes)
        rec["baseline"] = dict(b, label=name, cmd=cmd)
    elif a.baseline_value is not None:
        rec["baseline"] = {"label": "baseline", "median": a.baseline_value, "n": 1,
                           "min": a.baseline_value, "max": a.baseline_value, "stdev": 0.0}
    s = rec["subject"]
    b = rec.get("baseline")
    if b:
        if not b["median"]:
            rec["verdict"] = "ERROR"
            rec["note"] += " (baseline is zero)"
            append(a.records, rec)
            return
        value = s["median"] / b["median"]
        rec["ratio"] = value
        # the worst and best pairing of the runs: how far the ratio may move
        rec["ratio_range"] = [s["min"] / b["max"] if b["max"] else None,
                              s["max"] / b["min"] if b["min"] else None]
    else:
        value = s["median"]
        rec["value"] = value
    if a.le is not None:
        rec["target"] = "<= %g" % a.le
        rec["verdict"] = "PASS" if value <= a.le else "MISS"
    elif a.within:
        lo, hi = a.within
        rec["target"] = "%g..%g" % (lo, hi)
        rec["verdict"] = "PASS" if lo <= value <= hi else "MISS"
    else:
        rec["target"] = "-"
        rec["verdict"] = "INFO"
    append(a.records, rec)
    print(line(rec), flush=True)


def fmt(x, metric):
    if metric in ("time", "cpu", "allcpu"):
        return "%.3f s" % x
    if metric == "rss":
        return "%.1f MiB" % (x / 1024)
    if metric == "rate":
        return "%.2f MB/s" % (x / 1e6)
    return "%d B" % x


def line(rec):
    m = rec["metric"]
    if rec["verdict"] in ("SKIP", "ERROR"):
        return "%-4s %-52s %-5s  %s" % (rec["case"], rec["title"][:52], rec["verdict"],
                                        rec["note"])
    s = rec["subject"]
    sv = fmt(s["median"], m)
    if s.get("n", 1) > 1:
        sv += " [%s..%s]" % (fmt(s["min"], m).split()[0], fmt(s["max"], m).split()[0])
    if "ratio" in rec:
        b = rec["baseline"]
        bv = fmt(b["median"], m)
        if b.get("n", 1) > 1:
            bv += " [%s..%s]" % (fmt(b["min"], m).split()[0], fmt(b["max"], m).split()[0])
        val = "%.3f" % rec["ratio"]
        detail = "%s vs %s" % (sv, bv)
    else:
        val = fmt(rec["value"], m).split()[0]
        detail = sv
    return "%-4s %-52s %-5s %8s  %-10s %s" % (rec["case"], rec["title"][:52], rec["verdict"],
                                               val, rec["target"], detail)


def mark(a, what):
    rec = {"case": a.case, "title": a.title, "metric": "none", "unit": "",
           "verdict": what, "note": a.note}
    append(a.records, rec)
    print(line(rec), flush=True)


def finish(a):
    recs = []
    if os.path.exists(a.records):
        with open(a.records) as f:
            recs = [json.loads(x) for x in f if x.strip()]
    meta = {}
    for kv in a.meta or []:
        k, _, v = kv.partition("=")
        meta[k] = v
    out = dict(meta, cases=recs)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    os.replace(tmp, a.out)
    print()
    print("%-4s %-52s %-5s %8s  %-10s %s" % ("case", "what (subject / baseline)", "", "ratio",
                                             "target", "subject vs baseline: median [min..max]"))
    for r in recs:
        print(line(r))
    n = {}
    for r in recs:
        n[r["verdict"]] = n.get(r["verdict"], 0) + 1
    print("\n" + ", ".join("%d %s" % (v, k) for k, v in sorted(n.items())) +
          "; written to %s" % a.out)
    sys.exit(1 if n.get("ERROR") else 0)


def markdown(a):
    with open(a.results) as f:
        r = json.load(f)
    print("%s, %s CPUs (%s), %s GiB RAM, kernel %s; load average %s at the start, %s at "
          "the end; BENCH_SCALE=%s (database %.0f MiB, dump %.0f MiB), %s runs, pgbak %s; "
          "%s s in all.\n" % (r.get("date"), r.get("nproc"), r.get("cpu"), r.get("mem_gib"),
                             r.get("kernel"), r.get("loadavg_start"), r.get("loadavg_end"),
                             r.get("bench_scale"), int(r.get("db_bytes") or 0) / 2**20,
                             int(r.get("dump_bytes") or 0) / 2**20, r.get("runs"),
                             r.get("commit"), r.get("seconds")))
    esc = lambda t: t.strip().replace("|", "\\|")
    print("| case | what | ratio | target | verdict | subject: median [min..max] "
          "| baseline: median [min..max] |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for c in r["cases"]:
        m = c["metric"]
        if c["verdict"] in ("SKIP", "ERROR"):
            print("| %s | %s | | | %s | %s | |" % (c["case"], esc(c["title"]), c["verdict"],
                                                   esc(c["note"])))
            continue

        def cell(x):
            v = fmt(x["median"], m)
            if x.get("n", 1) > 1:
                v += " [%s..%s]" % (fmt(x["min"], m).split()[0], fmt(x["max"], m).split()[0])
            return v
        val = "%.3f" % c["ratio"] if "ratio" in c else fmt(c["value"], m)
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            c["case"], esc(c["title"]), val, c["target"].replace("<=", "≤"), c["verdict"],
            cell(c["subject"]), cell(c["baseline"]) if "baseline" in c else ""))


def gen(a):
    n = a.bytes
    block = memoryview(os.urandom(1 << 24))
    fd = sys.stdout.fileno()
    try:
        while n > 0:
            n -= os.write(fd, block[:min(n, len(block))])
    except BrokenPipeError:
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(prog="bench.py")
    sub = p.add_subparsers(dest="verb", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--out", required=True)
    m.add_argument("--runs", type=int, default=3)
    m.add_argument("--warmup", type=int, default=0)
    m.add_argument("--prepare")
    m.add_argument("--timeout", type=int, default=1800)
    m.add_argument("--cmd", action="append", required=True)
    m.add_argument("--watch", action="append")
    v = sub.add_parser("verdict")
    v.add_argument("--records", required=True)
    v.add_argument("--case", required=True)
    v.add_argument("--title", required=True)
    v.add_argument("--metric", choices=["time", "rss", "cpu", "allcpu", "bytes", "rate"],
                   required=True)
    v.add_argument("--bytes", type=float, help="rate: the bytes each run moved")
    g = v.add_mutually_exclusive_group(required=True)
    g.add_argument("--subject")
    g.add_argument("--subject-value", type=float)
    g = v.add_mutually_exclusive_group()
    g.add_argument("--baseline")
    g.add_argument("--baseline-value", type=float)
    g = v.add_mutually_exclusive_group()
    g.add_argument("--le", type=float)
    g.add_argument("--within", type=float, nargs=2)
    v.add_argument("--note")
    for verb in ("skip", "error"):
        s = sub.add_parser(verb)
        s.add_argument("--records", required=True)
        s.add_argument("--case", required=True)
        s.add_argument("--title", required=True)
        s.add_argument("--note", required=True)
    f = sub.add_parser("finish")
    f.add_argument("--records", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--meta", action="append")
    s = sub.add_parser("gen")
    s.add_argument("bytes", type=int)
    s = sub.add_parser("markdown")
    s.add_argument("results")
    a = p.parse_args()
    if a.verb == "measure":
        measure(a)
    elif a.verb == "verdict":
        verdict(a)
    elif a.verb in ("skip", "error"):
        mark(a, a.verb.upper())
    elif a.verb == "gen":
        gen(a)
    elif a.verb == "markdown":
        markdown(a)
    else:
        finish(a)


if __name__ == "__main__":
    main()
