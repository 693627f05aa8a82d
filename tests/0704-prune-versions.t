#!/bin/sh
# pgbak-prune in a versioned bucket (an Object Lock one, as RGW makes it):
# a pruned backup loses every version and delete marker it has, by version
# id, so nothing of it is left, hidden or billed; a version still locked
# stays, with one "locked until" line, and is no failure; a refusal that
# is not a lock still fails; an unversioned bucket is pruned as before.
# What is left is read with awscli's list-object-versions.
. "$(dirname "$0")/lib.sh"
plan 60
need_pg
need_s3
. "$TESTS_DIR/0700-prune-lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"

printf 'backup\n' >"$T/body"
# lock_bucket: a new bucket with Object Lock (so versioned); its name.
lock_bucket() {
	_b="t-prune-versions-$$-$(date +%s%N | cut -c10-16)"
	awsref s3api create-bucket --bucket "$_b" --object-lock-enabled-for-bucket \
		>/dev/null 2>&1 || { echo "Bail out! cannot create bucket $_b"; exit 1; }
	echo "$_b"
}
# ops: run "put KEY [UNTIL]" (store a version, locked in GOVERNANCE mode
# until UNTIL) and "hide KEY" (a keyless delete, as an old pgbak-prune or a
# user's "aws s3 rm" sends in a versioned bucket: a delete marker on top)
# lines from stdin, in one boto3 process (awscli takes a second a call on a
# loaded machine); print each new version id.
ops() {
	python3 -c '
import datetime, os, sys
import boto3
from botocore.config import Config
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5},
             request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], config=cfg)
b = os.environ["PGBAK_BUCKET"]
for line in sys.stdin.read().split("\n"):
    w = line.split()
    if not w:
        continue
    if w[0] == "put":
        kw = {}
        if len(w) > 2:
            kw = {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate":
                  datetime.datetime.strptime(w[2], "%Y-%m-%dT%H:%M:%SZ").replace(
                      tzinfo=datetime.timezone.utc)}
        r = s3.put_object(Bucket=b, Key=w[1], Body=b"backup\n", **kw)
    else:
        r = s3.delete_object(Bucket=b, Key=w[1])
    print(r.get("VersionId", "null"))
'
}
put() { echo "put $*" | ops; }
# versions PREFIX: "version KEY ID" and "marker KEY ID" lines, sorted.
versions() {
	awsref s3api list-object-versions --bucket "$PGBAK_BUCKET" --prefix "$1" --output json |
		python3 -c '
import json, sys
d = json.loads(sys.stdin.read() or "{}")
out = ["version %s %s" % (v["Key"], v["VersionId"]) for v in d.get("Versions") or []]
out += ["marker %s %s" % (v["Key"], v["VersionId"]) for v in d.get("DeleteMarkers") or []]
print("\n".join(sorted(out)))'
}
markers() { versions "$1" | grep -c '^marker '; }

PGBAK_BUCKET=$(lock_bucket)
export PGBAK_BUCKET
LOCKED_BUCKET=$PGBAK_BUCKET
is "$(awsref s3api get-bucket-versioning --bucket "$PGBAK_BUCKET" --query Status --output text)" \
	Enabled "an Object Lock bucket is versioned"

# The series db/v/app, judged on Jan 6 2025 with keep_days 2: Jan 5 and 6
# stay, Jan 1-4 go.  Each of those has its own history:
#   01  two versions (stored twice)
#   02  one version locked for an hour
#   03  a version hidden by a delete marker (an old keyless prune)
#   04  a version, a delete marker, a version again
#   05  two versions (kept: both stay); 05.gz.age hidden, in the window
#   06  one version (kept)
UNTIL=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
ops >"$T/ids" <<EOF
put db/v/app-20250101.gz
put db/v/app-20250101.gz
put db/v/app-20250102.gz $UNTIL
put db/v/app-20250103.gz
hide db/v/app-20250103.gz
put db/v/app-20250104.gz
hide db/v/app-20250104.gz
put db/v/app-20250104.gz
put db/v/app-20250105.gz
put db/v/app-20250105.gz
put db/v/app-20250105.gz.age
hide db/v/app-20250105.gz.age
put db/v/app-20250106.gz
put db/v/app-20250101.gz.bak
hide db/v/app-20250101.gz.bak
EOF
L02=$(sed -n 3p "$T/ids")
versions db/v/ >"$T/before"
is "$(wc -l <"$T/before" | tr -d ' ') $(markers db/v/)" "15 4" \
	"15 versions and markers stored, 4 of them delete markers"
