# tests/0700-prune-lib.sh: what the pgbak-prune tests (07xx) share.  Sourced
# after tests/lib.sh and need_s3; not a test itself (tests/run only runs *.t).

# put_keys: create every key read from stdin (one a line) in $PGBAK_BUCKET,
# each a 2-byte object, 16 at a time with boto3 (the independent client
# awscli is built on): 1100 keys take a few seconds.
put_keys() {
	python3 -c '
import os, sys, concurrent.futures as cf
import boto3
from botocore.config import Config
cfg = Config(s3={"addressing_style": "path"}, max_pool_connections=16,
             retries={"max_attempts": 5}, connect_timeout=5, read_timeout=60,
             request_checksum_calculation="when_required",
             response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], config=cfg)
b = os.environ["PGBAK_BUCKET"]
keys = [k for k in sys.stdin.read().split("\n") if k]
with cf.ThreadPoolExecutor(16) as ex:
    list(ex.map(lambda k: s3.put_object(Bucket=b, Key=k, Body=b"x\n"), keys))
'
}

# keys_under PREFIX: every key under PREFIX, sorted, one a line (all pages);
# nothing when there is none.  Listed with curl's own SigV4, independent of
# our client and much faster to start than awscli (which a loaded machine
# makes take seconds a call).  curl signs the query as written: it must be
# sorted and %XX-encoded in uppercase (qenc; enough for the tests' keys).
qenc() { printf '%s' "$1" | sed 's/%/%25/g; s|/|%2F|g; s/+/%2B/g; s/ /%20/g; s/&/%26/g; s/=/%3D/g'; }
keys_under() {
	_tok= _n=0
	: >"$T/keys_under"
	while [ $_n -lt 100 ]; do
		_n=$((_n + 1))
		curl -sS --max-time 60 --aws-sigv4 "aws:amz:us-east-1:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			-H "x-amz-content-sha256: $EMPTY_SHA256" \
			"$AWS_ENDPOINT_URL/$PGBAK_BUCKET?${_tok:+continuation-token=$(qenc "$_tok")&}list-type=2&prefix=$(qenc "$1")" \
			>"$T/keys_page" || return 1
		grep -q '<ListBucketResult' "$T/keys_page" || { cat "$T/keys_page" >&2; return 1; }
		{ cat "$T/keys_page"; echo; } | sed 's/<Key>/\n&/g' | sed -n 's/^<Key>\([^<]*\)<\/Key>.*/\1/p' |
			sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/'"'"'/g; s/&amp;/\&/g' \
			>>"$T/keys_under"
		grep -q '<IsTruncated>true</IsTruncated>' "$T/keys_page" || break
		_tok=$(sed -n 's/.*<NextContinuationToken>\([^<]*\)<.*/\1/p' "$T/keys_page")
		[ -n "$_tok" ] || return 1
	done
	sort "$T/keys_under"
}
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# days FROM TO [PRE [SUF]]: PRE-YYYYMMDD-SUF for every day FROM..TO, one a
# line (GNU date, one process for them all).
days() {
	_n=$(( ($(date -u -d "$2" +%s) - $(date -u -d "$1" +%s)) / 86400 ))
	seq 0 "$_n" | sed "s/.*/$1 + & day/" | date -u -f - +"${3:-}%Y%m%d${4:-}"
}
