#!/bin/sh
# End to end: two databases (a file-like and a directory-like prefix, one
# through the password role) backed up by pgbak-run into the RGW, restored
# with gunzip | psql into fresh databases, and dumped again: identical.  A
# second run the same day uploads nothing; --force does.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 26
need_pg
need_s3

A=e2e_a_$$ B=e2e_b_$$
psql_q -d postgres -c "create database $A" -c "create database $B owner $PGBAK_PW_USER" || exit 1
# The data: non-ASCII text, bytea, a large object, a table of 1M rows.
psql_q -d "$A" >/dev/null <<'SQL'
create table words (id int primary key, t text);
insert into words values (1, 'Grüße aus Köln'), (2, '日本語のテキスト'), (3, 'Ελληνικά'),
	(4, 'emoji 🐘 and a tab	here'), (5, E'quote '' and backslash \\ and newline\n');
create table blobs (id int primary key, b bytea);
insert into blobs select g, decode(md5(g::text) || '00ff0a0d', 'hex') from generate_series(1, 1000) g;
insert into blobs values (0, '\x00'::bytea), (-1, ''::bytea);
select lo_from_bytea(0, convert_to(repeat('large object ☃ ', 10000), 'UTF8'));
create table big as select g as id, md5(g::text) as h from generate_series(1, 1000000) g;
SQL
[ $? -eq 0 ] || exit 1
PGPASSWORD=$PGBAK_PW_PASS psql_q -h 127.0.0.1 -U "$PGBAK_PW_USER" -d "$B" <<'SQL' || exit 1
create table notes (id serial primary key, body text, raw bytea);
insert into notes (body, raw) values ('naïve café', '\xdeadbeef'), ('Ünïcödé', '\x00');
SQL

KA=dir/like/$A-$TODAY.gz
KB=file/like/bee-$TODAY.gz
settings "$T/s.yml" "" "" "$(db_yaml "$A" dir/like/)" \
	"$(db_yaml "$B" /file/like/bee "$PGBAK_PW_USER" "$PGBAK_PW_PASS")"

out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "pgbak-run backs up both databases: exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
is "$(lines "$out")" 2 "one summary line per database"
like "$(printf '%s\n' "$out" | sed -n 1p)" \
	"^$KA: dump [0-9]+ B, gzip [0-9]+ B, ratio 0\.[0-9]+, [0-9.]+ s, [0-9.]+ MiB/s: ok$" \
	"the summary of the directory-like prefix: key, bytes, ratio, time, rate, ok"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^$KB: .*: ok$" \
	"the file-like prefix with a leading / gives the key without it"
check "the object of $A is stored" has_object "$KA"
check "the object of $B is stored" has_object "$KB"
is "$(uploads)" None "no multipart upload is left"
size=$(awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "$KA" \
	--query ContentLength --output text)
like "$out" "^$KA: dump [0-9]+ B, gzip $size B" "the gzip bytes counted are the object's size"
dump=$(fetch "$KA" | gunzip | wc -c)
like "$out" "^$KA: dump $dump B" "the dump bytes counted are the uncompressed size"
check "the restore of $A is identical (1M rows, bytea, large object, UTF-8)" \
	restore_same "$A" "$KA"
grep -q 'lo_create' "$T/back.sql"; ok $? "the restore holds the large object"
check "the restore of $B (password role) is identical" restore_same "$B" "$KB"

# Negative twin of the comparison: a changed original must not compare equal.
psql_q -d "$B" -c "update notes set body = 'changed' where id = 1"
! restore_same "$B" "$KB"; ok $? "a changed database no longer compares equal"

sa=$(obj_stamp "$KA") sb=$(obj_stamp "$KB")
tick
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a second run the same day exits 0"
like "$(printf '%s\n' "$out" | sed -n 1p)" "^$KA: .*: skipped: already exists$" "it skips $A"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^$KB: .*: skipped: already exists$" "it skips $B"
is "$(obj_stamp "$KA")" "$sa" "the object of $A was not rewritten (LastModified, ETag)"
is "$(obj_stamp "$KB")" "$sb" "the object of $B was not rewritten"

out=$(run pgbak-run --force --json "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "--force runs again"
[ "$(obj_stamp "$KB")" != "$sb" ]; ok $? "--force rewrote the object (new LastModified/ETag)"
check "the rewritten object restores the changed database" restore_same "$B" "$KB"
printf '%s\n' "$out" >"$T/json"
python3 - "$T/json" "$KA" "$KB" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["key"] for r in rows] == sys.argv[2:4], rows
for r in rows:
    assert r["status"] == "ok" and r["reason"] is None, r
    assert r["dump_bytes"] > r["gzip_bytes"] > 0, r
    assert 0 < r["ratio"] < 1 and r["seconds"] > 0 and r["mib_per_s"] >= 0, r
PY
ok $? "--json: one valid JSON object per database with the counts"

awsref s3api delete-object --bucket "$PGBAK_BUCKET" --key "$KA" >/dev/null
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
like "$(printf '%s\n' "$out" | sed -n 1p)" "^$KA: .*: ok$" "a deleted object is backed up again"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^$KB: .*: skipped" "while the other is still skipped"

# -j 2: both databases at once, each output line still whole.
out=$(run pgbak-run -f -j 2 "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "-j 2 exits 0"
is "$(printf '%s\n' "$out" | grep -c ': ok$')" 2 "-j 2: two whole ok lines"

psql_q -d postgres -c "drop database if exists r_${A}_$$" -c "drop database if exists r_${B}_$$" \
	-c "drop database $A" -c "drop database $B" >/dev/null 2>&1