# delete_refused KEY ID: awscli deletes that version; true only when the
# server refused it for the lock.  The id goes as --version-id=ID: an RGW
# version id may begin with "-", which awscli would take for an option
# (its usage, a failure that would pass for the refusal).
delete_refused() {
	awsref s3api delete-object --bucket "$PGBAK_BUCKET" --key "$1" --version-id="$2" \
		>/dev/null 2>"$T/del.err" && return 1
	grep -q 'An error occurred (AccessDenied)' "$T/del.err"
}
check "...Jan 2's version is locked: deleting it by its version id is refused (AccessDenied)" \
	delete_refused db/v/app-20250102.gz "$L02"

# ids_of KEY: the version ids of KEY as listed now, in listing order.
ids_of() { grep " $1 " "$T/before" | awk '{print $3}' | sort; }
POLICY="--keep-days 2 --today 20250106"

# The dry run: every version and marker of each pruned backup, by id.
run pgbak-prune -n $POLICY db/v/app >"$T/plan" 2>"$T/err"
is $? 0 "--dry-run: exit 0"
is "$(cat "$T/err")" "" "...nothing on stderr"
is "$(sed 's/ (.*//' "$T/plan")" "delete db/v/app-20250101.gz
delete db/v/app-20250102.gz
delete db/v/app-20250103.gz
delete db/v/app-20250104.gz
keep db/v/app-20250105.gz
keep db/v/app-20250105.gz.age
keep db/v/app-20250106.gz" "...Jan 1-4 to delete (the hidden Jan 3 too), Jan 5-6 kept"
for d in 01 02 03 04; do
	sed -n "s/^delete db\/v\/app-202501$d.gz (\(.*\))$/\1/p" "$T/plan" | tr ',' '\n' |
		awk '{print $NF}' | sort >"$T/plan-$d"
done
is "$(cat "$T/plan-01")" "$(ids_of db/v/app-20250101.gz)" "...Jan 1: both version ids"
is "$(cat "$T/plan-04")" "$(ids_of db/v/app-20250104.gz)" \
	"...Jan 4: the ids of both versions and of the marker between them"
like "$(cat "$T/plan")" "delete db/v/app-20250103.gz \(delete marker [^ ,]+, version [^ ,]+\)" \
	"...Jan 3: its marker and the version under it, named as such"
is "$(cat "$T/plan-02")" "$L02" "...Jan 2: its locked version"
is "$(grep -c '^keep db/v/app-20250105.gz.age (days, behind a delete marker)$' "$T/plan")" 1 \
	"...the hidden Jan 5 .gz.age kept by its date, said to be behind a marker"
is "$(versions db/v/)" "$(cat "$T/before")" "...nothing deleted"

# The prune.
run pgbak-prune $POLICY db/v/app >"$T/out" 2>"$T/err"
is $? 0 "prune with a locked version: exit 0"
is "$(cat "$T/out")" "" "...nothing on stdout"
is "$(cat "$T/err")" "pgbak-prune: db/v/app-20250102.gz: locked until $UNTIL, kept" \
	"...one line: the locked backup and until when"
versions db/v/ >"$T/after"
is "$(grep -c 'app-2025010[134]\.gz ' "$T/after")" 0 \
	"...Jan 1, 3, 4: no version and no delete marker left"
is "$(grep 'app-20250102\.gz ' "$T/after")" "version db/v/app-20250102.gz $L02" \
	"...Jan 2: its locked version, and nothing else"
is "$(grep -c '^marker db/v/app-2025010[1-4]\.gz ' "$T/after")" 0 \
	"...no delete marker on a pruned key"
is "$(grep 'app-2025010[56]\.gz\|\.bak ' "$T/after")" \
	"$(grep 'app-2025010[56]\.gz\|\.bak ' "$T/before")" \
	"...Jan 5 and 6 (every version, the hidden .gz.age) and the decoy untouched"
is "$(keys_under db/v/)" "db/v/app-20250102.gz
db/v/app-20250105.gz
db/v/app-20250106.gz" "...a plain listing shows the kept backups and the locked one"

# Again: the lock is still there, said again; no failure.
run pgbak-prune -v $POLICY db/v/app >"$T/out" 2>"$T/err"
is $? 0 "a second run: exit 0"
is "$(sans_creds "$T/err")" "pgbak-prune: db/v/app-20250102.gz: locked until $UNTIL, kept
pgbak-prune: db/v/app: kept 3, deleted 0, locked 1" "...the locked line again, and -v's count"
is "$(versions db/v/)" "$(cat "$T/after")" "...nothing changed"

