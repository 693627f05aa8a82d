#!/bin/sh
# credential_process: the profile's command runs with a fixed argv (never a
# shell) and prints JSON Version 1; anything else is one clear line naming
# the profile.  Its session token is sent.  Credentials that expire within
# CREDS_REFRESH_S are fetched again before a request is signed, also in the
# middle of one multipart upload; once expired and not refreshable, the
# upload fails rather than send stale keys.  The fetched secret is in no
# /proc/PID/cmdline or environ of pgbak-put.
. "$(dirname "$0")/lib.sh"
plan 36
need_s3_sts
. "$TESTS_DIR/lib/s3obj.sh"

printf 'x' >"$T/x"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key dir/present --body "$T/x" >/dev/null
GOOD_K=$AWS_ACCESS_KEY_ID GOOD_S=$AWS_SECRET_ACCESS_KEY

# A session token minted by RGW's STS for 900 s: what a real helper hands out.
set -- $(awsref sts get-session-token --duration-seconds 900 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
TK=${1:-} TS=${2:-} TT=${3:-}
[ -n "$TT" ]; ok $? "RGW's STS minted a session token"

# helper NAME BODY: an executable $T/NAME that appends to $T/NAME.count
# each time it runs, then runs BODY (shell text).
helper() {
	printf '#!/bin/sh\necho run >>"%s.count"\n%s\n' "$T/$1" "$2" >"$T/$1"
	chmod 755 "$T/$1"
}
# json KEY SECRET [TOKEN [TTL]]: shell text printing a Version 1 document;
# with TTL its Expiration is TTL seconds after the moment it runs, also
# written to $T/expires (seconds since the epoch).
json() {
	if [ $# -ge 4 ]; then
		printf 'e=$(( $(date +%%s) + %s )); echo $e >"%s/expires"\n' "$4" "$T"
		printf 'x=", \"Expiration\": \"$(date -u -d "@$e" +%%Y-%%m-%%dT%%H:%%M:%%SZ)\""\n'
	else
		printf 'x=\n'
	fi
	printf 'printf '"'"'{"Version": 1, "AccessKeyId": "%%s", "SecretAccessKey": "%%s"%%s%%s}\\n'"'"' '
	printf "'%s' '%s' '%s' \"\$x\"\n" "$1" "$2" "${3:+, \"SessionToken\": \"$3\"}"
}
# profile NAME: a config file whose [default] runs $T/NAME (and its args).
profile() { printf '[default]\ncredential_process = %s\n' "$*" >"$T/config"; }
# with [-u NAME | NAME=VALUE]... CMD...: with_env with no keys in the
# environment and the config file $T/config.
with() {
	with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_CONFIG_FILE="$T/config" "$@"
}
ex() { run pgbak-exists -v dir/present >/dev/null 2>"$T/err"; }
# proc_of PID TEXT: PID or the first of its descendants (subshells, valgrind)
# whose command line holds TEXT.
proc_of() {
	_kids=$1
	while [ -n "$_kids" ]; do
		_next=
		for _p in $_kids; do
			tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | grep -qF -- "$2" &&
				{ echo "$_p"; return 0; }
			_next="$_next $(pgrep -P "$_p")"
		done
		_kids=$_next
	done
	return 1
}
# err: $T/err without valgrind's own lines (its warning about pidfd_open)
err() { grep -v '^--[0-9]*-- ' "$T/err"; }

helper good "$(json "$GOOD_K" "$GOOD_S")"
profile "$T/good"
with ex
is $? 0 "credential_process's keys sign"
is "$(err)" "pgbak-exists: credentials: profile \"default\", credential_process" \
	"-v: credentials: profile \"default\", credential_process"
helper bad "$(json AKIAWRONG0221 wrong-secret-0221)"
profile "$T/bad"
with ex
is $? 111 "twin: its wrong keys are the ones sent (refused)"

# Failures: one line naming the profile.
helper fail 'echo "the SSO session has expired" >&2; exit 1'
profile "$T/fail"
with ex; st=$?
is $st 111 "the command exits 1: exit 111"
is "$(err)" "pgbak-exists: credential_process of profile \"default\": $T/fail exited 1: the SSO session has expired" \
	"...saying so, with its last line of stderr"
helper garbage 'echo "AccessKeyId=x"'
profile "$T/garbage"
with ex; st=$?
is $st 100 "it prints no JSON: exit 100"
is "$(err)" "pgbak-exists: credential_process of profile \"default\" printed no JSON object" \
	"...saying so"
helper v2 "echo '{\"Version\": 2, \"AccessKeyId\": \"$GOOD_K\", \"SecretAccessKey\": \"$GOOD_S\"}'"
profile "$T/v2"
with ex; st=$?
is $st 100 "it prints Version 2: exit 100"
is "$(err)" "pgbak-exists: credential_process of profile \"default\" printed Version 2, not 1" \
	"...saying so"
profile "$T/nosuch"
with ex; st=$?
is $st 100 "the command does not exist: exit 100"
like "$(err)" "credential_process of profile \"default\": .*nosuch" "...naming it"

# A fixed argv: "double quotes" group, nothing is a shell's.
helper args "printf '%s|' \"\$@\" >'$T/args.seen'; $(json "$GOOD_K" "$GOOD_S")"
profile "$T/args" '"a b"' 'c;touch' "$T/pwned" '$(touch' "$T/pwned2)"
with ex
is $? 0 "a command with arguments"
is "$(cat "$T/args.seen")" "a b|c;touch|$T/pwned|\$(touch|$T/pwned2)|" \
	"...split on blanks, \"quotes\" grouping, no shell syntax"
[ ! -e "$T/pwned" ] && [ ! -e "$T/pwned2" ]; ok $? "...and nothing a shell would have run"

# A signal stops pgbak-put while its credential_process hangs: the
# helper is stopped too, not waited for.
ln -s "$(command -v sleep)" "$T/sleep"
helper hang "echo \$\$ >'$T/hang.pid'; exec '$T/sleep' 30"
profile "$T/hang"
start=$(date +%s)
with run pgbak-put hang.bin <"$T/x" 2>"$T/err" &
put=$!
i=0	# until the helper runs, 30 s at most
while [ ! -s "$T/hang.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
pp=$(proc_of $put "pgbak-put hang.bin")
kill -TERM "$pp"
wait $put
st=$?; is $st 143 "SIGTERM while credential_process runs: pgbak-put dies of it (143)" || diag "$(cat "$T/err")"
! kill -0 "$(cat "$T/hang.pid")" 2>/dev/null; ok $? "...and the helper was stopped"
[ $(($(date +%s) - start)) -lt 25 ]; ok $? "...at once, not after its 30 s"

# The session token it hands out is sent.
helper tok "$(json "$TK" "$TS" "$TT")"
profile "$T/tok"
with ex
is $? 0 "its SessionToken is sent"
helper notok "$(json "$TK" "$TS")"
profile "$T/notok"
with ex
is $? 111 "twin: the same keys without the token are refused"

# Refresh in the middle of one multipart upload: each Expiration is 60 s
# away, within CREDS_REFRESH_S, so every request signs with a fresh fetch.
head -c $((16 * 1024 * 1024)) /dev/urandom >"$T/big"
helper short "$(json "$TK" "$TS" "$TT" 60)"
profile "$T/short"
with run pgbak-put -v --part-size=5MiB refresh.bin <"$T/big" 2>"$T/err"
is $? 0 "a 4-part upload with credentials that expire within the refresh window"
n=$(grep -c run "$T/short.count")
[ "$n" -ge 5 ]; ok $? "credential_process ran before each part ($n runs, 5 or more)"
is "$(awsref s3api head-object --bucket "$PGBAK_BUCKET" --key refresh.bin \
	--query ContentLength --output text)" $((16 * 1024 * 1024)) "the object is complete"
unlike "$(err)" "unable to refresh" "no refresh failed"
helper long "$(json "$TK" "$TS" "$TT" 3600)"
profile "$T/long"
with run pgbak-put --part-size=5MiB long.bin <"$T/big"
is $? 0 "twin: credentials valid for an hour"
is "$(grep -c run "$T/long.count")" 1 "...are fetched once"

# A refresh that fails while the keys still hold: the first run hands out
# keys for 120 s (within the refresh window), later runs fail.  The upload
# goes on with the old keys, with one warning.  Meanwhile pgbak-put's /proc
# shows neither the secret nor the token.
helper once "[ \$(grep -c run '$T/once.count') -gt 1 ] && { echo 'no more' >&2; exit 1; }
$(json "$TK" "$TS" "$TT" 120)"
profile "$T/once"
mkfifo "$T/in"
with run pgbak-put --part-size=5MiB kept.bin <"$T/in" 2>"$T/err" &
put=$!
exec 3>"$T/in"
head -c $((5 * 1024 * 1024)) "$T/big" >&3
wait_upload kept.bin
ok $? "a multipart upload is under way"
pp=$(proc_of $put "pgbak-put --part-size")
tr '\0' '\n' <"/proc/$pp/cmdline" >"$T/put.cmdline" 2>/dev/null
tr '\0' '\n' <"/proc/$pp/environ" >"$T/put.environ" 2>/dev/null
[ -s "$T/put.cmdline" ] && [ -s "$T/put.environ" ]; ok $? "pgbak-put's cmdline and environ read"
! grep -qF -e "$TS" -e "$TT" "$T/put.cmdline" "$T/put.environ"
ok $? "the fetched secret and token are in neither"
grep -q "AWS_CONFIG_FILE=$T/config" "$T/put.environ"; ok $? "(the sampler does see its environment)"
head -c $((6 * 1024 * 1024)) "$T/big" >&3
exec 3>&-
wait $put
is $? 0 "a failed refresh while the keys hold: the upload completes with them"
is "$(err | grep -c 'unable to refresh the credentials from profile "default", credential_process, using the current ones until they expire: .*no more')" 1 \
	"...after one warning"
[ "$(grep -c run "$T/once.count")" -ge 2 ]; ok $? "...the refresh was tried"

# Expired and not refreshable: the first run hands out keys for 2 s, later
# runs fail; the input comes once they have expired.
helper dead "[ \$(grep -c run '$T/dead.count') -gt 1 ] && { echo 'no more' >&2; exit 1; }
$(json "$TK" "$TS" "$TT" 2)"
profile "$T/dead"
rm -f "$T/in" "$T/expires"
mkfifo "$T/in"
with run pgbak-put --part-size=5MiB expired.bin <"$T/in" 2>"$T/err" &
put=$!
exec 3>"$T/in"
i=0	# until the keys have expired: the clock, 60 s at most
while { [ ! -s "$T/expires" ] || [ "$(date +%s)" -le "$(cat "$T/expires")" ]; } && [ $i -lt 600 ]; do
	sleep 0.1; i=$((i + 1))
done
head -c $((11 * 1024 * 1024)) "$T/big" >&3 2>/dev/null
exec 3>&-
wait $put; st=$?
is $st 111 "expired and not refreshable: the upload fails (111)"
like "$(err)" "the credentials from profile \"default\", credential_process expired (at [0-9T:Z-]+$|and could not be refreshed: credential_process of profile \"default\": .* exited 1: no more$)" \
	"...saying the credentials expired (and why the refresh failed)"
check "...and no object" absent expired.bin
