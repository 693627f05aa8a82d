#!/bin/sh
# The network credential sources one at a time (lib/creds_http.c), each
# against tests/lib/metaserver.py, which checks what the real endpoint
# checks and hands out session credentials minted by the test RGW.  Each
# source with its negative twin: a wrong web identity token or role, a
# wrong Authorization, an IMDSv1-only server, metadata disabled, and no
# answer, which must fall through at once.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/lib/metaserver.sh"
plan 42
need_s3_sts
creds_unset
SRC=$PGBAK_BUILD/tests/bin/creds-source
[ -x "$SRC" ] || { echo "Bail out! $SRC not built (make unit)"; exit 1; }

printf 'eyJhbGciOiJSUzI1NiJ9.pgbak-web-identity.sig\n' >"$T/wit"
start_meta --web-token-file "$T/wit" --expires-in 600
M=$META_URL

# --- web identity ---
web() {
	AWS_ENDPOINT_URL_STS=$M/ AWS_ROLE_ARN=${ROLE:-$META_ROLE_ARN} \
	AWS_WEB_IDENTITY_TOKEN_FILE=${WIT:-$T/wit} run "$SRC" web >"$T/out" 2>"$T/err"
}
now=$(date +%s)
check "web identity yields credentials" web
out=$(cat "$T/out")
like "$out" "^ok [A-Za-z0-9]+ [0-9]+ token web identity, role $META_ROLE_ARN\$" \
	"it names the role, with a session token"
exp=$(echo "$out" | cut -d' ' -f3)
[ "$exp" -ge $((now + 590)) ] && [ "$exp" -le $((now + 700)) ]
ok $? "Expiration is STS's (now + 600 s)"
is "$(meta_count sts)" 1 "STS asked once"
grep -q '^sts session pgbak-[0-9]*$' "$META_LOG"
ok $? "RoleSessionName defaults to pgbak-PID"

printf 'eyJhbGciOiJSUzI1NiJ9.rotated.sig\n' >"$T/wit"
check "a rotated token file is read again" web

printf 'eyJhbGciOiJSUzI1NiJ9.stolen.sig\n' >"$T/wrong"
WIT=$T/wrong check_status 100 "a wrong web identity token fails (100)" web
is "$(cat "$T/out")" "fail web identity: STS refused role $META_ROLE_ARN: InvalidIdentityToken" \
	"the line names STS's code"
unlike "$(cat "$T/out" "$T/err")" "stolen" "not the token"
ROLE=arn:aws:iam::123456789012:role/other check_status 100 "a role STS refuses fails (100)" web
is "$(cat "$T/out")" "fail web identity: STS refused role arn:aws:iam::123456789012:role/other: AccessDenied" \
	"AccessDenied, naming the role"
WIT=$T/none check_status 100 "an unreadable token file fails (100)" web
like "$(cat "$T/out")" "^fail web identity: unable to read token file $T/none" "it names the file"
is "$(meta_count sts)" 2 "no credentials for the refused ones"
out=$(AWS_WEB_IDENTITY_TOKEN_FILE="$T/wit" "$SRC" web); rc=$?
is "$rc $out" "1 none AWS_ROLE_ARN unset" "without AWS_ROLE_ARN the source is not set up"

# --- container endpoint ---
# ctr [AUTHORIZATION [AUTHORIZATION_FILE]]: ask the container source.
ctr() {
	(
		[ -n "${1:-}" ] && export AWS_CONTAINER_AUTHORIZATION_TOKEN="$1"
		[ -n "${2:-}" ] && export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$2"
		AWS_CONTAINER_CREDENTIALS_FULL_URI=$M/v2/credentials/pod-1 run "$SRC" container
	) >"$T/out" 2>"$T/err"
}
check "the container endpoint yields credentials" ctr "$META_AUTH"
is "$(cut -d' ' -f4- "$T/out")" "token container endpoint $M/v2/credentials/pod-1" \
	"it names the endpoint"
