#!/bin/sh
# pgbak-run end to end under S3 faults (tests/lib/s3-proxy.py in front of
# the RGW, the settings' endpoint pointed at it), a 2-part upload run with
# -f over a good object.  Transient faults (500 once, reset, stall, 200
# with <Error> on Complete) are retried and the object is exact; lasting
# ones (500 always, stall always, <Error> always, wrong secret, no such
# bucket, endpoint down) fail with exit 111 and the cause on the summary
# line, leaving the previous object byte for byte, no upload, no temp file
# and no process.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 63
need_pg
need_s3
. "$TESTS_DIR/lib/faults.sh"

# 6 MiB that gzip cannot shrink: a 5 MiB part and a last one.
head -c $((6 << 20)) /dev/urandom >"$T/data"
printf '#!/bin/sh\nexec cat "%s"\n' "$T/data" >"$T/dump"
chmod 755 "$T/dump"

# count KIND ACTION: requests of KIND the proxy logged with ACTION.
count() { grep -c "^$1 [0-9]* $2\$" "$PROXY_LOG"; }
# fault NAME [S3_LINES] [-- RULE...]: a proxy with those rules, and settings
# $T/NAME.yml for database "app" under NAME/ through it.
fault() {
	_n=$1 _s3=
	shift
	if [ $# -gt 0 ] && [ "$1" != -- ]; then _s3=$1; shift; fi
	[ $# -gt 0 ] && shift
	_rules=
	for _r in "$@"; do _rules="$_rules --rule $_r"; done
	start_proxy $_rules
	settings "$T/$_n.yml" "pg_dump: $T/dump
temp_dir: $FAULT_TMP" "part_size: 5MiB
$_s3" "$(db_yaml app "$_n/")"
	via_proxy "$T/$_n.yml"
	K=$_n/app-$TODAY.gz
}
# go [FLAGS]: run the settings of the last fault; sets $st, $out, $err.
go() {
	out=$(run pgbak-run "$@" "$T/$_n.yml" 2>"$T/err"); st=$?
	err=$(cat "$T/err")
}
# exact: the object of the last fault is the gzip of the data.
exact() { fetch "$K" | gunzip | cmp -s - "$T/data"; }

# Transient faults: retried, stored, exact.
fault p500 -- part:2:500
go -f
is "$st" 0 "500 on one part: exit 0"
is "$(count part 500)" 1 "...that part was answered 500 once"
check "...the object is exact" exact

fault reset -- part:2:reset
go -f
is "$st" 0 "connection reset mid-part: exit 0"
is "$(count part reset)" 1 "...the connection was reset once"
check "...the object is exact" exact

export PGBAK_S3_STALL=2
fault stall -- part:1:stall
go -f
is "$st" 0 "a part stalled (low-speed limit 2 s): exit 0"
is "$(count part stall)" 1 "...the stalled request was dropped and sent again"
check "...the object is exact" exact
unset PGBAK_S3_STALL

fault e200 -- complete:1:error200
go -f
is "$st" 0 "200 with <Error> on Complete: exit 0"
is "$(count complete error200)" 1 "...the first Complete was the bad one"
check "...the object is exact" exact

# Lasting faults: exit 111, the cause named, nothing changed, nothing left.
# lasting CASE: the checks of a failed run of the last fault.
lasting() {
	is "$st" 111 "$1: exit 111"
	is "$(lines "$out")" 1 "$1: one summary line"
	after_failure "$1" "$K"
}
export PGBAK_S3_TRIES=2
fault always500 -- 'part:*:500'
good_object "$K"
go -f
like "$out" "^$K: .*: failed: pgbak-put exited 111: pgbak-put: unable to upload part [0-9]+ of s3://$PGBAK_BUCKET/$K at $PROXY_URL: HTTP 500 InternalError \(after 2 tries\)$" \
	"500 on every try: the summary names the part, object, endpoint, code and tries"
lasting "500 always"

export PGBAK_S3_STALL=1
fault stallall -- 'part:*:stall'
good_object "$K"
go -f
like "$out" "^$K: .*: failed: pgbak-put exited 111: pgbak-put: unable to upload part [0-9]+ of .*: Operation too slow.* \(after 2 tries\)$" \
	"a stall on every try: the summary says too slow"
lasting "stall always"
unset PGBAK_S3_STALL

fault e200all -- 'complete:*:error200'
good_object "$K"
go -f
like "$out" "^$K: .*: failed: pgbak-put exited 111: pgbak-put: unable to complete the upload of s3://$PGBAK_BUCKET/$K at .*: HTTP 200 InternalError \(after 2 tries\)$" \
	"200 with <Error> on every Complete: the summary names the S3 code"
lasting "<Error> always"
unset PGBAK_S3_TRIES

fault badkey 'access_key: "'"$AWS_ACCESS_KEY_ID"'"
access_secret: "wrong-secret"'
good_object "$K"
go -f
like "$out" "^$K: .*: failed: pgbak-put exited 111: pgbak-put: unable to start the upload of s3://$PGBAK_BUCKET/$K at .*: HTTP 403 SignatureDoesNotMatch$" \
	"wrong secret, -f: the summary names SignatureDoesNotMatch"
is "$(count create pass)" 1 "...a 403 is not retried"
unlike "$out$err" "wrong-secret" "...the secret is not shown"
lasting "wrong secret"
go
like "$out" "^$K: .*: failed: pgbak-exists exited 111: pgbak-exists: unable to check s3://$PGBAK_BUCKET/$K at .*: HTTP 403 SignatureDoesNotMatch$" \
	"wrong secret, existence check: the summary names SignatureDoesNotMatch"
is "$st" 111 "...exit 111"

fault nobucket
sed -i "s|^      bucket: .*|      bucket: \"t-no-such-bucket-$$\"|" "$T/nobucket.yml"
go -f
like "$out" "^$K: .*: failed: pgbak-put exited 111: pgbak-put: unable to start the upload of s3://t-no-such-bucket-$$/$K at .*: HTTP 404 NoSuchBucket$" \
	"no such bucket, -f: the summary names NoSuchBucket"
is "$st" 111 "...exit 111"
check "...no process left" no_strays
go
like "$out" "^$K: .*: failed: pgbak-exists exited 111: .*HTTP 404 NoSuchBucket$" \
	"no such bucket, existence check: the summary names NoSuchBucket, not absent"
is "$st" 111 "...exit 111"

export PGBAK_S3_TRIES=2
fault down
port=$(closed_port)
sed -i "s|^      endpoint: .*|      endpoint: \"http://127.0.0.1:$port\"|" "$T/down.yml"
good_object "$K"
go -f
like "$out" "^$K: .*: failed: pgbak-put exited 111: pgbak-put: unable to start the upload of .* at http://127\.0\.0\.1:$port: .*[Cc]onnect.* \(after 2 tries\)$" \
	"endpoint down, -f: the summary names the endpoint and the connection failure"
lasting "endpoint down"
go
like "$out" "^$K: .*: failed: pgbak-exists exited 111: .* at http://127\.0\.0\.1:$port: .*[Cc]onnect" \
	"endpoint down, existence check: the same cause"
is "$st" 111 "...exit 111"
unset PGBAK_S3_TRIES

# Negative twin of all of them: the same settings without a fault.
fault clean
good_object "$K"
go -f
is "$st" 0 "no fault, -f over a good object: exit 0"
like "$out" "^$K: dump 6291456 B, .*: ok$" "...the summary says ok"
check "...the object is replaced by the new backup" exact
! intact_object "$K"; ok $? "...so the previous one is not (intact_object can fail)"
is "$(count part pass)" 2 "...in two parts, none retried"
