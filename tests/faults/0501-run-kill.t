#!/bin/sh
# pgbak-run when one of its own processes dies mid-upload, run with -f over
# a good object: pgbak-gzip SIGKILLed, pgbak-put SIGTERMed, pgbak-run
# SIGTERMed, temp_dir full.  Each run fails, names the cause on its summary
# line, and leaves the previous object byte for byte, no upload, no temp
# file and no process.  pgbak-put SIGKILLed cannot abort its upload: the
# next successful run aborts it once it is older than the timeout (and the
# same name's uploads of other days), never a younger one, never another
# name's.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 48
need_pg
need_s3
. "$TESTS_DIR/lib/faults.sh"

# 12 MiB that gzip cannot shrink: three 5 MiB parts.  The paced pg_dump
# gives it in 24 pieces over about 2.4 s, so a kill lands mid-upload.
head -c $((12 << 20)) /dev/urandom >"$T/data"
mkdir "$T/chunks"
(cd "$T/chunks" && split -b 512k "$T/data" c.)
cat >"$T/paced" <<EOF
#!/bin/sh
for f in "$T"/chunks/c.*; do cat "\$f" || exit 1; sleep 0.1; done
EOF
printf '#!/bin/sh\necho "SELECT 1;"\n' >"$T/tiny"
chmod 755 "$T/paced" "$T/tiny"

# conf NAME TASK_LINES: settings $T/NAME.yml for database "app" under NAME/,
# 5 MiB parts, through the proxy started last.
conf() {
	settings "$T/$1.yml" "temp_dir: $FAULT_TMP
$2" "part_size: 5MiB" "$(db_yaml app "$1/")"
	via_proxy "$T/$1.yml"
}
# kill_mid NAME SIGNAL PROGRAM [PATTERN]: run NAME's settings with -f, send
# SIGNAL to PROGRAM once the first part is on its way; sets $st and $out.
kill_mid() {
	pgbak-run -f "$T/$1.yml" >"$T/out" 2>"$T/err" &
	bg=$!
	wait_log '^part 1 ' || diag "no part was sent"
	if [ "$3" = pgbak-run ]; then
		kill -"$2" $bg
	else
		victim=$(our_pid "$3" "${4:-$3}") && kill -"$2" "$victim"
	fi
	wait $bg; st=$?
	out=$(cat "$T/out")
	[ "$(lines "$out")" -le 1 ] || diag "$out"
}

# pgbak-gzip killed mid-stream: pgbak-put gets no commit and aborts.
start_proxy
conf gzkill "pg_dump: $T/paced"
good_object "gzkill/app-$TODAY.gz"
kill_mid gzkill KILL pgbak-gzip
is "$st" 111 "pgbak-gzip SIGKILLed: exit 111"
like "$out" "^gzkill/app-$TODAY\.gz: .*: failed: pgbak-gzip killed by SIGKILL \(signal 9\)$" \
	"...the summary names pgbak-gzip and the signal"
like "$(cat "$PROXY_LOG")" "abort 1 pass" "...pgbak-put aborted its upload"
after_failure "gzip killed" "gzkill/app-$TODAY.gz"

# pgbak-put SIGTERMed mid-upload: it aborts its upload, then dies of it.
start_proxy
conf putterm "pg_dump: $T/paced"
good_object "putterm/app-$TODAY.gz"
kill_mid putterm TERM pgbak-put "pgbak-put --settings-fd 4 -C 3"
is "$st" 111 "pgbak-put SIGTERMed: exit 111"
like "$out" "^putterm/app-$TODAY\.gz: .*: failed: pgbak-put killed by SIGTERM \(signal 15\)" \
	"...the summary names pgbak-put and the signal"
like "$(cat "$PROXY_LOG")" "abort 1 pass" "...it aborted its upload"
after_failure "put SIGTERM" "putterm/app-$TODAY.gz"

# pgbak-run SIGTERMed mid-upload (0408 has the rest).
start_proxy
conf runterm "pg_dump: $T/paced"
good_object "runterm/app-$TODAY.gz"
kill_mid runterm TERM pgbak-run
is "$st" 143 "pgbak-run SIGTERMed: exit 143"
like "$out" "^runterm/app-$TODAY\.gz: .*: failed: cancelled by a signal$" \
	"...the summary says cancelled"
after_failure "run SIGTERM" "runterm/app-$TODAY.gz"

# temp_dir full in temp-file mode (a 1 MiB tmpfs, when we may mount one).
mkdir "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	at_exit "umount '$T/small'"
	start_proxy
	settings "$T/full.yml" "use_temp_file: true
