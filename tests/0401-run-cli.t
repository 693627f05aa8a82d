#!/bin/sh
# pgbak-run's command line and the checks it makes before running anything:
# usage errors, bad settings, a disabled task, --dry-run, the permission
# warning.  No server is needed: nothing may be run here.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 38

PGHOST=127.0.0.1 PGPORT=1 PGUSER=postgres
PW='Sekr3t-pw-0401'
# A pg_dump that would leave a trace if anything ran it.
cat >"$T/pg_dump" <<EOF
#!/bin/sh
touch "$T/ran"
EOF
chmod 755 "$T/pg_dump"
settings "$T/s.yml" "pg_dump: $T/pg_dump" "" \
	"$(db_yaml appdb backups/app/)" "$(db_yaml other backups/other/other pwuser "$PW")"

out=$(run pgbak-run --help); st=$?
is "$st" 0 "--help exits 0"
like "$out" "^usage: pgbak-run" "--help prints the usage on stdout"
out=$(run pgbak-run --version); st=$?
is "$st" 0 "--version exits 0"
like "$out" "^pgbak-run \(pgbak\) [0-9]" "--version names the program and version"

check_status 100 "no settings file: usage error" run pgbak-run 2>/dev/null
check_status 100 "an unknown option: usage error" run pgbak-run --bogus "$T/s.yml" 2>/dev/null
err=$(run pgbak-run -c "$T/s.yml" -t mysql 2>&1); st=$?
is "$st" 100 "-t with another task: usage error"
like "$err" "unknown task mysql" "and it says which task"
check_status 100 "-j 0 is refused" run pgbak-run -j 0 "$T/s.yml" 2>/dev/null
check_status 100 "two different settings files are refused" \
	run pgbak-run -c "$T/s.yml" "$T/other.yml" 2>/dev/null

printf 'tasks:\n  postgres:\n    dbs: [ {database: x, nosuchkey: 1} ]\n' >"$T/bad.yml"
err=$(run pgbak-run "$T/bad.yml" 2>&1); st=$?
is "$st" 100 "an unknown key in the settings: exit 100"
like "$err" "bad.yml:3" "the message names the file and line"
settings "$T/climb.yml" "pg_dump: $T/pg_dump" "" "$(db_yaml appdb 'a/../../etc/')"
check_status 100 "a prefix that climbs (..) is refused before anything runs" \
	run pgbak-run "$T/climb.yml" 2>/dev/null
test ! -e "$T/ran"; ok $? "nothing was run for the refused settings"

settings "$T/nodump.yml" "pg_dump: /nonexistent/pg_dump" "" "$(db_yaml appdb x/)"
check_status 127 "pg_dump not found: exit 127 before anything runs" \
	run pgbak-run "$T/nodump.yml" 2>/dev/null

settings "$T/off.yml" "enable: false
pg_dump: $T/pg_dump" "" "$(db_yaml appdb x/)"
err=$(run pgbak-run "$T/off.yml" 2>&1); st=$?
is "$st" 0 "enable: false exits 0"
like "$err" "enable is false" "and says there is nothing to do"

