#!/bin/sh
# object_lock: { mode, days } locks every object pgbak writes, the day's
# backup, the globals and a .gz.age alike, until upload time + days, as
# awscli reads back (ObjectLockMode, ObjectLockRetainUntilDate); a locked
# version cannot be deleted.  A multipart object is locked too (RGW ignores
# the lock headers of CreateMultipartUpload).  Without object_lock nothing
# is locked.  The same run with sse_customer_key (SSE-C): pgbak-run's S3
# children, verify included, read the key from the settings it hands them,
# and it never appears in any child's command line or in -v output.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
. "$TESTS_DIR/lib/s3obj.sh"
plan 33
need_pg
need_s3

# An Object Lock bucket instead of need_s3's (it is versioned).
PGBAK_BUCKET=$(printf 't-lock-%s-%s' $$ "$(date +%s%N | cut -c10-16)")
awsref s3api create-bucket --bucket "$PGBAK_BUCKET" --object-lock-enabled-for-bucket \
	>/dev/null || { echo "Bail out! cannot create an Object Lock bucket"; exit 1; }
export PGBAK_BUCKET
B=$PGBAK_BUCKET

D=lock_$$
psql_q -d postgres -c "create database $D" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $D'"
psql_q -d "$D" -c "create table t as select g, md5(g::text) as s from generate_series(1, 2000) g" ||
	exit 1

head -c 32 /dev/urandom >"$T/key.raw"
SSEC_0231=$(base64 <"$T/key.raw")
export SSEC_0231
printf '%s\n' "$SSEC_0231" >"$T/key.b64"

# pgbak-run whose S3 children are wrappers that write down their command
# line (/proc/PID/cmdline, exactly their argv) and exec the real program
# with the same PID: every child is seen, with no timing.
BIN=$T/bin
mkdir "$BIN" "$T/seen"
cp "$PGBAK_BUILD/pgbak-run" "$BIN/"
for p in pgbak-put pgbak-exists pgbak-verify pgbak-prune pgbak-gzip; do
	cat >"$BIN/$p" <<EOF
#!/bin/sh
tr '\0' ' ' </proc/\$\$/cmdline >"$T/seen/$p.\$\$.argv"
tr '\0' '\n' </proc/\$\$/environ >"$T/seen/$p.\$\$.env"
exec "$PGBAK_BUILD/$p" "\$@"
EOF
	chmod 755 "$BIN/$p"
done

# retain_ok KEY DAYS MODE: awscli shows MODE and a retain-until within ten
# minutes of now + DAYS.
retain_ok() {
	_h=$(awsref s3api head-object --bucket "$B" --key "$1" --sse-customer-algorithm AES256 \
		--sse-customer-key "fileb://$T/key.raw" --query '[ObjectLockMode,ObjectLockRetainUntilDate]' \
		--output text 2>&1)
	_m=$(printf '%s' "$_h" | cut -f1) _u=$(printf '%s' "$_h" | cut -f2)
	_want=$(($(date +%s) + $2 * 86400))
	_got=$(date -d "$_u" +%s 2>/dev/null || echo 0)
	_d=$((_got - _want))
	[ "$_m" = "$3" ] && [ "$_d" -gt -600 ] && [ "$_d" -lt 600 ] && return 0
	diag "$1: $_h"
	return 1
}
# unlocked KEY: awscli shows no lock mode.
unlocked() {
	_m=$(awsref s3api head-object --bucket "$B" --key "$1" --query ObjectLockMode --output text 2>&1)
	[ "$_m" = None ] || { diag "$1: $_m"; return 1; }
}
# version_of KEY: the id of KEY's version (each key here has one), from
# the bucket's version listing: no SSE-C key needed, and not its IsLatest,
# which RGW's bucket index may not have set yet right after the upload.
version_of() {
	awsref s3api list-object-versions --bucket "$B" --prefix "$1" \
		--query "Versions[?Key=='$1'].VersionId" --output text | awk '{ print $1; exit }'
}
# delete_version KEY: awscli deletes KEY's current version: 0, or 1 when the
# server refused; what awscli said is in del.err.  Only an answer from the
# server counts: a version that cannot be found, or an error before any
# answer (a refused or timed-out connection on a loaded machine), is tried
# again, three times at most (2: never answered; del.err says each try).
# The id goes as --version-id=ID: an RGW version id may begin with "-"
# (about one in 63), and awscli takes "--version-id -Tb..." for an option
# it does not know and prints its usage.
delete_version() {
	: >"$T/del.log"
	for _try in 1 2 3; do
		_v=$(version_of "$1" 2>>"$T/del.log")
		echo "try $_try: version '$_v'" >>"$T/del.log"
		case $_v in
		'' | None) sleep "$_try"; continue ;;
		esac
		awsref s3api delete-object --bucket "$B" --key "$1" --version-id="$_v" \
			>/dev/null 2>"$T/del.err" && return 0
		grep -q 'An error occurred (' "$T/del.err" && return 1
		cat "$T/del.err" >>"$T/del.log"
		sleep "$_try"	# pacing for a server that stalled, as awscli's own retries do
	done
	cp "$T/del.log" "$T/del.err"
	return 2
}

