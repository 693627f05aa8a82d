#!/bin/sh
# globals: true: pg_dumpall --globals-only | pgbak-gzip | pgbak-put into its
# own object next to the database's (basename "globals"), daily like a dump.
# The object restores a role (password hash, comment) into a fresh cluster,
# after which the database's own dump restores there too.  Without
# globals: true there is no such object; a failing pg_dumpall leaves none,
# no upload, exit 111, and the database's dump is still stored.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 49
need_pg
need_s3

G=glob_$$ ROLE=pgbak_glob_$$
psql_q -d postgres -c "create role $ROLE login password 'glob-pw-$$'" \
	-c "comment on role $ROLE is 'made by 0801 ☃'" || exit 1
at_exit "psql -X -q -d postgres -c 'drop role if exists $ROLE'"
psql_q -d postgres -c "create database $G owner $ROLE" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $G'"
psql_q -d "$G" -c "set role $ROLE" -c "create table t as select g, 'zeile ' || g as s from generate_series(1, 1000) g" || exit 1

KD=glob/dir/$G-$TODAY.gz GD=glob/dir/globals-$TODAY.gz
KF=glob/file/bee-$TODAY.gz GF=glob/file/globals-$TODAY.gz
KN=glob/none/$G-$TODAY.gz GN=glob/none/globals-$TODAY.gz
# listing: the bucket's keys into $T/keys (one reference call for many checks);
# listed KEY: exit 0 when KEY was in it.
listing() {
	awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --query 'Contents[].Key' \
		--output text | tr '\t' '\n' >"$T/keys"
}
listed() { grep -qxF -- "$1" "$T/keys"; }
# line_of TEXT KEY: the summary line of KEY.
line_of() { printf '%s\n' "$1" | grep -F -- "$2: "; }
globals_yaml() { db_yaml "$@"; printf '        globals: true\n'; }
settings "$T/s.yml" "" "" "$(globals_yaml "$G" glob/dir/)" "$(globals_yaml "$G" glob/file/bee)" \
	"$(db_yaml "$G" glob/none/)"

