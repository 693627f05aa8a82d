#!/bin/sh
# pgbak-verify against the real RGW and a real pg_dump: a backup pgbak-run
# made is whole (exit 0), and every way an object can be damaged is exit 1
# with its own message: cut short, a bit flipped in the middle or in the
# CRC, garbage after it, not gzip, empty, a whole gzip of a dump that
# lacks pg_dump's completion line.  What cannot be read is 111: no such
# object, a wrong secret, no such bucket, an unreadable file.  A broken
# download is resumed.  Each damaged object is stored with awscli, the
# independent client.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 68
need_pg
need_s3

V=ver_$$
psql_q -d postgres -c "create database $V" || exit 1
psql_q -d "$V" -c "create table t as select g, md5(g::text) as s from generate_series(1, 30000) g" ||
	exit 1
settings "$T/s.yml" "" "" "$(db_yaml "$V" good/)"
check_status 0 "pgbak-run makes a backup" quiet run pgbak-run "$T/s.yml"
GOOD=good/$V-$TODAY.gz
fetch "$GOOD" >"$T/good.gz"
SIZE=$(wc -c <"$T/good.gz")

# put NAME FILE: store FILE under bad/NAME.gz with awscli.
put() { awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "bad/$1.gz" --body "$2" >/dev/null; }

# damaged NAME PATTERN: pgbak-verify bad/NAME.gz exits 1 with one line
# "pgbak-verify: s3://BUCKET/bad/NAME.gz: ..." matching PATTERN.
damaged() {
	out=$(run pgbak-verify "bad/$1.gz" 2>"$T/err"); st=$?
	is "$st" 1 "$1: exit 1 (damaged)"
	like "$(cat "$T/err")" "^pgbak-verify: s3://$PGBAK_BUCKET/bad/$1\.gz: $2" "$1: says how"
	is "$(lines "$(cat "$T/err")"):$out" "1:" "$1: one line on stderr, nothing on stdout"
}

# The good one, from S3, a file and standard input.
out=$(run pgbak-verify "$GOOD" 2>"$T/err"); st=$?
is "$st:$out:$(cat "$T/err")" "0::" "a backup pgbak-run made is whole: exit 0, silent"
out=$(run pgbak-verify -v "$GOOD"); st=$?
like "$out" "^s3://$PGBAK_BUCKET/$GOOD: ok, $SIZE bytes compressed, [0-9]+ bytes of SQL$" \
	"-v says ok with the object's size"
SQL=$(gunzip <"$T/good.gz" | wc -c)
like "$out" " $SQL bytes of SQL$" "...and the SQL's"
check_status 0 "s3://BUCKET/KEY is the same object" quiet run pgbak-verify "s3://$PGBAK_BUCKET/$GOOD"
check_status 0 "-f: the downloaded file is whole" run pgbak-verify -f "$T/good.gz"
check_status 0 "-f -: standard input too" sh -c "pgbak-verify -f - <'$T/good.gz'"
out=$(run pgbak-verify -v -f - <"$T/good.gz")
like "$out" "^standard input: ok, $SIZE bytes compressed" "-f - -v names standard input"
check_status 111 "a bare - is the key -, not standard input" \
	sh -c "pgbak-verify - <'$T/good.gz' 2>/dev/null"
grep -qF '(`-f FILE` a local one, `-f -` standard input)' "$SRC_DIR/README.md"
ok $? "the README says so: -f - for standard input"

# Cut short: the first half, and all but the last byte.
head -c $((SIZE / 2)) "$T/good.gz" >"$T/half"
put half "$T/half"
damaged half "truncated: the gzip stream ends before its trailer after $((SIZE / 2)) bytes$"
head -c $((SIZE - 1)) "$T/good.gz" >"$T/minus1"
put minus1 "$T/minus1"
damaged minus1 "truncated: .* after $((SIZE - 1)) bytes$"

# flip FILE OFFSET MASK: a copy of good.gz with one byte xor'ed, in FILE.
flip() {
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read())
b[int(sys.argv[2])] ^= int(sys.argv[3]); open(sys.argv[4], "wb").write(b)' \
		"$T/good.gz" "$2" "$3" "$1"
}
flip "$T/mid" $((SIZE / 2)) 16
put mid "$T/mid"
damaged mid "(CRC mismatch|length mismatch|corrupt deflate data) in member 1"
flip "$T/crc" $((SIZE - 8)) 1
put crc "$T/crc"
damaged crc "CRC mismatch in member 1$"
flip "$T/isize" $((SIZE - 3)) 4
put isize "$T/isize"
damaged isize "length mismatch in member 1"
fails "gunzip -t agrees that the flipped CRC is damaged" gunzip -t <"$T/crc" 2>/dev/null

# Garbage after the stream (gunzip only warns), and a second stream after it.
{ cat "$T/good.gz"; printf 'garbage\n'; } >"$T/trail"
put trail "$T/trail"
damaged trail "trailing data after the gzip stream, at byte $SIZE after member 1$"
cat "$T/good.gz" "$T/good.gz" >"$T/twice"
put twice "$T/twice"
check_status 0 "two whole gzip members one after the other are whole (gunzip reads both)" \
	quiet run pgbak-verify bad/twice.gz

