#!/bin/sh
# A pg_dump that fails in any way leaves no object and no multipart upload
# behind, the run exits 111, and the other database is still backed up:
# half a dump then exit 1, killed mid-stream, a wrong database, a wrong
# password.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 28
need_pg
need_s3

G=fail_good_$$
psql_q -d postgres -c "create database $G" || exit 1
psql_q -d "$G" -c "create table t as select g from generate_series(1, 1000) g" || exit 1

# 20 MB that gzip cannot shrink: pgbak-put has started a multipart upload
# when the dump fails, so it must abort one.
HALF='head -c 20000000 /dev/urandom; echo "pg_dump: error: query failed: half-way" >&2'
fake_pg_dump "$T/half" "$G" "$HALF; exit 1"
fake_pg_dump "$T/killed" "$G" "$HALF; kill -KILL \$\$"

# case NAME PG_DUMP_LINE BAD_DB_YAML REASON_PATTERN
case_() {
	name=$1
	settings "$T/$name.yml" "$2" "" "$(printf '%s' "$3")" "$(db_yaml "$G" "ok/$name/")"
	out=$(run pgbak-run "$T/$name.yml" 2>"$T/$name.err"); st=$?
	is "$st" 111 "$name: exit 111"
	like "$(printf '%s\n' "$out" | sed -n 1p)" "^bad/$name/[^ ]*: .*: failed: $4" \
		"$name: the summary says why"
	like "$(cat "$T/$name.err")" "$5" "$name: pg_dump's stderr is reported"
	! has_object "bad/$name/bad-$TODAY.gz"; ok $? "$name: no object under the key"
	is "$(uploads)" None "$name: no multipart upload left"
	check "$name: the other database is still backed up" has_object "ok/$name/$G-$TODAY.gz"
}

case_ half "pg_dump: $T/half" "$(db_yaml nosuch_half bad/half/bad)" \
	"pg_dump exited 1: pg_dump: error: query failed: half-way" "half-way"
case_ killed "pg_dump: $T/killed" "$(db_yaml nosuch_killed bad/killed/bad)" \
	"pg_dump killed by SIGKILL" "half-way"
case_ nodb "" "$(db_yaml "nosuch_db_$$" bad/nodb/bad)" \
	"pg_dump exited 1: .*nosuch_db_$$.* does not exist" "nosuch_db_$$"
case_ badpw "" "$(db_yaml "$G" bad/badpw/bad "$PGBAK_PW_USER" wrong-password)" \
	"pg_dump exited 1: .*password authentication failed" "password authentication failed"

# Negative twin: the same fake pg_dump with a good database stores it.
settings "$T/twin.yml" "pg_dump: $T/half" "" "$(db_yaml "$G" twin/)"
check_status 0 "the failing fake runs the real pg_dump for the good database" \
	quiet run pgbak-run "$T/twin.yml"
check "and that object is stored" has_object "twin/$G-$TODAY.gz"
# ...and the right password works where the wrong one failed.
psql_q -d postgres -c "grant connect on database $G to $PGBAK_PW_USER" 2>/dev/null
psql_q -d "$G" -c "grant select on t to $PGBAK_PW_USER" 2>/dev/null
settings "$T/pw.yml" "" "" "$(db_yaml "$G" pw/ "$PGBAK_PW_USER" "$PGBAK_PW_PASS")"
check_status 0 "with the right password the same entry succeeds" quiet run pgbak-run "$T/pw.yml"
check "and its object is stored" has_object "pw/$G-$TODAY.gz"

psql_q -d postgres -c "drop database $G" >/dev/null 2>&1
