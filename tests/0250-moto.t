#!/bin/sh
# The S3 programs against a second S3 implementation, moto in server mode
# (issue 16: other providers), so that RGW's XML and edge cases are not the
# only ones they are known to meet.  The core of each: pgbak-put (single PUT,
# multipart), pgbak-exists, pgbak-get, pgbak-verify, pgbak-put --if-absent
# with a real 412 from the server, pgbak-prune, and no upload left behind
# without "commit".  moto is more permissive than RGW and AWS (it checks no
# signature and no Content-MD5, and reports every upload as begun in 2010):
# where it accepts what they refuse, the check is skipped and says why, it
# does not assert what only RGW does.  Without moto the file is skipped.
. "$(dirname "$0")/lib.sh"
need_s3_moto
plan 91
. "$TESTS_DIR/lib/s3obj.sh"
. "$TESTS_DIR/0700-prune-lib.sh"
diag "moto answered $MOTO_START_MS ms after it was started"
P5=--part-size=5MiB
M=$((1024 * 1024))

printf 'small object\n' >"$T/small"
head -c $((11 * M)) /dev/urandom >"$T/big"	# parts of 5, 5 and 1 MiB
printf 'the first writer\n' >"$T/first"

# s3curl ARGS...: curl with its own SigV4, the independent client here
# (awscli takes a second to start; two calls of it are made below).
s3curl() {
	curl -sS --max-time 30 --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}
# url KEY: KEY's URL, every byte but the unreserved ones %XX-encoded.
url() {
	printf '%s/%s/' "$AWS_ENDPOINT_URL" "$PGBAK_BUCKET"
	printf '%s' "$1" | od -An -v -tx1 | awk '
	BEGIN { for (i = 0; i < 256; i++) n[sprintf("%02x", i)] = i }
	{
		for (i = 1; i <= NF; i++) {
			c = n[$i]
			if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ||
			    c == 45 || c == 46 || c == 95 || c == 126 || c == 47)
				printf "%c", c
			else
				printf "%%%s", toupper($i)
		}
	}'
}
head_status() { s3curl -o /dev/null -w '%{http_code}' -I "$(url "$1")"; }
# etag_of KEY: the object's ETag, quotes removed.
etag_of() {
	s3curl -o /dev/null -D - -I "$(url "$1")" |
		sed -n 's/^[Ee][Tt][Aa][Gg]: *"\{0,1\}\([^"]*\)"\{0,1\}.*/\1/p' | tr -d '\r'
}
md5_of() { openssl md5 -r <"$1" | cut -c1-32; }
# first KEY...: another writer stores $T/first under each KEY, in one curl.
first() {
	set -- $(for k in "$@"; do printf -- '-T %s %s\n' "$T/first" "$(url "$k")"; done)
	s3curl -f "$@" >/dev/null
}

# Round trips: one PUT, multipart in 5 MiB parts, the empty object and one
# of exactly one part; curl reads the multipart one back on its own.
head -c $((5 * M)) /dev/urandom >"$T/one-part"
: >"$T/empty"
for what in small big empty one-part; do
	check "$what: pgbak-put stores it" run pgbak-put $P5 "rt/$what" <"$T/$what"
	run pgbak-get "rt/$what" >"$T/out"
	is $? 0 "$what: pgbak-get exits 0"
	check "$what: pgbak-get gives the same bytes" cmp -s "$T/$what" "$T/out"
done
s3curl -f -o "$T/ref" "$(url rt/big)"
check "big: curl reads the same bytes" cmp -s "$T/big" "$T/ref"
is "$(etag_of rt/small)" "$(md5_of "$T/small")" "small: one PUT (ETag is the data's MD5)"
is "$(etag_of rt/empty)" "$(md5_of "$T/empty")" "empty: one PUT"
like "$(etag_of rt/big)" "^[0-9a-f]{32}-3$" "big: three parts"
like "$(etag_of rt/one-part)" "^[0-9a-f]{32}-1$" "exactly one part: a one-part upload"

# Keys that need encoding: listed as stored, and read back.
for key in 'with space/a b.gz' 'plus+sign/a+b.gz' 'equals=and&amp/a=b&c=d.gz' \
	'unicodé/ключ/数据.gz' 'tilde~/~x.gz'; do
	run pgbak-put "$key" <"$T/small"
	is $? 0 "put '$key'"
	is "$(keys_under '' | grep -cFx "$key")" 1 "'$key' is listed as stored"
	pgbak-get "$key" | cmp -s - "$T/small"
	ok $? "get '$key' gives the data back"
done

