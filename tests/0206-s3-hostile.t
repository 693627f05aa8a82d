#!/bin/sh
# The S3 programs against keys and answers a tidy server would not give:
# keys with "." and ".." segments (which other tools can store) round-trip
# under exactly that key.
. "$(dirname "$0")/lib.sh"
plan 16
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
