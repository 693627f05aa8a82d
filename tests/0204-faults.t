#!/bin/sh
# The S3 programs under injected faults (tests/lib/s3-proxy.py in front of
# the RGW): transient ones (5xx, 429, reset, stall, 200 with <Error>) are
# retried and the result is still exact; lasting ones fail with the cause
# named, no object and no upload left; a 403 is not retried.
. "$(dirname "$0")/lib.sh"
plan 39
need_s3
. "$TESTS_DIR/lib/s3obj.sh"

head -c $((12 * 1024 * 1024)) /dev/urandom >"$T/big"
printf 'small object\n' >"$T/small"

# Transient faults: retried, and the object is exact.
put_via part:2:500 -- p500.bin "$T/big"
is $? 0 "500 on one part: stored"
is "$(count part 500)" 1 "...that part was answered 500 once"
check "...and the object is exact" same p500.bin "$T/big"

put_via part:1:reset part:3:429 -- reset.bin "$T/big"
is $? 0 "connection reset mid-part and a 429: stored"
check "...exact" same reset.bin "$T/big"

PGBAK_S3_STALL=2 put_via part:1:stall -- stall.bin "$T/big"
is $? 0 "a stalled part (low-speed limit 2 s): stored"
is "$(count part stall)" 1 "...the stalled request was dropped and sent again"
check "...exact" same stall.bin "$T/big"

put_via complete:1:error200 -- e200.bin "$T/big"
is $? 0 "200 with <Error> on Complete: retried, stored"
is "$(count complete error200)" 1 "...the first Complete was the bad one"
check "...exact" same e200.bin "$T/big"

put_via put:1:503 -- single.bin "$T/small"
is $? 0 "503 on a single PUT: stored"
check "...exact" same single.bin "$T/small"

# Lasting faults: fail with the cause, nothing left.
PGBAK_S3_TRIES=3 put_via 'part:*:503' -- always.bin "$T/big"
is $? 111 "503 on every try: exit 111"
like "$(cat "$T/err")" "unable to upload part [0-9]+ of s3://$PGBAK_BUCKET/always.bin at $PROXY_URL: HTTP 503 SlowDown \(after 3 tries\)" \
	"...naming the part, object, endpoint, code and tries"
check "...no object" absent always.bin
is "$(uploads always.bin)" "" "...the upload was aborted"

PGBAK_S3_TRIES=2 put_via 'complete:*:error200' -- e200always.bin "$T/big"
is $? 111 "200 with <Error> on every Complete: exit 111"
like "$(cat "$T/err")" "unable to complete the upload of .*: HTTP 200 InternalError" \
	"...naming the S3 code of the body"
check "...no object" absent e200always.bin
is "$(uploads e200always.bin)" "" "...the upload was aborted"

put_via 'part:*:403' -- denied.bin "$T/big"
is $? 111 "403 on a part: exit 111"
like "$(cat "$T/err")" "HTTP 403 AccessDenied$" "...naming AccessDenied, no tries count"
[ "$(count part 403)" -le 2 ]
ok $? "...not retried (at most the 2 parts in flight were sent, once each)"
check "...no object" absent denied.bin
is "$(uploads denied.bin)" "" "...the upload was aborted"

PGBAK_S3_TRIES=2 put_via 'put:*:500' -- single500.bin "$T/small"
is $? 111 "500 on every single PUT: exit 111"
check "...no object" absent single500.bin

# pgbak-get: a broken body is resumed from the last byte written (one
# stream, -p 1: tests/0261-get-ranges.t cuts ranges).
start_proxy --rule get:1:drop-after=1000000 --rule get:2:drop-after=3000000
run pgbak-get -p 1 -e "$PROXY_URL" p500.bin >"$T/out" 2>"$T/err"
is $? 0 "get cut twice mid-body: exit 0"
check "...the bytes are exact" cmp -s "$T/out" "$T/big"
is "$(count get pass)" 1 "...three requests, the last one whole"
start_proxy --rule get:1:500
check "get: 500 once: retried" sh -c "pgbak-get -e '$PROXY_URL' single.bin | cmp -s - '$T/small'"
start_proxy --rule 'get:*:500'
PGBAK_S3_TRIES=2 pgbak-get -e "$PROXY_URL" single.bin >"$T/out" 2>"$T/err"
is $? 111 "get: 500 on every try: exit 111"
like "$(cat "$T/err")" "HTTP 500 InternalError \(after 2 tries\)$" "...and says so"
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "...nothing written"

# pgbak-exists: a 503 is retried; a 500 on every try is "cannot tell".
start_proxy --rule head:1:503
check_status 0 "exists: 503 once, then the answer" pgbak-exists -e "$PROXY_URL" single.bin
start_proxy --rule 'head:*:500'
PGBAK_S3_TRIES=2 pgbak-exists -e "$PROXY_URL" single.bin 2>/dev/null
is $? 111 "exists: 500 on every try: 111, not absent"
start_proxy --rule 'head:*:404'
pgbak-exists -e "$PROXY_URL" single.bin 2>/dev/null
is $? 111 "exists: 404 for the key and the bucket: 111 (no such bucket), not absent"
check_status 0 "the object is still there, of course" pgbak-exists single.bin
