#!/bin/sh
# pgbak-put then pgbak-get give back the same bytes, at every size where
# the single-PUT / multipart decision or a part boundary could slip, and
# for keys that need encoding.  awscli, an independent client, checks what
# was stored, and the ETag shows a single PUT or how many parts were made.
. "$(dirname "$0")/lib.sh"
plan 68
need_s3
. "$TESTS_DIR/lib/s3obj.sh"

P=$((5 * 1024 * 1024))

# etag_of KEY: the object's ETag as awscli reports it, quotes removed.
etag_of() {
	awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "$1" --query ETag --output text |
		tr -d '"'
}

# roundtrip NAME SIZE PARTS: store SIZE random bytes, check them with awscli
# and pgbak-get, and that PARTS parts were made (0: a single PUT).
roundtrip() {
	name=$1 size=$2 parts=$3 key="sizes/$1.bin"
	head -c "$size" /dev/urandom >"$T/in"
	check "$name: pgbak-put stores $size bytes" run pgbak-put --part-size 5MiB "$key" <"$T/in"
	awsref s3api get-object --bucket "$PGBAK_BUCKET" --key "$key" "$T/ref" >/dev/null
	check "$name: awscli reads the same bytes back" cmp -s "$T/in" "$T/ref"
	run pgbak-get "$key" >"$T/out"
	is "$?" 0 "$name: pgbak-get exits 0"
	check "$name: pgbak-get gives the same bytes" cmp -s "$T/in" "$T/out"
	if [ "$parts" -eq 0 ]; then
		is "$(etag_of "$key")" "$(openssl md5 -r <"$T/in" | cut -c1-32)" \
			"$name: one PUT (ETag is the MD5 of the data)"
	else
		like "$(etag_of "$key")" "^[0-9a-f]{32}-$parts$" "$name: $parts parts"
	fi
	awsref s3api delete-object --bucket "$PGBAK_BUCKET" --key "$key" >/dev/null
	rm -f "$T/in" "$T/ref" "$T/out"
}

roundtrip empty 0 0
roundtrip one-byte 1 0
roundtrip part-minus-1 $((P - 1)) 0
roundtrip part $P 1
roundtrip part-plus-1 $((P + 1)) 2
roundtrip three-parts-plus-1 $((3 * P + 1)) 4
# Under valgrind (make check-valgrind) 200 MiB would take many minutes;
# 24 MiB still makes 5 parts.
if [ "${PGBAK_VALGRIND:-0}" = 1 ]; then
	roundtrip 24MiB $((24 * 1024 * 1024)) 5
else
	roundtrip 200MiB $((200 * 1024 * 1024)) 40
fi

# A stream through a pipe (reads return short), with the default 8 MiB parts.
head -c $((20 * 1024 * 1024 + 7)) /dev/urandom >"$T/in"
cat "$T/in" | run pgbak-put pipe/default.bin
is "$?" 0 "a pipe of 20 MiB + 7 with default settings is stored"
pgbak-get pipe/default.bin | cmp -s - "$T/in"
ok $? "...and reads back the same"
like "$(etag_of pipe/default.bin)" "^[0-9a-f]{32}-3$" "...in three 8 MiB parts"
# The same bytes from a regular file: its size is known, so the parts are
# the smallest that fit (5 MiB: 4 parts); the pipe above could not know.
run pgbak-put file/default.bin <"$T/in"
is "$?" 0 "the same 20 MiB + 7 from a file with default settings is stored"
pgbak-get file/default.bin | cmp -s - "$T/in"
ok $? "...and reads back the same"
like "$(etag_of file/default.bin)" "^[0-9a-f]{32}-5$" "...in 5 MiB parts, as its size is known"

# Keys that need URI encoding, and one that is only a deep path.
printf 'key data\n' >"$T/k"
for key in 'with space/a b.gz' 'plus+sign/a+b.gz' 'percent%/100%25.gz' 'tilde~/~x.gz' \
	'equals=and&amp/a=b&c=d.gz' 'question?hash#/x' 'unicodé/ключ/数据.gz' \
	'a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/deep.gz'; do
	run pgbak-put "$key" <"$T/k"
	is "$?" 0 "put '$key'"
	is "$(awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --prefix "$key" \
		--query 'Contents[].Key' --output text)" "$key" "awscli lists exactly '$key'"
	pgbak-get "$key" | cmp -s - "$T/k"
	ok $? "get '$key' gives the data back"
done

# The negative twins: an absent key is exit 1 with nothing on stdout.
out=$(run pgbak-get 'with space/absent.gz' 2>"$T/err"); st=$?
is "$st" 1 "pgbak-get of an absent key: exit 1"
is "$out" "" "...and nothing on stdout"
like "$(cat "$T/err")" "s3://$PGBAK_BUCKET/with space/absent.gz does not exist" "...and says so"