# -n first: the pg_dumpall command, with -l for the database, nothing run.
out=$(run pgbak-run -n "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "-n exits 0"
like "$out" "^  [^ ]*pg_dumpall -h 127\.0\.0\.1 -p $PGPORT -U postgres -l $G --globals-only --no-password \| [^ ]*pgbak-gzip \| [^ ]*pgbak-put --settings-fd 4 -C 3 --if-absent -- $GD$" \
	"-n shows pg_dumpall | pgbak-gzip | pgbak-put for the globals"
is "$(printf '%s\n' "$out" | grep -c 'pg_dumpall')" 2 "-n: pg_dumpall for the two entries with globals: true only"
! has_object "$GD"; ok $? "-n stored nothing"

out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a run with globals exits 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
is "$(lines "$out")" 5 "five lines: three dumps and two globals"
like "$(line_of "$out" "$GD")" "^$GD: dump [0-9]+ B, gzip [0-9]+ B, .*: ok$" "the globals of the directory-like prefix have their own ok line"
like "$(line_of "$out" "$GF")" "^$GF: .*: ok$" "the file-like prefix: globals in its directory, basename replaced"
listing
check "the globals object (directory-like) is stored" listed "$GD"
check "the globals object (file-like) is stored" listed "$GF"
check "the database's dump is stored too" listed "$KD"
! listed "$GN"; ok $? "without globals: true there is no globals object"
check "...though that entry's dump is stored" listed "$KN"
is "$(lines "$(cat "$T/keys")")" 5 "and nothing else"
is "$(uploads)" None "no multipart upload is left"
is "$(pgbak-name -g glob/dir/ "$G")" "$GD" "pgbak-name -g names the same key (directory-like)"
is "$(pgbak-name -g glob/file/bee "$G")" "$GF" "pgbak-name -g names the same key (file-like)"

fetch "$GD" >"$T/g.gz"
check "the globals object is valid gzip" gunzip -t "$T/g.gz"
gunzip <"$T/g.gz" >"$T/g.sql"
grep -q "^CREATE ROLE $ROLE;" "$T/g.sql"; ok $? "it holds CREATE ROLE $ROLE"
grep -q "^COMMENT ON ROLE $ROLE IS 'made by 0801 ☃';" "$T/g.sql"; ok $? "and the role's comment"
! grep -q "CREATE TABLE" "$T/g.sql"; ok $? "and no table: globals only"
grep -q -- '-- PostgreSQL database cluster dump complete' "$T/g.sql"
ok $? "pg_dumpall's output is complete"

# Daily idempotency: the second run skips the globals too; -f rewrites them.
stamp=$(obj_stamp "$GD")
tick
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a second run exits 0"
like "$(line_of "$out" "$GD")" "^$GD: .*: skipped: already exists" "it skips the globals"
is "$(obj_stamp "$GD")" "$stamp" "the globals object was not rewritten"
awsref s3api delete-object --bucket "$PGBAK_BUCKET" --key "$GD" >/dev/null
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
like "$(line_of "$out" "$GD")" "^$GD: .*: ok" "a deleted globals object is stored again"
like "$(line_of "$out" "$KD")" "^$KD: .*: skipped" "while the database's dump is skipped"
stamp=$(obj_stamp "$GF")
out=$(run pgbak-run -f "$T/s.yml" 2>"$T/err"); st=$?
[ "$st" -eq 0 ] && [ "$(obj_stamp "$GF")" != "$stamp" ]; ok $? "-f rewrites the globals"

# A fresh cluster: the roles first, then the database.
"$TESTS_DIR/lib/pg-server" start "$T/pg2" >&2 || { echo "Bail out! no second cluster"; exit 1; }
at_exit "'$TESTS_DIR/lib/pg-server' stop '$T/pg2'"
P2=$(. "$T/pg2/env"; echo "$PGBAK_TEST_PG_PORT")
psql2() { psql -X -q -h 127.0.0.1 -p "$P2" -U postgres "$@"; }
is "$(psql2 -tA -d postgres -c "select count(*) from pg_roles where rolname = '$ROLE'")" 0 \
	"the fresh cluster has no role $ROLE"
psql2 -d postgres -c "create database before_globals"
fetch "$KD" | gunzip | psql2 -v ON_ERROR_STOP=1 -d before_globals >/dev/null 2>"$T/r0.err"
r=$?
[ $r -ne 0 ] && grep -q "role \"$ROLE\" does not exist" "$T/r0.err"
ok $? "without the globals the dump does not restore: role $ROLE does not exist"
fetch "$GD" | gunzip | psql2 -d postgres >/dev/null 2>"$T/rg.err"
ok $? "the globals restore with psql -d postgres"
is "$(psql2 -tA -d postgres -c "select rolcanlogin from pg_roles where rolname = '$ROLE'")" t \
	"the role exists in the fresh cluster, with login"
is "$(psql2 -tA -d postgres -c "select shobj_description(oid, 'pg_authid') from pg_roles where rolname = '$ROLE'")" \
	"made by 0801 ☃" "with its comment"
pw() { "$@" -tA -d postgres -c "select rolpassword from pg_authid where rolname = '$ROLE'"; }
h1=$(pw psql -X) h2=$(pw psql2)
[ -n "$h1" ] && [ "$h1" = "$h2" ]; ok $? "with its password hash"
psql2 -d postgres -c "create database $G"
fetch "$KD" | gunzip | psql2 -v ON_ERROR_STOP=1 -d "$G" >/dev/null 2>"$T/r1.err"
ok $? "then the database's dump restores, ON_ERROR_STOP"
is "$(psql2 -tA -d "$G" -c "select tableowner || ' ' || (select count(*) from t) from pg_tables where tablename = 't'")" \
	"$ROLE 1000" "its table is owned by the restored role, all rows there"

# A failing pg_dumpall: 20 MB (a multipart upload under way) then exit 1.
cat >"$T/badall" <<EOF
#!/bin/sh
head -c 20000000 /dev/urandom
echo "pg_dumpall: error: query failed: lost the cluster" >&2
exit 1
EOF
chmod 755 "$T/badall"
settings "$T/bad.yml" "pg_dumpall: $T/badall" "" "$(globals_yaml "$G" glob/bad/)"
out=$(run pgbak-run "$T/bad.yml" 2>"$T/err"); st=$?
is "$st" 111 "a failing pg_dumpall: exit 111"
like "$(line_of "$out" "glob/bad/globals-$TODAY.gz")" "^glob/bad/globals-$TODAY.gz: .*: failed: pg_dumpall exited 1: pg_dumpall: error: query failed: lost the cluster" \
	"its line says why"
like "$(cat "$T/err")" "lost the cluster" "pg_dumpall's stderr is reported"
listing
! listed "glob/bad/globals-$TODAY.gz"; ok $? "no globals object"
is "$(uploads)" None "no multipart upload left"
like "$(line_of "$out" "glob/bad/$G-$TODAY.gz")" "^glob/bad/$G-$TODAY.gz: .*: ok" "the database's own dump is still ok"
check "and stored" listed "glob/bad/$G-$TODAY.gz"

# The password reaches pg_dumpall as it reaches pg_dump: PGPASSWORD, -U, TCP.
cat >"$T/spy" <<EOF
#!/bin/sh
printf '%s\n' "\$*" "PGPASSWORD=\${PGPASSWORD:-}" >'$T/spy.out'
exec pg_dumpall "\$@" --no-role-passwords
EOF
chmod 755 "$T/spy"
psql_q -d "$G" -c "grant select on t to $PGBAK_PW_USER" || exit 1
settings "$T/pw.yml" "pg_dumpall: $T/spy" "" "$(globals_yaml "$G" glob/pw/ "$PGBAK_PW_USER" "$PGBAK_PW_PASS")"
out=$(run pgbak-run "$T/pw.yml" 2>"$T/err"); st=$?
like "$(line_of "$out" "glob/pw/globals-$TODAY.gz")" "^glob/pw/globals-$TODAY.gz: .*: ok" "a password role's globals are stored (pg_dumpall, non-superuser)"
is "$(cat "$T/spy.out")" "-h 127.0.0.1 -p $PGPORT -U $PGBAK_PW_USER -l $G --globals-only --no-password
PGPASSWORD=$PGBAK_PW_PASS" "pg_dumpall gets -h -p -U -l --no-password, and PGPASSWORD"
settings "$T/badpw.yml" "pg_dumpall: $T/spy" "" "$(globals_yaml "$G" glob/badpw/ "$PGBAK_PW_USER" wrong)"
out=$(run pgbak-run "$T/badpw.yml" 2>"$T/err"); st=$?
like "$st: $(line_of "$out" "glob/badpw/globals-$TODAY.gz")" "^111: .*: failed: pg_dumpall exited 1" \
	"with a wrong password the globals fail, exit 111"
like "$(cat "$T/err")" "glob/badpw/globals-$TODAY.gz: pg_dumpall: error: could not connect" \
	"and pg_dumpall's stderr says why"

# Two entries whose globals would share one object: refused, nothing run.
settings "$T/clash.yml" "" "" "$(globals_yaml "$G" glob/same/a)" "$(globals_yaml "$G" glob/same/b)"
out=$(run pgbak-run "$T/clash.yml" 2>"$T/err"); st=$?
like "$st: $(cat "$T/err")" "^100: .*dbs\[1\]'s globals .* would be stored as glob/same/globals-YYYYMMDD.gz, the key of dbs\[0\]'s globals" \
	"two globals in one directory: exit 100, naming both entries"
settings "$T/one.yml" "" "" "$(globals_yaml "$G" glob/same/a)" "$(db_yaml "$G" glob/same/b)"
check_status 0 "one of them with globals is fine" quiet run pgbak-run -n "$T/one.yml"