out=$(run pgbak-run -n "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "--dry-run exits 0"
like "$out" "backups/app/appdb-$TODAY.gz:" "--dry-run prints the directory-like key"
like "$out" "backups/other/other-$TODAY.gz:" "--dry-run prints the file-like key"
like "$out" "PGPASSWORD=\*\*\* $T/pg_dump -h 127.0.0.1 -p 1 -U pwuser -d other --no-password \| " \
	"--dry-run shows the pg_dump command with the password as ***"
unlike "$(printf '%s\n' "$out" | grep -- '-d appdb')" "PGPASSWORD" \
	"no PGPASSWORD shown for the database without a password"
unlike "$out$(cat "$T/err")" "$PW" "the password itself is not printed"
test ! -e "$T/ran"; ok $? "--dry-run ran nothing"
unlike "$out" "pgbak-gzip -[0-9]" "no gzip_level: pgbak-gzip runs at its own default"
settings "$T/fast.yml" "pg_dump: $T/pg_dump
gzip_level: 1" "" "$(db_yaml appdb x/)"
like "$(run pgbak-run -n "$T/fast.yml" 2>&1)" "/pgbak-gzip -1 \\| " \
	"gzip_level: 1 is passed to pgbak-gzip as -1"

chmod 644 "$T/s.yml"
run pgbak-run -n "$T/s.yml" >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "others can read it" "a settings file with a password readable by others: warned"
chmod 600 "$T/s.yml"
run pgbak-run -n "$T/s.yml" >/dev/null 2>"$T/err"
unlike "$(cat "$T/err")" "others can read" "the same file with mode 600: no warning"
settings "$T/nopw.yml" "pg_dump: $T/pg_dump" "" "$(db_yaml appdb x/)"
chmod 644 "$T/nopw.yml"
run pgbak-run -n "$T/nopw.yml" >/dev/null 2>"$T/err"
unlike "$(cat "$T/err")" "others can read" "a readable file without secrets: no warning"

# --daemon with enable: false says so, runs nothing, and stops on TERM with
# 0; it once freed the programs it never looked up (valgrind: invalid free).
printf 'tasks:\n  postgres:\n    enable: false\n    dbs:\n      - {host: 127.0.0.1, database: x}\n' \
	>"$T/off.yml"
chmod 600 "$T/off.yml"
vg=
[ "${PGBAK_VALGRIND:-0}" = 1 ] &&	# as run() does, but in the background as itself
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
$vg pgbak-run --daemon "$T/off.yml" >/dev/null 2>"$T/off.err" &
bg=$!
at_exit "kill $bg"
i=0
while ! grep -q "nothing to do" "$T/off.err" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $bg; wait $bg; st=$?
is "$st" 0 "--daemon, enable: false: says nothing to do, exit 0 on TERM (no invalid free)"
like "$(cat "$T/off.err")" "enable is false: nothing to do" "...naming why"

# Each setting that brings in a program of its own, with that program
# missing from PATH: exit 127 before anything runs, naming the program, the
# setting and the fix.  The twin: the same PATH and a plain entry, which
# needs none of them, gets past that check (and fails on the store, which
# is not there).  pg_dump is given by path, so psql is not asked for it.
mkdir "$T/nobin"
v=$(command -v valgrind) && ln -s "$v" "$T/nobin/valgrind" &&
	ln -s "$v.bin" "$T/nobin/valgrind.bin"	# Debian's valgrind execs $0.bin
P=$(command -v pgbak-run)
need() {	# PROGRAM SETTING TASK_LINES DB_YAML
	settings "$T/need.yml" "pg_dump: $T/pg_dump
$3" "" "$4"
	err=$(PATH="$T/nobin" run "$P" "$T/need.yml" 2>&1); st=$?
	like "$st: $err" "^127: .*$1 .*not found.*$2 .*install" \
		"$2, no $1 in PATH: exit 127, naming $1, the setting and the fix"
}
need zstd "compression: zstd" "compression: zstd" "$(db_yaml appdb x/)"
need tar "format: directory" "format: directory" "$(db_yaml appdb x/)"
need pg_dumpall "globals: true" "" "$(db_yaml appdb x/)
        globals: true"
need psql 'database "\*"' "" "$(db_yaml '*' all/)"
settings "$T/need.yml" "pg_dump: $T/pg_dump" "" "$(db_yaml appdb x/)"
err=$(PATH="$T/nobin" run "$P" "$T/need.yml" 2>&1); st=$?
[ "$st" -ne 127 ] && [ "$st" -ne 0 ]; ok $? "a plain entry with none of those programs in PATH: past that check (exit $st)"
unlike "$err" "not found" "...and nothing is said to be missing"
test ! -e "$T/ran"; ok $? "nothing was run for the settings whose program is missing"
