#!/bin/sh
# pgbak-ls: a database's backups (-c, its entry's prefix, with its cluster's
# globals) or every backup under a prefix, newest first, over several
# listing pages; checked against awscli's own listing.  --json parses; the
# encrypted and globals marks are right; -l adds storage class and the
# object lock.  The answer "none" (1) is told apart from a failure (111)
# and a bad command line (100).
. "$(dirname "$0")/lib.sh"
plan 37
need_s3
. "$TESTS_DIR/0700-prune-lib.sh"

# ls/app: 1060 daily backups, every 100th of them encrypted (.gz.age);
# ls/globals: 20 days of 2019; ls/other: 30 days of another database; and
# decoys no pgbak program names backups with.  1114 objects, two pages.
days 20220101 20241125 ls/app- .gz | awk 'NR % 100 == 0 { print $0 ".age"; next } 1' \
	>"$T/app"
days 20190101 20190120 ls/globals- .gz >"$T/globals"
days 20240101 20240130 ls/other- .gz >"$T/other"
printf '%s\n' ls/app-20220101.gz.bak ls/app-20230601.gz/x ls/app-2024022.gz \
	ls/app-20230230.gz >"$T/decoys"
cat "$T/app" "$T/globals" "$T/other" "$T/decoys" | put_keys
# a key a JSON string must escape (a quote; a backslash is a directory to
# lib/name), with a space and UTF-8
printf 'x' >"$T/one"
ODD='ls/we"ird é-20240301.gz'
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$ODD" --body "$T/one" >/dev/null
is "$(keys_under ls/ | wc -l | tr -d ' ')" 1115 "1115 objects stored"

# The reference: awscli's listing (all pages), the backups among it and
# their sizes, newest first.  Dates are distinct within ls/app + ls/globals.
awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --prefix ls/ \
	--query 'Contents[].[Key,Size]' --output text >"$T/ref.all"
is "$(wc -l <"$T/ref.all" | tr -d ' ')" 1115 "awscli lists 1115"
# ref_backups: KEY SIZE of the pgbak keys (tab-separated), by date, newest first
grep -E -- '-[0-9]{8}\.gz(\.age)?	' "$T/ref.all" | grep -v -e 20230230 >"$T/ref"
newest() { sed 's/^\(.*-\([0-9]\{8\}\)\.gz.*\)$/\2 \1/' | sort -s -k1,1r | cut -d' ' -f2-; }

# Every backup under a prefix: the set awscli lists, newest first.
run pgbak-ls ls/ >"$T/out" 2>"$T/err"
is $? 0 "a prefix over two pages: exit 0"
is "$(cat "$T/err")" "" "...silent on stderr"
is "$(wc -l <"$T/out" | tr -d ' ')" "$(wc -l <"$T/ref" | tr -d ' ')" "...as many lines as awscli's backups: $(wc -l <"$T/ref")"
grep -v "ird é" "$T/out" | awk '{ print $5 "\t" $2 }' | sort >"$T/got.set"
is "$(cat "$T/got.set")" "$(grep -v "ird é" "$T/ref" | sort)" "...the same keys and sizes"
cut -c1-10 "$T/out" | sort -c -r 2>/dev/null
ok $? "...newest first"
is "$(head -1 "$T/out" | awk '{ print $1, $5 }')" "2024-11-25 ls/app-20241125.gz" "...the newest at the top"
like "$(grep -F "$ODD" "$T/out")" '^2024-03-01  +1  plain  dump  ' "...an odd key too"

# The encrypted and globals marks.
is "$(awk '$3 == "age"' "$T/out" | wc -l | tr -d ' ')" 10 "10 encrypted"
is "$(awk '$3 == "age" { print $5 }' "$T/out" | sort)" "$(grep 'age$' "$T/app" | sort)" \
	"...exactly the .gz.age ones"
is "$(awk '$4 == "globals" { print $5 }' "$T/out" | sort)" "$(sort "$T/globals")" \
	"globals marked"

# --json: one object per line, each parses, and says the same.
run pgbak-ls --json ls/ >"$T/json" 2>"$T/err"
is $? 0 "--json: exit 0"
python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert set(o) == {"key", "date", "size", "encrypted", "globals", "format", "last_modified"}, o
    assert o["encrypted"] == o["key"].endswith(".age"), o
    assert o["globals"] == ("/globals-" in o["key"]), o
    assert o["date"].replace("-", "") in o["key"], o
    n += 1
print(n)
' "$T/json" >"$T/jn" 2>"$T/jerr"
is "$(cat "$T/jn")" "$(wc -l <"$T/out" | tr -d ' ')" "...every line parses: $(cat "$T/jn") objects $(cat "$T/jerr")"
python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if "ird \u00e9" in o["key"]:
        print(o["key"], o["size"])
' "$T/json" >"$T/jodd"
is "$(cat "$T/jodd")" "$ODD 1" "...a key with a quote and UTF-8 escaped right"

