#!/bin/sh
# pgbak-get -p N: N ranged GETs in flight, written out in order.  The
# bytes are exact over many ranges (PGBAK_GET_RANGE makes them small), a
# range cut mid-body is resumed, a range that keeps failing is exit 111
# and never "fetched"; an object of one range is one GET; the stored
# objects are written with awscli, the independent client.  The other
# ranges are opened only when the first byte was late (the proxy holds the
# first answer): else the rest comes as one stream.
. "$(dirname "$0")/lib.sh"
plan 59
need_s3

R=262144	# bytes a range: 13 ranges for 3 MiB + a bit
export PGBAK_GET_RANGE=$R
# The ranges in flight whatever the first byte's latency, but where a test
# says otherwise: these tests are of the ranges themselves.
export PGBAK_GET_LATENCY_MS=0
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$T/big"
head -c $((R - 1)) /dev/urandom >"$T/one"
head -c $R /dev/urandom >"$T/exact"
: >"$T/empty"
for f in big one exact empty; do
	awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "r/$f" --body "$T/$f" >/dev/null ||
		exit 1
done
# gets: GET requests the proxy logged (with ACTION: only those)
gets() { grep -c "^get [0-9]* ${1:-}" "$PROXY_LOG"; }

# Round trips, through a proxy that counts the requests.
start_proxy
run pgbak-get -v -e "$PROXY_URL" r/big >"$T/out" 2>"$T/err"
is $? 0 "13 ranges, 24 in flight (the default): exit 0"
check "...the bytes are exact" cmp -s "$T/out" "$T/big"
is "$(gets)" 13 "...in 13 GET requests"
like "$(cat "$T/err")" "^pgbak-get: fetched s3://$PGBAK_BUCKET/r/big: 3158073 bytes, " "...and -v says fetched"
for p in 1 2 64; do
	run pgbak-get -p $p r/big >"$T/out"
	is $? 0 "-p $p: exit 0"
	check "...the bytes are exact" cmp -s "$T/out" "$T/big"
done
start_proxy
run pgbak-get -p 8 -e "$PROXY_URL" r/one >"$T/out"
is "$?:$(gets)" "0:1" "an object one byte short of a range: one GET"
check "...exact" cmp -s "$T/out" "$T/one"
start_proxy
run pgbak-get -p 8 -e "$PROXY_URL" r/exact >"$T/out"
is "$?:$(gets)" "0:1" "an object of exactly one range: one GET"
check "...exact" cmp -s "$T/out" "$T/exact"
run pgbak-get r/empty >"$T/out"
is "$?:$(wc -c <"$T/out" | tr -d ' ')" "0:0" "an empty object: exit 0, no bytes"
run pgbak-get r/absent >"$T/out" 2>"$T/err"
is "$?:$(wc -c <"$T/out" | tr -d ' ')" "1:0" "an absent object: exit 1, no bytes"
is "$(cat "$T/err")" "pgbak-get: s3://$PGBAK_BUCKET/r/absent does not exist" "...and says so"

# big DESC ARGS...: pgbak-get -v ARGS r/big through the proxy: exit 0, the
# bytes exact (2 tests); -v's lines in $T/err.
big() {
	d=$1
	shift
	run pgbak-get -v "$@" -e "$PROXY_URL" r/big >"$T/out" 2>"$T/err"
	is $? 0 "$d: exit 0"
	check "...the bytes are exact" cmp -s "$T/out" "$T/big"
}

# More ranges in flight than buffers: while the head range is late (the
# proxy holds its answer until pgbak-get -v says a range waits for a
# buffer: an event, not a time), 7 later ones fill the 7 buffers and the
# others wait, paused, until the head frees one; the bytes stay exact.
vg=
[ "${PGBAK_VALGRIND:-0}" = 1 ] &&	# as run() does, but in the background as itself
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
# held P WHEN DESC: pgbak-get -v -p P r/big in the background, the second
# range held by the proxy until the shell test WHEN holds (at most 120 s);
# exit 0 and exact bytes (2 tests).
held() {
	rm -f "$T/release"
	start_proxy --rule "get:2:hold-until=$T/release"
	$vg pgbak-get -v -p "$1" -e "$PROXY_URL" r/big >"$T/out" 2>"$T/err" &
	bg=$!
	i=0
	until eval "$2" || [ $i -ge 1200 ]; do sleep 0.1; i=$((i + 1)); done
	touch "$T/release"
	wait $bg
	is $? 0 "$3: exit 0"
	check "...the bytes are exact" cmp -s "$T/out" "$T/big"
}
held 16 'grep -q "waits for one of 7 buffers" "$T/err"' "-p 16, the second range held"
is "$(gets)" 13 "...in 13 GET requests"
like "$(cat "$T/err")" "ranges waited [0-9]+ times for one of 7 buffers" "...ranges waited for a buffer"
# The negative twin: -p 7, a buffer for each range in flight, none waits
# (held until the proxy saw the 8 GETs the 7 slots can make meanwhile).
held 7 '[ "$(gets)" -ge 8 ]' "-p 7, the second range held"
unlike "$(cat "$T/err")" "waited" "...and no range waited for a buffer"

