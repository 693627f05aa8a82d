#!/bin/sh
# Every signal whose default action would end pgbak-run mid-run (not only
# TERM and INT: QUIT, USR1, ALRM, the real-time ones...) is handled like
# SIGTERM: the stages are stopped and reaped, pgbak-put's upload aborted,
# the temporary file removed, and pgbak-run exits 128+N.  SIGKILL, which
# nothing can catch, leaves the temporary file, as pgbak-run(8) says.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 72
need_pg
need_s3
. "$TESTS_DIR/lib/faults.sh"

U=$$
# 3 MB that does not compress into the temp file, then hang.
fake_pg_dump "$T/stall-$U" none "head -c 3000000 /dev/urandom; echo \$\$ >'$T/stall.pid'; sleep 1000.$U"
# 6 MiB, then done: pgbak-put's turn (two 5 MiB parts).
fake_pg_dump "$T/six-$U" none "head -c $((6 << 20)) /dev/urandom"

# tidy: what a run that died unclean left goes: its processes (by pid) and
# its temp file, so that the next case starts clean.
tidy() {
	for _p in $(strays | cut -d' ' -f1); do kill -KILL "$_p" 2>/dev/null; done
	rm -f "$FAULT_TMP"/*
}

# bounded_wait PID: wait for PID, sets $st; one still running after 30 s
# (the signal was ignored: sh starts a background job with QUIT and INT
# ignored) is killed.
bounded_wait() {
	_i=0
	while [ $_i -lt 300 ]; do
		_s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
		{ [ -z "$_s" ] || [ "$_s" = Z ]; } && break
		sleep 0.1
		_i=$((_i + 1))
	done
	[ $_i -lt 300 ] || { diag "pgbak-run did not stop: killed"; kill -KILL "$1"; }
	wait "$1"; st=$?
}

# signal_dump NAME NUMBER: a temp-file run gets signal NUMBER while pg_dump
# writes into the temp file; sets $st.
signal_dump() {
	settings "$T/d.yml" "pg_dump: $T/stall-$U
use_temp_file: true
temp_dir: $FAULT_TMP" "" "$(db_yaml sigdb "dump$1/")"
	rm -f "$T/stall.pid"
	pgbak-run "$T/d.yml" >"$T/out" 2>"$T/err" &
	bg=$!
	i=0
	while [ ! -s "$T/stall.pid" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$T/stall.pid" ] || diag "pg_dump did not start"
	kill -"$2" $bg
	bounded_wait $bg
}

# While pg_dump writes the temp file: each signal that would end pgbak-run.
for sig in HUP:1 INT:2 QUIT:3 USR1:10 USR2:12 ALRM:14 TERM:15 STKFLT:16 XCPU:24 \
	XFSZ:25 VTALRM:26 PROF:27 IO:29 PWR:30 RTMIN:34 RTMAX:64; do
	name=${sig%:*} num=${sig#*:}
	signal_dump "$name" "$num"
	is "$st" $((128 + num)) "SIG$name while the temp file is written: exit $((128 + num))"
	is "$(ls -A "$FAULT_TMP")" "" "...the temp file is removed"
	check "...no stage is left running" no_strays
	tidy
done

# Negative twin: SIGKILL cannot be caught; the temp file stays.
signal_dump KILL 9
is "$st" 137 "SIGKILL: exit 137"
[ -n "$(ls -A "$FAULT_TMP")" ]; ok $? "...the temp file is left behind (pgbak-run(8) says so)"
tidy

# While pgbak-put uploads the temp file: S3 holds the answer to part 1, the
# signal lands, pgbak-put aborts the upload.
for sig in USR1:10 QUIT:3 ALRM:14; do
	name=${sig%:*} num=${sig#*:}
	K=put$name/sigdb-$TODAY.gz
	start_proxy --rule 'part:1:hold=60'
	settings "$T/p.yml" "pg_dump: $T/six-$U
use_temp_file: true
temp_dir: $FAULT_TMP" "part_size: 5MiB" "$(db_yaml sigdb "put$name/")"
	via_proxy "$T/p.yml"
	pgbak-run "$T/p.yml" >"$T/out" 2>"$T/err" &
	bg=$!
	wait_log '^part 1 ' || diag "no part was sent"
	kill -"$num" $bg
	bounded_wait $bg
	is "$st" $((128 + num)) "SIG$name while pgbak-put uploads: exit $((128 + num))"
	like "$(cat "$PROXY_LOG")" "abort 1 pass" "...pgbak-put aborted its upload"
	is "$(key_uploads "$K")" "" "...no multipart upload is left"
	! has_object "$K"; ok $? "...no object"
	is "$(ls -A "$FAULT_TMP")" "" "...the temp file is removed"
	check "...no stage is left running" no_strays
	tidy
done

# pgbak-put alone: such a signal aborts its upload too, then it dies of it.
K=alone/x-$TODAY.gz
start_proxy --rule 'part:1:hold=60'
mkfifo "$T/in"
pgbak-put -e "$PROXY_URL" --part-size 5MiB "$K" <"$T/in" 2>"$T/err" &
bg=$!
exec 7>"$T/in"
head -c $((6 << 20)) /dev/urandom >&7	# part 1 goes, part 2 waits for more
wait_log '^part 1 ' || diag "no part was sent"
kill -USR1 $bg
bounded_wait $bg
exec 7>&-
is "$st" 138 "pgbak-put alone, SIGUSR1 mid-upload: dies of it (138)"
like "$(cat "$PROXY_LOG")" "abort 1 pass" "...after aborting its upload"
is "$(key_uploads "$K")" "" "...no multipart upload is left"

# --daemon: TERM and INT ask it to stop (exit 0, 0408); any other such
# signal still ends it cleanly, with 128+N.
settings "$T/dm.yml" "interval: 3600
local_dir: $T/lout" "enable: false" "$(db_yaml postgres dmn/)"
pgbak-run --daemon "$T/dm.yml" >"$T/out" 2>"$T/err" &
bg=$!
i=0
while ! grep -q ": ok$" "$T/out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -USR1 $bg
bounded_wait $bg
is "$st" 138 "--daemon, SIGUSR1 between runs: exit 138"
