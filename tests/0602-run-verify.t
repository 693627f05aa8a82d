#!/bin/sh
# pgbak-run --verify and verify: true: each stored backup is read back by
# pgbak-verify.  A good run says "ok, verified"; a pg_dump that drops its
# completion line yet exits 0 (which the commit handshake cannot see) is
# caught, the database fails with "verify: ...", the object is left in
# place and the other database is still backed up.  In streaming,
# temp-file and local modes; a pgbak-verify that cannot read, or dies,
# fails the database too; without pgbak-verify, --verify refuses to start.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 42
need_pg
need_s3

V=rver_$$
psql_q -d postgres -c "create database $V" || exit 1
psql_q -d "$V" -c "create table t as select g from generate_series(1, 5000) g" || exit 1
# A pg_dump that loses the end of the dump but exits 0, for every database.
fake_pg_dump "$T/strip" none \
	"\"$REAL_PG_DUMP\" \"\$@\" | sed '/^-- PostgreSQL database dump complete\$/,\$d'"
OKLINE="dump [0-9]+ B, gzip [0-9]+ B, ratio [0-9.]+, [0-9.]+ s, [0-9.]+ MiB/s: ok"

# --verify on a good run.
settings "$T/s.yml" "" "" "$(db_yaml "$V" flag/)"
out=$(run pgbak-run --verify "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "--verify, a good backup: exit 0"
like "$out" "^flag/$V-$TODAY\.gz: $OKLINE, verified$" "...and the summary says verified"
check "pgbak-verify agrees on its own" quiet run pgbak-verify "flag/$V-$TODAY.gz"
out=$(run pgbak-run --force "$T/s.yml" 2>"$T/err"); st=$?
like "$out" "^flag/$V-$TODAY\.gz: $OKLINE$" "without --verify: ok, and no 'verified'"

# verify: true in the settings, with --json.
settings "$T/set.yml" "verify: true" "" "$(db_yaml "$V" set/)"
out=$(run pgbak-run --json "$T/set.yml" 2>"$T/err"); st=$?
is "$st" 0 "verify: true, a good backup: exit 0"
like "$out" '"status":"ok","reason":null,"verified":true,' "--json says verified: true"
out=$(run pgbak-run --json --force "$T/s.yml" 2>"$T/err")
like "$out" '"verified":false' "...and false without verify"
settings "$T/perhaps.yml" "verify: perhaps" "" "$(db_yaml "$V" set/)"
out=$(run pgbak-run "$T/perhaps.yml" 2>"$T/err"); st=$?
is "$st" 100 "verify: perhaps is a settings error: exit 100"
like "$(cat "$T/err")" "verify" "...naming the key"

# A dump that lost its completion line, pg_dump exiting 0: only verify sees it.
G=good/$V-$TODAY.gz B=bad/$V-$TODAY.gz
settings "$T/strip.yml" "verify: true
pg_dump: $T/strip" "" "$(db_yaml "$V" bad/)"
out=$(run pgbak-run "$T/strip.yml" 2>"$T/err"); st=$?
is "$st" 111 "a dump without its completion line, verify: true: exit 111"
like "$out" "^$B: dump [0-9]+ B, .*: failed: verify: the dump does not end with pg_dump's completion line \(cut off or failed dump\?\)$" \
	"...the summary line names verify and says why"
like "$(cat "$T/err")" "pgbak-verify: .*$B: the dump does not end" "...stderr has pgbak-verify's line"
check "...the object is left in place" has_object "$B"
check_status 1 "...and pgbak-verify still calls it damaged" run pgbak-verify "$B" 2>/dev/null
out=$(run pgbak-run "$T/strip.yml" 2>"$T/err"); st=$?
like "$out" "^$B: .*: skipped: already exists$" "...a second run the same day skips it"
out=$(run pgbak-run --force "$T/strip.yml" 2>"$T/err"); st=$?
is "$st" 111 "...--force runs and checks it again"
# Twin: the same fake without verify publishes it as ok.
settings "$T/strip-nv.yml" "pg_dump: $T/strip" "" "$(db_yaml "$V" nv/)"
out=$(run pgbak-run "$T/strip-nv.yml" 2>"$T/err"); st=$?
is "$st" 0 "the same dump without verify: exit 0 (what verify is for)"
# Two databases, one damaged: the other is backed up and verified.
settings "$T/two.yml" "verify: true
pg_dump: $T/two-dump" "" "$(db_yaml "$V" good/)" "$(db_yaml "${V}x" bad2/)"
psql_q -d postgres -c "create database ${V}x" || exit 1
fake_pg_dump "$T/two-dump" "$V" \
	"\"$REAL_PG_DUMP\" \"\$@\" | sed '/^-- PostgreSQL database dump complete\$/,\$d'"
out=$(run pgbak-run "$T/two.yml" 2>"$T/err"); st=$?
is "$st" 111 "two databases, one damaged: exit 111"
like "$(printf '%s\n' "$out" | sed -n 1p)" "^$G: $OKLINE, verified$" "...the good one: ok, verified"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^bad2/${V}x-$TODAY\.gz: .*: failed: verify: " \
	"...the damaged one: failed: verify"

# use_temp_file and local mode are verified too.
settings "$T/tf.yml" "use_temp_file: true
verify: true" "" "$(db_yaml "$V" tf/)"
out=$(run pgbak-run "$T/tf.yml" 2>"$T/err"); st=$?
is "$st" 0 "use_temp_file, verify: true: exit 0"
like "$out" "^tf/$V-$TODAY\.gz: $OKLINE, verified$" "...verified"
settings "$T/loc.yml" "local_dir: $T/out
verify: true" "enable: false" "$(db_yaml "$V" loc/)"
out=$(run pgbak-run "$T/loc.yml" 2>"$T/err"); st=$?
is "$st" 0 "local mode, verify: true: exit 0"
like "$out" "^loc/$V-$TODAY\.gz: $OKLINE, verified$" "...verified"
settings "$T/locbad.yml" "local_dir: $T/out
verify: true
pg_dump: $T/strip" "enable: false" "$(db_yaml "$V" locbad/)"
out=$(run pgbak-run "$T/locbad.yml" 2>"$T/err"); st=$?
is "$st" 111 "local mode, a dump without its completion line: exit 111"
like "$out" ": failed: verify: the dump does not end with pg_dump's completion line" \
	"...failed: verify, without the file's name repeated"
check "...the file is left in place" test -f "$T/out/locbad/$V-$TODAY.gz"

# --dry-run and -v show the check.
out=$(run pgbak-run -n --verify "$T/s.yml" 2>&1)
like "$out" "pgbak-verify --settings-fd 4 -- flag/$V-$TODAY\.gz" "--dry-run shows pgbak-verify"
out=$(run pgbak-run -n "$T/s.yml" 2>&1)
unlike "$out" "pgbak-verify" "...and not without --verify"
out=$(run pgbak-run -n "$T/loc.yml" 2>&1)
like "$out" "pgbak-verify -f $T/out/loc/$V-$TODAY\.gz" "...-f FILE in local mode"
out=$(run pgbak-run -v --force --verify "$T/s.yml" 2>&1)
like "$out" "running .*pgbak-verify --settings-fd 4 -- flag/" "-v shows it running"

# Other pgbak-verify endings: cannot read (111), killed; and absent.
mkdir -p "$T/bin"
for p in pgbak-run pgbak-gzip pgbak-put pgbak-exists; do cp "$PGBAK_BUILD/$p" "$T/bin/"; done
P=$T/bin:/usr/bin:/bin
out=$(PATH=$P run "$T/bin/pgbak-run" --verify "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 127 "--verify without pgbak-verify anywhere: exit 127"
like "$(cat "$T/err")" "pgbak-verify not found next to pgbak-run or in PATH" "...says so"
out=$(PATH=$P run "$T/bin/pgbak-run" --force "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "...without --verify it is not needed"
printf '#!/bin/sh\necho "pgbak-verify: unable to download s3://b/$4 at http://x: HTTP 503 SlowDown" >&2\nexit 111\n' \
	>"$T/bin/pgbak-verify"
chmod 755 "$T/bin/pgbak-verify"
out=$(PATH=$P run "$T/bin/pgbak-run" --force --verify "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 111 "a pgbak-verify that cannot read: exit 111"
like "$out" ": failed: verify: unable to download s3://b/flag/$V-$TODAY\.gz at http://x: HTTP 503 SlowDown$" \
	"...failed: verify: and its reason"
printf '#!/bin/sh\nkill -KILL $$\n' >"$T/bin/pgbak-verify"
out=$(PATH=$P run "$T/bin/pgbak-run" --force --verify "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 111 "a pgbak-verify killed by a signal: exit 111"
like "$out" ": failed: verify: pgbak-verify killed by SIGKILL" "...failed: verify: killed"
printf '#!/bin/sh\nexit 0\n' >"$T/bin/pgbak-verify"
out=$(PATH=$P run "$T/bin/pgbak-run" --force --verify "$T/s.yml" 2>"$T/err"); st=$?
like "$out" ": ok, verified$" "...and one that says whole: ok, verified (the twin)"

# Encrypted objects cannot be verified here (the identity is elsewhere):
# refused before anything runs; the same settings without verify are fine.
settings "$T/enc.yml" "verify: true
encrypt: {age_recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p], age: /bin/cat}" "" \
	"$(db_yaml "$V" enc/)"
err=$(run pgbak-run -n "$T/enc.yml" 2>&1); st=$?
is "$st" 100 "verify with encrypt: exit 100"
like "$err" "verify cannot check encrypted backups" "...saying why"
sed -i '/verify: true/d' "$T/enc.yml"
check_status 0 "encrypt without verify: accepted" quiet run pgbak-run -n "$T/enc.yml"

psql_q -d postgres -c "drop database $V" -c "drop database ${V}x" >/dev/null 2>&1
