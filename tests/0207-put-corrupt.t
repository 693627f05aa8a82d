#!/bin/sh
# A byte changed on the way is refused by the server, not stored: the
# negative twin of the roundtrip.  pgbak-put proves each part with the
# signed SHA-256 of its bytes only (no Content-MD5, see lib/s3put.c), so
# this is the check that the one hash left is one the server makes.  The
# fault proxy (tests/lib/s3-proxy.py, "flip") inverts one byte of a body
# and forwards it with the headers as signed.
. "$(dirname "$0")/lib.sh"
plan 14
need_s3
. "$TESTS_DIR/lib/s3obj.sh"

head -c $((12 * 1024 * 1024)) /dev/urandom >"$T/big"
head -c 100000 /dev/urandom >"$T/small"

# The positive twin: the same proxy, nothing changed: stored, exact.
put_via -- whole.bin "$T/big"
is $? 0 "through the proxy, nothing changed: three parts stored"
check "...exact" same whole.bin "$T/big"
put_via -- whole-small.bin "$T/small"
is $? 0 "...and a single PUT"
check "...exact" same whole-small.bin "$T/small"

# One byte of part 2 inverted: the server refuses the part, nothing is published.
put_via part:2:flip -- flipped.bin "$T/big"
is $? 111 "one byte of part 2 changed on the way: exit 111"
like "$(cat "$T/err")" "unable to upload part 2 of s3://$PGBAK_BUCKET/flipped.bin at $PROXY_URL: HTTP 400 XAmzContentSHA256Mismatch$" \
	"...the server refused it for its SHA-256, named with the part"
is "$(count part flip)" 1 "...not sent again (a 400 is no transient fault)"
check "...no object" absent flipped.bin
is "$(uploads flipped.bin)" "" "...the upload was aborted"

# The last part, shorter than the others.
put_via part:3:flip -- flipped3.bin "$T/big"
is $? 111 "one byte of the last part changed: exit 111"
check "...no object" absent flipped3.bin

# A single PUT.
put_via put:1:flip -- flipped-small.bin "$T/small"
is $? 111 "one byte of a single PUT changed: exit 111"
like "$(cat "$T/err")" "HTTP 400 XAmzContentSHA256Mismatch$" "...refused for its SHA-256"
check "...no object" absent flipped-small.bin
