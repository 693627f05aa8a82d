#!/bin/sh
# restore_check.every: pgbak-run runs pgbak-restore --check after a backup
# when no check passed within every; the time of the last check is kept in
# metrics_file (pgbak_restore_check_*), so a second run the same day checks
# nothing, and a failed check is run again at the next backup.  A failing
# check (a second server whose template1 adds a CHECK constraint, as
# tests/0271 does) fails the database: on_failure, the ping's /fail,
# metrics status 0, exit 111.  Without every there is no check.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 40
need_pg
need_s3
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY

D=rck_$$
at_exit "psql -X -q -d postgres -c 'drop database if exists $D'"
psql_q -d postgres -c "create database $D" || exit 1
psql_q -d "$D" -c "create table orders as select g as id from generate_series(1, 3000) g" ||
	exit 1
K=rck/$D-$TODAY.gz
# scratch_left PORT: how many pgbak_check_ databases of ours the server has
scratch_left() {
	psql -X -At -p "$1" -d postgres -c "select count(*) from pg_database where datname like 'pgbak\_check\_%$$%'"
}

# The ping server (0400-run-lib.sh), answering 200.
echo 200 >"$T/code"
: >"$T/ping.log"
ping_server "$T/ping.log" "$T/code"
PING=http://127.0.0.1:$PING_PORT/rck

# The hooks leave a file each.
printf '#!/bin/sh\n: >"%s/hook.$1"\n' "$T" >"$T/hook"
chmod 755 "$T/hook"
hooks() { rm -f "$T/hook.ok" "$T/hook.fail"; : >"$T/ping.log"; }
M=$T/prom/pgbak.prom
mkdir "$T/prom"
val() { grep "^$1{database=\"$2\"," "$M" | sed 's/.* //'; }
TASK="metrics_file: $M
on_success: [$T/hook, ok]
on_failure: [$T/hook, fail]
ping_url: $PING"

# restore_check.every without metrics_file: a settings error, nothing run.
settings "$T/nom.yml" "restore_check:
  every: 7d" "" "$(db_yaml "$D" rck/)"
out=$(run pgbak-run "$T/nom.yml" 2>&1); st=$?
is "$st" 100 "restore_check.every without metrics_file: exit 100"
like "$out" "restore_check.every needs metrics_file" "...saying where the last check is kept"

# Without every: no check, no check metrics.
settings "$T/no.yml" "$TASK" "" "$(db_yaml "$D" rck/)"
out=$(run pgbak-run -v "$T/no.yml" 2>"$T/err"); st=$?
is "$st" 0 "no restore_check: the backup exits 0"
unlike "$(cat "$T/err")" "pgbak-restore --check" "...and runs no check"
is "$(val pgbak_restore_check_status "$D")" "" "...and the metrics have no check"
is "$(grep -c '^# TYPE pgbak_restore_check_' "$M")" 0 "...nor its metrics' HELP and TYPE"
out=$(run pgbak-run -n "$T/no.yml" 2>&1)
unlike "$out" "pgbak-restore" "-n without restore_check: no check line"

# every: 7d: the backup, then the check of that very backup.
settings "$T/s.yml" "$TASK
restore_check:
  every: 7d" "" "$(db_yaml "$D" rck/)"