# More than a page of versions (1000 entries), the page boundary inside a
# key's versions (the 1000th key has two: NextVersionIdMarker is followed),
# the first page cut mid-body and read again; 1071 versions deleted in two
# DeleteObjects batches.
days 20220101 20250104 many/m- .gz >"$T/series"
days 20241206 20250104 many/m- .gz >"$T/kept"
put_keys <"$T/series"
put "$(sed -n 1000p "$T/series")" >/dev/null
is "$(versions many/ | wc -l | tr -d ' ')" 1101 "1100 backups, 1101 versions"
start_proxy --rule list:1:drop-after=40000
run pgbak-prune -n -e "$PROXY_URL" --keep-days 30 --today 20250104 many/m >"$T/plan" 2>"$T/err"
is "$(grep -c '^delete ' "$T/plan") $(grep -c '^keep ' "$T/plan")" "1070 30" \
	"a dry run over several pages of versions, the first cut: 1070 to delete, 30 kept"
is "$(grep "^delete $(sed -n 1000p "$T/series") " "$T/plan" | grep -o 'version ' | wc -l |
	tr -d ' ')" 2 "...both versions of the key split across pages, in one line"
[ "$(grep -c '^list ' "$PROXY_LOG")" -ge 3 ]
ok $? "...in at least 3 list requests (the cut page twice, then the next)"
run pgbak-prune -e "$PROXY_URL" --keep-days 30 --today 20250104 many/m >"$T/out" 2>"$T/err"
is "$? $(cat "$T/err")" "0 " "the prune: exit 0, silent"
is "$(grep -c '^multidelete ' "$PROXY_LOG")" 2 "...two DeleteObjects batches"
is "$(versions many/ | sed 's/ [^ ]*$//')" "$(sed 's/^/version /' "$T/kept")" \
	"...one version of each of the 30 kept left, nothing else, no marker"

# Why it matters: a keyless delete, what a prune unaware of versions sends,
# removes the key from a plain listing but leaves a marker and the data.
put db/k/app-20250101.gz >/dev/null
awsref s3api delete-objects --bucket "$PGBAK_BUCKET" \
	--delete '{"Objects":[{"Key":"db/k/app-20250101.gz"}],"Quiet":true}' >/dev/null
is "$(keys_under db/k/)" "" "a keyless delete in this bucket: the key is gone from a listing"
is "$(versions db/k/ | awk '{print $1}' | tr '\n' ' ')" "marker version " \
	"...but a delete marker and the version are left: what the checks above rule out"
put db/k/app-20250102.gz >/dev/null
run pgbak-prune --keep-days 1 --today 20250102 db/k/app
is $? 0 "pgbak-prune over that leftover: exit 0"
is "$(versions db/k/ | sed 's/ [^ ]*$//')" "version db/k/app-20250102.gz" \
	"...the hidden backup's version and marker are gone too"

# A refusal that is not a lock: the prune fails, exit 111.
printf 'put db/f/app-%s\n' 20250101.gz 20250102.gz "20250103.gz $UNTIL" 20250104.gz |
	ops >/dev/null
versions db/f/ >"$T/f-before"
start_proxy --rule 'multidelete:*:deny-keys'
run pgbak-prune -e "$PROXY_URL" --keep-days 1 --today 20250104 db/f/app >"$T/out" 2>"$T/err"
is $? 111 "DeleteObjects refusing every version (AccessDenied, no lock): exit 111"
like "$(cat "$T/err")" "^pgbak-prune: unable to delete s3://$PGBAK_BUCKET/db/f/app-2025010[12].gz at $PROXY_URL: AccessDenied on version [^ ]+ \(and 1 more of 3 keys\)$" \
	"...naming the first refused key, its version and the code; the locked one not counted"
unlike "$(cat "$T/err")" "locked until" "...and no 'locked until' line for a batch that failed"
is "$(versions db/f/)" "$(cat "$T/f-before")" "...nothing deleted"

start_proxy --rule 'multidelete:*:500'
PGBAK_S3_TRIES=2 run pgbak-prune -e "$PROXY_URL" --keep-days 1 --today 20250104 db/f/app \
	>"$T/out" 2>"$T/err"
is $? 111 "DeleteObjects answered 500 on every try: exit 111"
is "$(cat "$T/err")" "pgbak-prune: unable to delete the objects of s3://$PGBAK_BUCKET/ at $PROXY_URL: HTTP 500 InternalError (after 2 tries)" \
	"...naming the bucket, endpoint, code and tries"

start_proxy --rule 'versioning:*:403'
run pgbak-prune -e "$PROXY_URL" --keep-days 1 --today 20250104 db/f/app >"$T/out" 2>"$T/err"
is $? 111 "GetBucketVersioning refused: exit 111"
is "$(cat "$T/err")" "pgbak-prune: unable to read the versioning of s3://$PGBAK_BUCKET/ at $PROXY_URL: HTTP 403 AccessDenied" \
	"...nothing pruned on a guess, saying why"
