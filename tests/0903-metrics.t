#!/bin/sh
# metrics_file: Prometheus text after a good and after a failed run, valid
# for promtool when installed and always for a strict format check (which
# refuses broken twins); label values escaped; the last success time kept
# through a failure; written atomically (no temporary file left, mode 0644);
# a file that cannot be written is a warning, the exit status unchanged.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 41
need_pg
need_s3

D=metrics_$$
psql_q -d postgres -c "create database $D" || exit 1
psql_q -d "$D" -c "create table t as select g from generate_series(1, 1000) g" || exit 1
M=$T/prom/pgbak.prom
mkdir "$T/prom"

# valid FILE: promtool's check when it is there, and ours always.
valid() {
	if command -v promtool >/dev/null 2>&1; then
		promtool check metrics <"$1" >"$T/promtool.out" 2>&1 || {
			diag "$(cat "$T/promtool.out")"; return 1; }
	fi
	python3 "$TESTS_DIR/lib/promcheck.py" "$1" 2>"$T/promcheck.err" || {
		diag "$(cat "$T/promcheck.err")"; return 1; }
}
# val METRIC DATABASE: the value of the database's sample.
val() { grep "^$1{database=\"$2\"," "$M" | sed 's/.* //'; }
# A pg_dump that fails for $D while $T/break exists.
fake_pg_dump "$T/flaky" none "[ -e '$T/break' ] && { echo broken >&2; exit 1; }
exec '$REAL_PG_DUMP' \"\$@\""

settings "$T/s.yml" "pg_dump: $T/flaky
metrics_file: $M" "" "$(db_yaml "$D" m/)"
t0=$(date +%s)
(umask 077; run pgbak-run "$T/s.yml" >/dev/null 2>"$T/err"); st=$?
is "$st" 0 "a good run exits 0"
check "the metrics file is written" test -s "$M"
check "it is valid Prometheus text" valid "$M"
is "$(stat -c %a "$M")" 644 "its mode is 0644, whatever the umask"
is "$(ls -A "$T/prom")" pgbak.prom "no temporary file is left beside it"
is "$(val pgbak_last_status "$D")" 0 "pgbak_last_status 0"
size=$(awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "m/$D-$TODAY.gz" \
	--query ContentLength --output text)
is "$(val pgbak_compressed_bytes "$D")" "$size" "pgbak_compressed_bytes is the object's size"
like "$(val pgbak_dump_bytes "$D")" '^[1-9][0-9]*$' "pgbak_dump_bytes is counted"
like "$(val pgbak_duration_seconds "$D")" '^[0-9]+\.[0-9]{3}$' "pgbak_duration_seconds"
s1=$(val pgbak_last_success_timestamp_seconds "$D")
[ "$s1" -ge "$t0" ] && [ "$s1" -le "$(date +%s)" ]; ok $? "the last success is now"
is "$(val pgbak_last_run_timestamp_seconds "$D")" "$s1" "and so is the last run"
is "$(grep '^pgbak_run_failed_databases ' "$M")" "pgbak_run_failed_databases 0" \
	"pgbak_run_failed_databases 0"
is "$(grep -c '^# TYPE ' "$M"):$(grep -c '^# HELP ' "$M")" 9:9 \
	"nine metrics, each with one HELP and one TYPE"
is "$(grep -c "^pgbak_[a-z_]*{database=\"$D\",backup_file_prefix=\"m/\"} " "$M")" 6 \
	"six per database, labelled with the database and backup_file_prefix"

# A skipped run keeps the numbers of the run that stored the object.
tick
check_status 0 "a second run skips: exit 0" quiet run pgbak-run "$T/s.yml" 2>/dev/null
is "$(val pgbak_compressed_bytes "$D")" "$size" "the skipped database keeps its bytes"
[ "$(val pgbak_last_success_timestamp_seconds "$D")" -gt "$s1" ]
ok $? "a skip is a success: today's object is stored"
s2=$(val pgbak_last_success_timestamp_seconds "$D")