out=$(run pgbak-run -n "$T/s.yml" 2>&1)
like "$out" "pgbak-restore --check -c $T/s\.yml -D $TODAY -- $D" "-n shows the check of today's backup"
hooks
t0=$(date +%s)
out=$(run pgbak-run -v -f "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "every: 7d: backup and check, exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
like "$(cat "$T/err")" "running [^ ]*pgbak-restore --check -c $T/s\.yml -D $TODAY -- $D" \
	"...pgbak-restore --check ran on today's backup"
like "$out" "^$K: .*: ok, restore checked$" "...and the summary line says so"
is "$(val pgbak_restore_check_status "$D")" 1 "metrics: check status 1"
is "$(val pgbak_restore_check_rows "$D")" 3000 "metrics: the rows counted"
ts=$(val pgbak_restore_check_timestamp_seconds "$D")
[ -n "$ts" ] && [ "$ts" -ge "$t0" ]; ok $? "metrics: the check's time"
like "$(val pgbak_restore_check_duration_seconds "$D")" "^[0-9]+\.[0-9]{3}$" "metrics: its duration"
python3 "$TESTS_DIR/lib/promcheck.py" "$M" 2>"$T/promcheck.err"; ok $? "the metrics are valid"
is "$(grep -c '^# TYPE pgbak_restore_check_' "$M")" 4 "...with the check's four metrics"
is "$(scratch_left "$PGPORT")" 0 "the scratch database is gone"
check "on_success ran" test -e "$T/hook.ok"
is "$(cat "$T/ping.log")" "/rck" "the ping said ok"

# The same day again, -f: the backup, but no check (the metrics say one passed).
out=$(run pgbak-run -v -f "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a second run the same day exits 0"
unlike "$(cat "$T/err")" "pgbak-restore --check" "...and runs no check"
like "$(cat "$T/err")" "restore check not due" "...saying it is not due"
is "$(val pgbak_restore_check_timestamp_seconds "$D")" "$ts" "...the check's time kept"
is "$(val pgbak_restore_check_rows "$D")" 3000 "...and its rows"

# A second server for the check, whose template1 adds a CHECK constraint
# to every new public.orders (tests/0271's way), checked every 1s: the
# clock must first pass the second of the last check.
i=0
while [ "$(date +%s)" -le "$ts" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
pg2_start
orders_trigger "$P2" "alter table public.orders add constraint no_thousands check (id % 1000 <> 0)" ||
	exit 1
settings "$T/f.yml" "$TASK
restore_check:
  every: 1s
  host: 127.0.0.1
  port: $P2
  user: postgres" "" "$(db_yaml "$D" rck/)"
hooks
out=$(run pgbak-run -f "$T/f.yml" 2>"$T/err"); st=$?
is "$st" 111 "a failing check: exit 111"
like "$out" "^$K: .*: failed: restore check: .*psql exited 3: .*no_thousands" \
	"...the summary line says the check failed, and why"
is "$(val pgbak_restore_check_status "$D")" 0 "metrics: check status 0"
is "$(val pgbak_restore_check_rows "$D")" 3000 "metrics: the rows of the last check that passed"
check "on_failure ran" test -e "$T/hook.fail"
! test -e "$T/hook.ok"; ok $? "...on_success did not"
is "$(cat "$T/ping.log")" "/rck/fail" "the ping got the failure"
is "$(scratch_left "$P2")" 0 "no scratch database left on the check's server"
has_object "$K"; ok $? "the backup itself stays stored"

# The constraint gone, the next run checks again (the last one failed).
psql_q -p "$P2" -d template1 -c "drop event trigger on_create" || exit 1
hooks
out=$(run pgbak-run -f "$T/f.yml" 2>"$T/err"); st=$?
is "$st" 0 "after a failed check the next run checks again, and passes: exit 0"
is "$(val pgbak_restore_check_status "$D")" 1 "...metrics: check status 1"
check "...on_success ran" test -e "$T/hook.ok"

# An encrypted backup: the check has no age identity, and fails saying so;
# the backup itself is stored.
if command -v age >/dev/null && command -v age-keygen >/dev/null; then
	age-keygen -o "$T/key" 2>/dev/null || exit 1
	settings "$T/e.yml" "metrics_file: $T/prom/e.prom
encrypt:
  age_recipients: [$(age-keygen -y "$T/key")]
restore_check:
  every: 7d" "" "$(db_yaml "$D" rck/)"
	out=$(run pgbak-run -f "$T/e.yml" 2>"$T/err"); st=$?
	is "$st" 111 "an encrypted backup with restore_check.every: exit 111"
	like "$out" "^$K\.age: .*: failed: restore check: .*encrypted" "...the check says it cannot decrypt"
	has_object "$K.age"; ok $? "...and the backup is stored"
else
	for i in 1 2 3; do skip "age is not installed"; done
fi
