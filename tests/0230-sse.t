#!/bin/sh
# Server-side encryption of what pgbak-put writes, read back with awscli:
# SSE-KMS with a key id (sse: aws:kms, sse_kms_key_id) on a single PUT and
# on a multipart upload; SSE-C (sse_customer_key, the customer's key)
# through put, exists, get and verify.  Without the SSE-C key, or with
# another one, each reader says so in one line and exits 111.  The key is
# a secret: never in -v output or an error.  Bad values exit 100 naming
# the setting.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib/s3obj.sh"
plan 54
need_s3

B=$PGBAK_BUCKET
head -c 12582912 /dev/urandom >"$T/big"		# 12 MiB: 3 parts of 5 MiB
printf 'a small object\n' >"$T/small"
# what pgbak-verify accepts: a gzip'd SQL text that ends as pg_dump's does
printf -- '--\n-- PostgreSQL database dump complete\n--\n\n' | gzip >"$T/dump.gz"

# s3 settings FILE LINES: an s3 section for the S3 programs (-c FILE).
s3conf() {
	{
		printf 'tasks:\n  postgres:\n    s3:\n'
		printf '      endpoint: "%s"\n      bucket: "%s"\n' "$AWS_ENDPOINT_URL" "$B"
		printf '%s\n' "$2" | sed '/^$/d; s/^/      /'
		printf '    dbs:\n      - database: x\n'
	} >"$1"
	chmod 600 "$1"
}
head_of() { awsref s3api head-object --bucket "$B" --key "$@" 2>&1; }
head_quiet() { awsref s3api head-object --bucket "$B" --key "$1" >/dev/null 2>&1; }
field() { printf '%s' "$1" | sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p"; }

# --- SSE-KMS ---------------------------------------------------------------
run pgbak-put --sse aws:kms --sse-kms-key-id testkey-1 kms/single <"$T/small"
is $? 0 "SSE-KMS: single PUT with --sse aws:kms --sse-kms-key-id testkey-1"
h=$(head_of kms/single)
is "$(field "$h" ServerSideEncryption)" aws:kms "awscli: ServerSideEncryption aws:kms"
is "$(field "$h" SSEKMSKeyId)" testkey-1 "awscli: SSEKMSKeyId testkey-1"

s3conf "$T/kms.yml" "sse: aws:kms
sse_kms_key_id: testkey-2
part_size: 5MiB"
run pgbak-put -v -c "$T/kms.yml" kms/multi <"$T/big" 2>"$T/err"
is $? 0 "SSE-KMS: multipart upload with sse and sse_kms_key_id from the settings"
grep -q "in 3 parts" "$T/err"; ok $? "...in 3 parts"
h=$(head_of kms/multi)
is "$(field "$h" ServerSideEncryption)" aws:kms "awscli: ServerSideEncryption aws:kms"
is "$(field "$h" SSEKMSKeyId)" testkey-2 "awscli: SSEKMSKeyId testkey-2"
check "pgbak-get reads it back whole" same kms/multi "$T/big"

run pgbak-put kms/plain <"$T/small"
h=$(head_of kms/plain)
is "$(field "$h" ServerSideEncryption):$(field "$h" SSEKMSKeyId)" ":" \
	"twin: without sse the object has no SSE-KMS"

# --- SSE-C -----------------------------------------------------------------
head -c 32 /dev/urandom >"$T/key.raw"
head -c 32 /dev/urandom >"$T/other.raw"
SSEC_0230=$(base64 <"$T/key.raw") OTHER_0230=$(base64 <"$T/other.raw")
export SSEC_0230 OTHER_0230
KMD5=$(openssl dgst -md5 -binary <"$T/key.raw" | base64)
s3conf "$T/c.yml" 'sse_customer_key: ${SSEC_0230}
part_size: 5MiB'
s3conf "$T/none.yml" ""

run pgbak-put -v -c "$T/c.yml" ssec/small <"$T/small" 2>"$T/put.err"
is $? 0 "SSE-C: single PUT with sse_customer_key: \${NAME}"
run pgbak-put -v -c "$T/c.yml" ssec/big <"$T/big" 2>>"$T/put.err"
is $? 0 "SSE-C: multipart upload (UploadPart carries the key too)"
printf '%s\n' "$SSEC_0230" "$OTHER_0230" >"$T/keys"
! grep -qF -f "$T/keys" "$T/put.err"; ok $? "-v output never shows the key"
grep -q "stored s3://$B/ssec/big" "$T/put.err"; ok $? "twin: -v did say something"
run pgbak-put -c "$T/c.yml" ssec/dump.gz <"$T/dump.gz"
is $? 0 "SSE-C: a backup-like object"

h=$(awsref s3api head-object --bucket "$B" --key ssec/big --sse-customer-algorithm AES256 \
	--sse-customer-key "fileb://$T/key.raw" 2>&1)
is "$(field "$h" SSECustomerAlgorithm)" AES256 "awscli with the key: SSECustomerAlgorithm AES256"
is "$(field "$h" SSECustomerKeyMD5)" "$KMD5" "awscli: SSECustomerKeyMD5 is our key's"
fails "twin: awscli without the key cannot read it" head_quiet ssec/big

check_status 0 "pgbak-exists with the key: exit 0" run pgbak-exists -c "$T/c.yml" ssec/big
run pgbak-get -c "$T/c.yml" ssec/big | cmp -s - "$T/big"
ok $? "pgbak-get with the key: the bytes (multipart)"
run pgbak-get -c "$T/c.yml" ssec/small >"$T/small.back"
cmp -s "$T/small" "$T/small.back"; ok $? "pgbak-get with the key: the bytes (single PUT)"
check_status 0 "pgbak-verify with the key: whole" run pgbak-verify -c "$T/c.yml" ssec/dump.gz
check_status 0 "--sse-customer-key-env NAME works as well" \
	run pgbak-exists -c "$T/none.yml" --sse-customer-key-env SSEC_0230 ssec/small
printf '%s\n' "$SSEC_0230" >"$T/key.b64"
run pgbak-get -c "$T/none.yml" --sse-customer-key-file "$T/key.b64" ssec/small >"$T/small.back"
cmp -s "$T/small" "$T/small.back"; ok $? "...and --sse-customer-key-file FILE"

# A body cut mid-way is resumed by Range requests, which carry the key too
# (-p 1: one stream, so the GETs can be counted; 0261 has -p N's ranges).
start_proxy --rule get:1:drop-after=1000000 --rule get:2:drop-after=3000000
run pgbak-get -p 1 -c "$T/c.yml" -e "$PROXY_URL" ssec/big >"$T/out" 2>"$T/err"
is $? 0 "SSE-C: pgbak-get cut twice mid-body: exit 0"
cmp -s "$T/out" "$T/big"; ok $? "...the bytes are exact"
is "$(grep -c '^get ' "$PROXY_LOG")" 3 "...three GETs, two of them ranged"
PGBAK_GET_LATENCY_MS=0 PGBAK_GET_RANGE=1048576 run pgbak-get -c "$T/c.yml" ssec/big |
	cmp -s - "$T/big"
ok $? "SSE-C: pgbak-get -p 16 (the default), small ranges in flight: each range has the key"
PGBAK_GET_LATENCY_MS=86400000 PGBAK_GET_STREAM_MIBS=0 PGBAK_GET_RANGE=1048576 \
	run pgbak-get -c "$T/c.yml" ssec/big |
	cmp -s - "$T/big"
ok $? "SSE-C: the first range, then the rest as one stream: both have the key"

NOKEY="^pgbak-[a-z]+: s3://$B/ssec/[a-z.]+ is encrypted with a customer key \(SSE-C\): set sse_customer_key .*to the key it was written with"
WRONG="^pgbak-[a-z]+: s3://$B/ssec/[a-z.]+ cannot be read with this customer key \(SSE-C\): check sse_customer_key is the key it was written with"
# reader WHAT EXPECT PATTERN CMD...: exit EXPECT and one line matching PATTERN.
reader() {
	_w=$1 _x=$2 _p=$3; shift 3
	"$@" >/dev/null 2>"$T/err"; _st=$?
	is "$_st" "$_x" "$_w: exit $_x"
	like "$(cat "$T/err")" "$_p" "$_w: says why in one line"
	is "$(lines "$(cat "$T/err")")" 1 "$_w: ...and only that"
}
reader "pgbak-exists without the key" 111 "$NOKEY" run pgbak-exists -c "$T/none.yml" ssec/small
reader "pgbak-get without the key" 111 "$NOKEY" run pgbak-get -c "$T/none.yml" ssec/big
reader "pgbak-verify without the key" 111 "$NOKEY" run pgbak-verify -c "$T/none.yml" ssec/dump.gz
reader "pgbak-exists with another key" 111 "$WRONG" \
	run pgbak-exists -c "$T/none.yml" --sse-customer-key-env OTHER_0230 ssec/small
reader "pgbak-get with another key" 111 "$WRONG" \
	run pgbak-get -c "$T/none.yml" --sse-customer-key-env OTHER_0230 ssec/big
! grep -qF -f "$T/keys" "$T/err"; ok $? "the error never shows either key"

# --- bad values: exit 100, naming the setting --------------------------------
# bad NAME PATTERN LINES: pgbak-put -c with those s3 lines exits 100 saying PATTERN.
bad() {
	s3conf "$T/bad.yml" "$3"
	printf x | run pgbak-put -c "$T/bad.yml" bad/x >/dev/null 2>"$T/err"; _st=$?
	is "$_st:$(cat "$T/err" | grep -E -c -- "$2")" "100:1" "$1: exit 100 naming the setting"
}
bad "sse: AES128" "sse in the s3 section of .*: want aws:kms or AES256" "sse: AES128"
bad "sse_kms_key_id without sse" "sse_kms_key_id .* goes with sse aws:kms" "sse_kms_key_id: testkey-1"
bad "a short sse_customer_key" "sse_customer_key .*: want the base64 of exactly 32 bytes" \
	"sse_customer_key: c2hvcnQ="
! grep -q c2hvcnQ "$T/err"; ok $? "...and does not print the value"
bad "sse and sse_customer_key" "customer key \(SSE-C\) or by S3 \(sse\), not both" \
	'sse: AES256
sse_customer_key: ${SSEC_0230}'
bad "object_lock.mode: FOREVER" "object_lock.mode .*: want GOVERNANCE or COMPLIANCE" \
	"object_lock: { mode: FOREVER, days: 1 }"
bad "object_lock without days" "object_lock.mode .* wants a number of days too" \
	"object_lock: { mode: GOVERNANCE }"
printf x | run pgbak-put --sse-customer-key-file "$T/nothere" bad/x 2>"$T/err"
is "$?:$(grep -c -- "--sse-customer-key-file $T/nothere" "$T/err")" "100:1" \
	"--sse-customer-key-file of a missing file: exit 100 naming it"
printf x | run pgbak-put --object-lock-mode GOVERNANCE --object-lock-days 0 bad/x 2>"$T/err"
is "$?:$(grep -c -- "--object-lock-days 0: want" "$T/err")" "100:1" "--object-lock-days 0: exit 100"
check "twin: nothing bad/ was stored" absent bad/x
