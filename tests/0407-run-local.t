#!/bin/sh
# s3.enable: false: the backup goes to local_dir under the key as a relative
# path, through a temporary name, fsync and rename; a failure leaves neither
# the file nor a temporary; a key never leaves local_dir.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 16
need_pg
unset PGBAK_BUCKET AWS_ENDPOINT_URL

D=loc_$$
psql_q -d postgres -c "create database $D" || exit 1
psql_q -d "$D" -c "create table t as select g, 'ünï ' || g as s from generate_series(1, 50000) g" || exit 1
# A pg_dump that shows local_dir's file list while the first dump runs.
fake_pg_dump "$T/peek" none "[ -e '$T/peek.out' ] || find '$T/out' -type f >'$T/peek.out'; exec '$REAL_PG_DUMP' \"\$@\""
settings "$T/s.yml" "local_dir: $T/out
pg_dump: $T/peek" "enable: false" "$(db_yaml "$D" deep/er/)" "$(db_yaml "$D" /file/like)"

out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "local mode: exit 0"
F1=$T/out/deep/er/$D-$TODAY.gz F2=$T/out/file/like-$TODAY.gz
check "the directory-like key is a file under local_dir" test -f "$F1"
check "the file-like key too" test -f "$F2"
like "$(cat "$T/peek.out")" "/deep/er/\.$D-$TODAY\.gz\.[0-9]+\.[0-9]+\.tmp$" \
	"while pg_dump runs the data goes to a hidden temporary name"
! grep -q "/deep/er/$D-$TODAY.gz\$" "$T/peek.out"
ok $? "and the final name does not exist before the rename"
is "$(find "$T/out" -name '*.tmp')" "" "no temporary file is left"
is "$(stat -c %a "$F1")" 600 "the backup file is mode 600"
gunzip <"$F1" | psql_q -d postgres -c "drop database if exists r_$D" 2>/dev/null
psql_q -d postgres -c "create database r_$D" && gunzip <"$F1" | psql_q -d "r_$D" >/dev/null &&
	dump_cmp "$D" >"$T/a.sql" && dump_cmp "r_$D" >"$T/b.sql" && cmp -s "$T/a.sql" "$T/b.sql"
ok $? "the local backup restores identically"

out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$(printf '%s\n' "$out" | grep -c ': skipped: already exists$')" 2 "a second run skips both"

fake_pg_dump "$T/half" none "echo 'CREATE TABLE half (a int);'; exit 1"
settings "$T/f.yml" "local_dir: $T/out
pg_dump: $T/half" "enable: false" "$(db_yaml "$D" fail/)"
out=$(run pgbak-run "$T/f.yml" 2>"$T/err"); st=$?
is "$st" 111 "a failing pg_dump in local mode: exit 111"
test ! -e "$T/out/fail/$D-$TODAY.gz"; ok $? "no backup file for it"
is "$(find "$T/out" -name '*.tmp')" "" "and no temporary file"

# Never climb: a symbolic link inside local_dir is not followed.
mkdir -p "$T/elsewhere"
ln -s "$T/elsewhere" "$T/out/link"
settings "$T/l.yml" "local_dir: $T/out" "enable: false" "$(db_yaml "$D" link/)"
out=$(run pgbak-run "$T/l.yml" 2>"$T/err"); st=$?
is "$st" 111 "a key through a symbolic link: exit 111"
is "$(ls -A "$T/elsewhere")" "" "nothing was written where the link points"
settings "$T/nl.yml" "local_dir: $T/out" "enable: false" "$(db_yaml "$D" nolink/)"
check_status 0 "the same key without the link is stored" quiet run pgbak-run "$T/nl.yml"
check "under local_dir" test -f "$T/out/nolink/$D-$TODAY.gz"
psql_q -d postgres -c "drop database $D" -c "drop database if exists r_$D" >/dev/null 2>&1
