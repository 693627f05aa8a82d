#!/bin/sh
# pgbak-exists answers "exists" (0), "absent" (1) or "cannot tell" (111).
# pgbak-run skips a database whose backup exists, so a wrong secret, a
# missing bucket or a dead endpoint must never read as either answer.
. "$(dirname "$0")/lib.sh"
plan 27
need_s3

printf 'x' >"$T/x"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key dir/present --body "$T/x" >/dev/null

check_status 0 "present key: exit 0" run pgbak-exists dir/present
check_status 1 "absent key: exit 1" run pgbak-exists dir/absent
check_status 1 "a prefix of a present key is absent" pgbak-exists dir
check_status 0 "s3://BUCKET/KEY names the bucket" \
	env -u PGBAK_BUCKET pgbak-exists "s3://$PGBAK_BUCKET/dir/present"
check_status 0 "-b names the bucket" env -u PGBAK_BUCKET pgbak-exists -b "$PGBAK_BUCKET" dir/present

out=$(pgbak-exists dir/present 2>&1)
is "$out" "" "nothing printed without -v"
out=$(pgbak-exists -v dir/present)
like "$out" "^size: 1
etag: \"[0-9a-f]{32}\"
last-modified: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$" "-v prints size, ETag and time"
out=$(pgbak-exists -v dir/absent 2>&1)
is "$out" "pgbak-exists: credentials: environment" \
	"-v prints only where the credentials came from for an absent key"

# Failures: exit 111 and one line naming endpoint, bucket, key and the cause.
err=$(AWS_SECRET_ACCESS_KEY=wrong-secret run pgbak-exists dir/present 2>&1); st=$?
is "$st" 111 "wrong secret: exit 111, not 0"
is "$err" "pgbak-exists: unable to check s3://$PGBAK_BUCKET/dir/present at $AWS_ENDPOINT_URL: HTTP 403 SignatureDoesNotMatch" \
	"wrong secret: one line naming the object, endpoint and S3 code"
AWS_SECRET_ACCESS_KEY=wrong-secret pgbak-exists dir/absent 2>/dev/null
is $? 111 "wrong secret on an absent key: exit 111, not 1"
unlike "$err" "wrong-secret|$AWS_SECRET_ACCESS_KEY" "the secret is not in the message"

err=$(AWS_ACCESS_KEY_ID=NOSUCHKEY pgbak-exists dir/present 2>&1); st=$?
is "$st" 111 "unknown access key: exit 111"
like "$err" "HTTP 403 InvalidAccessKeyId$" "unknown access key: InvalidAccessKeyId"

err=$(run pgbak-exists -b "nosuch-$PGBAK_BUCKET" dir/present 2>&1); st=$?
is "$st" 111 "missing bucket: exit 111, not 1"
is "$err" "pgbak-exists: unable to check s3://nosuch-$PGBAK_BUCKET/dir/present at $AWS_ENDPOINT_URL: HTTP 404 NoSuchBucket" \
	"missing bucket: NoSuchBucket"

# A closed port: nothing listens on 127.0.0.1:1 (a privileged port).
err=$(PGBAK_S3_TRIES=2 run pgbak-exists -e http://127.0.0.1:1 dir/present 2>&1); st=$?
is "$st" 111 "unreachable endpoint: exit 111"
like "$err" "^pgbak-exists: unable to check s3://$PGBAK_BUCKET/dir/present at http://127.0.0.1:1: .*(Couldn't connect|Connection refused).*\(after 2 tries\)$" \
	"unreachable endpoint: says so, after the retries"

# Settings: missing ones are usage errors (100) naming what to set.
err=$(env -u AWS_ACCESS_KEY_ID pgbak-exists dir/present 2>&1); st=$?
is "$st" 100 "no access key: exit 100"
like "$err" "AWS_ACCESS_KEY_ID" "...naming AWS_ACCESS_KEY_ID"
err=$(env -u PGBAK_BUCKET pgbak-exists dir/present 2>&1); st=$?
is "$st" 100 "no bucket: exit 100"
like "$err" "PGBAK_BUCKET" "...naming PGBAK_BUCKET"
check_status 100 "no key: exit 100" pgbak-exists 2>/dev/null

# A settings file: its endpoint and bucket beat the environment, flags beat it.
cat >"$T/s.yml" <<EOF
tasks:
  postgres:
    dbs:
      - database: x
    s3:
      endpoint: "$AWS_ENDPOINT_URL"
      bucket: "$PGBAK_BUCKET"
EOF
check_status 0 "bucket and endpoint from -c FILE" \
	env -u PGBAK_BUCKET AWS_ENDPOINT_URL=http://127.0.0.1:1 pgbak-exists -c "$T/s.yml" dir/present
check_status 111 "-b beats the file" pgbak-exists -c "$T/s.yml" -b "nosuch-$PGBAK_BUCKET" dir/present \
	2>/dev/null
check_status 100 "a missing settings file: exit 100" pgbak-exists -c "$T/nofile.yml" dir/present \
	2>/dev/null
out=$(pgbak-exists --help); is "$?" 0 "--help: exit 0"