# A database of the settings: its own series and its globals, in order.
cat >"$T/s.yml" <<EOS
tasks:
  postgres:
    s3:
      endpoint: "$AWS_ENDPOINT_URL"
      bucket: "$PGBAK_BUCKET"
    dbs:
      - database: app
        backup_file_prefix: "ls/"
      - database: other
        backup_file_prefix: "ls/other"
EOS
run pgbak-ls -c "$T/s.yml" app >"$T/db" 2>"$T/err"
is $? 0 "-c FILE DATABASE: exit 0"
cat "$T/app" "$T/globals" | newest >"$T/db.want"
is "$(awk '{ print $5 }' "$T/db")" "$(cat "$T/db.want")" \
	"...its backups and its globals, newest first, nothing else ($(wc -l <"$T/db.want" | tr -d ' '))"

# -l: the storage class from the listing, the lock from one HEAD per object.
run pgbak-ls -l -c "$T/s.yml" app >"$T/long" 2>"$T/err"
is $? 0 "-l: exit 0"
is "$(awk '{ print $5, $6 }' "$T/long" | sort -u)" "STANDARD -" "...storage class STANDARD, no lock"

# An object under lock: -l shows until when.
LB=$(s3_bucket ls-lock)
awsref s3api delete-bucket --bucket "$LB" >/dev/null
awsref s3api create-bucket --bucket "$LB" --object-lock-enabled-for-bucket >/dev/null
awsref s3api put-object --bucket "$LB" --key lk/db-20250101.gz --body "$T/one" \
	--object-lock-mode GOVERNANCE --object-lock-retain-until-date 2099-01-01T00:00:00Z >/dev/null
awsref s3api put-object --bucket "$LB" --key lk/db-20250102.gz.age --body "$T/one" >/dev/null
run pgbak-ls -l --json -b "$LB" lk/ >"$T/lock" 2>"$T/err"
is $? 0 "-l --json in a bucket with object lock: exit 0"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    print(o["key"], o["storage_class"], (o["lock_until"] or "none")[:10])
' "$T/lock" >"$T/lockv"
is "$(cat "$T/lockv")" "lk/db-20250102.gz.age STANDARD none
lk/db-20250101.gz STANDARD 2099-01-01" "...the locked one until 2099-01-01, the other none"

# A listing page cut once is read again: the same output.
start_proxy --rule list:1:drop-after=40000
run pgbak-ls -e "$PROXY_URL" ls/ >"$T/cut" 2>"$T/err"
is $? 0 "the first page cut mid-body: exit 0"
cmp -s "$T/cut" "$T/out"
ok $? "...the same listing"

# The negative twins.
EMPTY=$(s3_bucket ls-empty)
run pgbak-ls "s3://$EMPTY/" >"$T/out2" 2>"$T/err"
is $? 1 "an empty bucket: exit 1 (none)"
is "$(cat "$T/out2"):$(cat "$T/err")" ":pgbak-ls: no backups under s3://$EMPTY/" \
	"...one line on stderr, nothing on stdout"
run pgbak-ls ls/app-2023 >/dev/null 2>&1
is $? 0 "a prefix that is part of a stem: exit 0"
run pgbak-ls ls/nothing/ >"$T/out2" 2>/dev/null
is "$?:$(cat "$T/out2")" "1:" "a prefix with only other objects under it: exit 1"
awsref s3api put-object --bucket "$EMPTY" --key x/app-20250101.gz.bak --body "$T/one" >/dev/null
run pgbak-ls -b "$EMPTY" >/dev/null 2>&1
is $? 1 "...and a bucket with only decoys: exit 1"
env -u PGBAK_BUCKET pgbak-ls "s3://$EMPTY" >/dev/null 2>&1
is $? 1 "...as s3://BUCKET too"
run pgbak-ls -c "$T/s.yml" nosuchdb >"$T/out2" 2>"$T/err"
is "$?:$(cat "$T/out2")" "100:" "an unknown database: exit 100"
is "$(cat "$T/err")" "pgbak-ls: $T/s.yml: no database is named nosuchdb (a PREFIX has a slash)" \
	"...naming it"
PGBAK_S3_TRIES=2 run pgbak-ls -e http://127.0.0.1:1 ls/ >"$T/out2" 2>"$T/err"
is "$?:$(cat "$T/out2")" "111:" "S3 down: exit 111, nothing listed"
like "$(cat "$T/err")" "^pgbak-ls: unable to list the objects of s3://$PGBAK_BUCKET/ at http://127.0.0.1:1: " \
	"...naming the endpoint"
AWS_SECRET_ACCESS_KEY=wrong run pgbak-ls ls/ >/dev/null 2>&1
is $? 111 "a wrong secret: exit 111, not 1"
run pgbak-ls -b "nosuch-$$" >/dev/null 2>&1
is $? 111 "no such bucket: exit 111, not 1"
run pgbak-ls a/ b/ >/dev/null 2>&1
is $? 100 "two arguments: exit 100"
run pgbak-ls --bogus >/dev/null 2>&1
is $? 100 "an unknown option: exit 100"
