#!/bin/sh
# A multipart upload outlives its credentials: pgbak-put, with keys only
# from web identity, uploads a first part, then the credentials come
# within the refresh margin of their Expiration; the next part is signed
# with fresh ones, fetched again, and the object is whole.  The twin:
# credentials that expire half-way and that STS no longer renews make the
# upload fail, with the line that says so, and leave no object.
# The input comes through a FIFO the test writes, so "half-way" is an
# event (a part listed by the RGW, the clock past a time), not a delay.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
. "$TESTS_DIR/lib/metaserver.sh"
plan 14
need_s3_sts

printf 'eyJhbGciOiJSUzI1NiJ9.pgbak-refresh.sig\n' >"$T/wit"
head -c 6291456 /dev/urandom >"$T/a"
head -c 6291456 /dev/urandom >"$T/b"
cat "$T/a" "$T/b" >"$T/all"

# put KEY: pgbak-put KEY in the background, reading the FIFO $T/in, keys
# only from web identity at $M; sets PID, the writer is descriptor 3.
put() {
	rm -f "$T/in"
	mkfifo "$T/in" || exit 1
	(
		creds_unset
		export AWS_ROLE_ARN="$META_ROLE_ARN" AWS_ENDPOINT_URL_STS="$META_URL/" \
			AWS_WEB_IDENTITY_TOKEN_FILE="$T/wit"
		run pgbak-put -v --part-size 5MiB --parallel 1 "$1" <"$T/in" >"$T/out" 2>"$T/err"
	) &
	PID=$!
	at_exit "kill $PID"
	exec 3>"$T/in"
}

# parts KEY: how many parts the upload of KEY has at the RGW now.
parts() {
	_u=$(awsref s3api list-multipart-uploads --bucket "$PGBAK_BUCKET" --prefix "$1" \
		--query 'Uploads[0].UploadId' --output text 2>/dev/null)
	case $_u in ''|None) echo 0; return ;; esac
	awsref s3api list-parts --bucket "$PGBAK_BUCKET" --key "$1" --upload-id "$_u" \
		--query 'length(Parts)' --output text 2>/dev/null || echo 0
}

# wait_parts KEY N: until the upload of KEY has N parts, 60 s at most (a
# deadline, as each look costs two awscli starts); false at once when
# pgbak-put ($PID) has ended without them.
wait_parts() {
	_end=$(($(date +%s) + 60))
	while [ "$(date +%s)" -lt $_end ]; do
		[ "$(parts "$1")" -ge "$2" ] 2>/dev/null && return 0
		kill -0 "$PID" 2>/dev/null || { diag "pgbak-put ended: $(cat "$T/err")"; return 1; }
		sleep 0.2
	done
	return 1
}

# wait_clock EPOCH: until the clock is at EPOCH or past it, 30 s at most.
wait_clock() {
	[ -n "$1" ] || return 1
	_end=$(($(date +%s) + 30))
	while [ "$(date +%s)" -lt "$1" ] && [ "$(date +%s)" -lt $_end ]; do sleep 0.1; done
	[ "$(date +%s)" -ge "$1" ]
}

# expiry N: the Expiration of the Nth fetch, in seconds since the epoch.
expiry() {
	_x=$(sed -n "s/^sts fetch $1 .* expires //p" "$META_LOG")
	[ -n "$_x" ] && date -u -d "$_x" +%s
}

# Refreshed half-way: the first fetch is good for 315 s (15 s outside the
# 300 s margin, time enough for a part under valgrind), the next ones for
# an hour.
start_meta --web-token-file "$T/wit" --expires-in 315,3600
K=refresh/ok.bin
put "$K"
cat "$T/a" >&3
check "the first part is uploaded" wait_parts "$K" 1
is "$(meta_count sts)" 1 "with the credentials of the first fetch"
e1=$(expiry 1) && e1=$((e1 - 299))
check "the clock passes the first credentials' refresh time" wait_clock "$e1"
cat "$T/b" >&3
exec 3>&-
wait $PID; st=$?
is "$st" 0 "the upload completes"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
is "$(meta_count sts)" 2 "two credential fetches"
k1=$(sed -n 's/^sts fetch 1 \([^ ]*\) .*/\1/p' "$META_LOG")
k2=$(sed -n 's/^sts fetch 2 \([^ ]*\) .*/\1/p' "$META_LOG")
[ -n "$k1" ] && [ -n "$k2" ] && [ "$k1" != "$k2" ]
ok $? "two different session keys, both accepted by the RGW"
awsref s3 cp "s3://$PGBAK_BUCKET/$K" "$T/got" --only-show-errors
check "the object is the whole input" cmp -s "$T/got" "$T/all"
grep -qxF "pgbak-put: credentials: web identity, role $META_ROLE_ARN" "$T/err"
ok $? "-v names the source"

# Expired half-way and not renewed: good for 15 s, then STS refuses.
start_meta --web-token-file "$T/wit" --expires-in 15 --refuse-after 1
K=refresh/expired.bin
put "$K"
cat "$T/a" >&3
check "the first part is uploaded" wait_parts "$K" 1
e1=$(expiry 1) && e1=$((e1 + 1))
check "the clock passes the credentials' Expiration" wait_clock "$e1"
cat "$T/b" >&3 2>/dev/null
exec 3>&-
wait $PID; st=$?
[ "$st" -ne 0 ]; ok $? "the upload fails (exit $st)"
like "$(cat "$T/err")" "the credentials from web identity, role $META_ROLE_ARN expired" \
	"the line says they expired"
like "$(cat "$T/err")" "ExpiredTokenException" "and why they were not renewed"
! has_object "$K"; ok $? "no object"