# Ranges in flight only when the first byte was late, or the first range
# slow.  The bars are 1 s and 1 MiB/s here, so that a loaded machine stays
# within them; the proxy holds the first answer 3 s, or sends it at 256
# KiB/s, beyond them.
PGBAK_GET_LATENCY_MS=1000 PGBAK_GET_STREAM_MIBS=1
export PGBAK_GET_STREAM_MIBS
start_proxy --rule get:1:hold=3
big "the first byte 3 s late"
is "$(gets)" 13 "...in 13 ranged GETs, the other ranges opened"
like "$(cat "$T/err")" "first byte after [0-9]+ ms: ranges in flight" "...and -v says why"
start_proxy --rule get:1:trickle=262144
big "the first range at 256 KiB/s"
is "$(gets)" 13 "...in 13 ranged GETs, the other ranges opened"
like "$(cat "$T/err")" "first byte after [0-9]+ ms, the first range at 0 MiB/s: ranges in flight" \
	"...and -v says why"
start_proxy
big "the first byte in time, the first range fast"
is "$(gets)" 2 "...in 2 GETs: the first range, then the rest as one stream"
like "$(cat "$T/err")" "first byte after [0-9]+ ms, the first range at [0-9]+ MiB/s: one stream" \
	"...and -v says why"
start_proxy --rule get:2:drop-after=1000000
big "the one stream cut mid-body"
is "$(gets)" 3 "...resumed by one more GET"
PGBAK_GET_LATENCY_MS=0

# A range cut mid-body: resumed from its first byte not received.
start_proxy --rule get:3:drop-after=100000 --rule get:7:drop-after=5000
run pgbak-get -v -e "$PROXY_URL" r/big >"$T/out" 2>"$T/err"
is $? 0 "two ranges cut mid-body: exit 0"
check "...the bytes are exact" cmp -s "$T/out" "$T/big"
is "$(gets)" 15 "...in 13 + 2 requests"
# A reset may take the bytes it cut with it (then the range is asked again
# whole, as a retry): each resume -v reports starts inside its range.
sed -n 's/.*; resuming at byte \([0-9]*\)$/\1/p' "$T/err" >"$T/at"
[ "$(wc -l <"$T/at")" -le 2 ] && awk -v r=$R '$1 % r == 0 { exit 1 }' "$T/at"
ok $? "...resumed inside the range, from the first byte not received: $(tr '\n' ' ' <"$T/at")"
# The negative twin: the first range ever cut, the first byte never given twice.
start_proxy --rule get:1:drop-after=1000
run pgbak-get -e "$PROXY_URL" r/big >"$T/out" 2>"$T/err"
is $? 0 "the first range cut: exit 0"
check "...exact" cmp -s "$T/out" "$T/big"

# A range that keeps failing: exit 111, named, no "fetched".
rules=
for n in $(seq 2 40); do rules="$rules --rule get:$n:500"; done
start_proxy $rules
PGBAK_S3_TRIES=2 run pgbak-get -v -e "$PROXY_URL" r/big >"$T/out" 2>"$T/err"
is $? 111 "every range after the first answered 500: exit 111"
like "$(tail -1 "$T/err")" "^pgbak-get: unable to download bytes [0-9]+-[0-9]+ of s3://$PGBAK_BUCKET/r/big at $PROXY_URL: HTTP 500 InternalError \\(after 2 tries\\)\$" \
	"...naming the range, the object and the cause"
is "$(grep -c fetched "$T/err")" 0 "...and never says fetched"
[ "$(wc -c <"$T/out")" -lt "$(wc -c <"$T/big")" ]
ok $? "...having written less than the object"

# The object replaced between two ranges: its ETag changed, exit 111, never
# a mix of both.  The second request reaches S3 only 30 s after it was
# sent (delay=); the object is replaced meanwhile, once the proxy logged it.
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$T/big2"	# the same size: only the ETag tells
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key r/moving --body "$T/big" >/dev/null
start_proxy --rule get:2:delay=30
pgbak-get -e "$PROXY_URL" r/moving >"$T/out" 2>"$T/err" &
gpid=$!
i=0
while ! grep -q '^get 2 ' "$PROXY_LOG" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key r/moving --body "$T/big2" >/dev/null
wait $gpid
is $? 111 "the object replaced between two ranges: exit 111"
like "$(cat "$T/err")" "^pgbak-get: unable to download s3://$PGBAK_BUCKET/r/moving: the object changed, or the server sent other bytes than bytes [0-9]+-[0-9]+ asked for$" \
	"...saying so"

# A reader that goes away: an error, not a hang (timeout only keeps a
# regression from hanging the suite).
{ timeout 120 pgbak-get r/big 2>"$T/err"; echo $? >"$T/st"; } | head -c 1 >/dev/null
is "$(cat "$T/st")" 111 "stdout closed after one byte: exit 111"
like "$(cat "$T/err")" "^pgbak-get: unable to write s3://$PGBAK_BUCKET/r/big to standard output: Broken pipe" \
	"...naming standard output"

# The command line.
for bad in 0 65 -1 x 4x ''; do
	pgbak-get -p "$bad" r/big >/dev/null 2>"$T/err"
	is $? 100 "-p '$bad': exit 100"
done
