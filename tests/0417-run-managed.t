#!/bin/sh
# Managed PostgreSQL: globals: {passwords: false} runs pg_dumpall
# --globals-only --no-role-passwords, which a role with CREATEROLE and no
# superuser may run (globals: true as that role fails on pg_authid, the
# culprit named); pg_dump_options passes flags of the allow-list to pg_dump
# (a table excluded is not in the dump) and refuses, exit 100 naming the
# option, what would break the pipeline or carry a secret, and anything
# not on the list.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 34
need_pg

M=mgd_$$ ROLE=pgbak_mgr_$$ OTHER=pgbak_mgd_other_$$
psql_q -d postgres -c "create role $ROLE login createrole" \
	-c "create role $OTHER login password 'other-pw-$$'" || exit 1
at_exit "psql -X -q -d postgres -c 'drop role if exists $OTHER' -c 'drop role if exists $ROLE'"
psql_q -d postgres -c "create database $M owner $ROLE" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $M'"
psql_q -d "$M" -c "set role $ROLE" -c "create table keep_me (i int)" \
	-c "create table big_one as select g from generate_series(1, 100) g" || exit 1

# conf FILE DBS_YAML [TASK_LINE]: local-mode settings.
conf() {
	{
		printf 'tasks:\n  postgres:\n    local_dir: %s\n' "$T/out"
		[ -n "${3:-}" ] && printf '    %s\n' "$3"
		printf '    s3: {enable: false}\n    dbs:\n%s\n' "$2"
	} >"$1"
	chmod 600 "$1"
}
G=$T/out/m/globals-$TODAY.gz K=$T/out/m/$M-$TODAY.gz

conf "$T/nopw.yml" "$(db_yaml "$M" m/ "$ROLE")
        globals: {passwords: false}"
out=$(run pgbak-run -n "$T/nopw.yml" 2>&1); st=$?
is "$st" 0 "-n exits 0"
like "$out" "pg_dumpall -h $PGHOST -p $PGPORT -U $ROLE -l $M --globals-only --no-role-passwords --no-password \|" \
	"-n shows pg_dumpall --no-role-passwords"
out=$(run pgbak-run "$T/nopw.yml" 2>"$T/err"); st=$?
is "$st" 0 "a role with CREATEROLE, not superuser: the globals without passwords, exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
check "the globals object is stored" test -s "$G"
gunzip -c "$G" >"$T/g.sql"
grep -q "^CREATE ROLE $OTHER;" "$T/g.sql"; ok $? "it holds the roles"
! grep -q "PASSWORD 'SCRAM\|PASSWORD 'md5" "$T/g.sql"; ok $? "and no password hash"
grep -q -- '-- PostgreSQL database cluster dump complete' "$T/g.sql"; ok $? "complete"
check "the database's dump is stored too" test -s "$K"

# The twin: with the passwords, that role cannot read pg_authid.
rm -rf "$T/out"
conf "$T/pw.yml" "$(db_yaml "$M" m/ "$ROLE")
        globals: {passwords: true}"
out=$(run pgbak-run "$T/pw.yml" 2>"$T/err"); st=$?
is "$st" 111 "globals with passwords as that role: exit 111"
like "$out" "globals-$TODAY\.gz: .*failed: pg_dumpall exited 1: .*permission denied for table pg_authid" \
	"the line names pg_dumpall and pg_authid"
test ! -e "$G"; ok $? "no globals object"
unlike "$(run pgbak-run -n "$T/pw.yml")" "no-role-passwords" "-n: no --no-role-passwords then"
conf "$T/true.yml" "$(db_yaml "$M" m/ "$ROLE")
        globals: true"
check_status 111 "globals: true is the same as passwords: true" run pgbak-run "$T/true.yml" 2>/dev/null
conf "$T/bad.yml" "$(db_yaml "$M" m/ "$ROLE")
        globals: {password: false}"
err=$(run pgbak-run -n "$T/bad.yml" 2>&1); st=$?
is "$st" 100 "an unknown key under globals: exit 100"
like "$err" "unknown key \"password\" in tasks\.postgres\.dbs\[0\]\.globals" "naming it"

# pg_dump_options: a table excluded is not in the dump; the twin has it.
rm -rf "$T/out"
conf "$T/opt.yml" "$(db_yaml "$M" m/)
        pg_dump_options: [-T, big_one, --no-owner]"
out=$(run pgbak-run -n "$T/opt.yml" 2>&1)
like "$out" "pg_dump -h $PGHOST -p $PGPORT -U $PGUSER -d $M --no-password -T big_one --no-owner \|" \
	"-n shows the options after pgbak's own"
check_status 0 "a run with pg_dump_options exits 0" run pgbak-run "$T/opt.yml"
gunzip -c "$K" >"$T/d.sql"
grep -q "CREATE TABLE public.keep_me" "$T/d.sql"; ok $? "the dump holds keep_me"
! grep -q "big_one" "$T/d.sql"; ok $? "and not the excluded table"
! grep -q "OWNER TO" "$T/d.sql"; ok $? "and no owner (--no-owner)"
rm -rf "$T/out"
conf "$T/noopt.yml" "$(db_yaml "$M" m/)"
check_status 0 "twin: without the options" run pgbak-run "$T/noopt.yml"
gunzip -c "$K" | grep -q "CREATE TABLE public.big_one"; ok $? "the dump holds big_one"
rm -rf "$T/out"
conf "$T/task.yml" "$(db_yaml "$M" m/)" "pg_dump_options: [--exclude-table-data=big_one]"
check_status 0 "the task's pg_dump_options, for every entry" run pgbak-run "$T/task.yml"
gunzip -c "$K" >"$T/d.sql"
grep -q "CREATE TABLE public.big_one" "$T/d.sql" && ! grep -q "^COPY public.big_one" "$T/d.sql"
ok $? "--exclude-table-data: its table but not its rows"

# Refused, exit 100 naming the option.
refused() {	# refused DESCRIPTION PATTERN OPTIONS
	conf "$T/r.yml" "$(db_yaml "$M" m/)
        pg_dump_options: [$3]"
	_err=$(run pgbak-run -n "$T/r.yml" 2>&1); _st=$?
	like "$_st: $_err" "^100: .*r\.yml:[0-9]+: tasks\.postgres\.dbs\[0\]\.pg_dump_options: $2" "$1"
}
refused "-f is refused" "-f is refused" "-f, /tmp/x"
refused "--file= is refused" "--file=/tmp/x is refused" "--file=/tmp/x"
refused "-Fc is refused" "-Fc is refused" "-Fc"
refused "-j is refused" "-j4 is refused" "-j4"
refused "--password is refused" "--password is refused: the password goes" "--password"
refused "-d with a connection string is refused" "-d is refused: .*connection string" \
	"-d, \"host=x password=y\""
refused "-h is refused" "-h is refused" "-h, otherhost"
refused "an option off the list is refused" "--data-only is not an option pgbak passes" \
	"--data-only"
refused "a bare word is refused" "otherdb is not an option" "otherdb"
refused "a value missing" "-T needs a value" "-T"
