#!/bin/sh
# on_success and on_failure: exactly one runs after each run, from the
# settings' argv without a shell, with PGBAK_* describing the run and no
# password or S3 secret in its environment; a hook that fails, is missing
# or hangs gets a warning and never changes pgbak-run's exit status.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 52
need_pg
need_s3

D=hook_$$
psql_q -d postgres -c "create database $D owner $PGBAK_PW_USER" || exit 1
PGPASSWORD=$PGBAK_PW_PASS psql_q -h 127.0.0.1 -U "$PGBAK_PW_USER" -d "$D" \
	-c "create table t as select g from generate_series(1, 1000) g" || exit 1
NOSUCH=nosuch_hook_$$

# The hook: its arguments and environment into $T/hook.TAG, then a line on
# stdout (which must not reach pgbak-run's stdout).
cat >"$T/hook" <<EOF
#!/bin/sh
{ for a in "\$@"; do printf 'arg:%s\n' "\$a"; done; env; } >"$T/hook.\$1.tmp"
mv "$T/hook.\$1.tmp" "$T/hook.\$1"
echo "HOOK-STDOUT \$1"
EOF
chmod 755 "$T/hook"
printf '#!/bin/sh\necho "hook says why" >&2\nexit 3\n' >"$T/exit3"
# The hook's sleep runs as $T/sleep, so that looking for it never finds
# another test's (or anyone's) "sleep 30" on a shared machine.
ln -s "$(command -v sleep)" "$T/sleep"
printf '#!/bin/sh\necho $$ >"%s/hang.pid"\nexec "%s/sleep" 30\n' "$T" "$T" >"$T/hang"
chmod 755 "$T/exit3" "$T/hang"

# The database password and the S3 secret come from ${NAME}s; a canary
# variable shows that the environment is passed on at all.
HOOK_S3_SECRET=$AWS_SECRET_ACCESS_KEY HOOK_CANARY=canary-0901
export HOOK_S3_SECRET HOOK_CANARY
S3='access_key: ${AWS_ACCESS_KEY_ID}
access_secret: ${HOOK_S3_SECRET}'
HOOKS="on_success: [$T/hook, ok, \"two words\", \"\$(touch $T/pwned)\", '*']
on_failure: [$T/hook, fail]"
DB=$(db_yaml "$D" hook/ "$PGBAK_PW_USER" '${PGBAK_PW_PASS}')
settings "$T/s.yml" "$HOOKS" "$S3" "$DB"
get() { sed -n "s/^$1=//p" "$T/hook.$2"; }

out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a good run exits 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
check "on_success ran" test -s "$T/hook.ok"
! test -e "$T/hook.fail"; ok $? "on_failure did not"
is "$(get PGBAK_STATUS ok)" ok "PGBAK_STATUS=ok"
is "$(get PGBAK_EXIT ok)" 0 "PGBAK_EXIT=0"
is "$(get PGBAK_DATABASES ok)/$(get PGBAK_OK ok)/$(get PGBAK_SKIPPED ok)/$(get PGBAK_FAILED ok)" \
	1/1/0/0 "PGBAK_DATABASES, PGBAK_OK, PGBAK_SKIPPED, PGBAK_FAILED"
grep -qx 'PGBAK_FAILED_DATABASES=' "$T/hook.ok"; ok $? "PGBAK_FAILED_DATABASES is empty"
size=$(awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "hook/$D-$TODAY.gz" \
	--query ContentLength --output text)
is "$(get PGBAK_BYTES ok)" "$size" "PGBAK_BYTES is the size of the object stored"
like "$(get PGBAK_DURATION ok)" '^[0-9]+$' "PGBAK_DURATION is whole seconds"
is "$(get PGBAK_SETTINGS ok)" "$(realpath "$T/s.yml")" "PGBAK_SETTINGS is the settings file"
is "$(grep '^arg:' "$T/hook.ok" | tr '\n' '|')" \
	"arg:ok|arg:two words|arg:\$(touch $T/pwned)|arg:*|" \
	"the argv arrives as written: one item with a space, no expansion"