printf '%s\n' "$META_AUTH" >"$T/auth"
check "the token file, which wins over the variable, is sent" ctr "Bearer wrong" "$T/auth"
is "$(meta_count container)" 2 "two fetches served"
check_status 100 "a wrong Authorization fails (100)" ctr "Bearer wrong"
like "$(cat "$T/out")" "^fail container credentials refused: HTTP 401 from $M/v2/credentials/pod-1 \(check AWS_CONTAINER_AUTHORIZATION_TOKEN" \
	"the line says to check the token"
unlike "$(cat "$T/out" "$T/err")" "wrong" "not the token"
check_status 100 "no Authorization fails too" ctr
is "$(meta_count container) $(meta_count refused)" "2 4" "no credentials for the refused ones"
out=$(AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/creds "$SRC" container); rc=$?
is "$rc $out" "100 fail container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI http://192.0.2.1/creds: plain http only to loopback or the container agent" \
	"plain http to a host that is no container agent is refused"
out=$("$SRC" container); rc=$?
is "$rc $out" "1 none unset" "unset, the source is not set up"

# --- IMDSv2 ---
imds() {
	AWS_EC2_METADATA_DISABLED= AWS_EC2_METADATA_SERVICE_ENDPOINT=${1:-$M} \
		run "$SRC" imds >"$T/out" 2>"$T/err"
}
check "IMDSv2 yields credentials" imds
is "$(cut -d' ' -f4- "$T/out")" "token instance metadata, role $META_ROLE" "it names the role"
is "$(meta_count token) $(meta_count imds)" "1 1" "one token, one fetch"
code=$(curl -s -o /dev/null -w '%{http_code}' "$M/latest/meta-data/iam/security-credentials/")
is "$code" 401 "the test server refuses a GET without a token (as IMDSv2 does)"
out=$(AWS_EC2_METADATA_SERVICE_ENDPOINT="$M" AWS_EC2_METADATA_DISABLED=true "$SRC" imds); rc=$?
is "$rc $out" "1 none disabled" "AWS_EC2_METADATA_DISABLED=true skips it"
is "$(meta_count token)" 1 "without asking"

start_meta --imdsv1-only
check_status 1 "an IMDSv1-only server yields nothing" imds "$META_URL"
is "$(cat "$T/out")" "none IMDSv2 token refused: HTTP 405; IMDSv1 is not used" "why, naming v1"
is "$(meta_count v1get) $(meta_count imds)" "0 0" "no GET without a token was tried"
code=$(curl -s -o /dev/null -w '%{http_code}' "$META_URL/latest/meta-data/iam/security-credentials/")
is "$code $(meta_count v1get)" "200 1" "though that server answers one (the twin is not vacuous)"

check_status 1 "nothing listening: not set up" imds "http://127.0.0.1:$(dead_port)"
start_silent
check_status 1 "a server that never answers: not set up" imds "$SILENT_URL"
is "$(cat "$T/out")" "none no answer in 1 s" "why: no answer in 1 s"
# The time without valgrind: what is measured is the deadline, not a start-up.
t0=$(date +%s%N)
AWS_EC2_METADATA_DISABLED= AWS_EC2_METADATA_SERVICE_ENDPOINT=$SILENT_URL "$SRC" imds >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 900 ] && [ "$ms" -le 5000 ]
ok $? "a silent endpoint is given up after its 1 s ($ms ms)"

# A signal ends a fetch in flight at once, not after its deadline (STS's
# is 10 s): pgbak-put, which hands the sources its wake descriptor
# (cancel_fd), waiting on a web identity endpoint that never answers.
sport=${SILENT_URL##*:}
(
	creds_unset
	export AWS_ROLE_ARN="$META_ROLE_ARN" AWS_WEB_IDENTITY_TOKEN_FILE="$T/wit" \
		AWS_ENDPOINT_URL_STS="$SILENT_URL/"
	exec pgbak-put some/key </dev/null >/dev/null 2>"$T/sig.err"
) &
gpid=$!
at_exit "kill $gpid"
i=0
while [ "$(ss -Htn state established "( dport = :$sport )" 2>/dev/null | wc -l)" -eq 0 ] &&
	[ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(date +%s%N)
kill -TERM $gpid
{ wait $gpid; } 2>/dev/null; st=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "$st" 143 "pgbak-put dies of the SIGTERM that came while it asked STS"
[ "$ms" -le 3000 ]; ok $? "at once ($ms ms), not after STS's 10 s"
