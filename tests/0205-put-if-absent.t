#!/bin/sh
# pgbak-put --if-absent (issue 13): an upload never publishes over an object
# that exists, single PUT or multipart, whether the object was there before
# the upload began or appeared while it ran; it exits 1 with one line, and
# leaves no upload behind.  Without the flag the same upload replaces the
# object.  Complete carries If-None-Match: * as a single PUT does, for the
# services that honour it there (AWS S3): RGW 16 ignores it on Complete, so
# a proxy that answers 412 as AWS would plays one.
. "$(dirname "$0")/lib.sh"
plan 39
need_s3
. "$TESTS_DIR/lib/s3obj.sh"
P5=--part-size=5MiB

head -c $((11 * 1024 * 1024)) /dev/urandom >"$T/big"	# parts of 5, 5 and 1 MiB
head -c $((3 * 1024 * 1024)) /dev/urandom >"$T/mid"	# one PUT, more than a pipe holds
printf 'the first writer\n' >"$T/first"

first() { awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$1" --body "$T/first" >/dev/null; }

# The object exists before the upload starts.
for what in mid big; do
	k=before-$what
	first "$k"
	run pgbak-put $P5 --if-absent "$k" <"$T/$what" 2>"$T/err"
	is $? 1 "$what, key there before: --if-absent exits 1"
	like "$(cat "$T/err")" "^pgbak-put: s3://$PGBAK_BUCKET/$k.* exists; nothing stored$" \
		"$what: ...and says so in one line"
	is "$(lines "$(cat "$T/err")")" 1 "$what: ...one line only"
	check "$what: ...the first writer's object stands" same "$k" "$T/first"
	is "$(uploads "$k")" "" "$what: ...no upload left"
	run pgbak-put $P5 "$k" <"$T/$what"
	is $? 0 "$what: without --if-absent the same upload exits 0"
	check "$what: ...and replaces the object" same "$k" "$T/$what"
done

# during WHAT KEY [FLAG]: pgbak-put -v $P5 [FLAG] -C 3 KEY reads WHAT through a
# FIFO; once it has read it (so its first HEAD is past) and, for a multipart
# upload, stored every part, the first writer stores KEY, then the commit
# goes.  Sets $st to pgbak-put's status.
during() {
	rm -f "$T/in" "$T/c"
	mkfifo "$T/in" "$T/c"
	run pgbak-put -v $P5 ${3:-} -C 3 "$2" 3<"$T/c" <"$T/in" 2>"$T/err" &
	_put=$!
	exec 4>"$T/c"
	# more than a pipe holds: cat ends only once pgbak-put read most of it
	cat "$T/$1" >"$T/in"
	if [ "$1" = big ]; then
		_i=0
		while ! grep -q 'part 3: ' "$T/err" && [ $_i -lt 600 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		grep -q 'part 3: ' "$T/err" || diag "no part 3 after 60 s: $(cat "$T/err")"
	fi
	first "$2"
	printf 'commit\n' >&4
	exec 4>&-
	wait $_put
	st=$?
}

# The object appears during the upload: If-None-Match on the single PUT,
# the HEAD just before Complete for a multipart upload.
for what in mid big; do
	during "$what" "during-$what" --if-absent
	is "$st" 1 "$what, key stored during the upload: --if-absent exits 1"
	like "$(cat "$T/err")" "during-$what.* exists; nothing stored" "$what: ...and says so"
	check "$what: ...the first writer's object stands" same "during-$what" "$T/first"
	is "$(uploads "during-$what")" "" "$what: ...no upload left"
	during "$what" "replace-$what"
	is "$st" 0 "$what: the same without --if-absent exits 0"
	check "$what: ...and replaces the first writer's object" same "replace-$what" "$T/$what"
done

# A service that honours If-None-Match on Complete and on PUT (the proxy
# answers 412 to a request that carries it, as AWS S3 does when the key exists).
start_proxy --rule 'complete:*:if-none-match' --rule 'put:*:if-none-match'
for what in mid big; do
	k=aws-$what
	run pgbak-put -e "$PROXY_URL" $P5 --if-absent "$k" <"$T/$what" 2>"$T/err"
	is $? 1 "$what: 412 to a request with If-None-Match: exit 1"
	like "$(cat "$T/err")" "$k.* exists; nothing stored" "$what: ...the key exists, it says"
	check "$what: ...nothing stored" absent "$k"
	is "$(uploads "$k")" "" "$what: ...no upload left"
	run pgbak-put -e "$PROXY_URL" $P5 "$k" <"$T/$what" 2>"$T/err"
	is $? 0 "$what: without --if-absent no If-None-Match is sent: stored"
	check "$what: ...the object holds the input" same "$k" "$T/$what"
done
grep -q '^complete 1 if-none-match$' "$PROXY_LOG"
ok $? "the multipart uploads reached Complete through the proxy"