is "$(grep -c '^list \|^multidelete ' "$PROXY_LOG")" 0 "...nothing listed, nothing deleted"
is "$(versions db/f/)" "$(cat "$T/f-before")" "...and the bucket unchanged"

start_proxy
run pgbak-prune -e "$PROXY_URL" --keep-days 1 --today 20250104 db/f/app >"$T/out" 2>"$T/err"
is $? 0 "the same through a proxy that lets everything pass: exit 0"
is "$(cat "$T/err")" "pgbak-prune: db/f/app-20250103.gz: locked until $UNTIL, kept" \
	"...the locked one said"
is "$(versions db/f/ | sed 's/ [^ ]*$//')" "version db/f/app-20250103.gz
version db/f/app-20250104.gz" "...the others gone, every version"

# A bucket whose versioning was suspended still holds the versions made
# before: it is pruned by version too.
PGBAK_BUCKET=$(s3_bucket 0704-suspended) || bucket_bail
awsref s3api put-bucket-versioning --bucket "$PGBAK_BUCKET" \
	--versioning-configuration Status=Enabled
printf 'put %s\n' db/s/app-20250101.gz db/s/app-20250101.gz | ops >/dev/null
awsref s3api put-bucket-versioning --bucket "$PGBAK_BUCKET" \
	--versioning-configuration Status=Suspended
put db/s/app-20250102.gz >/dev/null
run pgbak-prune -n --keep-days 1 --today 20250102 db/s/app >"$T/plan"
is $? 0 "versioning suspended: --dry-run exit 0"
like "$(cat "$T/plan")" "^delete db/s/app-20250101.gz \(version [^ ,]+, version [^ ,]+\)" \
	"...the versions made before the suspension listed"
run pgbak-prune --keep-days 1 --today 20250102 db/s/app
is $? 0 "...pruned: exit 0"
is "$(versions db/s/ | sed 's/ [^ ]*$//')" "version db/s/app-20250102.gz" \
	"...no version or marker of Jan 1 left"

# The negative twin: a bucket that never had versioning is pruned as
# before, key by key (ListObjectsV2, no version ids).
PGBAK_BUCKET=$(s3_bucket 0704-plain) || bucket_bail
is "$(awsref s3api get-bucket-versioning --bucket "$PGBAK_BUCKET" --query Status --output text)" \
	None "a plain bucket has no versioning"
days 20250101 20250104 db/p/app- .gz | put_keys
start_proxy
run pgbak-prune -n -e "$PROXY_URL" --keep-days 1 --today 20250104 db/p/app >"$T/plan"
is "$(cat "$T/plan")" "delete db/p/app-20250101.gz
delete db/p/app-20250102.gz
delete db/p/app-20250103.gz
keep db/p/app-20250104.gz (newest, days)" "...the plan names keys, no versions"
is "$(grep -c '^list ' "$PROXY_LOG")" 1 "...one ListObjectsV2"
run pgbak-prune --keep-days 1 --today 20250104 db/p/app
is $? 0 "...pruned: exit 0"
is "$(keys_under db/p/)" "db/p/app-20250104.gz" "...today's left"

# pgbak-run's prune step in the lock bucket: a locked backup of yesterday
# does not fail the run; the unlocked one of 3 days ago loses every version.
PGBAK_BUCKET=$LOCKED_BUCKET
G=prune_versions_$$
psql_q -d postgres -c "create database $G" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $G'"
D1=$(date -d "$TODAY - 1 day" +%Y%m%d)
D3=$(date -d "$TODAY - 3 days" +%Y%m%d)
printf '%s\n' "put r/$G-$D1.gz $UNTIL" "put r/$G-$D3.gz" "hide r/$G-$D3.gz" "put r/$G-$D3.gz" |
	ops >/dev/null
settings "$T/run.yml" "retention: { keep_daily: 1 }" "" "$(db_yaml "$G" r/)"
run pgbak-run -v "$T/run.yml" >"$T/out" 2>"$T/err"
is $? 0 "pgbak-run with a locked old backup: exit 0"
like "$(cat "$T/out")" "^r/$G-$TODAY.gz: .*: ok$" "...the database ok"
like "$(cat "$T/err")" "pgbak-prune: r/$G-$D1.gz: locked until $UNTIL, kept" \
	"...-v shows the prune's locked line"
is "$(versions r/ | sed 's/ [^ ]*$//')" "version r/$G-$D1.gz
version r/$G-$TODAY.gz" "...3 days ago: no version or marker left; the locked one and today's stay"