# A failed run: status 1, the last success time kept from the file.
touch "$T/break"
tick
out=$(run pgbak-run --force "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 111 "a failed run exits 111"
check "the file is still valid" valid "$M"
is "$(val pgbak_last_status "$D")" 1 "pgbak_last_status 1"
is "$(val pgbak_last_success_timestamp_seconds "$D")" "$s2" "the last success time is kept"
[ "$(val pgbak_last_run_timestamp_seconds "$D")" -gt "$s2" ]; ok $? "the last run time moves on"
is "$(grep '^pgbak_run_failed_databases ' "$M")" "pgbak_run_failed_databases 1" \
	"pgbak_run_failed_databases 1"
# Negative twin: without an old file there is no success time to keep.
rm -f "$M"
check_status 111 "failing again without the file" quiet run pgbak-run --force "$T/s.yml" 2>/dev/null
is "$(val pgbak_last_success_timestamp_seconds "$D")" "" "no last success sample then"
is "$(val pgbak_last_status "$D")" 1 "but the status is there"
rm -f "$T/break"

# Label values escaped: a database named with a quote and a backslash (it
# does not exist: it fails; a newline is refused in the settings); other
# lines of the file dropped.
printf 'other_metric 1\npgbak_last_success_timestamp_seconds{database="forged",backup_file_prefix=""} 5\n' >>"$M"
settings "$T/e.yml" "metrics_file: $M" "" "$(db_yaml "$D" m/)" \
	"$(db_yaml 'we\"ird\\db' esc/weird)"
check_status 111 "a run with the odd name fails (no such database)" \
	quiet run pgbak-run "$T/e.yml" 2>/dev/null
check "the file is valid with the odd name" valid "$M"
grep -qF 'pgbak_last_status{database="we\"ird\\db",backup_file_prefix="esc/weird"} 1' "$M"
ok $? "its label escapes the quote and the backslash"
! grep -q 'other_metric\|forged' "$M"; ok $? "lines that are not ours are not kept"

# The format check refuses broken files (its negative twins).
good=$(cat "$M")
n=0
for sed in 's/ 1$/ one/' 's/we\\"ird/we"ird/' '/^# TYPE pgbak_last_status/p' \
	'/^pgbak_run_failed_databases/p' '$a\
pgbak_last_status{database="x"} 1' 's/^pgbak_last_status{database=/pgbak_last_status{0database=/'; do
	n=$((n + 1))
	printf '%s\n' "$good" | sed "$sed" >"$T/broken$n.prom"
	! python3 "$TESTS_DIR/lib/promcheck.py" "$T/broken$n.prom" 2>/dev/null
	ok $? "the format check refuses a broken file: sed '$(echo "$sed" | head -n 1)'"
done
printf '%s' "$good" >"$T/nonl.prom"
! python3 "$TESTS_DIR/lib/promcheck.py" "$T/nonl.prom" 2>/dev/null
ok $? "and one without its last newline"

# Cannot write: a warning, the exit status unchanged, no temporary file.
mkdir -p "$T/isdir/sub"
settings "$T/d.yml" "metrics_file: $T/isdir" "" "$(db_yaml "$D" m/)"
out=$(run pgbak-run "$T/d.yml" 2>&1 >/dev/null); st=$?
is "$st" 0 "a metrics_file that is a directory leaves exit 0"
like "$out" "pgbak-run: unable to rename $T/\.isdir\.[A-Za-z0-9]{6} to $T/isdir: " \
	"a warning says why"
is "$(ls -A "$T" | grep -c '^\.isdir')" 0 "the temporary file is removed"
settings "$T/n.yml" "metrics_file: $T/nodir/pgbak.prom" "" "$(db_yaml "$D" m/)"
out=$(run pgbak-run "$T/n.yml" 2>&1 >/dev/null); st=$?
[ "$st" -eq 0 ] && printf '%s' "$out" | grep -q "^pgbak-run: unable to create a temporary file in $T/nodir: "
ok $? "a missing directory: a warning, exit 0"

psql_q -d postgres -c "drop database $D" >/dev/null 2>&1