# pgbak-exists: present 0, absent 1, cannot tell 111.
check_status 0 "exists: present key: exit 0" run pgbak-exists rt/small
check_status 1 "exists: absent key: exit 1" run pgbak-exists rt/absent
check_status 1 "exists: a prefix of a present key is absent" pgbak-exists rt/sma
out=$(run pgbak-exists -v rt/big)
like "$out" "^size: $((11 * M))
etag: \"[0-9a-f]{32}-3\"
last-modified: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" "exists -v: size, ETag and time"
is "$(pgbak-exists -v rt/absent 2>&1)" "pgbak-exists: credentials: environment" \
	"exists -v: nothing for an absent key but where the credentials came from"
err=$(run pgbak-exists -b "nosuch-$PGBAK_BUCKET" rt/small 2>&1); st=$?
is "$st" 111 "exists: missing bucket: exit 111, not 1"
is "$err" "pgbak-exists: unable to check s3://nosuch-$PGBAK_BUCKET/rt/small at $AWS_ENDPOINT_URL: HTTP 404 NoSuchBucket" \
	"exists: missing bucket: one line with the S3 code"
# moto checks no signature: a wrong secret is not refused there (0201 checks
# the 403 on RGW), so only a refusal is checked.
err=$(AWS_SECRET_ACCESS_KEY=wrong-secret pgbak-exists rt/small 2>&1); st=$?
if [ "$st" -eq 0 ]; then
	skip "moto does not check SigV4 signatures: a wrong secret is not refused"
else
	like "$st:$err" "^111:.*HTTP 403 " "exists: wrong secret: exit 111 and the 403"
fi
# pgbak-put's proof that a part arrived whole is the server's Content-MD5
# check (0204 shows RGW refusing a damaged body); a body that does not
# match its Content-MD5 shows whether this server makes it.
st=$(s3curl -o /dev/null -w '%{http_code}' -T "$T/small" \
	-H "Content-MD5: $(printf 'other bytes' | openssl md5 -binary | base64)" "$(url md5/bad)")
if [ "$st" = 200 ]; then
	skip "moto does not check Content-MD5: a damaged part would be stored"
else
	is "$st:$(head_status md5/bad)" 400:404 "a Content-MD5 mismatch: 400, nothing stored"
fi

# pgbak-get: an absent key is exit 1 with nothing on stdout, a missing bucket 111.
out=$(run pgbak-get rt/absent 2>"$T/err"); st=$?
is "$st:$out" "1:" "get: absent key: exit 1, nothing on stdout"
like "$(cat "$T/err")" "s3://$PGBAK_BUCKET/rt/absent does not exist" "get: ...and says so"
out=$(run pgbak-get -b "nosuch-$PGBAK_BUCKET" rt/small 2>"$T/err"); st=$?
is "$st:$out" "111:" "get: missing bucket: exit 111, nothing on stdout"
like "$(cat "$T/err")" "HTTP 404 NoSuchBucket$" "get: ...NoSuchBucket"

# pgbak-verify: a whole dump 0, one cut short 1, an absent key 111.
printf -- '--\n-- PostgreSQL database dump\n--\n\nSELECT 1;\n\n--\n-- PostgreSQL database dump complete\n--\n\n' |
	gzip -n >"$T/dump.gz"
run pgbak-put v/good.gz <"$T/dump.gz"
head -c $(($(wc -c <"$T/dump.gz") - 1)) "$T/dump.gz" | run pgbak-put v/cut.gz
out=$(run pgbak-verify -v v/good.gz); st=$?
like "$st:$out" "^0:s3://$PGBAK_BUCKET/v/good.gz: ok, $(wc -c <"$T/dump.gz") bytes compressed" \
	"verify: a whole dump: exit 0, ok"
run pgbak-verify v/cut.gz 2>"$T/err"
is $? 1 "verify: the same cut short: exit 1"
like "$(cat "$T/err")" "v/cut.gz: truncated" "verify: ...truncated, it says"
check_status 111 "verify: an absent key: exit 111" pgbak-verify v/absent.gz 2>/dev/null

# The commit handshake: no "commit", no object (and no upload left: the
# awscli listing at the end); with it, the object.
for what in small big; do
	run pgbak-put $P5 -C 3 "nocommit-$what" <"$T/$what" 3</dev/null 2>"$T/err"
	is $? 111 "$what: commit fd closed without \"commit\": exit 111"
	like "$(cat "$T/err")" "upstream failed; upload aborted" "$what: ...says so"
	is "$(head_status "nocommit-$what")" 404 "$what: ...no object"
	printf 'commit\n' >"$T/yes"
	check "$what: with \"commit\" it is stored" run pgbak-put $P5 -C 3 \
		"commit-$what" <"$T/$what" 3<"$T/yes"
	check "$what: ...all of it" same "commit-$what" "$T/$what"
done

# --if-absent: a key there before is never replaced; without the flag it is.
for what in small big; do
	k=before-$what
	first "$k"
	run pgbak-put $P5 --if-absent "$k" <"$T/$what" 2>"$T/err"
	is $? 1 "$what, key there before: --if-absent exits 1"
	like "$(cat "$T/err")" "^pgbak-put: s3://$PGBAK_BUCKET/$k exists; nothing stored$" \
		"$what: ...one line saying so"
	check "$what: ...the first writer's object stands" same "$k" "$T/first"
	check "$what: without --if-absent the same upload replaces it" run pgbak-put $P5 "$k" \
		<"$T/$what"
	check "$what: ...with the input" same "$k" "$T/$what"