! test -e "$T/pwned"; ok $? "no shell ran \$(touch ...)"
! grep -qF "$PGBAK_PW_PASS" "$T/hook.ok"; ok $? "the database password is in no variable"
! grep -qF "$AWS_SECRET_ACCESS_KEY" "$T/hook.ok"; ok $? "the S3 secret is in no variable"
! grep -q '^PGPASSWORD=\|^AWS_SECRET_ACCESS_KEY=\|^AWS_SESSION_TOKEN=' "$T/hook.ok"
ok $? "no PGPASSWORD, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN"
# Negative twin: the environment does reach the hook.
grep -qx 'HOOK_CANARY=canary-0901' "$T/hook.ok"; ok $? "an ordinary variable reaches the hook"
grep -qx "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" "$T/hook.ok"; ok $? "so does the access key id"
unlike "$out" HOOK-STDOUT "the hook's stdout is not on pgbak-run's stdout"
like "$(cat "$T/err")" "HOOK-STDOUT ok" "but on its stderr"

# All skipped counts as success.
rm -f "$T/hook.ok"
check_status 0 "a second run skips: exit 0" quiet run pgbak-run "$T/s.yml" 2>"$T/err"
is "$(get PGBAK_STATUS ok)/$(get PGBAK_SKIPPED ok)/$(get PGBAK_BYTES ok)" ok/1/0 \
	"on_success runs with PGBAK_SKIPPED=1, PGBAK_BYTES=0"
! test -e "$T/hook.fail"; ok $? "and on_failure does not"
unlike "$(cat "$T/err")" "pgbak-run:" "a hook that succeeds adds no warning"

# A failure: on_failure alone, naming the database.
settings "$T/f.yml" "$HOOKS" "$S3" "$DB" "$(db_yaml "$NOSUCH" bad/)"
rm -f "$T/hook.ok"
out=$(run pgbak-run --json "$T/f.yml" 2>"$T/err"); st=$?
is "$st" 111 "a run with a failed database exits 111"
check "on_failure ran" test -s "$T/hook.fail"
! test -e "$T/hook.ok"; ok $? "on_success did not"
is "$(get PGBAK_STATUS fail)/$(get PGBAK_EXIT fail)" failed/111 \
	"PGBAK_STATUS=failed, PGBAK_EXIT=111"
is "$(get PGBAK_DATABASES fail)/$(get PGBAK_OK fail)/$(get PGBAK_SKIPPED fail)/$(get PGBAK_FAILED fail)" \
	2/0/1/1 "2 databases: 1 skipped, 1 failed"
is "$(get PGBAK_FAILED_DATABASES fail)" "$NOSUCH" "PGBAK_FAILED_DATABASES names it"
is "$(get PGBAK_FAILED_KEYS fail)" "bad/$NOSUCH-$TODAY.gz" "PGBAK_FAILED_KEYS its key"
! grep -qF "$PGBAK_PW_PASS" "$T/hook.fail"; ok $? "no password in on_failure's environment"
printf '%s\n' "$out" | python3 -c 'import json, sys; [json.loads(l) for l in sys.stdin]'
ok $? "--json output stays JSON with a hook that writes to stdout"

