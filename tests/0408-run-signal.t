#!/bin/sh
# SIGTERM to pgbak-run mid-run aborts the upload, kills and reaps every
# stage, removes the temporary file and exits 143; also when SIGTERM or
# SIGINT lands while the upload is being created, or while pgbak-put is
# aborting it already.  --daemon runs at once,
# again after the interval, keeps its settings when a SIGHUP brings bad
# ones, takes good ones, and exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 32
need_pg
need_s3

U=$$
# 20 MB that does not compress (a multipart upload is under way), then hang.
fake_pg_dump "$T/stall-$U" none "head -c 20000000 /dev/urandom; echo \$\$ >'$T/stall.pid'; sleep 1000.$U"
mkdir "$T/tmp"
for mode in stream temp; do
	extra=
	[ $mode = temp ] && extra="use_temp_file: true
temp_dir: $T/tmp"
	settings "$T/$mode.yml" "pg_dump: $T/stall-$U
$extra" "" "$(db_yaml sigdb $mode/)"
	rm -f "$T/stall.pid"
	pgbak-run "$T/$mode.yml" >"$T/out" 2>"$T/err" &
	bg=$!
	i=0
	while [ ! -s "$T/stall.pid" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	# mid-run: the upload under way (stream), or 16 MB in the temp file
	if [ $mode = stream ]; then
		i=0
		while [ "$(uploads)" = None ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	else
		wait_size 16000000 "$T"/tmp/* "$T"/tmp/.* || diag "the temp file never grew"
	fi
	kill -TERM $bg
	wait $bg; st=$?
	is "$st" 143 "$mode: SIGTERM mid-run: exit 143"
	like "$(cat "$T/out")" "failed: cancelled by a signal" "$mode: the summary says cancelled"
	check "$mode: no stage is left running" no_procs "1000\.$U|stall-$U|pgbak-(gzip|put) .*$mode/"
	! has_object "$mode/sigdb-$TODAY.gz"; ok $? "$mode: no object"
	is "$(uploads)" None "$mode: no multipart upload left"
done
is "$(ls -A "$T/tmp")" "" "temp: temp_dir is empty after SIGTERM"

# SIGTERM or SIGINT while CreateMultipartUpload is in flight: S3 makes the
# upload at once, its answer comes 3 s late (the proxy holds it).  pgbak-put
# waits for the answer, then aborts the upload it names.
. "$TESTS_DIR/lib/faults.sh"
for sig in TERM:15 INT:2; do
	name=${sig%:*} num=${sig#*:}
	start_proxy --rule 'create:1:hold=3'
	settings "$T/c$name.yml" "pg_dump: $T/stall-$U" "part_size: 5MiB" \
		"$(db_yaml sigdb "create$name/")"
	via_proxy "$T/c$name.yml"
	pgbak-run "$T/c$name.yml" >"$T/out" 2>"$T/err" &
	bg=$!
	wait_log '^create 1 ' || diag "no upload was started"
	kill -"$name" $bg
	wait $bg; st=$?
	is "$st" $((128 + num)) "SIG$name while the upload is being created: exit $((128 + num))"
	like "$(cat "$PROXY_LOG")" "abort 1 pass" "...pgbak-put waited for the upload's id, then aborted it"
	is "$(key_uploads "create$name/sigdb-$TODAY.gz")" "" "...no multipart upload is left"
	check "...no stage is left running" no_procs "1000\.$U|stall-$U|pgbak-(gzip|put) .*create$name/"
done

# SIGTERM while pgbak-put aborts for a reason of its own (pgbak-gzip killed:
# no commit), the abort slow (S3 gets it after 2 s): the signal waits for
# the abort instead of cutting it short.
start_proxy --rule 'abort:1:delay=2'
settings "$T/ab.yml" "pg_dump: $T/stall-$U" "part_size: 5MiB" "$(db_yaml sigdb abort/)"
via_proxy "$T/ab.yml"
pgbak-run "$T/ab.yml" >"$T/out" 2>"$T/err" &
bg=$!
wait_log '^part 1 ' || diag "no part was sent"
gz=$(our_pid pgbak-gzip "pgbak-gzip") && kill -KILL "$gz"
wait_log '^abort 1 ' || diag "pgbak-put did not abort"
kill -TERM $bg
wait $bg; st=$?
is "$st" 143 "SIGTERM while pgbak-put aborts (pgbak-gzip killed): exit 143"
is "$(key_uploads "abort/sigdb-$TODAY.gz")" "" "...the abort was not cut short: no upload left"
unlike "$(cat "$T/err")" "upload left behind" "...and nobody says one was left"
check "...no stage is left running" no_procs "1000\.$U|stall-$U|pgbak-(gzip|put) .*abort/"

# --daemon, in local mode to keep it quick.
D=dmn_$$
psql_q -d postgres -c "create database $D" || exit 1
settings "$T/d.yml" "interval: 2
local_dir: $T/lout" "enable: false" "$(db_yaml "$D" one/)"
pgbak-run --daemon "$T/d.yml" >"$T/dout" 2>"$T/derr" &
dm=$!
waitfor() { # waitfor PATTERN FILE: up to 10 s
	i=0
	while ! grep -qE -- "$1" "$2" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	grep -qE -- "$1" "$2"
}
waitfor "^one/$D-$TODAY.gz: .*: ok$" "$T/dout"; ok $? "--daemon backs up at once"
grep -q ": ok$" "$T/dout" || diag "$(cat "$T/dout" "$T/derr")"
waitfor "^one/$D-$TODAY.gz: .*: skipped" "$T/dout"; ok $? "and runs again after the interval (skipped: same day)"
printf 'tasks: [ broken\n' >"$T/d.yml"
kill -HUP $dm
waitfor "keeping the settings in use" "$T/derr"; ok $? "SIGHUP with bad settings: it says it keeps the old ones"
n=$(grep -c "skipped" "$T/dout")
i=0
while [ "$(grep -c skipped "$T/dout")" -le "$n" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(grep -c skipped "$T/dout")" -gt "$n" ]; ok $? "and goes on running with them"
kill -0 $dm; ok $? "the daemon is still alive"
settings "$T/d.yml" "interval: 2
local_dir: $T/lout" "enable: false" "$(db_yaml "$D" one/)" "$(db_yaml "$D" two/)"
kill -HUP $dm
waitfor "settings reloaded" "$T/derr"; ok $? "SIGHUP with good settings: reloaded"
waitfor "^two/$D-$TODAY.gz: .*: ok$" "$T/dout"; ok $? "the next run backs up the new database"
kill -TERM $dm
wait $dm; st=$?
is "$st" 0 "SIGTERM ends the daemon with exit 0"
[ $st -eq 0 ] || diag "$(cat "$T/dout" "$T/derr")"
is "$(find "$T/lout" -name '*.tmp')" "" "no temporary file is left"
psql_q -d postgres -c "drop database $D" >/dev/null 2>&1
