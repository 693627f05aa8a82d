#!/bin/sh
# The S3 programs against keys and answers a tidy server would not give:
# keys with "." and ".." segments (which other tools can store) round-trip
# under exactly that key.  A Complete whose answer does not say
# CompleteMultipartUploadResult (empty, not XML, cut) publishes only when the
# object is there with our parts; else the upload is aborted, nothing left.
# Error bodies that never end are cut and judged; --timeout ends any run in
# time; a redirect is named, with where it points but not its query.
. "$(dirname "$0")/lib.sh"
plan 74
need_s3
. "$TESTS_DIR/lib/s3obj.sh"

# A small whole "dump", so that pgbak-verify has something good to read.
printf -- '--\n-- PostgreSQL database dump\n--\n\nselect 1;\n\n--\n-- PostgreSQL database dump complete\n--\n\n' |
	gzip -n >"$T/dump.gz"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$T/big"

# Dot segments are part of the key, not a path for curl to tidy after
# signing: put, exists, get and verify use the key as given, and awscli
# sees that very key.
for key in 'sp/./a.gz' 'sp/../b.gz'; do
	run pgbak-put "$key" <"$T/dump.gz"
	is $? 0 "put '$key'"
	is "$(awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --prefix "$key" \
		--query 'Contents[].Key' --output text)" "$key" "...awscli lists exactly '$key'"
	check_status 0 "...pgbak-exists finds it" run pgbak-exists "$key"
	run pgbak-get "$key" | cmp -s - "$T/dump.gz"
	ok $? "...pgbak-get gives the bytes back"
	check_status 0 "...pgbak-verify reads it whole" run pgbak-verify "$key"
done
run pgbak-put --part-size 5MiB 'sp/./big.bin' <"$T/big"
is $? 0 "a multipart upload to 'sp/./big.bin'"
awsref s3api get-object --bucket "$PGBAK_BUCKET" --key 'sp/./big.bin' "$T/ref" >/dev/null
check "...awscli reads the same bytes under that key" cmp -s "$T/ref" "$T/big"
# The negative twins: nothing landed under the tidied keys.
check_status 1 "no object 'sp/a.gz' (the key without its '.')" pgbak-exists 'sp/a.gz'
check_status 1 "no object 'b.gz' (the key with its '..' resolved)" pgbak-exists 'b.gz'
check_status 1 "no object 'sp/big.bin'" pgbak-exists 'sp/big.bin'
is "$(uploads 'sp/./big.bin')" "" "no multipart upload left"

# count KIND ACTION: requests of KIND the proxy logged with ACTION.
count() { grep -c "^$1 [0-9]* $2\$" "$PROXY_LOG"; }
# put_via RULE KEY: pgbak-put $T/big through a proxy with RULE.
put_via() {
	start_proxy --rule "$1"
	run pgbak-put --part-size 5MiB -e "$PROXY_URL" "$2" <"$T/big" 2>"$T/err"
}

# Complete answered 200 but the server never saw it: not published.
for rule in empty200 garbage; do
	put_via "complete:1:$rule" "c-$rule.bin"
	is $? 111 "Complete answered 200 with $rule, not sent on: exit 111"
	case $rule in
	empty200) why='an empty body, not a' ;;
	*) why='a body that is not a' ;;
	esac
	like "$(cat "$T/err")" "^pgbak-put: unable to complete the upload of s3://$PGBAK_BUCKET/c-$rule\.bin at $PROXY_URL: HTTP 200 with $why CompleteMultipartUploadResult\$" \
		"...one line naming the reply"
	is "$(lines "$(cat "$T/err")")" 1 "...and only that line"
	check "...no object" absent "c-$rule.bin"
	is "$(uploads "c-$rule.bin")" "" "...the upload was aborted: no parts left billed"
done

