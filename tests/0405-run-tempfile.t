#!/bin/sh
# use_temp_file: pg_dump | pgbak-gzip into a 0600 file in temp_dir, then an
# upload of known size.  The restore is identical, and temp_dir is empty
# after success and after failure.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 18
need_pg
need_s3

D=tmpf_$$
psql_q -d postgres -c "create database $D" || exit 1
psql_q -d "$D" >/dev/null <<'SQL' || exit 1
create table t (id int primary key, s text, b bytea);
insert into t select g, 'zeile ' || g || ' ü', decode(md5(g::text), 'hex') from generate_series(1, 200000) g;
SQL
mkdir "$T/tmp"
# A pg_dump that shows what temp_dir holds while the dump runs.
fake_pg_dump "$T/peek" none "ls -l '$T/tmp' >'$T/peek.out'; exec '$REAL_PG_DUMP' \"\$@\""
settings "$T/s.yml" "use_temp_file: true
temp_dir: $T/tmp
pg_dump: $T/peek" "" "$(db_yaml "$D" tf/)"

out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "temp-file mode: exit 0"
like "$out" "^tf/$D-$TODAY.gz: dump [0-9]+ B, gzip [0-9]+ B, .*: ok$" "and the summary says ok"
like "$(cat "$T/peek.out")" "^-rw------- .* $D-$TODAY\.gz\.[A-Za-z0-9]{6}$" \
	"during the dump temp_dir holds one 0600 file named after the local file"
is "$(ls -A "$T/tmp")" "" "temp_dir is empty after success"
check "the restore is identical" restore_same "$D" "tf/$D-$TODAY.gz"
size=$(awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "tf/$D-$TODAY.gz" \
	--query ContentLength --output text)
like "$out" "gzip $size B" "the object has the size of the temporary file"

fake_pg_dump "$T/half" none "head -c 20000000 /dev/urandom; exit 1"
settings "$T/f.yml" "use_temp_file: true
temp_dir: $T/tmp
pg_dump: $T/half" "" "$(db_yaml "$D" tfail/)"
out=$(run pgbak-run "$T/f.yml" 2>"$T/err"); st=$?
is "$st" 111 "a failing pg_dump in temp-file mode: exit 111"
like "$out" "failed: pg_dump exited 1" "the summary names pg_dump"
is "$(ls -A "$T/tmp")" "" "temp_dir is empty after the failure"
! has_object "tfail/$D-$TODAY.gz"; ok $? "and nothing was uploaded"
is "$(uploads)" None "no multipart upload left"

settings "$T/nodir.yml" "use_temp_file: true
temp_dir: $T/no/such/dir" "" "$(db_yaml "$D" tnodir/)"
out=$(run pgbak-run "$T/nodir.yml" 2>"$T/err"); st=$?
is "$st" 111 "a temp_dir that does not exist: exit 111"
like "$out" "failed: unable to create a temporary file in $T/no/such/dir" \
	"the summary names the directory"
! has_object "tnodir/$D-$TODAY.gz"; ok $? "and nothing was uploaded"
# A full temp_dir (a 1 MiB tmpfs, when we may mount one).
mkdir "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	at_exit "umount '$T/small'"
	settings "$T/full.yml" "use_temp_file: true
temp_dir: $T/small
pg_dump: $T/half" "" "$(db_yaml "$D" tfull/)"
	sed -i 's/exit 1$/exit 0/' "$T/half"	# a dump that succeeds, but does not fit
	out=$(run pgbak-run "$T/full.yml" 2>"$T/err"); st=$?
	is "$st" 111 "a full temp_dir: exit 111"
	like "$out" "failed: unable to write $T/small/$D-$TODAY\.gz\.[A-Za-z0-9]{6}: No space left on device" \
		"the summary names the file and the cause"
	is "$(ls -A "$T/small")" "" "the full temp_dir is left empty"
	! has_object "tfull/$D-$TODAY.gz"; ok $? "and nothing was uploaded"
else
	for i in 1 2 3 4; do _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # skip cannot mount a tmpfs"; done
fi
psql_q -d postgres -c "drop database $D" >/dev/null 2>&1
