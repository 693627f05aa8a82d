#!/bin/sh
# Scale: one settings file with 100 databases, one of which does not
# exist.  pgbak-run stores 99 objects, prints one failure naming the
# database, exits 111, and its memory does not grow with the list: the
# peak RSS of the whole run (GNU time, all reaped processes) stays under
# 64 MiB and pgbak-run's own under 16 MiB (measured: 13 and 8 MiB).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 13
need_pg
need_s3
[ -x /usr/bin/time ] || skip_all "GNU time (/usr/bin/time) not found"

N=99 P=many_$$
i=1
# file_copy: a few times faster than wal_log for empty databases (fsync is off)
while [ $i -le $N ]; do echo "create database ${P}_$i strategy file_copy;"; i=$((i + 1)); done \
	>"$T/create.sql"
sed 's/^create/drop/; s/ strategy.*;$/ with (force);/; s/drop database/drop database if exists/' \
	"$T/create.sql" >"$T/drop.sql"
at_exit "psql -X -q -d postgres -f '$T/drop.sql'"
psql_q -d postgres -f "$T/create.sql" >/dev/null || { echo "Bail out! cannot create $N databases"; exit 1; }

dbs=
i=1
while [ $i -le $N ]; do
	dbs="$dbs$(db_yaml "${P}_$i" many/)
"
	[ $i -eq 50 ] && dbs="$dbs$(db_yaml "nosuch_$P" many/)
"
	i=$((i + 1))
done
settings "$T/many.yml" "" "" "$dbs"
is "$(grep -c '^      - host:' "$T/many.yml")" 100 "the settings file has 100 databases"

# Sample pgbak-run's own high-water mark while it runs.
/usr/bin/time -f %M -o "$T/maxrss" pgbak-run -j 4 "$T/many.yml" >"$T/out" 2>"$T/err" &
tm=$!
hwm=0 i=0
while [ -z "$(pgrep -P $tm)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
pr=$(pgrep -P $tm)
while [ -n "$pr" ] && kill -0 "$pr" 2>/dev/null; do
	h=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pr/status" 2>/dev/null)
	[ -n "$h" ] && hwm=$h
	sleep 0.2
done
wait $tm; st=$?
out=$(cat "$T/out")
is "$st" 111 "one database of 100 fails: exit 111"
is "$(grep -c ': ok$' "$T/out")" 99 "99 summary lines say ok"
fails=$(grep -v ': ok$' "$T/out")
is "$(lines "$fails")" 1 "one summary line is not ok"
like "$fails" "^many/nosuch_$P-$TODAY\.gz: .*: failed: pg_dump exited 1: .*nosuch_$P.* does not exist$" \
	"...it names the database and the cause"
unlike "$(cat "$T/err")" "many/${P}_" "stderr speaks only of the failed database"
count=$(awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --prefix many/ \
	--query 'length(Contents)' --output text)
is "$count" 99 "99 objects are stored (list-objects-v2)"
! has_object "many/nosuch_$P-$TODAY.gz"; ok $? "...none for the failed database"
check "...the last one restores" restore_same "${P}_$N" "many/${P}_$N-$TODAY.gz"
is "$(uploads)" None "no multipart upload left"

maxrss=$(tail -n 1 "$T/maxrss")
diag "peak RSS: $maxrss KiB for the whole run, $hwm KiB for pgbak-run itself"
if [ "${PGBAK_VALGRIND:-0}" = 1 ] || ldd "$(command -v pgbak-run)" | grep -q 'libasan'; then
	for i in 1 2; do
		_tap_n=$((_tap_n + 1)); echo "ok $_tap_n # skip memory bounds under ASan or valgrind"
	done
else
	[ "$maxrss" -gt 0 ] && [ "$maxrss" -lt 65536 ]
	ok $? "the whole run's peak RSS is under 64 MiB"
	[ "$hwm" -gt 0 ] && [ "$hwm" -lt 16384 ]; ok $? "pgbak-run's own is under 16 MiB"
fi
# Negative twin: the same measure sees 100 MiB when they are used.
/usr/bin/time -f %M -o "$T/big" python3 -c 'b = bytearray(100 << 20); b[::4096] = b"x" * len(b[::4096])'
[ "$(tail -n 1 "$T/big")" -gt 65536 ]; ok $? "...and GNU time does see 100 MiB used by a process"
