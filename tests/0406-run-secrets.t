#!/bin/sh
# The password reaches pg_dump alone, through its environment: never in any
# process's command line, never in the environment of pgbak-gzip, no
# PGPASSWORD for pgbak-put (0414 checks every S3 child for any variable
# holding it), never in stderr, -v or --json output.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 15
need_pg
need_s3

D=sec_$$
psql_q -d postgres -c "create database $D owner $PGBAK_PW_USER" || exit 1
printf '%s\n' "$PGBAK_PW_PASS" >"$T/pw"
# A pg_dump that waits until the test has looked at /proc (it creates
# \$T/go; 60 s at most), then dumps.
fake_pg_dump "$T/slow" none "echo \$\$ >'$T/dump.pid'; i=0; while [ ! -e '$T/go' ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done; exec '$REAL_PG_DUMP' \"\$@\""
# The password comes from the environment: password: \${PGBAK_PW_PASS}.
settings "$T/s.yml" "pg_dump: $T/slow" "" \
	"$(db_yaml "$D" sec/ "$PGBAK_PW_USER" '${PGBAK_PW_PASS}')"

run pgbak-run -v --json "$T/s.yml" >"$T/out" 2>"$T/err" &
bg=$!
i=0
while [ ! -s "$T/dump.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
dump=$(cat "$T/dump.pid" 2>/dev/null)
pgid=$(ps -o pgid= -p "$dump" | tr -d ' ')
tr '\0' '\n' <"/proc/$dump/environ" >"$T/env.dump"
grep -qxF "PGPASSWORD=$PGBAK_PW_PASS" "$T/env.dump"; ok $? "pg_dump has PGPASSWORD in its environment"
# until pgbak-gzip and pgbak-put have been exec'd in the group (30 s at most)
gz= put= i=0
while { [ -z "$gz" ] || [ -z "$put" ]; } && [ $i -lt 300 ]; do
	for p in $(pgrep -g "$pgid"); do
		case $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") in
		*pgbak-gzip*) gz=$p ;;
		*pgbak-put*) put=$p ;;
		esac
	done
	[ -n "$gz" ] && [ -n "$put" ] || sleep 0.1
	i=$((i + 1))
done
[ -n "$gz" ] && [ -n "$put" ]; ok $? "pgbak-gzip and pgbak-put run in pg_dump's process group"
tr '\0' '\n' <"/proc/$gz/environ" >"$T/env.gz" 2>/dev/null
tr '\0' '\n' <"/proc/$put/environ" >"$T/env.put" 2>/dev/null
[ -s "$T/env.gz" ] && ! grep -qF -f "$T/pw" "$T/env.gz"
ok $? "pgbak-gzip has the password in no variable (PGPASSWORD, PGBAK_PW_PASS)"
[ -s "$T/env.put" ] && ! grep -q '^PGPASSWORD=' "$T/env.put"
ok $? "pgbak-put has no PGPASSWORD"
: >"$T/cmdlines"
for f in /proc/[0-9]*/cmdline; do { tr '\0' ' ' <"$f"; } 2>/dev/null >>"$T/cmdlines"; echo >>"$T/cmdlines"; done
! grep -qF -f "$T/pw" "$T/cmdlines"; ok $? "no /proc/PID/cmdline holds the password during the run"
grep -q "sec/$D" "$T/cmdlines"; ok $? "while the stages' command lines were sampled"
: >"$T/go"
wait $bg; st=$?
is "$st" 0 "the run succeeds"
[ "$st" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"
! grep -qF -f "$T/pw" "$T/err"; ok $? "the password is not in stderr (-v)"
! grep -qF -f "$T/pw" "$T/out"; ok $? "the password is not in the --json output"
grep -q 'PGPASSWORD=\*\*\*' "$T/err"; ok $? "-v shows PGPASSWORD=*** instead"
check "the backup restores" restore_same "$D" "sec/$D-$TODAY.gz"

# A wrong password is not echoed in the failure either.
settings "$T/bad.yml" "" "" "$(db_yaml "$D" secbad/ "$PGBAK_PW_USER" 'Wr0ng-pw-0406')"
out=$(run pgbak-run -v --json "$T/bad.yml" 2>"$T/err"); st=$?
is "$st" 111 "a wrong password fails"
like "$out" "password authentication failed" "with libpq's reason in --json"
unlike "$out$(cat "$T/err")" "Wr0ng-pw-0406" "but without the password in stdout or stderr"
# Negative twin of the sampler: a password in argv is found.
sh -c 'sleep 60' "$PGBAK_PW_PASS" &
sp=$!
i=0	# until sh has been exec'd with its argv (30 s at most)
until tr '\0' ' ' 2>/dev/null <"/proc/$sp/cmdline" | grep -q 'sleep 60' || [ $i -ge 300 ]; do
	sleep 0.1; i=$((i + 1)); done
tr '\0' ' ' <"/proc/$sp/cmdline" | grep -qF -f "$T/pw"; ok $? "the /proc sampler does see a password put in argv"
kill $sp 2>/dev/null; wait $sp 2>/dev/null
psql_q -d postgres -c "drop database $D" >/dev/null 2>&1