# The negative twins: Complete took effect and only its answer was lost
# (an empty 200; a cut connection, each time curl sends it again): the object is there
# with our parts, so it is published, exact, and not aborted.
put_via complete:1:lost200 c-lost200.bin
is $? 0 "Complete done, its answer an empty 200: exit 0"
is "$(count complete lost200):$(count complete pass)" 1:0 "...Complete was sent once"
awsref s3api get-object --bucket "$PGBAK_BUCKET" --key c-lost200.bin "$T/ref" >/dev/null
check "...awscli reads the same bytes" cmp -s "$T/ref" "$T/big"
is "$(count abort pass)" 0 "...no abort was sent"
PGBAK_S3_TRIES=1 put_via 'complete:*:lostcut' c-lostcut.bin
is $? 0 "Complete done, its connection cut, not tried again: exit 0"
awsref s3api get-object --bucket "$PGBAK_BUCKET" --key c-lostcut.bin "$T/ref" >/dev/null
check "...awscli reads the same bytes" cmp -s "$T/ref" "$T/big"
is "$(count abort pass)" 0 "...no abort was sent"

# An error body that never ends is read only as far as S3_BODY_MAX: the
# request is judged by its status and code, retried, and the program ends
# by itself.  (timeout 60 only keeps a regression from hanging the suite.)
printf 'a small object\n' >"$T/small"
pgbak-put small.txt <"$T/small" && pgbak-put dump.gz <"$T/dump.gz" || exit 1
start_proxy --rule 'get:1:endless500'
timeout 60 pgbak-get -e "$PROXY_URL" small.txt >"$T/out" 2>"$T/err"
is $? 0 "get: one 500 with an endless body, then the object: exit 0"
check "...the bytes are exact" cmp -s "$T/out" "$T/small"
start_proxy --rule 'get:*:endless500'
PGBAK_S3_TRIES=2 timeout 60 pgbak-get -e "$PROXY_URL" small.txt >"$T/out" 2>"$T/err"
is $? 111 "get: a 500 with an endless body every time: exit 111"
like "$(cat "$T/err")" "^pgbak-get: unable to download s3://$PGBAK_BUCKET/small\\.txt at $PROXY_URL: HTTP 500 InternalError \\(after 2 tries\\)\$" \
	"...naming the status and the code from the start of the body"
PGBAK_S3_TRIES=2 timeout 60 pgbak-verify -e "$PROXY_URL" dump.gz 2>"$T/err"
is $? 111 "verify: the same: exit 111"
like "$(cat "$T/err")" "HTTP 500 InternalError \\(after 2 tries\\)\$" "...naming the code"
start_proxy --rule 'head:*:403' --rule 'get:*:endless500'
PGBAK_S3_TRIES=2 timeout 60 pgbak-exists -e "$PROXY_URL" small.txt 2>"$T/err"
is $? 111 "exists: a 403, and its probe an endless 500: exit 111"
start_proxy --rule 'list:*:endless500'
PGBAK_S3_TRIES=2 timeout 60 pgbak-prune -e "$PROXY_URL" --keep-days 1 db/x- 2>"$T/err"
is $? 111 "prune: a listing answered by an endless 500: exit 111"
like "$(cat "$T/err")" "HTTP 500 InternalError \\(after 2 tries\\)\$" "...naming the code"

# The low-speed limit holds every transfer, --timeout or not: a stalled
# answer is dropped and asked again.
start_proxy --rule 'get:1:stall'
PGBAK_S3_STALL=2 timeout 60 pgbak-get -e "$PROXY_URL" small.txt >"$T/out" 2>"$T/err"
is $? 0 "get: a stalled answer (low-speed limit 2 s) is asked again: exit 0"
check "...the bytes are exact" cmp -s "$T/out" "$T/small"

# --timeout SECONDS: the whole run, retries and waits included, ends then,
# exit 111 with a line naming the timeout, however the server behaves.
# within CMD...: run CMD (stderr to $T/err); its status, and "fast" when it
# took under 30 s (a 2 s deadline; a stall alone would be 60 s a try).
within() {
	_t0=$(date +%s)
	timeout 120 "$@" >"$T/out" 2>"$T/err"
	_st=$?
	[ $(($(date +%s) - _t0)) -lt 30 ] && echo "$_st fast" || echo "$_st slow"
}
timed_out() {
	like "$(cat "$T/err")" "^$1: unable to $2 s3://$PGBAK_BUCKET/$3 at $PROXY_URL: timed out after 2 s \\(--timeout\\)\$" \
		"...one line naming the timeout"
}
start_proxy --rule 'get:*:endless200'
is "$(within pgbak-get --timeout 2 -e "$PROXY_URL" small.txt)" "111 fast" \
	"get --timeout 2: a 200 whose body never ends: exit 111 in time"
