#!/bin/sh
# The S3 children act on the settings pgbak-run loaded, handed to them on
# descriptor 4 (--settings-fd), and hold no database's secret: no
# PGPASSWORD, no variable whose value is a password (seen in each child's
# /proc/PID/environ).  Run by hand, an S3 program reads only the s3
# section of a file and expands ${NAME} there alone.  Under --daemon an
# edit takes effect at SIGHUP only, dbs and s3 together; a broken edit
# keeps the passes working on the loaded settings.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 30
need_pg
need_s3

D=chset_$$
PW=$PGBAK_PW_PASS
psql_q -d postgres -c "create database $D owner $PGBAK_PW_USER" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $D'"
printf '%s\n' "$PW" >"$T/pw"

# A pgbak-run whose S3 programs are wrappers that write down what they were
# handed (/proc/PID/environ, argv, descriptor 4), then exec the real ones
# with the same PID: no timing, every child is seen.
BIN=$T/bin
mkdir "$BIN" "$T/seen"
cp "$PGBAK_BUILD/pgbak-run" "$BIN/"
ln -s "$PGBAK_BUILD/pgbak-gzip" "$BIN/pgbak-gzip"
for p in pgbak-put pgbak-exists pgbak-verify pgbak-prune pg_dump; do
	real=$PGBAK_BUILD/$p
	[ $p = pg_dump ] && real=$REAL_PG_DUMP
	cat >"$BIN/$p" <<EOF
#!/bin/sh
tr '\0' '\n' </proc/\$\$/environ >"$T/seen/$p.\$\$.env"
printf '%s\n' "\$*" >"$T/seen/$p.\$\$.argv"
readlink /proc/\$\$/fd/4 >"$T/seen/$p.\$\$.fd4" 2>/dev/null
exec "$real" "\$@"
EOF
	chmod 755 "$BIN/$p"
done