# delete_diag PREFIX: what awscli said to the last delete, and the versions
# under PREFIX, for a delete check that did not go as expected.
delete_diag() {
	diag "awscli said: $(cat "$T/del.err")" \
		"versions: $(awsref s3api list-object-versions --bucket "$B" --prefix "$1" --output json 2>&1)"
}

globals_yaml() { db_yaml "$@"; printf '        globals: true\n'; }
printf '#!/bin/sh\nenv >"%s"\n' "$T/hook.env" >"$T/hook"
chmod 755 "$T/hook"
settings "$T/s.yml" "verify: true
on_success: [$T/hook]" 'sse_customer_key: ${SSEC_0231}
object_lock: { mode: GOVERNANCE, days: 3 }' "$(globals_yaml "$D" locked/)"
run "$BIN/pgbak-run" -v "$T/s.yml" >"$T/out" 2>"$T/err"
st=$?
is "$st" 0 "a run with object_lock, sse_customer_key, globals and verify exits 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"
grep -q "$D-$TODAY.gz: .*ok, verified" "$T/out"; ok $? "...and verify read the backup back with the key"
check "the day's backup is locked GOVERNANCE for 3 days" retain_ok "locked/$D-$TODAY.gz" 3 GOVERNANCE
check "the globals object too" retain_ok "locked/globals-$TODAY.gz" 3 GOVERNANCE
delete_version "locked/$D-$TODAY.gz"
is $? 1 "awscli delete-object of the locked version is refused by the server"
grep -q "AccessDenied" "$T/del.err"
r=$?
ok $r "...AccessDenied"
[ $r -eq 0 ] || delete_diag locked/
check "...and the backup is still there" run pgbak-exists --sse-customer-key-file "$T/key.b64" \
	"locked/$D-$TODAY.gz"
fails "awscli without the key cannot read the backup: it is SSE-C" \
	awsref s3api head-object --bucket "$B" --key "locked/$D-$TODAY.gz" 2>/dev/null
run pgbak-get --sse-customer-key-file "$T/key.b64" "locked/$D-$TODAY.gz" | gunzip |
	grep -q "PostgreSQL database dump complete"
ok $? "pgbak-get with the key restores a whole dump"

