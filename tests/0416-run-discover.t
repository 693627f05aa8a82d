#!/bin/sh
# database: "*": every database of the server, listed by psql at each run,
# each under the entry's prefix as a directory; exclude by name and by
# glob; an explicit entry for the same server and database wins; templates
# and databases that allow no connection are left out; a database made
# after the settings were written is backed up by the next run.  A server
# that cannot list is a failed entry with its reason, the others still
# backed up.  The names of the expanded entries are checked as the file's:
# a clash is exit 100 before anything runs.  The password reaches psql
# through its environment, never argv.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 44
# A cluster of its own: "*" sees every database, the suite's others' too.
PGBAK_TEST_PG_PORT=
need_pg

P=disc_$$
for d in a b skip gl_one gl_two noconn tpl; do
	psql_q -d postgres -c "create database ${P}_$d" || exit 1
done
psql_q -d postgres -c "alter database ${P}_noconn allow_connections false" \
	-c "alter database ${P}_tpl is_template true" || exit 1
psql_q -d postgres -c "grant connect on database ${P}_a to $PGBAK_PW_USER" || exit 1

# conf FILE DBS_YAML: local-mode settings.
conf() {
	{
		printf 'tasks:\n  postgres:\n    local_dir: %s\n' "$T/out"
		printf '    s3: {enable: false}\n    dbs:\n%s\n' "$2"
	} >"$1"
	chmod 600 "$1"
}
star() {	# star PREFIX [EXTRA_LINES]
	printf '      - host: "%s"\n        port: %s\n        database: "*"\n' "$PGHOST" "$PGPORT"
	printf '        backup_file_prefix: "%s"\n' "$1"
	[ -n "${2:-}" ] && printf '%s\n' "$2"
	true
}
EXCL="        exclude: [${P}_skip, \"${P}_gl_*\", postgres]"
conf "$T/s.yml" "$(star disc "$EXCL")
$(db_yaml ${P}_b explicit/)"
D=$T/out/disc

