#!/bin/sh
# max_rate and --max-rate: a cap on the bytes per second of pgbak-put and
# pgbak-get, over all parts in flight together.  Only lower bounds on the
# time here (a capped transfer cannot be faster than the cap allows, however
# idle or loaded the machine); how close to the cap it stays is bench/'s.
. "$(dirname "$0")/lib.sh"
plan 20
need_s3
. "$TESTS_DIR/lib/s3obj.sh"

# 6 MiB in two 5 MiB-or-less parts, 2 in flight: at 2MB/s in all at least
# 3.1 s less the 50 ms burst pace allows; were each part capped on its own,
# the two would go side by side in about half that.
head -c $((6 * 1024 * 1024)) /dev/urandom >"$T/data"
MIN=2.9

# elapsed CMD...: run CMD, print its seconds (wall clock) on fd 3.
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
atleast() { awk -v s="$1" -v m="$2" 'BEGIN { exit !(s >= m) }'; }

# Values refused: exit 100, naming the flag or setting.
for v in 40Mb 40M 1.5MB 99kB 0 101GB; do
	pgbak-put --max-rate "$v" x </dev/null 2>"$T/err"
	st=$?
	[ $st = 100 ] && grep -q -- "--max-rate $v: want bytes per second" "$T/err"
	ok $? "pgbak-put --max-rate $v: exit 100 naming it ($st: $(head -c 200 "$T/err"))"
done
pgbak-get --max-rate 40mb x >/dev/null 2>"$T/err"
is $? 100 "pgbak-get --max-rate 40mb: exit 100"
like "$(cat "$T/err")" "^pgbak-get: --max-rate 40mb: want bytes per second" "...naming it"

cat >"$T/bad.yml" <<EOF
tasks:
  postgres:
    dbs:
      - database: x
    s3:
      bucket: "$PGBAK_BUCKET"
      max_rate: 40 MB
EOF
pgbak-put -c "$T/bad.yml" x </dev/null 2>"$T/err"
is $? 100 "max_rate: 40 MB in the settings: exit 100"
like "$(cat "$T/err")" "bad.yml:7:17: tasks.postgres.s3.max_rate: .*bytes per second" \
	"...naming the file, line and setting"
pgbak-run -n "$T/bad.yml" >/dev/null 2>"$T/err"
is $? 100 "pgbak-run refuses it too: exit 100"
like "$(cat "$T/err")" "tasks.postgres.s3.max_rate" "...naming the setting"

# The positive twins: a good value is taken, and it caps.
sed 's/max_rate: 40 MB/max_rate: 2MB/' "$T/bad.yml" >"$T/good.yml"
t0=$(now)
run pgbak-put -c "$T/good.yml" --part-size 5MiB --parallel 2 capped.bin <"$T/data" 2>"$T/err"
is $? 0 "max_rate: 2MB, 6 MiB in 2 parts in flight: stored"
t=$(secs "$t0" "$(now)")
atleast "$t" $MIN
ok $? "...in no less than $MIN s, the cap on the total ($t s)"
check "...exact" same capped.bin "$T/data"

t0=$(now)
run pgbak-put --max-rate 2MB --part-size 5MiB --parallel 2 capped2.bin <"$T/data" 2>"$T/err"
is $? 0 "--max-rate 2MB: stored"
t=$(secs "$t0" "$(now)")
atleast "$t" $MIN
ok $? "...in no less than $MIN s ($t s)"

t0=$(now)
pgbak-get --max-rate 2MB capped.bin >"$T/out" 2>"$T/err"
is $? 0 "pgbak-get --max-rate 2MB: exit 0"
t=$(secs "$t0" "$(now)")
atleast "$t" $MIN
ok $? "...in no less than $MIN s ($t s)"
check "...exact" cmp -s "$T/out" "$T/data"
