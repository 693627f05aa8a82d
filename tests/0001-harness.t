#!/bin/sh
# The test bed is real: the S3 server checks signatures and digests, and
# PostgreSQL checks passwords.  If either accepted what it must refuse, every
# later test would prove nothing.
. "$(dirname "$0")/lib.sh"
plan 10
need_pg
need_s3

# s3code ARGS...: run awscli, print the S3 error code of its reply (RGW's empty
# error messages crash awscli's formatter, so read the code from --debug).
s3code() { awsref --debug "$@" 2>&1 | sed -n 's/.*<Code>\([A-Za-z]*\)<\/Code>.*/\1/p' | head -n 1; }

printf 'hello\n' >"$T/obj"
check "PUT with the right secret is stored" \
	awsref s3api put-object --bucket "$PGBAK_BUCKET" --key a/ok --body "$T/obj" --output text
awsref s3 cp "s3://$PGBAK_BUCKET/a/ok" "$T/back" --only-show-errors
check "and reads back byte for byte" cmp -s "$T/obj" "$T/back"

is "$(AWS_SECRET_ACCESS_KEY=wrong-secret s3code s3api put-object \
	--bucket "$PGBAK_BUCKET" --key a/bad --body "$T/obj")" SignatureDoesNotMatch \
	"PUT signed with a wrong secret is refused: SignatureDoesNotMatch"
is "$(s3code s3api put-object --bucket "$PGBAK_BUCKET" --key a/md5 --body "$T/obj" \
	--content-md5 "$(printf 'other' | openssl md5 -binary | base64)")" BadDigest \
	"PUT with a wrong Content-MD5 is refused: BadDigest"
fails "nothing was stored under the refused key" \
	awsref s3api head-object --bucket "$PGBAK_BUCKET" --key a/bad --output text 2>/dev/null
is "$(awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --query 'Contents[].Key' \
	--output text)" "a/ok" "the bucket holds exactly the one good object"

is "$(psql -X -tA -c 'select 42')" 42 "PostgreSQL answers the trusted superuser"
is "$(PGPASSWORD=$PGBAK_PW_PASS psql -X -tA -U "$PGBAK_PW_USER" -c 'select current_user')" \
	"$PGBAK_PW_USER" "the password role connects with its password"
out=$(PGPASSWORD=wrong psql -X -tA -U "$PGBAK_PW_USER" -c 'select 1' 2>&1)
[ $? -ne 0 ]; ok $? "with a wrong password psql fails"
like "$out" "password authentication failed" "PostgreSQL refuses the wrong password"
