#!/bin/sh
# The summary names the stage that failed for its own reason, whatever the
# order the failure's consequences arrive in (issue 13).  Each upstream
# failure is made to land before pgbak-put's exit, with its output still in
# flight (pgbak-put's part held by the S3 fault proxy, so nothing downstream
# reads: put aborts, no commit, and the broken pipe runs back up the
# pipeline), with put slow to abort, and after its last byte reached put;
# and after put's own exit.  The twins: put failing for its own reason is
# named, and pg_dump, cut by it, is not.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 42
need_pg
need_s3
. "$TESTS_DIR/lib/faults.sh"

G=culprit_$$
psql_q -d postgres -c "create database $G" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $G'"
psql_q -d "$G" -c "create table t as select g from generate_series(1, 1000) g" || exit 1
P=c$$

# fill.py LOG PATTERN HOW MESSAGE: write bytes gzip cannot shrink until the
# proxy LOG has a line matching PATTERN (pgbak-put's part is held: nothing
# downstream reads any more) and the output pipe stays full, then print
# MESSAGE on stderr and end at once: HOW is "exit N" or "kill N".
cat >"$T/fill.py" <<'EOF'
import fcntl, os, re, struct, sys, termios, time
log, pattern, how, msg = sys.argv[1:5]
chunk = os.urandom(1 << 16)
size = fcntl.fcntl(1, 1032)  # F_GETPIPE_SZ
os.set_blocking(1, False)

def queued():
    return struct.unpack('i', fcntl.ioctl(1, termios.FIONREAD, b'\0' * 4))[0]

def held():
    try:
        with open(log) as f:
            return re.search(pattern, f.read(), re.M) is not None
    except OSError:
        return False

seen, full, end = False, 0, time.monotonic() + 30
while full < 20 and time.monotonic() < end:
    try:
        os.write(1, chunk)
        full = 0
        continue
    except BlockingIOError:
        pass
    seen = seen or held()
    full = full + 1 if seen and queued() >= size // 2 else 0
    time.sleep(0.01)
sys.stderr.write(msg + '\n')
sys.stderr.flush()
what, n = how.split()
if what == 'kill':
    os.kill(os.getpid(), int(n))
os._exit(int(n))
EOF

# proxied NAME [RULE...]: a proxy with RULEs and settings $T/NAME.yml (one
# database, G, under $P/NAME/, 5 MiB parts one at a time) through it; its
# pg_dump is $T/NAME.dump, written by the caller after this ($PROXY_LOG set).
proxied() {
	_n=$1
	shift
	_rules=
	for _r in "$@"; do _rules="$_rules --rule $_r"; done
	start_proxy $_rules
	settings "$T/$_n.yml" "pg_dump: $T/$_n.dump
${EXTRA:-}" "part_size: 5MiB
parallel: 1" "$(db_yaml "$G" "$P/$_n/")"
	via_proxy "$T/$_n.yml"
	K=$P/$_n/$G-$TODAY${SUFFIX:-.gz}
}
# go: run the last settings; sets st, out (the summary line), err.
go() {
	out=$(run pgbak-run "$T/$_n.yml" 2>"$T/$_n.err"); st=$?
	err=$(cat "$T/$_n.err")
}
# failed REASON: the checks of a run that failed for REASON (a regex).
failed() {
	is "$st" 111 "$_n: exit 111"
	like "$out" "^$K: .*: failed: $1" "$_n: the summary names the culprit"
	! has_object "$K"; ok $? "$_n: no object"
	is "$(key_uploads "$K")" "" "$_n: no multipart upload left"
}
fill() { printf 'exec python3 %s %s %s %s %s\n' "$T/fill.py" "$PROXY_LOG" "'$1'" "'$2'" "'$3'"; }

# pg_dump exits 1 with its output in flight: pgbak-put's part is held, so
# put gets no commit and aborts first; gzip, then pg_dump's relay, find
# their reader gone.  pg_dump had failed before any of that.
proxied inflight 'part:*:stall'
fake_pg_dump "$T/inflight.dump" none "$(fill '^part 1 stall' 'exit 1' 'pg_dump: error: query failed: in flight')"
go
failed "pg_dump exited 1: pg_dump: error: query failed: in flight$"
like "$err" 'pgbak-put: upstream failed; upload aborted: no "commit"' \
	"inflight: pgbak-put aborted for want of a commit, and is not blamed"