done
check "--if-absent on an absent key stores it" run pgbak-put --if-absent new <"$T/small"

# moto answers If-None-Match: * on an existing key with 412, on a PUT and on
# Complete (RGW 16 only on a PUT; 0205 plays AWS there with the proxy).  A
# proxy that says the key is absent (404 to its HEAD) lets the upload reach
# the write, so the 412 comes from moto itself.  The twin, without the
# flag, goes to moto directly (through the proxy its final HEAD would fail).
start_proxy --rule 'head:*:absent'
for what in small big; do
	k=race-$what
	first "$k"
	run pgbak-put -e "$PROXY_URL" $P5 --if-absent "$k" <"$T/$what" 2>"$T/err"
	is $? 1 "$what: moto's own 412 to If-None-Match: exit 1"
	like "$(cat "$T/err")" "^pgbak-put: s3://$PGBAK_BUCKET/$k exists; nothing stored$" \
		"$what: ...the key exists, it says"
	check "$what: ...the first writer's object stands" same "$k" "$T/first"
	check "$what: without --if-absent: stored" run pgbak-put $P5 "$k" <"$T/$what"
	check "$what: ...the object holds the input" same "$k" "$T/$what"
done
grep -q '^put 1 pass$' "$PROXY_LOG" && grep -q '^complete 1 pass$' "$PROXY_LOG"
ok $? "the PUT and the Complete with If-None-Match reached moto"

# --abort-stale=0 aborts the uploads of exactly KEY, not its neighbours'.
for k in stale.bin stale.bin.other; do
	s3curl -f -X POST "$(url "$k")?uploads" >/dev/null
done
run pgbak-put --abort-stale=0 stale.bin </dev/null
is $? 0 "--abort-stale=0: exit 0"

# awscli lists the uploads left: only stale.bin.other's, whatever failed
# above (no "commit", a 412 on Complete, --abort-stale=0 on stale.bin).
awsref s3api list-multipart-uploads --bucket "$PGBAK_BUCKET" \
	--query 'Uploads[].[Key,Initiated]' --output text >"$T/uploads"
is "$(cut -f1 "$T/uploads")" stale.bin.other "uploads left: only the one of stale.bin.other"
# moto's ListMultipartUploads gives every upload the Initiated time
# 2010-11-10T20:48:33.000Z, so it cannot show that a young one is kept.
init=$(cut -f2 "$T/uploads")
case $init in
2010-11-10T20:48:33*)
	skip "moto says every upload began on $init: --abort-stale's age cannot be seen here" ;;
*)
	run pgbak-put --abort-stale stale.bin.other </dev/null
	is "$(uploads stale.bin.other | wc -w)" 1 "--abort-stale: an upload younger than 1h is kept" ;;
esac

# pgbak-prune: ten days of two series, one with a name XML must escape, and
# keys beside them that are not backups; a dry run deletes nothing, then
# --keep-daily 3 leaves the three newest of each and every other key.
for db in app 'x&y <z>'; do
	days 20250101 20250110 "db/$db/$db-" .gz
done | sort >"$T/series"
printf '%s\n' 'db/app/app-20250101.gz.bak' 'db/app/other-20250101.gz' \
	'db/app/app-20250101.gz/extra' 'db/x&y <z>/x&y <z>-2025010.gz' | sort >"$T/decoys"
sort "$T/series" "$T/decoys" >"$T/all"
set --
while IFS= read -r k; do set -- "$@" "$k"; done <"$T/all"
first "$@"
is "$(keys_under db/)" "$(cat "$T/all")" "prune: the 24 keys are there"
out=$(run pgbak-prune -n --keep-daily 3 --today 20250110 db/app/app 'db/x&y <z>/x&y <z>')
is $? 0 "prune -n: exit 0"
is "$(printf '%s\n' "$out" | grep -c '^delete ')" 14 "prune -n: 14 to delete"
is "$(keys_under db/)" "$(cat "$T/all")" "prune -n: nothing deleted"
run pgbak-prune --keep-daily 3 --today 20250110 db/app/app 'db/x&y <z>/x&y <z>' 2>"$T/err"
is $? 0 "prune: exit 0"
{ grep -e '-2025010[89]\.gz$' -e '-20250110\.gz$' "$T/series"; cat "$T/decoys"; } | sort >"$T/left"
is "$(keys_under db/)" "$(cat "$T/left")" "prune: the 3 newest of each and the decoys are left"
check_status 1 "exists: a pruned key is absent" pgbak-exists 'db/x&y <z>/x&y <z>-20250101.gz'