# The password in three variables: the one the file names, PGPASSWORD and
# PGBAK_PW_PASS (need_pg's); with verify and a retention policy every S3
# program runs.
DBPW_0414=$PW PGPASSWORD=$PW
export DBPW_0414 PGPASSWORD
settings "$T/s.yml" "verify: true
retention: { keep_daily: 2 }
pg_dump: $BIN/pg_dump" "" "$(db_yaml "$D" c/ "$PGBAK_PW_USER" '${DBPW_0414}')"
run "$BIN/pgbak-run" -v "$T/s.yml" >"$T/out" 2>"$T/err"
st=$?
is "$st" 0 "the run with every S3 child succeeds"
[ "$st" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"
for p in pgbak-exists pgbak-put pgbak-verify pgbak-prune; do
	set -- "$T/seen/$p".*.env
	[ -s "$1" ]; ok $? "$p ran and its environment was read"
done
is "$(ls "$T/seen"/pgbak-put.*.env | wc -l)" 2 "pgbak-put ran twice (upload, stale uploads)"
! cat "$T/seen"/pgbak-*.env | grep -qF -f "$T/pw"
ok $? "no S3 child has the password in any variable"
! cat "$T/seen"/pgbak-*.env | grep -q '^PGPASSWORD='; ok $? "no S3 child has PGPASSWORD"
grep -qF -f "$T/pw" "$T/seen"/pg_dump.*.env; ok $? "twin: pg_dump's environment has the password"
grep -q "^AWS_ACCESS_KEY_ID=" "$T/seen"/pgbak-put.*.env
ok $? "twin: the S3 children keep the S3 variables"
! grep -l -- '-c ' "$T/seen"/pgbak-*.argv >/dev/null &&
	[ "$(grep -l -- '--settings-fd 4 ' "$T/seen"/pgbak-*.argv | wc -l)" -eq 5 ]
ok $? "each S3 child got --settings-fd 4, none -c FILE"
[ "$(grep -l '^/memfd:pgbak-s3' "$T/seen"/pgbak-*.fd4 | wc -l)" -eq 5 ]
ok $? "...and its descriptor 4 is pgbak-run's sealed copy of the s3 section"
! grep -q . "$T/seen"/pg_dump.*.fd4; ok $? "pg_dump has no descriptor 4"
has_object "c/$D-$TODAY.gz"; ok $? "the object is stored"

# Run by hand: the databases' ${NAME} are not expanded, the s3 section's are.
settings "$T/u.yml" "retention: { keep_daily: 2 }" "" \
	"$(db_yaml "$D" c/ "$PGBAK_PW_USER" '${UNSET_0414}')"
run pgbak-exists -c "$T/u.yml" "c/$D-$TODAY.gz" 2>"$T/err"
is $? 0 "pgbak-exists -c: a database's unset \${NAME} does not matter"
printf 'x\n' | run pgbak-put -c "$T/u.yml" "u/x.txt" 2>"$T/err"
is $? 0 "pgbak-put -c: neither"
run pgbak-prune -n -c "$T/u.yml" --today "$TODAY" >"$T/plan" 2>"$T/err"
is $? 0 "pgbak-prune -c, which reads the databases: neither"
like "$(cat "$T/plan")" "keep c/$D-$TODAY.gz" "...and it judged the database's backups"
run pgbak-run -n "$T/u.yml" >/dev/null 2>"$T/err"
is $? 100 "twin: pgbak-run, which needs the password, stops at it"
settings "$T/s3u.yml" "" "access_secret: \"\${UNSET_0414}\"" "$(db_yaml "$D" c/)"
run pgbak-exists -c "$T/s3u.yml" "c/$D-$TODAY.gz" 2>"$T/err"
is $? 100 "twin: an unset \${NAME} in the s3 section fails, exit 100"
like "$(cat "$T/err")" "$T/s3u.yml:[0-9]+:[0-9]+: tasks.postgres.s3.access_secret: environment variable UNSET_0414 is not set" \
	"...naming FILE:LINE:COLUMN and the variable"

# --daemon -f: every pass stores its object.  Count the passes by their lines.
keys_of() { awsref s3 ls "s3://$1/" --recursive | awk '{ print $4 }'; }
passes() { _n=$(grep -cE "^$1/$D-$TODAY\.gz: " "$T/dout" 2>/dev/null); echo "${_n:-0}"; }
wait_passes() { # wait_passes PREFIX N: until N passes of PREFIX are reported, 60 s
	i=0
	while [ "$(passes "$1")" -lt "$2" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(passes "$1")" -ge "$2" ]
}
B2=$(s3_bucket 0414-second) || bucket_bail
settings "$T/d.yml" "interval: 1" "" "$(db_yaml "$D" a/ "$PGBAK_PW_USER" '${DBPW_0414}')"
pgbak-run -f --daemon "$T/d.yml" >"$T/dout" 2>"$T/derr" &
dm=$!
wait_passes a 1; ok $? "--daemon: the first pass is reported"

# A broken edit, then SIGHUP: the passes go on with the loaded settings.
printf 'tasks: [ broken\n' >"$T/d.yml"
kill -HUP $dm
i=0
while ! grep -q "keeping the settings in use" "$T/derr" && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
grep -q "keeping the settings in use" "$T/derr"; ok $? "SIGHUP with a broken file: it keeps the settings"
n=$(passes a)
wait_passes a $((n + 2))
like "$(grep -E "^a/$D-$TODAY\.gz: " "$T/dout" | tail -n 1)" ": ok$" \
	"SIGHUP with a broken file: the next pass still stores its object"

# A good edit moving both the bucket and the database's prefix: nothing
# changes before SIGHUP, then both at once.
settings "$T/d2.yml" "interval: 1" "" "$(db_yaml "$D" b/ "$PGBAK_PW_USER" '${DBPW_0414}')"
sed -i "s/^      bucket: .*/      bucket: \"$B2\"/" "$T/d2.yml"
mv "$T/d2.yml" "$T/d.yml"
n=$(passes a)
wait_passes a $((n + 2))
like "$(grep -E "^a/$D-$TODAY\.gz: " "$T/dout" | tail -n 1)" ": ok$" \
	"edited, no SIGHUP: the passes go on as loaded"
is "$(keys_of "$B2")" "" "...and nothing went to the new bucket"
kill -HUP $dm
wait_passes b 1; ok $? "SIGHUP with the good file: the new database's pass runs"
like "$(grep -E "^b/$D-$TODAY\.gz: " "$T/dout" | tail -n 1)" ": ok$" "...and stores its object"
is "$(keys_of "$B2")" "b/$D-$TODAY.gz" "...in the new bucket, under the new prefix"
kill -TERM $dm
wait $dm; st=$?
is "$st" 0 "SIGTERM ends the daemon with exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/dout" "$T/derr")"