# The same with pgbak-put slow to abort: its Abort held 1 s, then sent again.
export PGBAK_S3_STALL=1
proxied slowabort 'part:*:stall' 'abort:1:stall'
fake_pg_dump "$T/slowabort.dump" none "$(fill '^part 1 stall' 'exit 1' 'pg_dump: error: query failed: slow abort')"
go
failed "pg_dump exited 1: pg_dump: error: query failed: slow abort$"
grep -q '^abort 1 stall' "$PROXY_LOG" && grep -q '^abort 2 pass' "$PROXY_LOG"
ok $? "slowabort: the first Abort was held, the second went through"
unset PGBAK_S3_STALL

# Killed, in flight: by a signal of its own, not one pgbak-run sent.
proxied killed 'part:*:stall'
fake_pg_dump "$T/killed.dump" none "$(fill '^part 1 stall' 'kill 9' 'pg_dump: error: about to be killed')"
go
failed "pg_dump killed by SIGKILL \(signal 9\): pg_dump: error: about to be killed$"

# Exit 141 is an exit status: not "killed by SIGPIPE", and not excused.
proxied e141 'part:*:stall'
fake_pg_dump "$T/e141.dump" none "$(fill '^part 1 stall' 'exit 141' 'pg_dump: error: exits 141')"
go
failed "pg_dump exited 141: pg_dump: error: exits 141$"
unlike "$out" "SIGPIPE" "e141: the summary does not call exit 141 a SIGPIPE"

# pg_dump fails after its last byte reached pgbak-put: it closes its output,
# waits until put has sent the last part, then exits 1.
proxied drained
fake_pg_dump "$T/drained.dump" none "head -c 6291456 /dev/urandom
exec >&-
i=0
while ! grep -q '^part 2 ' '$PROXY_LOG' && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
grep -q '^part 2 ' '$PROXY_LOG' && touch '$T/drained.seen'
echo 'pg_dump: error: query failed: after the last byte' >&2
exit 1"
go
check "drained: pg_dump's failure came after put had sent every part" test -e "$T/drained.seen"
failed "pg_dump exited 1: pg_dump: error: query failed: after the last byte$"

# The twin: pgbak-put fails for its own reason (403 on the part) while
# pg_dump still writes; pg_dump, cut, exits 1 too, but it is not blamed.
proxied putfirst 'part:*:403'
fake_pg_dump "$T/putfirst.dump" none "head -c 20000000 /dev/urandom
echo 'pg_dump: error: could not write to output file: Broken pipe' >&2
exit 1"
go
failed "pgbak-put exited 111: pgbak-put: .*HTTP 403"
unlike "$out" "failed: pg_dump" "putfirst: pg_dump, cut by put's failure, is not named"

# pg_dump fails for its own reason after pgbak-put's own failure and exit:
# both failed on their own, so pipeline order decides: pg_dump.
proxied late 'part:*:403'
fake_pg_dump "$T/late.dump" none "head -c 6291456 /dev/urandom
exec >&-
i=0
while ! grep -q '^part 1 403' '$PROXY_LOG' && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
while pgrep -f 'pgbak-put .*$P/late/' >/dev/null && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
pgrep -f 'pgbak-put .*$P/late/' >/dev/null || touch '$T/late.seen'
echo 'pg_dump: error: query failed: after put' >&2
exit 1"
go
check "late: pg_dump's failure came after pgbak-put had exited" test -e "$T/late.seen"
failed "pg_dump exited 1: pg_dump: error: query failed: after put$"
like "$err" "pgbak-put: .*HTTP 403" "late: put's own failure is still reported on stderr"

# A stage in the middle: age fails with its output in flight.
age-keygen -o "$T/key" 2>/dev/null || printf '# public key: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqx\n' >"$T/key"
PUB=$(sed -n 's/^# public key: //p' "$T/key")
EXTRA="encrypt:
  age: $T/age
  age_recipients: [$PUB]"
SUFFIX=.gz.age
proxied age 'part:*:stall'
EXTRA= SUFFIX=
printf '#!/bin/sh\n%s\n' "$(fill '^part 1 stall' 'exit 1' 'age: error: in flight')" >"$T/age"
printf '#!/bin/sh\nexec pg_dump "$@"\n' >"$T/age.dump"
chmod 755 "$T/age" "$T/age.dump"
go
failed "age exited 1: age: error: in flight$"

# The negative twin: the same way through the proxy, nothing failing, stores.
proxied good
printf '#!/bin/sh\nexec pg_dump "$@"\n' >"$T/good.dump"
chmod 755 "$T/good.dump"
go
like "$st: $out" "^0: $K: .*: ok$" "good: through the proxy, nothing failing: ok"
check "good: and stored" has_object "$K"
check "no process of the runs is left" no_strays
