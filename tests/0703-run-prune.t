#!/bin/sh
# pgbak-run with retention: once a database's backup of the day is stored
# (or was already there) its older backups are pruned; never when its
# backup failed, never for a database whose retention is turned off; a
# prune that fails fails the database ("prune: ...") but leaves the stored
# object alone.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 29
need_pg
need_s3
. "$TESTS_DIR/0700-prune-lib.sh"

G=prune_good_$$
BAD=nosuch_prune_$$
psql_q -d postgres -c "create database $G" || exit 1
psql_q -d "$G" -c "create table t as select g from generate_series(1, 100) g" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $G'"
D1=$(date -d "$TODAY - 1 day" +%Y%m%d)
D3=$(date -d "$TODAY - 3 days" +%Y%m%d)
D5=$(date -d "$TODAY - 5 days" +%Y%m%d)

# a: backs up, keep_daily 1 (the task's) keeps today's only
# b: fails (no such database): its old backups must stay
# c: backs up, retention {} turns pruning off: its old backups stay
{
	printf '%s\n' "r/a/$G-$D1.gz" "r/a/$G-$D3.gz" "r/a/$G-$D1.gz.bak"
	printf '%s\n' "r/b/bad-$D1.gz" "r/b/bad-$D3.gz"
	printf '%s\n' "r/c/$G-$D1.gz" "r/c/$G-$D3.gz"
	printf '%s\n' "r/d/$G-$D1.gz"
} | put_keys
TASK="retention: { keep_daily: 1 }"
settings "$T/run.yml" "$TASK" "" "$(db_yaml "$G" r/a/)" "$(db_yaml "$BAD" r/b/bad)" \
	"$(db_yaml "$G" r/c/)
        retention: {}"

run pgbak-run "$T/run.yml" >"$T/out" 2>"$T/err"
is $? 111 "one database fails: exit 111"
like "$(sed -n 1p "$T/out")" "^r/a/$G-$TODAY.gz: .*: ok$" "a: ok"
like "$(sed -n 2p "$T/out")" "^r/b/bad-$TODAY.gz: .*: failed: pg_dump exited 1" \
	"b: failed, for pg_dump's reason"
like "$(sed -n 3p "$T/out")" "^r/c/$G-$TODAY.gz: .*: ok$" "c: ok"
is "$(keys_under r/a/)" "r/a/$G-$D1.gz.bak
r/a/$G-$TODAY.gz" "a: yesterday's and older pruned; today's and the decoy stay"
is "$(keys_under r/b/)" "$(printf '%s\n' "r/b/bad-$D1.gz" "r/b/bad-$D3.gz" | sort)" \
	"b (failed): nothing pruned"
is "$(keys_under r/c/)" "$(printf '%s\n' "r/c/$G-$D1.gz" "r/c/$G-$D3.gz" "r/c/$G-$TODAY.gz" | sort)" \
	"c (retention {}): nothing pruned"

# Skipped because today's object exists: today's backup is there, so prune.
printf '%s\n' "r/a/$G-$D5.gz" | put_keys
settings "$T/a.yml" "$TASK" "" "$(db_yaml "$G" r/a/)"
run pgbak-run -v "$T/a.yml" >"$T/out" 2>"$T/err"
is $? 0 "a again: exit 0"
like "$(cat "$T/out")" "^r/a/$G-$TODAY.gz: .*: skipped: already exists$" "...skipped"
is "$(keys_under r/a/)" "r/a/$G-$D1.gz.bak
r/a/$G-$TODAY.gz" "...and the backup of 5 days ago was pruned"
like "$(cat "$T/err")" "r/a/$G-$TODAY.gz: running [^ ]*pgbak-prune --settings-fd 4 --today $TODAY --keep-daily=1 -v -- r/a/$G-$TODAY.gz" \
	"...-v shows the pgbak-prune command"
like "$(cat "$T/err")" "pgbak-prune: r/a/$G-$TODAY.gz: kept 1, deleted 1" "...and what it did"

# --force with the object there: stored again, pruned again (nothing left).
run pgbak-run -f "$T/a.yml" >"$T/out" 2>&1
is $? 0 "a with --force: exit 0"
is "$(keys_under r/a/)" "r/a/$G-$D1.gz.bak
r/a/$G-$TODAY.gz" "...today's still there, the decoy too"

# The dry run shows the prune, and runs nothing.
printf '%s\n' "r/a/$G-$D3.gz" | put_keys
run pgbak-run -n "$T/a.yml" >"$T/out" 2>&1
is $? 0 "--dry-run: exit 0"
like "$(cat "$T/out")" "  [^ ]*pgbak-prune --settings-fd 4 --today $TODAY --keep-daily=1 -- r/a/$G-$TODAY.gz \(once the backup is stored or found\)" \
	"...shows the pgbak-prune command"
is "$(keys_under r/a/$G-$D3)" "r/a/$G-$D3.gz" "...and prunes nothing"
settings "$T/nopol.yml" "" "" "$(db_yaml "$G" r/a/)"
run pgbak-run -n "$T/nopol.yml" >"$T/out" 2>&1
unlike "$(cat "$T/out")" "pgbak-prune" "without retention the dry run has no prune"
run pgbak-run "$T/nopol.yml" >"$T/out" 2>&1
is $? 0 "...and the run (skipped) exits 0"
is "$(keys_under r/a/$G-$D3)" "r/a/$G-$D3.gz" "...pruning nothing"

# A prune that fails: the database fails, its stored object stays.
start_proxy --rule 'multidelete:*:403'
AWS_ENDPOINT_URL=$PROXY_URL settings "$T/d.yml" "$TASK" "" "$(db_yaml "$G" r/d/)"
run pgbak-run --json "$T/d.yml" >"$T/out" 2>"$T/err"
is $? 111 "the prune fails (DeleteObjects 403): exit 111"
like "$(cat "$T/out")" "\"key\":\"r/d/$G-$TODAY.gz\",\"status\":\"failed\",\"reason\":\"prune: pgbak-prune exited 111: pgbak-prune: unable to delete the objects of s3://$PGBAK_BUCKET/ at $PROXY_URL: HTTP 403 AccessDenied\"" \
	"...the database failed, the reason says prune and why"
like "$(cat "$T/err")" "r/d/$G-$TODAY.gz: pgbak-prune: unable to delete" "...on stderr too"
is "$(keys_under r/d/)" "r/d/$G-$D1.gz
r/d/$G-$TODAY.gz" "...today's object is stored, yesterday's not deleted"
is "$(grep -c '^multidelete ' "$PROXY_LOG")" 1 "...a DeleteObjects was tried once (403 is not retried)"
start_proxy
AWS_ENDPOINT_URL=$PROXY_URL settings "$T/d2.yml" "$TASK" "" "$(db_yaml "$G" r/d/)"
run pgbak-run "$T/d2.yml" >"$T/out" 2>"$T/err"
is $? 0 "the same through a proxy that lets it pass: exit 0"
is "$(keys_under r/d/)" "r/d/$G-$TODAY.gz" "...yesterday's pruned"

# Retention with backups in a local directory: refused, nothing run.
settings "$T/local.yml" "$TASK
local_dir: $T/local" "enable: false" "$(db_yaml "$G" r/e/)"
run pgbak-run "$T/local.yml" >"$T/out" 2>"$T/err"
is $? 100 "retention with s3 enable false: exit 100"
is "$(cat "$T/err")" "pgbak-run: $T/local.yml: retention prunes backups in S3 only, and s3 enable is false" \
	"...saying why"