timed_out pgbak-get download small.txt
start_proxy --rule 'get:*:stall'
is "$(within pgbak-verify --timeout 2 -e "$PROXY_URL" dump.gz)" "111 fast" \
	"verify --timeout 2: a stalled download: exit 111 in time"
timed_out pgbak-verify download dump.gz
start_proxy --rule 'head:*:stall'
is "$(within pgbak-exists --timeout 2 -e "$PROXY_URL" small.txt)" "111 fast" \
	"exists --timeout 2: a stalled HEAD: exit 111 in time, not absent"
timed_out pgbak-exists check small.txt
start_proxy --rule 'list:*:stall'
is "$(within pgbak-prune --timeout 2 -e "$PROXY_URL" --keep-days 1 db/x-)" "111 fast" \
	"prune --timeout 2: a stalled listing: exit 111 in time"
timed_out pgbak-prune 'list the objects of' ''
# The negative twins: a deadline that is not reached changes nothing.
start_proxy
is "$(within pgbak-get --timeout 60 -e "$PROXY_URL" small.txt)" "0 fast" \
	"get --timeout 60 through a well-behaved proxy: exit 0"
check "...the bytes are exact" cmp -s "$T/out" "$T/small"
check_status 0 "verify --timeout 60: good" pgbak-verify --timeout 60 -e "$PROXY_URL" dump.gz
check_status 0 "exists --timeout 60: exists" pgbak-exists --timeout 60 -e "$PROXY_URL" small.txt
check_status 1 "exists --timeout 60: absent" pgbak-exists --timeout 60 -e "$PROXY_URL" nosuch.txt
check_status 0 "prune --timeout 60: nothing to do" \
	pgbak-prune --timeout 60 -e "$PROXY_URL" --keep-days 1 db/x-
for bad in x -1 1.5 ''; do
	check_status 100 "get --timeout '$bad': usage error" pgbak-get --timeout "$bad" small.txt \
		2>/dev/null
done
check_status 100 "verify -f FILE --timeout 2: usage error (a local file)" \
	pgbak-verify -f "$T/dump.gz" --timeout 2 2>/dev/null

# A redirect is named as one, with where it points, but never its query (a
# presigned URL's credentials): from the Location header, or from the
# <Endpoint> of S3's PermanentRedirect when there is no Location.
start_proxy --rule 'any:*:redirect301'
for prog in 'pgbak-get small.txt' 'pgbak-exists small.txt' 'pgbak-put r.txt'; do
	set -- $prog
	"$1" -e "$PROXY_URL" "$2" <"$T/small" >/dev/null 2>"$T/err"
	is $? 111 "$1: a 301 with a Location: exit 111"
	like "$(cat "$T/err")" ": the server redirected to http://127\.0\.0\.1:9/$PGBAK_BUCKET/$2 \(HTTP 301 PermanentRedirect\)\$" \
		"...says the server redirected, and to where"
	unlike "$(cat "$T/err")" "s3cr3t|X-Amz|\?" "...without the query"
done
start_proxy --rule 'any:*:moved301'
pgbak-get -e "$PROXY_URL" small.txt >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "^pgbak-get: unable to download s3://$PGBAK_BUCKET/small\.txt at $PROXY_URL: the server redirected to b\.s3\.eu-west-1\.amazonaws\.com \(HTTP 301 PermanentRedirect\)\$" \
	"a 301 without a Location: the <Endpoint> it names"
# The negative twin: a refusal is not called a redirect.
start_proxy --rule 'get:*:403'
pgbak-get -e "$PROXY_URL" small.txt >/dev/null 2>"$T/err"
like "$(cat "$T/err")" "^pgbak-get: unable to download s3://$PGBAK_BUCKET/small\.txt at $PROXY_URL: HTTP 403 AccessDenied\$" \
	"a 403 still reads HTTP 403 AccessDenied, no redirect"