# Not gzip at all, and nothing at all.
gunzip <"$T/good.gz" >"$T/plain.sql"
put plain "$T/plain.sql"
damaged plain "not gzip"
: >"$T/empty"
put empty "$T/empty"
damaged empty "empty: 0 bytes"

# A whole, valid gzip of a dump that stopped early: gunzip -t passes it,
# only the completion line tells.
pg_dump -d "$V" >"$T/dump.sql" || exit 1
sed '/^-- PostgreSQL database dump complete$/,$d' "$T/dump.sql" | gzip >"$T/nocomplete"
put nocomplete "$T/nocomplete"
check "gunzip -t finds nothing wrong with it" gunzip -t "$T/nocomplete"
damaged nocomplete "the dump does not end with pg_dump's completion line \(cut off or failed dump\?\)$"
head -c 500000 "$T/dump.sql" | gzip >"$T/cut"
put cut "$T/cut"
damaged cut "the dump does not end with pg_dump's completion line"
# Twins: the same dump gzip'd whole passes, and so does pg_dumpall's ending.
gzip <"$T/dump.sql" >"$T/whole"
put whole "$T/whole"
check_status 0 "the same dump, gzip'd whole, is whole" quiet run pgbak-verify bad/whole.gz
pg_dumpall --globals-only | gzip >"$T/globals.gz" || exit 1
check_status 0 "pg_dumpall's 'cluster dump complete' ending is whole" \
	run pgbak-verify -f "$T/globals.gz"
check_status 1 "the local file without the completion line: exit 1" \
	run pgbak-verify -f "$T/nocomplete" 2>/dev/null

# Could not read: 111, never 1.
out=$(run pgbak-verify "bad/absent.gz" 2>"$T/err"); st=$?
is "$st" 111 "an absent key: exit 111 (nothing was read)"
like "$(cat "$T/err")" "^pgbak-verify: s3://$PGBAK_BUCKET/bad/absent\.gz: no such object" \
	"...and says there is no such object"
out=$(AWS_SECRET_ACCESS_KEY=wrong-secret run pgbak-verify "$GOOD" 2>"$T/err"); st=$?
is "$st" 111 "a wrong secret: exit 111"
like "$(cat "$T/err")" "403 SignatureDoesNotMatch" "...naming the S3 error"
unlike "$(cat "$T/err")" "wrong-secret" "...and not the secret"
out=$(run pgbak-verify -b "nosuch-$PGBAK_BUCKET" "$GOOD" 2>"$T/err"); st=$?
is "$st" 111 "no such bucket: exit 111"
like "$(cat "$T/err")" "NoSuchBucket" "...says so"
out=$(run pgbak-verify -f "$T/nosuch.gz" 2>"$T/err"); st=$?
is "$st" 111 "-f of a missing file: exit 111"
like "$(cat "$T/err")" "unable to open .*nosuch\.gz: No such file" "...says so"
check_status 111 "-f of a directory: exit 111" run pgbak-verify -f "$T" 2>/dev/null
out=$(PGBAK_S3_TRIES=1 run pgbak-verify -e http://127.0.0.1:9 "$GOOD" 2>"$T/err"); st=$?
is "$st" 111 "nothing listening at the endpoint: exit 111"

# Usage: 100.
check_status 100 "no KEY: exit 100" run pgbak-verify 2>/dev/null
check_status 100 "-f and a KEY: exit 100" run pgbak-verify -f "$T/good.gz" "$GOOD" 2>/dev/null
check_status 100 "-f and -b: exit 100" run pgbak-verify -b x -f "$T/good.gz" 2>/dev/null

# A download broken in the middle is resumed, and the object is still whole;
# a server that always fails is 111.
start_proxy --rule "get:1:drop-after=$((SIZE / 3))"
out=$(run pgbak-verify -v -e "$PROXY_URL" "$GOOD" 2>"$T/err"); st=$?
is "$st" 0 "a body cut at a third is resumed: exit 0"
like "$(cat "$T/err")" "; resuming at byte [0-9]+$" "...-v says where it resumed"
like "$out" ": ok, $SIZE bytes compressed" "...and every byte was checked"
start_proxy --rule 'get:*:500'
out=$(PGBAK_S3_TRIES=2 run pgbak-verify -e "$PROXY_URL" "$GOOD" 2>"$T/err"); st=$?
is "$st" 111 "a server answering 500 every time: exit 111, not 1"
like "$(cat "$T/err")" "HTTP 500 InternalError" "...naming the error"

# The first damage ends the download: 20 MB that are not gzip cost one read.
head -c 20000000 /dev/urandom >"$T/big"
put big "$T/big"
start_proxy
out=$(run pgbak-verify -e "$PROXY_URL" bad/big.gz 2>"$T/err"); st=$?
is "$st" 1 "20 MB of noise: exit 1"
like "$(cat "$T/err")" "not gzip" "...not gzip"
is "$(grep -c "^get " "$PROXY_LOG")" 1 "...after one GET: damage is not retried"

psql_q -d postgres -c "drop database $V" >/dev/null 2>&1
