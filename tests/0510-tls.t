#!/bin/sh
# TLS: the fault proxy serves the RGW over https with a self-signed
# certificate.  pgbak-exists, pgbak-put and pgbak-run refuse it by default
# with one line naming the certificate problem (exit 111, nothing stored);
# they accept it with the settings' s3.ca_file, and separately with
# AWS_CA_BUNDLE; a certificate for another host name is refused even when
# it is trusted.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 31
need_pg
need_s3
. "$TESTS_DIR/lib/s3obj.sh"
command -v openssl >/dev/null || skip_all "openssl not found"

# cert NAME SAN: a self-signed certificate $T/NAME.crt (key $T/NAME.key).
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$2" -addext "subjectAltName=$3" \
		-keyout "$T/$1.key" -out "$T/$1.crt" 2>"$T/openssl.err" ||
		{ cat "$T/openssl.err" >&2; echo "Bail out! cannot make a certificate"; exit 1; }
}
cert local 127.0.0.1 "IP:127.0.0.1,DNS:localhost"
cert other otherhost "DNS:otherhost"
start_proxy --tls "$T/local.crt" "$T/local.key"
GOOD=$PROXY_URL
start_proxy --tls "$T/other.crt" "$T/other.key"
OTHER=$PROXY_URL
like "$GOOD" "^https://127\.0\.0\.1:[0-9]+$" "the proxy serves https"
printf 'over tls\n' >"$T/small"
D=tls_$$
psql_q -d postgres -c "create database $D" || exit 1

# s3conf NAME URL [S3_LINES]: settings $T/NAME.yml for database D under NAME/.
s3conf() {
	settings "$T/$1.yml" "" "${3:-}" "$(db_yaml "$D" "$1/")"
	sed -i "s|^      endpoint: .*|      endpoint: \"$2\"|" "$T/$1.yml"
}
# one_line TEXT PATTERN DESC: TEXT is exactly one line and matches PATTERN.
one_line() {
	like "$1" "$2" "$3"
	is "$(lines "$1")" 1 "...on one line"
}
CERT_BAD='(SSL certificate problem: self.signed certificate|certificate verify failed)'

# Refused by default.
run pgbak-exists -e "$GOOD" small.txt 2>"$T/err"
is $? 111 "pgbak-exists, self-signed: exit 111, not absent"
one_line "$(cat "$T/err")" "^pgbak-exists: unable to check s3://$PGBAK_BUCKET/small.txt at $GOOD: $CERT_BAD" \
	"...the message names the object, endpoint and certificate problem"
run pgbak-put -e "$GOOD" small.txt <"$T/small" 2>"$T/err"
is $? 111 "pgbak-put, self-signed: exit 111"
one_line "$(cat "$T/err")" "^pgbak-put: unable to upload s3://$PGBAK_BUCKET/small.txt at $GOOD: $CERT_BAD" \
	"...the message names the certificate problem"
check "...nothing stored" absent small.txt
s3conf norun "$GOOD"
out=$(run pgbak-run -f "$T/norun.yml" 2>"$T/err"); st=$?
is "$st" 111 "pgbak-run, self-signed: exit 111"
like "$out" "^norun/$D-$TODAY\.gz: .*: failed: pgbak-put exited 111: pgbak-put: unable to upload s3://$PGBAK_BUCKET/norun/$D-$TODAY\.gz at $GOOD: $CERT_BAD" \
	"...the summary names the certificate problem"
check "...nothing stored" absent "norun/$D-$TODAY.gz"

# Accepted with s3.ca_file.
s3conf ca "$GOOD" "ca_file: \"$T/local.crt\""
run pgbak-put -c "$T/ca.yml" small.txt <"$T/small"
is $? 0 "pgbak-put with ca_file: stored"
check "...exactly" same small.txt "$T/small"
check_status 0 "pgbak-exists with ca_file: exists" run pgbak-exists -c "$T/ca.yml" small.txt
check_status 1 "...and a missing key is absent (1), not a failure" \
	run pgbak-exists -c "$T/ca.yml" no-such.txt
out=$(run pgbak-run "$T/ca.yml" 2>"$T/err"); st=$?
is "$st" 0 "pgbak-run with ca_file: exit 0"
like "$out" "^ca/$D-$TODAY\.gz: .*: ok$" "...the summary says ok"
check "...the backup restores" restore_same "$D" "ca/$D-$TODAY.gz"

# Accepted with AWS_CA_BUNDLE (and no ca_file).
AWS_CA_BUNDLE=$T/local.crt
export AWS_CA_BUNDLE
run pgbak-put -e "$GOOD" bundle.txt <"$T/small"
is $? 0 "pgbak-put with AWS_CA_BUNDLE: stored"
check "...exactly" same bundle.txt "$T/small"
check_status 0 "pgbak-exists with AWS_CA_BUNDLE: exists" run pgbak-exists -e "$GOOD" bundle.txt
s3conf bundle "$GOOD"
out=$(run pgbak-run "$T/bundle.yml" 2>"$T/err"); st=$?
is "$st" 0 "pgbak-run with AWS_CA_BUNDLE: exit 0 (its stages get the variable)"
like "$out" "^bundle/$D-$TODAY\.gz: .*: ok$" "...the summary says ok"

# The wrong host name: other.crt is for otherhost only, reached as 127.0.0.1.
AWS_CA_BUNDLE=$T/other.crt
run pgbak-exists -e "$OTHER" bundle.txt 2>"$T/err"
is $? 111 "a trusted certificate for another host: exit 111"
one_line "$(cat "$T/err")" "at $OTHER: .*(does not match|no alternative certificate subject name matches).*127\.0\.0\.1" \
	"...the message says the name does not match"
unset AWS_CA_BUNDLE
s3conf wrongname "$OTHER" "ca_file: \"$T/other.crt\""
out=$(run pgbak-run -f "$T/wrongname.yml" 2>"$T/err"); st=$?
is "$st" 111 "pgbak-run, ca_file trusted but another host's name: exit 111"
like "$out" "failed: pgbak-put exited 111: .*(does not match|no alternative certificate subject name matches)" \
	"...the summary says the name does not match"
check "...nothing stored" absent "wrongname/$D-$TODAY.gz"
# ...and a ca_file that is not the server's does not help either.
s3conf wrongca "$GOOD" "ca_file: \"$T/other.crt\""
run pgbak-exists -c "$T/wrongca.yml" small.txt 2>"$T/err"
is $? 111 "a ca_file of another certificate: exit 111"
like "$(cat "$T/err")" "$CERT_BAD" "...the certificate problem is named"

psql_q -d postgres -c "drop database $D" >/dev/null 2>&1
