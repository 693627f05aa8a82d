#!/bin/sh
# The per-database timeout: a pg_dump that hangs is killed with its whole
# process group, nothing is stored, no process and no temporary file is
# left, and the next database still runs.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 17
need_pg
need_s3

G=to_good_$$ U=$$
psql_q -d postgres -c "create database $G" || exit 1
# Half a dump, then a child that hangs; the sleep's argument is unique so
# that the process table shows whether it survived.
fake_pg_dump "$T/hang-$U" "$G" "echo 'CREATE TABLE half;'; sleep 1000.$U; echo never"
mkdir "$T/tmp"

for mode in stream temp; do
	extra=
	[ $mode = temp ] && extra="use_temp_file: true
temp_dir: $T/tmp"
	settings "$T/$mode.yml" "pg_dump: $T/hang-$U
$extra" "" "$(db_yaml hung $mode/hung/)
        timeout: 2" "$(db_yaml "$G" $mode/good/)"
	out=$(run pgbak-run "$T/$mode.yml" 2>"$T/err"); st=$?
	took=$(printf '%s\n' "$out" | sed -n '1s/.*, \([0-9]*\)\.[0-9]* s, .*/\1/p')
	is "$st" 111 "$mode: a hanging pg_dump: exit 111"
	like "$(printf '%s\n' "$out" | sed -n 1p)" "^$mode/hung/hung-$TODAY.gz: .*: failed: timed out after 2s$" \
		"$mode: the summary says timed out after 2s"
	[ "${took:-99}" -lt 7 ]; ok $? "$mode: killed within timeout plus grace (${took}s)"
	check "$mode: no process of the hanging pg_dump is left" no_procs "1000\.$U|hang-$U"
	! has_object "$mode/hung/hung-$TODAY.gz"; ok $? "$mode: no object for the timed-out database"
	is "$(uploads)" None "$mode: no multipart upload left"
	check "$mode: the next database is still backed up" has_object "$mode/good/$G-$TODAY.gz"
done
is "$(ls -A "$T/tmp")" "" "temp: temp_dir is empty after the timeout"

# Negative twin: with a timeout longer than the dump, the same database works.
fake_pg_dump "$T/slow" "$G" "echo 'SELECT 1;'; sleep 1"
settings "$T/long.yml" "pg_dump: $T/slow
timeout: 1m" "" "$(db_yaml slowdb long/)"
check_status 0 "a 1 s pg_dump within a 1m task timeout succeeds" quiet run pgbak-run "$T/long.yml"
check "and its object is stored" has_object "long/slowdb-$TODAY.gz"
psql_q -d postgres -c "drop database $G" >/dev/null 2>&1