# The secret: in no child's command line, not in what pgbak-run said.
n=$(ls "$T/seen"/*.argv | wc -l)
[ "$n" -ge 4 ]; ok $? "the S3 children's command lines were seen ($n)"
! cat "$T/seen"/*.argv | grep -qF -f "$T/key.b64"; ok $? "the key is in no child's command line"
! cat "$T/out" "$T/err" | grep -qF -f "$T/key.b64"; ok $? "...nor in pgbak-run -v output"
[ -s "$T/hook.env" ] && ! cat "$T/seen"/pgbak-gzip.*.env "$T/hook.env" | grep -qF -f "$T/key.b64"
ok $? "...nor in the environment of pgbak-gzip or of the on_success hook"
grep -qF -f "$T/key.b64" "$T/seen"/pgbak-put.*.env
ok $? "twin: pgbak-put's environment keeps the variable (S3 children keep AWS_*, PGBAK_* and the rest)"
grep -q -- "--settings-fd" "$T/seen"/pgbak-put.*.argv; ok $? "twin: pgbak-put got its settings by descriptor"

# Without object_lock: nothing is locked, and a version can be deleted.
settings "$T/u.yml" "" "" "$(globals_yaml "$D" free/)"
check_status 0 "a run without object_lock exits 0" quiet run pgbak-run "$T/u.yml"
check "twin: its backup has no retention" unlocked "free/$D-$TODAY.gz"
check "twin: nor its globals" unlocked "free/globals-$TODAY.gz"
delete_version "free/$D-$TODAY.gz"
r=$?
ok $r "twin: awscli deletes its version"
[ $r -eq 0 ] || delete_diag free/

# .gz.age objects (encrypt) are locked as well, COMPLIANCE this time.
if command -v age-keygen >/dev/null 2>&1; then
	age-keygen -o "$T/age.key" 2>/dev/null
	settings "$T/a.yml" "encrypt:
  age_recipients: [$(age-keygen -y "$T/age.key")]" "object_lock: { mode: COMPLIANCE, days: 1 }" \
		"$(globals_yaml "$D" aged/)"
	check_status 0 "a run with encrypt and object_lock exits 0" quiet run pgbak-run "$T/a.yml"
	check "the .gz.age backup is locked COMPLIANCE for 1 day" \
		retain_ok "aged/$D-$TODAY.gz.age" 1 COMPLIANCE
	check "...and the globals' .gz.age" retain_ok "aged/globals-$TODAY.gz.age" 1 COMPLIANCE
else
	for i in 1 2 3; do echo "ok $((_tap_n + 1)) # SKIP age is not installed"; _tap_n=$((_tap_n + 1)); done
fi

# Multipart: locked though RGW drops the lock headers of CreateMultipartUpload.
head -c 12582912 /dev/urandom >"$T/big"
run pgbak-put -v --part-size 5M --sse-customer-key-file "$T/key.b64" \
	--object-lock-mode COMPLIANCE --object-lock-days 2 multi/big <"$T/big" 2>"$T/err"
is $? 0 "pgbak-put --object-lock-mode COMPLIANCE --object-lock-days 2, multipart"
grep -q "in 3 parts" "$T/err"; ok $? "...in 3 parts"
check "the multipart object is locked COMPLIANCE for 2 days" retain_ok multi/big 2 COMPLIANCE
delete_version multi/big
is $? 1 "awscli delete-object of its version is refused by the server"
run pgbak-put --part-size 5M multi/free <"$T/big"
is $? 0 "twin: the same without --object-lock-mode"
check "twin: ...is not locked" unlocked multi/free
check_status 0 "pgbak-verify with the key: the locked backup is whole" \
	run pgbak-verify --sse-customer-key-file "$T/key.b64" "locked/$D-$TODAY.gz"

# pgbak-run checks the settings before it runs anything.
settings "$T/bad.yml" "" "object_lock: { mode: governance, days: 3 }" "$(db_yaml "$D" bad/)"
run pgbak-run "$T/bad.yml" >/dev/null 2>"$T/err"
is "$?:$(grep -c "object_lock.mode in the s3 section of .*: want GOVERNANCE or COMPLIANCE" "$T/err")" \
	"100:1" "pgbak-run with object_lock.mode: governance: exit 100 naming it"
check "...and stores nothing" absent "bad/$D-$TODAY.gz"

# Where the bucket has no Object Lock, S3 refuses the lock: the upload fails.
NB=$(s3_bucket nolock)
printf x | run pgbak-put -b "$NB" --object-lock-mode GOVERNANCE --object-lock-days 1 x \
	2>"$T/err"
is $? 111 "object_lock in a bucket without Object Lock: exit 111"
like "$(cat "$T/err")" "unable to upload s3://$NB/x" "...naming the object"
