#!/bin/sh
# pgbak-put --abort-stale --any-date (what pgbak-run runs after a backup):
# the stale uploads of KEY's name on any day go, those of every other name
# stay, however alike (an encrypted .gz.age is another end); without
# --any-date only exactly KEY's.
. "$(dirname "$0")/lib.sh"
plan 14
need_s3
. "$TESTS_DIR/lib/faults.sh"

pgbak-put --any-date a/app-20250103.gz </dev/null 2>"$T/err"
is $? 100 "--any-date without --abort-stale: exit 100"
like "$(cat "$T/err")" "^pgbak-put: --any-date goes with --abort-stale" "...saying so"
pgbak-put --abort-stale --any-date a/app.gz 2>"$T/err"
is $? 100 "--any-date on a key without a date: exit 100"
like "$(cat "$T/err")" "^pgbak-put: --any-date: the key must end with -YYYYMMDD.gz or -YYYYMMDD.gz.age" \
	"...saying so"

SAME="a/app-20250101.gz a/app-20250102.gz"
AGE=a/app-20250101.gz.age
OTHERS="a/app-x-20250101.gz a/app-2025010.gz a/appx-20250101.gz b/app-20250101.gz a/app-20250101.gz.tmp $AGE"
start_uploads $SAME $OTHERS || { echo "Bail out! cannot start the uploads"; exit 1; }
# all_uploads: every key with an upload in progress, sorted, on one line.
all_uploads() {
	awsref s3api list-multipart-uploads --bucket "$PGBAK_BUCKET" --query 'Uploads[].Key' \
		--output text | tr '\t' '\n' | sort | tr '\n' ' '
}
before=$(all_uploads)
is "$(printf '%s' "$before" | wc -w)" 8 "eight uploads in progress"

run pgbak-put --abort-stale=1h --any-date a/app-20250103.gz
is $? 0 "--abort-stale=1h --any-date: exit 0"
is "$(all_uploads)" "$before" "...uploads younger than an hour stay"
run pgbak-put --abort-stale=0 a/app-20250103.gz
is $? 0 "--abort-stale=0 without --any-date: exit 0"
is "$(all_uploads)" "$before" "...no upload of exactly that key: all stay"
run pgbak-put -v --abort-stale=0 --any-date a/app-20250103.gz 2>"$T/err"
is $? 0 "--abort-stale=0 --any-date: exit 0"
is "$(all_uploads)" "$(printf '%s\n' $OTHERS | sort | tr '\n' ' ')" \
	"...the name's uploads of other days are aborted, no other name's"
like "$(cat "$T/err")" "2 stale uploads of s3://$PGBAK_BUCKET/a/app-20250103.gz \(any date\) aborted" \
	"...-v counts them"
run pgbak-put --abort-stale=0 --any-date a/app-20250103.gz.age
is $? 0 "--any-date with an encrypted key (.gz.age): exit 0"
is "$(all_uploads)" "$(printf '%s\n' $OTHERS | grep -v '\.age$' | sort | tr '\n' ' ')" \
	"...its name's upload of another day is aborted, the others stay"
