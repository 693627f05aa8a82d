#!/bin/sh
# pgbak-prune over more than one listing page and more than one
# DeleteObjects batch, and under faults (tests/lib/s3-proxy.py): a page cut
# mid-body is read again, a DeleteObjects that fails or refuses keys fails
# the run naming the cause and the first key, and deletes nothing more.
. "$(dirname "$0")/lib.sh"
plan 25
need_s3
. "$TESTS_DIR/0700-prune-lib.sh"

# 1100 daily backups, Jan 1 2022 .. Jan 4 2025, and decoys among them.
# With --keep-days 30 on Jan 4 2025, Dec 6 2024 .. Jan 4 2025 stay: 30, and
# 1070 go, in two DeleteObjects requests (1000 + 70).
days 20220101 20250104 many/m- .gz >"$T/series"
days 20241206 20250104 many/m- .gz >"$T/kept"
printf '%s\n' many/m-20220101.gz.bak many/m-20230601.gz/x many/m-20240229.gz.old \
	many/m-2024022.gz >"$T/decoys"
is "$(wc -l <"$T/series" | tr -d ' ') $(wc -l <"$T/kept" | tr -d ' ')" "1100 30" \
	"1100 backups, 30 of them in the last 30 days"
cat "$T/series" "$T/decoys" | put_keys
sort "$T/series" "$T/decoys" >"$T/all"
is "$(keys_under many/ | wc -l | tr -d ' ')" 1104 "1104 objects stored"

POLICY="--keep-days 30 --today 20250104"
# list_count: ListObjectsV2 requests the proxy saw.
list_count() { grep -c '^list ' "$PROXY_LOG"; }

# Every page read, and one page cut mid-body read again from its start.
start_proxy --rule list:1:drop-after=40000
run pgbak-prune -n -e "$PROXY_URL" $POLICY many/m >"$T/plan" 2>"$T/err"
is $? 0 "dry run over several pages, the first cut once: exit 0"
is "$(wc -l <"$T/plan" | tr -d ' ')" 1100 "...1100 backups judged"
is "$(sort -u "$T/plan" | wc -l | tr -d ' ')" 1100 "...none twice"
is "$(grep -c '^keep ' "$T/plan")" 30 "...30 kept"
is "$(sed -n 's/^keep \([^ ]*\) .*/\1/p' "$T/plan")" "$(cat "$T/kept")" "...the last 30 days"
[ "$(list_count)" -ge 3 ]
ok $? "...in at least 3 list requests (the cut page twice, then more pages): $(list_count)"
is "$(keys_under many/)" "$(cat "$T/all")" "...nothing deleted"

# The negative twin: a page cut on every try fails the run.
start_proxy --rule 'list:*:drop-after=40000'
PGBAK_S3_TRIES=2 run pgbak-prune -e "$PROXY_URL" $POLICY many/m >"$T/out" 2>"$T/err"
is $? 111 "every listing cut: exit 111"
like "$(cat "$T/err")" "^pgbak-prune: unable to list the objects of s3://$PGBAK_BUCKET/ at $PROXY_URL: " \
	"...naming the bucket and endpoint"
is "$(keys_under many/)" "$(cat "$T/all")" "...nothing deleted"

# DeleteObjects failing on every try: nothing deleted, exit 111.
start_proxy --rule 'multidelete:*:500'
PGBAK_S3_TRIES=2 run pgbak-prune -e "$PROXY_URL" $POLICY many/m >"$T/out" 2>"$T/err"
is $? 111 "DeleteObjects answered 500 on every try: exit 111"
is "$(cat "$T/err")" "pgbak-prune: unable to delete the objects of s3://$PGBAK_BUCKET/ at $PROXY_URL: HTTP 500 InternalError (after 2 tries)" \
	"...naming the bucket, endpoint, code and tries"
is "$(keys_under many/)" "$(cat "$T/all")" "...nothing deleted"

# DeleteObjects answering 200 but refusing every key: a failure too.
start_proxy --rule 'multidelete:*:deny-keys'
run pgbak-prune -e "$PROXY_URL" $POLICY many/m >"$T/out" 2>"$T/err"
is $? 111 "DeleteObjects refusing the keys in a 200 reply: exit 111"
is "$(cat "$T/err")" "pgbak-prune: unable to delete s3://$PGBAK_BUCKET/many/m-20220101.gz at $PROXY_URL: AccessDenied (and 999 more of 1000 keys)" \
	"...naming the first refused key and the code"
is "$(grep -c '^multidelete ' "$PROXY_LOG")" 1 "...and sending no second batch"
is "$(keys_under many/)" "$(cat "$T/all")" "...nothing deleted"

# A transient 503 is retried; 1070 deletions go in two batches.
start_proxy --rule multidelete:1:503
run pgbak-prune -e "$PROXY_URL" $POLICY many/m >"$T/out" 2>"$T/err"
is $? 0 "DeleteObjects answered 503 once: exit 0"
is "$(cat "$T/out")$(cat "$T/err")" "" "...silently"
is "$(grep '^multidelete ' "$PROXY_LOG" | tr '\n' ' ')" "multidelete 1 503 multidelete 2 pass multidelete 3 pass " \
	"...retried, then a second batch"
is "$(keys_under many/)" "$(sort "$T/kept" "$T/decoys")" \
	"...the last 30 days and the decoys remain, the 1070 others are gone"

run pgbak-prune -v $POLICY many/m >"$T/out" 2>"$T/err"
is $? 0 "again: exit 0"
is "$(sans_creds "$T/err")" "pgbak-prune: many/m: kept 30, deleted 0" "...nothing left to delete"
