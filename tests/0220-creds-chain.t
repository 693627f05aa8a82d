#!/bin/sh
# The credential chain's order, source by source: the settings beat the
# environment, the environment beats the profile, the profile is used when
# the environment has no keys.  Which source signed is proven by RGW: the
# source that must lose holds a WRONG key, which RGW would refuse (403), and
# by -v's "credentials:" line.  No source at all: one line of what was
# tried, exit 100.  Session tokens minted by RGW's STS are sent from the
# settings and from the profile (and refused without them).
. "$(dirname "$0")/lib.sh"
plan 32
need_s3_sts

printf 'x' >"$T/x"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key dir/present --body "$T/x" >/dev/null

GOOD_K=$AWS_ACCESS_KEY_ID GOOD_S=$AWS_SECRET_ACCESS_KEY
BAD_K=AKIAWRONGKEY0220 BAD_S=wrong-secret-0220

# settings FILE KEY SECRET [TOKEN]: an s3 section with those keys.
settings() {
	{
		printf 'tasks:\n  postgres:\n    dbs:\n      - database: x\n    s3:\n'
		printf '      access_key: "%s"\n      access_secret: "%s"\n' "$2" "$3"
		[ $# -ge 4 ] && printf '      session_token: "%s"\n' "$4"
	} >"$1"
	chmod 600 "$1"
}
# credentials FILE SECTION KEY SECRET [TOKEN]: a shared credentials file.
credentials() {
	{
		printf '[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$2" "$3" "$4"
		[ $# -ge 5 ] && printf 'aws_session_token = %s\n' "$5"
	} >"$1"
}
# ex [-c FILE]: pgbak-exists -v dir/present; stderr in $T/err.
ex() { run pgbak-exists -v "$@" dir/present >/dev/null 2>"$T/err"; }

settings "$T/good.yml" "$GOOD_K" "$GOOD_S"
settings "$T/bad.yml" "$BAD_K" "$BAD_S"
credentials "$T/cred.good" default "$GOOD_K" "$GOOD_S"
credentials "$T/cred.bad" default "$BAD_K" "$BAD_S"

# 1. The settings beat the environment.
with_env AWS_ACCESS_KEY_ID=$BAD_K AWS_SECRET_ACCESS_KEY=$BAD_S ex -c "$T/good.yml"
is $? 0 "settings' keys beat the environment's wrong ones"
is "$(cat "$T/err")" "pgbak-exists: credentials: settings" "-v: credentials: settings"
ex -c "$T/bad.yml"
is $? 111 "twin: the settings' wrong keys beat the environment's good ones (refused)"
like "$(cat "$T/err")" "HTTP 403" "...with RGW's 403"

# 2. The environment beats the profile.
with_env AWS_SHARED_CREDENTIALS_FILE="$T/cred.bad" ex
is $? 0 "the environment's keys beat the profile's wrong ones"
is "$(cat "$T/err")" "pgbak-exists: credentials: environment" "-v: credentials: environment"
with_env AWS_SHARED_CREDENTIALS_FILE="$T/cred.good" AWS_ACCESS_KEY_ID=$BAD_K \
	AWS_SECRET_ACCESS_KEY=$BAD_S ex
is $? 111 "twin: the environment's wrong keys beat the profile's good ones (refused)"

# 3. The profile, when the environment has no keys.
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/cred.good" ex
is $? 0 "no keys in the environment: the profile's"
is "$(cat "$T/err")" "pgbak-exists: credentials: profile \"default\", $T/cred.good" \
	"-v: credentials: profile \"default\", FILE"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/cred.bad" ex
is $? 111 "twin: the profile's wrong keys are the ones sent (refused)"

# AWS_PROFILE picks the section; the config file's [profile NAME] too.
credentials "$T/cred.prod" prod "$GOOD_K" "$GOOD_S"
cat "$T/cred.bad" "$T/cred.prod" >"$T/cred.two"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/cred.two" \
	AWS_PROFILE=prod ex
is $? 0 "AWS_PROFILE=prod: [prod] of the credentials file"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/cred.two" ex
is $? 111 "twin: without AWS_PROFILE, [default] (wrong keys)"
credentials "$T/config" "profile cfg" "$GOOD_K" "$GOOD_S"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_CONFIG_FILE="$T/config" AWS_PROFILE=cfg ex
is $? 0 "the config file's [profile cfg] keys"
is "$(cat "$T/err")" "pgbak-exists: credentials: profile \"cfg\", $T/config" "...named so by -v"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_CONFIG_FILE="$T/config" AWS_PROFILE=nosuch ex
is $? 100 "twin: a profile in no file: no credentials (100)"
like "$(cat "$T/err")" 'profile "nosuch" \(no such profile\)' "...saying the profile is in no file"
# ~/.aws/credentials by default, through HOME.
mkdir -p "$T/home/.aws"
cp "$T/cred.good" "$T/home/.aws/credentials"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SHARED_CREDENTIALS_FILE \
	-u AWS_CONFIG_FILE HOME="$T/home" ex
is $? 0 "HOME/.aws/credentials by default"

# 4. No source: one line of what was tried, exit 100.
err=$(with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/none" \
	AWS_CONFIG_FILE="$T/none" run pgbak-exists dir/present 2>&1); st=$?
is $st 100 "no credentials anywhere: exit 100"
like "$err" '^pgbak-exists: no credentials: tried settings, environment, web identity( \([^)]*\))?, profile "default" \(no file\), container( \([^)]*\))?, instance metadata( \([^)]*\))?$' \
	"...one line naming each source tried, and why"
is "$(lines "$err")" 1 "...and only that line"
err=$(with_env -u AWS_SECRET_ACCESS_KEY run pgbak-exists dir/present 2>&1); st=$?
is $st 100 "AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY: exit 100"
is "$err" "pgbak-exists: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both or neither" \
	"...saying so"
printf 'tasks:\n  postgres:\n    dbs:\n      - database: x\n    s3:\n      access_key: "%s"\n' \
	"$GOOD_K" >"$T/half.yml"
err=$(run pgbak-exists -c "$T/half.yml" dir/present 2>&1); st=$?
is $st 100 "access_key without access_secret in the settings: exit 100"
is "$err" "pgbak-exists: $T/half.yml: access_key is set but access_secret is not: set both or neither" \
	"...naming the file"

# 5. Session tokens, minted by RGW's STS (900 s), sent from each source.
set -- $(awsref sts get-session-token --duration-seconds 900 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
TK=${1:-} TS=${2:-} TT=${3:-}
[ -n "$TT" ]; ok $? "RGW's STS minted a session token"
settings "$T/tok.yml" "$TK" "$TS" "$TT"
settings "$T/notok.yml" "$TK" "$TS"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ex -c "$T/tok.yml"
is $? 0 "the settings' session_token is sent"
ex -c "$T/notok.yml"
is $? 111 "twin: the same keys without it are refused"
credentials "$T/cred.tok" default "$TK" "$TS" "$TT"
credentials "$T/cred.notok" default "$TK" "$TS"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/cred.tok" ex
is $? 0 "the profile's aws_session_token is sent"
with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/cred.notok" ex
is $? 111 "twin: the same keys without it are refused"
with_env AWS_ACCESS_KEY_ID="$TK" AWS_SECRET_ACCESS_KEY="$TS" AWS_SESSION_TOKEN="$TT" ex
is $? 0 "the environment's AWS_SESSION_TOKEN is sent"
with_env AWS_ACCESS_KEY_ID="$TK" AWS_SECRET_ACCESS_KEY="$TS" ex
is $? 111 "twin: the same keys without it are refused"

# Never the secret in a message.
unlike "$(cat "$T/err")" "$TS|$TT|$GOOD_S" "no secret or token in the messages"
