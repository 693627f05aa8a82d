#!/bin/sh
# pgbak-run backs up, and pgbak-get restores, with no keys in the
# environment: from the settings' access_key, access_secret and
# session_token (passed to the S3 children in --settings-fd, never in their
# argv or environment), and from a profile's credential_process.  The
# hooks never see session_token, AWS_CONTAINER_AUTHORIZATION_TOKEN or a
# fetched secret; neither do the S3 programs' command lines and
# environments, nor stderr (-v) or --json.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 26
need_pg
need_s3_sts

D=runcred_$$
psql_q -d postgres -c "create database $D owner $PGUSER" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $D'"
psql_q -d "$D" -c "create table t as select g from generate_series(1, 1000) g" || exit 1

set -- $(awsref sts get-session-token --duration-seconds 900 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
TK=${1:-} TS=${2:-} TT=${3:-}
[ -n "$TT" ]; ok $? "RGW's STS minted a session token"
printf '%s\n%s\n' "$TS" "$TT" >"$T/secrets"

# The hook writes down its environment.
printf '#!/bin/sh\nenv >"%s/hook.env"\n' "$T" >"$T/hook"
chmod 755 "$T/hook"
HOOK="on_success: [$T/hook]"

# with [NAME=VALUE]... CMD...: with_env with no keys in the environment and
# a container token set (a secret every child but the S3 programs must lose).
with() {
	with_env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=ecs-auth-0222 "$@"
}

# 1. The settings' session_token, through ${NAME}.
settings "$T/tok.yml" "$HOOK" 'access_key: ${RUN_K}
access_secret: ${RUN_S}
session_token: ${RUN_T}' "$(db_yaml "$D" tok/)"
with RUN_K="$TK" RUN_S="$TS" RUN_T="$TT" run pgbak-run -v --json "$T/tok.yml" >"$T/out" 2>"$T/err"; st=$?
is $st 0 "settings with session_token, no keys in the environment: the run succeeds"
[ $st -eq 0 ] || diag "$(cat "$T/err" "$T/out")"
check "...the object is stored" has_object "tok/$D-$TODAY.gz"
check "...and restores" restore_same "$D" "tok/$D-$TODAY.gz"
[ -s "$T/hook.env" ]; ok $? "the hook ran"
! grep -qF -f "$T/secrets" "$T/hook.env"; ok $? "the hook has neither the secret nor the token"
! grep -q '^AWS_CONTAINER_AUTHORIZATION_TOKEN=' "$T/hook.env"
ok $? "...nor AWS_CONTAINER_AUTHORIZATION_TOKEN"
grep -qx "RUN_K=$TK" "$T/hook.env"; ok $? "twin: the access key id (no secret) does reach it"
! grep -qF -f "$T/secrets" "$T/out" "$T/err"; ok $? "no secret or token in stderr (-v) or --json"
settings "$T/notok.yml" "" 'access_key: ${RUN_K}
access_secret: ${RUN_S}' "$(db_yaml "$D" notok/)"
with RUN_K="$TK" RUN_S="$TS" run pgbak-run "$T/notok.yml" >/dev/null 2>"$T/err"; st=$?
is $st 111 "twin: the same keys without session_token fail the run"
! has_object "notok/$D-$TODAY.gz"; ok $? "...and store nothing"

# 2. A profile's credential_process, no keys in settings or environment.
# The helper writes down its parent's (an S3 program's) command line and
# environment, which are exactly what it runs under: no timing involved.
cat >"$T/helper" <<EOF
#!/bin/sh
echo run >>"$T/helper.count"
{ tr '\0' ' ' </proc/\$PPID/cmdline; echo; } >>"$T/parent.cmdline"
tr '\0' '\n' </proc/\$PPID/environ >>"$T/parent.env"
tr '\0' ' ' </proc/\$\$/cmdline >>"$T/helper.cmdline"
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s"}\n' \
	'$TK' '$TS' '$TT'
EOF
chmod 755 "$T/helper"
printf '[default]\ncredential_process = %s\n' "$T/helper" >"$T/config"
rm -f "$T/hook.env"
settings "$T/proc.yml" "$HOOK" "" "$(db_yaml "$D" proc/)"
with AWS_CONFIG_FILE="$T/config" run pgbak-run -v --json "$T/proc.yml" >"$T/out" 2>"$T/err"
st=$?
is $st 0 "credential_process, no keys in settings or environment: the run succeeds"
[ $st -eq 0 ] || diag "$(cat "$T/err" "$T/out")"
check "...and restores" restore_same "$D" "proc/$D-$TODAY.gz"
[ "$(grep -c run "$T/helper.count")" -ge 2 ]; ok $? "credential_process ran for each S3 program"
grep -q 'pgbak-put' "$T/parent.cmdline"; ok $? "...pgbak-put among them"
! grep -qF -f "$T/secrets" "$T/parent.cmdline" "$T/parent.env" "$T/helper.cmdline"
ok $? "no S3 program's (nor the helper's) argv or environment holds the fetched secrets"
grep -q "AWS_CONFIG_FILE=$T/config" "$T/parent.env"; ok $? "(the environments were read)"
! grep -qF -f "$T/secrets" "$T/hook.env" "$T/out" "$T/err"
ok $? "the hook, stderr and --json have neither the fetched secret nor the token"

printf '[default]\ncredential_process = %s\n' "$T/nosuch" >"$T/config"
with AWS_CONFIG_FILE="$T/config" run pgbak-run --json "$T/proc.yml" >"$T/out" 2>"$T/err"
is $? 111 "twin: a credential_process that cannot run fails the run"
like "$(cat "$T/out" "$T/err")" 'credential_process of profile \\?"default\\?"' "...naming it"

# 2b. A profile's keys in the shared credentials file (AWS_PROFILE picks
# it), no keys in settings or environment.
printf '[backup]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n' \
	"$TK" "$TS" "$TT" >"$T/credentials"
settings "$T/prof.yml" "" "" "$(db_yaml "$D" prof/)"
with AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_PROFILE=backup \
	run pgbak-run -v "$T/prof.yml" >"$T/out" 2>"$T/err"
st=$?
is $st 0 "profile file keys, no keys in settings or environment: the run succeeds"
[ $st -eq 0 ] || diag "$(cat "$T/err" "$T/out")"
check "...and restores" restore_same "$D" "prof/$D-$TODAY.gz"
sed '/aws_session_token/d' "$T/credentials" >"$T/credentials.nt"
settings "$T/prof2.yml" "" "" "$(db_yaml "$D" prof2/)"
with AWS_SHARED_CREDENTIALS_FILE="$T/credentials.nt" AWS_PROFILE=backup \
	run pgbak-run "$T/prof2.yml" >"$T/out" 2>"$T/err"
is $? 111 "twin: the profile without its session token fails the run"
! has_object "prof2/$D-$TODAY.gz"; ok $? "...and stores nothing"

# 3. No credentials at all: the S3 programs say what they tried.
with AWS_CONFIG_FILE=/dev/null run pgbak-run --json "$T/proc.yml" >"$T/out" 2>"$T/err"
is $? 111 "no credentials anywhere: the run fails"
like "$(cat "$T/out" "$T/err")" "no credentials: tried settings, environment" "...saying what was tried"