temp_dir: $T/small
pg_dump: $T/paced" "part_size: 5MiB" "$(db_yaml app full/)"
	via_proxy "$T/full.yml"
	good_object "full/app-$TODAY.gz"
	out=$(run pgbak-run -f "$T/full.yml" 2>"$T/err"); st=$?
	is "$st" 111 "temp_dir full: exit 111"
	like "$out" "failed: unable to write $T/small/app-$TODAY\.gz\.[A-Za-z0-9]{6}: No space left on device$" \
		"...the summary names the file and the cause"
	is "$(ls -A "$T/small")" "" "...the full temp_dir is left empty"
	is "$(cut -d' ' -f1 "$PROXY_LOG" | sort -u | tr '\n' ' ')" "" "...and S3 was never asked"
	after_failure "temp_dir full" "full/app-$TODAY.gz"
else
	for i in 1 2 3 4 5 6 7 8; do
		_tap_n=$((_tap_n + 1)); echo "ok $_tap_n # skip cannot mount a tmpfs (not root?)"
	done
fi

# pgbak-put SIGKILLed mid-upload: it cannot abort, its upload stays.
K=putkill/app-$TODAY.gz
start_proxy
conf putkill "pg_dump: $T/paced"
good_object "$K"
kill_mid putkill KILL pgbak-put "pgbak-put --settings-fd 4 -C 3"
is "$st" 111 "pgbak-put SIGKILLed: exit 111"
like "$out" "^$K: .*: failed: pgbak-put killed by SIGKILL \(signal 9\)$" \
	"...the summary names pgbak-put and the signal"
check "...the previous object is intact, byte for byte" intact_object "$K"
left=$(key_uploads "$K")
is "$(printf '%s' "$left" | wc -w)" 1 "...its upload is left (nobody could abort it)"
is "$(ls -A "$FAULT_TMP")" "" "...temp_dir is empty"
check "...no process left" no_strays

# The same name's upload of another day, and another name's, both old.
OLD=putkill/app-20000101.gz NEXT=putkill/app-old-20000101.gz
start_uploads "$OLD" "$NEXT"
born=$(date +%s)

# Negative twin: a run whose timeout is longer than their age leaves them.
settings "$T/keep.yml" "pg_dump: $T/tiny" "" "$(db_yaml app putkill/)"
out=$(run pgbak-run -f "$T/keep.yml" 2>"$T/err"); st=$?
is "$st" 0 "a run with the default timeout (30m): ok"
is "$(key_uploads "$K")" "$left" "...does not abort an upload younger than its timeout"
is "$(printf '%s' "$(key_uploads "$OLD")" | wc -w)" 1 "...nor one of another day"

# A run with a 4 s timeout, once they are older: both of its name go.
while [ $(($(date +%s) - born)) -lt 6 ]; do sleep 0.2; done
settings "$T/clean.yml" "pg_dump: $T/tiny
timeout: 4" "" "$(db_yaml app putkill/)"
out=$(run pgbak-run -f -v "$T/clean.yml" 2>"$T/err"); st=$?
is "$st" 0 "the next run, timeout 4 s, uploads 6 s old: ok"
like "$out" "^$K: .*: ok$" "...it stored the backup"
like "$(cat "$T/err")" "pgbak-put --settings-fd 4 --abort-stale=4 --any-date -- $K" \
	"...then ran pgbak-put --abort-stale=TIMEOUT --any-date (shown by -v)"
is "$(key_uploads "$K")" "" "...the upload the killed pgbak-put left is aborted"
is "$(key_uploads "$OLD")" "" "...so is the same name's of another day"
is "$(printf '%s' "$(key_uploads "$NEXT")" | wc -w)" 1 "...another name's is left alone"
fetch "$K" | gunzip | grep -qx "SELECT 1;"; ok $? "...and the object is the new backup"

# The clean-up failing only warns: the backup stays ok.
start_proxy --rule 'list:*:403'
settings "$T/warn.yml" "pg_dump: $T/tiny" "" "$(db_yaml app putkill/)"
via_proxy "$T/warn.yml"
out=$(run pgbak-run -f "$T/warn.yml" 2>"$T/err"); st=$?
is "$st" 0 "listing uploads denied (403): still exit 0"
like "$out" "^$K: .*: ok$" "...the backup is ok"
like "$(cat "$T/err")" "^pgbak-run: $K: unable to abort stale uploads: pgbak-put exited 111: .*HTTP 403 AccessDenied$" \
	"...with one warning naming the cause"
is "$(lines "$(cat "$T/err")")" 1 "...on one line"
