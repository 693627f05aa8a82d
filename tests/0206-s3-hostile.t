#!/bin/sh
# The S3 programs against keys and answers a tidy server would not give:
# keys with "." and ".." segments (which other tools can store) round-trip
# under exactly that key.  A Complete whose answer does not say
# CompleteMultipartUploadResult (empty, not XML, cut) publishes only when the
# object is there with our parts; else the upload is aborted, nothing left.
. "$(dirname "$0")/lib.sh"
plan 33
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
