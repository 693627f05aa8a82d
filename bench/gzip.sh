#!/bin/sh
# bench/gzip.sh [BUILD_DIR]: pgbak-gzip against pigz and gzip on a pg_dump-like
# text, side by side in one run, at the same level and thread count.
# Prints ratios (ours / theirs), never bare seconds as the verdict:
#   wall  pgbak-gzip / pigz   target <= 1.05 (issue 7), from a file and through pipes
#   wall  pgbak-gzip / gzip   for scale: gzip has one thread
#   CPU   pgbak-gzip / pigz   CPU seconds, which a busy machine disturbs less
#   size  pgbak-gzip / gzip   target within 1 %
# The contenders take turns within each round, so that other work on the
# machine slows them alike; a verdict is the median of the per-round ratios.
# Settings: BENCH_GZIP_MB (input size, default 500), BENCH_GZIP_LEVEL (6),
# BENCH_GZIP_THREADS (2), BENCH_GZIP_ROUNDS (5).  The input is cached in
# bench/cache/.  Needs pigz, gzip, python3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
build=$(cd "$build" && pwd)
mb=${BENCH_GZIP_MB:-500}
level=${BENCH_GZIP_LEVEL:-6}
threads=${BENCH_GZIP_THREADS:-2}
rounds=${BENCH_GZIP_ROUNDS:-5}
for t in pigz gzip python3; do
	command -v $t >/dev/null || { echo "bench/gzip.sh: $t is not installed" >&2; exit 100; }
done
if [ ! -x "$build/pgbak-gzip" ]; then
	echo "bench/gzip.sh: no $build/pgbak-gzip: run make" >&2
	exit 100
fi

mkdir -p "$here/cache"
in=$here/cache/dump-${mb}M.sql
if [ ! -s "$in" ]; then
	echo "bench/gzip.sh: writing $in" >&2
	"$here/gen-dump" $((mb << 20)) > "$in.tmp" && mv "$in.tmp" "$in"
fi
cat "$in" > /dev/null	# into the page cache, for every contender alike

exec python3 - "$in" "$level" "$threads" "$rounds" "$build/pgbak-gzip" <<'EOF'
import os, statistics, subprocess, sys, time

path, level, threads, rounds, prog = sys.argv[1:]
rounds = int(rounds)
ours = "%s -%s -p %s" % (prog, level, threads)
pigz = "pigz -%s -p %s" % (level, threads)
gzip = "gzip -%s" % level
cases = {
    ("file", "ours"): "%s < %s > /dev/null" % (ours, path),
    ("file", "pigz"): "%s < %s > /dev/null" % (pigz, path),
    ("file", "gzip"): "%s < %s > /dev/null" % (gzip, path),
    ("pipe", "ours"): "cat %s | %s | cat > /dev/null" % (path, ours),
    ("pipe", "pigz"): "cat %s | %s | cat > /dev/null" % (path, pigz),
}


def run(cmd):
    """Wall seconds and CPU seconds of sh -c cmd."""
    t0 = time.monotonic()
    pid = os.spawnv(os.P_NOWAIT, "/bin/sh", ["sh", "-c", cmd])
    _, st, ru = os.wait4(pid, 0)
    if st != 0:
        sys.exit("bench/gzip.sh: %s: wait status %d" % (cmd, st))
    return time.monotonic() - t0, ru.ru_utime + ru.ru_stime


def peak_rss(cmd):
    """Peak RSS in KiB (rusage of a forked child starts at our own size: ask time(1))."""
    with open(path, "rb") as f:
        err = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd.split(), stdin=f,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True).stderr
    return int(err.split()[-1])


def size(cmd):
    with open(path, "rb") as f:
        out = subprocess.run(cmd.split(), stdin=f, stdout=subprocess.PIPE, check=True).stdout
    return len(out)


wall = {k: [] for k in cases}
cpu = {k: [] for k in cases}
for r in range(rounds + 1):
    for k, cmd in cases.items():
        w, c = run(cmd)
        if r > 0:               # round 0 warms up
            wall[k].append(w)
            cpu[k].append(c)
med = statistics.median
n = os.path.getsize(path)
mib = n / 2**20
load = os.getloadavg()[0]
print("input %s: %d MiB, level %s, %s threads, %d rounds, %d CPUs, load %.1f at the end" %
      (os.path.basename(path), mib, level, threads, rounds, os.cpu_count(), load))
for k in cases:
    w = wall[k]
    print("  %-4s %-4s %6.1f MiB/s wall (%.1f .. %.1f), %5.1f MiB per CPU second" %
          (k[0], k[1], mib / med(w), mib / max(w), mib / min(w), mib / med(cpu[k])))


def paired(m, a, b):
    return med([x / y for x, y in zip(m[a], m[b])])


s_ours, s_pigz, s_gzip = size(ours), size(pigz), size(gzip)
rss = {"ours": peak_rss(ours), "pigz": peak_rss(pigz)}
F, P = ("file", "ours"), ("pipe", "ours")
rows = [
    ("wall pgbak-gzip / pigz, file", paired(wall, F, ("file", "pigz")), "<= 1.05"),
    ("wall pgbak-gzip / pigz, pipe", paired(wall, P, ("pipe", "pigz")), "<= 1.05"),
    ("wall pgbak-gzip / gzip, file", paired(wall, F, ("file", "gzip")), "(gzip has one thread)"),
    ("CPU  pgbak-gzip / pigz, file", paired(cpu, F, ("file", "pigz")), ""),
    ("CPU  pgbak-gzip / pigz, pipe", paired(cpu, P, ("pipe", "pigz")), "(cat included)"),
    ("size pgbak-gzip / gzip", s_ours / s_gzip,
     "0.99 .. 1.01 (%d vs %d bytes)" % (s_ours, s_gzip)),
    ("size pgbak-gzip / pigz", s_ours / s_pigz, ""),
    ("peak RSS pgbak-gzip / pigz", rss["ours"] / rss["pigz"],
     "(%d vs %d KiB, shared libraries included)" % (rss["ours"], rss["pigz"])),
]
for what, r, target in rows:
    print("%-30s %6.3f  %s" % (what, r, target))
if load > os.cpu_count():
    print("note: load %.1f on %d CPUs: other work shared the machine" % (load, os.cpu_count()))
EOF