out=$(run pgbak-run -n "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "-n exits 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
keys=$(printf '%s\n' "$out" | grep -v '^ ' | sort)
is "$keys" "$(printf '%s\n' "disc/${P}_a-$TODAY.gz:" "explicit/${P}_b-$TODAY.gz:" | sort)" \
	"-n lists the expanded entries: a under disc/, b under its explicit entry only"
like "$out" "pg_dump -h $PGHOST -p $PGPORT -d ${P}_a --no-password" "-n shows a's pg_dump"
test ! -e "$T/out"; ok $? "-n wrote nothing"

out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a run exits 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
check "a is stored under the prefix as a directory" test -s "$D/${P}_a-$TODAY.gz"
gunzip -c "$D/${P}_a-$TODAY.gz" | grep -q -- '-- PostgreSQL database dump complete'
ok $? "and is a complete dump"
check "b is stored by its explicit entry" test -s "$T/out/explicit/${P}_b-$TODAY.gz"
test ! -e "$D/${P}_b-$TODAY.gz"; ok $? "the explicit entry overrides '*' for b"
test ! -e "$D/${P}_skip-$TODAY.gz"; ok $? "excluded by name: not stored"
test ! -e "$D/${P}_gl_one-$TODAY.gz" && test ! -e "$D/${P}_gl_two-$TODAY.gz"
ok $? "excluded by glob: not stored"
test ! -e "$D/postgres-$TODAY.gz"; ok $? "postgres excluded by name too"
test ! -e "$D/template0-$TODAY.gz" && test ! -e "$D/template1-$TODAY.gz"
ok $? "template0 and template1 are skipped"
test ! -e "$D/${P}_noconn-$TODAY.gz"; ok $? "a database with datallowconn false is skipped"
test ! -e "$D/${P}_tpl-$TODAY.gz"; ok $? "a template database is skipped"
is "$(ls "$D" | wc -l)" 1 "nothing else under the prefix"

# A database made after the settings were written: the next run has it.
psql_q -d postgres -c "create database ${P}_new" || exit 1
test ! -e "$D/${P}_new-$TODAY.gz"; ok $? "before the next run, the new database has no backup"
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "the next run exits 0"
check "the new database is backed up without a settings change" test -s "$D/${P}_new-$TODAY.gz"
like "$out" "disc/${P}_a-$TODAY\.gz: .*skipped: already exists" "a, stored already, is skipped"

# Negative twins: without exclude and without the explicit entry.
rm -rf "$T/out"
conf "$T/all.yml" "$(star disc)"
out=$(run pgbak-run "$T/all.yml" 2>"$T/err"); st=$?
is "$st" 0 "without exclude: exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
check "without exclude the name-excluded one is stored" test -s "$D/${P}_skip-$TODAY.gz"
check "...and the glob-excluded ones" test -s "$D/${P}_gl_two-$TODAY.gz"
check "...and postgres" test -s "$D/postgres-$TODAY.gz"
check "without the explicit entry b is under the prefix" test -s "$D/${P}_b-$TODAY.gz"
test ! -e "$D/template1-$TODAY.gz" && test ! -e "$D/${P}_noconn-$TODAY.gz" &&
	test ! -e "$D/${P}_tpl-$TODAY.gz"
ok $? "templates and datallowconn false are still skipped"

# The server down: a failed entry with its reason, the others still stored.
rm -rf "$T/out"
conf "$T/down.yml" "      - host: 127.0.0.1
        port: 1
        database: \"*\"
        backup_file_prefix: gone/
$(db_yaml ${P}_a kept/)"
out=$(run pgbak-run "$T/down.yml" 2>"$T/err"); st=$?
is "$st" 111 "a server that cannot list its databases: exit 111"
like "$out" "^\*: .*unable to list the databases of 127\.0\.0\.1:1: psql exited 2: .*[Cc]onnection refused$" \
	"its line names the server, psql and why"
check "the other entry is still stored" test -s "$T/out/kept/${P}_a-$TODAY.gz"
out=$(run pgbak-run -n "$T/down.yml" 2>&1); st=$?
like "$out" "unable to list the databases of 127\.0\.0\.1:1" "-n says so too"

# The names of the expanded entries are checked: a clash is exit 100.
rm -rf "$T/out"
conf "$T/clash.yml" "$(star disc "$EXCL")
$(db_yaml ${P}_a disc/ | sed 's/host: .*/host: "localhost"/')"
err=$(run pgbak-run "$T/clash.yml" 2>&1 >/dev/null); st=$?
is "$st" 100 "an expanded entry's key that another entry has: exit 100"
like "$err" "clash\.yml:[0-9]+: tasks\.postgres\.dbs\[1\].s dump \(database ${P}_a\) would be stored as disc/${P}_a-YYYYMMDD\.gz, the key of dbs\[0\].s dump \(database ${P}_a\)" "the message names the key and the entries of the file"
test ! -e "$T/out"; ok $? "nothing was run or written"
conf "$T/noclash.yml" "$(star disc "$EXCL")
$(db_yaml ${P}_a other/ | sed 's/host: .*/host: "localhost"/')"
check_status 0 "twin: under another prefix, no clash" run pgbak-run "$T/noclash.yml"

# The password: in psql's environment, not argv.
rm -rf "$T/out"
pw() {	# pw PASSWORD
	printf '      - host: "%s"\n        port: %s\n        user: %s\n        password: "%s"\n' \
		"$PGHOST" "$PGPORT" "$PGBAK_PW_USER" "$1"
	printf '        database: "*"\n        backup_file_prefix: pw/\n'
	printf '        exclude: ["*_b", "*_skip", "*_gl_*", "*_new", postgres]\n'
}
conf "$T/pw.yml" "$(pw "$PGBAK_PW_PASS")"
out=$(run pgbak-run -n "$T/pw.yml" 2>"$T/err"); st=$?
is "$st" 0 "with a password user, -n lists the databases"
like "$out" "^pw/${P}_a-$TODAY\.gz:" "the list came through the password"
unlike "$out" "$PGBAK_PW_PASS" "the password is not shown"
conf "$T/badpw.yml" "$(pw wrong-$$)"
out=$(run pgbak-run "$T/badpw.yml" 2>&1); st=$?
is "$st" 111 "twin: a wrong password fails the listing, exit 111"
like "$out" "unable to list .*password authentication failed" "naming the cause"

# exclude means nothing without "*": refused before anything runs.
conf "$T/ex.yml" "$(db_yaml ${P}_a solo/)
        exclude: [x]"
err=$(run pgbak-run -n "$T/ex.yml" 2>&1); st=$?
is "$st" 100 "exclude on an entry that is not \"*\": exit 100"
like "$err" "ex\.yml:[0-9]+:[0-9]+: tasks\.postgres\.dbs\[0\]: exclude needs database: \"\*\"" \
	"the message names the entry FILE:LINE"

# globals: true on "*": the cluster's globals once, under the prefix.
rm -rf "$T/out"
conf "$T/glob.yml" "$(star disc "$EXCL
        globals: true")"
out=$(run pgbak-run "$T/glob.yml" 2>"$T/err"); st=$?
is "$st" 0 "\"*\" with globals: exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
is "$(printf '%s\n' "$out" | grep -c "^disc/globals-$TODAY\.gz: .*: ok$")" 1 \
	"one globals line for the server"
gunzip -c "$D/globals-$TODAY.gz" | grep -q -- '-- PostgreSQL database cluster dump complete'
ok $? "the globals object is complete"
