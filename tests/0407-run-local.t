#!/bin/sh
# s3.enable: false: the backup goes to local_dir under the key as a relative
# path, through a temporary name, fsync and rename; a failure leaves neither
# the file nor a temporary; a key never leaves local_dir.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 28
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
why=$(printf '%s\n' "$out" | sed -n 's/.*: \(skipped: .*\)$/\1/p' | head -n 1)
grep -qxF ".It Ql $why" "$SRC_DIR/man/pgbak.7"
ok $? "pgbak(7) lists the reason as the run prints it ($why)"

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

# The check and the write agree: neither follows a symbolic link below
# local_dir, so today's file behind one is no reason to skip, and -f is
# refused for the same reason, not "Not a directory".
mkdir -p "$T/other"
cp "$F1" "$T/other/$D-$TODAY.gz"
ln -s "$T/other" "$T/out/sl"
settings "$T/sl.yml" "local_dir: $T/out" "enable: false" "$(db_yaml "$D" sl/)"
out=$(run pgbak-run "$T/sl.yml" 2>"$T/err"); st=$?
is "$st" 111 "today's file behind a linked directory is not taken as stored: exit 111"
like "$out" "^sl/$D-$TODAY\.gz: .*: failed: $T/out/sl is a symbolic link: none is followed below local_dir$" \
	"the reason names the link"
out=$(run pgbak-run -f "$T/sl.yml" 2>"$T/err"); st=$?
is "$st" 111 "with -f: exit 111 too"
like "$out" "failed: $T/out/sl is a symbolic link" "for the same reason"
cmp -s "$F1" "$T/other/$D-$TODAY.gz"; ok $? "the file behind the link is untouched"
# The negative twin: the same file in a real directory is skipped, -f replaces it.
rm "$T/out/sl" && mkdir "$T/out/sl" && cp "$F1" "$T/out/sl/$D-$TODAY.gz"
out=$(run pgbak-run "$T/sl.yml" 2>"$T/err"); st=$?
is "$st" 0 "in a real directory: exit 0"
like "$out" "^sl/$D-$TODAY\.gz: .*: skipped: already exists$" "and it is skipped"
check_status 0 "-f stores it again" quiet run pgbak-run -f "$T/sl.yml"
# A link as today's file itself: neither taken as stored nor replaced.
rm "$T/out/sl/$D-$TODAY.gz" && ln -s "$F1" "$T/out/sl/$D-$TODAY.gz"
check_status 111 "a link as today's file: exit 111" quiet run pgbak-run "$T/sl.yml"
check_status 111 "with -f too" quiet run pgbak-run -f "$T/sl.yml"
check "the link is left as it was" test -L "$T/out/sl/$D-$TODAY.gz"
psql_q -d postgres -c "drop database $D" -c "drop database if exists r_$D" >/dev/null 2>&1