# Failing hooks: a warning naming the hook, the exit status unchanged.
settings "$T/x.yml" "on_success: [$T/exit3, arg]" "" "$DB"
out=$(run pgbak-run "$T/x.yml" 2>&1 >/dev/null); st=$?
is "$st" 0 "a hook exiting 3 leaves exit 0"
like "$out" "pgbak-run: on_success $T/exit3 exited 3" "a warning names the hook and its status"
like "$out" "hook says why" "the hook's stderr is shown"
settings "$T/xf.yml" "on_failure: [$T/exit3]" "" "$DB" "$(db_yaml "$NOSUCH" bad/)"
check_status 111 "on_failure exiting 3 leaves exit 111" quiet run pgbak-run "$T/xf.yml" 2>/dev/null
settings "$T/m.yml" "on_success: [$T/no-such-hook]" "" "$DB"
out=$(run pgbak-run "$T/m.yml" 2>&1 >/dev/null); st=$?
is "$st" 0 "a missing hook leaves exit 0"
like "$out" "pgbak-run: on_success $T/no-such-hook not found" "with a warning that it was not found"
settings "$T/p.yml" "on_success: [no-such-hook-0901]" "" "$DB"
out=$(run pgbak-run "$T/p.yml" 2>&1 >/dev/null); st=$?
[ "$st" -eq 0 ] && printf '%s' "$out" | grep -q "on_success no-such-hook-0901 not found"
ok $? "a name is looked up in PATH (exit 0, a warning)"

settings "$T/h.yml" "on_success: [$T/hang]" "" "$DB"
t0=$(date +%s)
out=$(PGBAK_HOOK_TIMEOUT=1 run pgbak-run "$T/h.yml" 2>&1 >/dev/null); st=$?
t1=$(date +%s)
is "$st" 0 "a hanging hook leaves exit 0"
like "$out" "on_success $T/hang timed out after 1s" "it is stopped after PGBAK_HOOK_TIMEOUT"
[ $((t1 - t0)) -lt 15 ]; ok $? "well before its sleep 30 ends ($((t1 - t0)) s)"
check "and its process is gone" no_procs "^$T/sleep 30$"
out=$(PGBAK_HOOK_TIMEOUT=soon run pgbak-run "$T/x.yml" 2>&1 >/dev/null)
like "$out" "PGBAK_HOOK_TIMEOUT=soon is not a duration" "a bad PGBAK_HOOK_TIMEOUT is said"

# Under --daemon a hook runs after each pass; SIGTERM stops a running hook.
printf '#!/bin/sh\necho "$PGBAK_STATUS" >>"%s/passes"\n' "$T" >"$T/count"
chmod 755 "$T/count"
settings "$T/dm.yml" "interval: 1s
on_success: [$T/count]" "" "$DB"
pgbak-run --daemon "$T/dm.yml" >/dev/null 2>&1 &
bg=$!
at_exit "kill $bg"
i=0
while [ "$(cat "$T/passes" 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 150 ]; do
	sleep 0.1; i=$((i + 1)); done
kill -TERM $bg; wait $bg
is "$(head -n 2 "$T/passes" | tr '\n' ' ')" "ok ok " "--daemon runs on_success after each pass"
rm -f "$T/hang.pid"
settings "$T/dh.yml" "on_success: [$T/hang]" "" "$DB"
pgbak-run --daemon "$T/dh.yml" >/dev/null 2>&1 &
bg=$!
at_exit "kill $bg"
i=0
while [ ! -s "$T/hang.pid" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(date +%s)
kill -TERM $bg; wait $bg; st=$?
t1=$(date +%s)
is "$st" 0 "SIGTERM during a hook ends --daemon with exit 0"
[ $((t1 - t0)) -lt 8 ]; ok $? "promptly ($((t1 - t0)) s), not after the hook's 60 s"
check "the hook was stopped with it" no_procs "^$T/sleep 30$"

# -n shows the hooks and runs none.
rm -f "$T/hook.ok" "$T/hook.fail"
out=$(run pgbak-run -n "$T/s.yml" 2>&1); st=$?
is "$st" 0 "-n exits 0"
like "$out" "on_success: $T/hook ok 'two words' '\\\$\(touch $T/pwned\)' '\*'" \
	"-n shows on_success, quoted"
like "$out" "on_failure: $T/hook fail" "-n shows on_failure"
! test -e "$T/hook.ok" && ! test -e "$T/hook.fail"; ok $? "-n runs no hook"

psql_q -d postgres -c "drop database $D" >/dev/null 2>&1
