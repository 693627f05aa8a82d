#!/bin/sh
# ping_url: a GET of the URL after a good run, of URL/fail after a failed
# one, against a small HTTP server on 127.0.0.1; a 500 or a closed port is
# a warning that never shows the URL's token, and the exit status stays.
# The URL shows nowhere: not in -v, -n, --json output or stderr.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 31
need_pg
need_s3
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY

D=ping_$$
psql_q -d postgres -c "create database $D" || exit 1
psql_q -d "$D" -c "create table t as select g from generate_series(1, 100) g" || exit 1
TOKEN=tok-0902-$$-5f1e3c9a

# The server answers with the status in $T/code and logs each path.
echo 200 >"$T/code"
: >"$T/log"
ping_server "$T/log" "$T/code"
srv=$PING_PID
PGBAK_PING_URL=http://127.0.0.1:$PING_PORT/$TOKEN
export PGBAK_PING_URL

settings "$T/s.yml" 'ping_url: ${PGBAK_PING_URL}' "" "$(db_yaml "$D" ping/)"
settings "$T/f.yml" 'ping_url: ${PGBAK_PING_URL}' "" "$(db_yaml "$D" ping/)" \
	"$(db_yaml "nosuch_ping_$$" bad/)"

out=$(run pgbak-run -v --json "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a good run exits 0"
is "$(cat "$T/log")" "/$TOKEN" "it GETs the ping_url once"
unlike "$out$(cat "$T/err")" "$TOKEN" "the token is not in --json output or -v stderr"
like "$(cat "$T/err")" "pinging the ping_url" "-v says that it pings, without the URL"
unlike "$(cat "$T/err")" "unable to ping" "no warning when the ping succeeds"

: >"$T/log"
out=$(run pgbak-run -v "$T/f.yml" 2>"$T/err"); st=$?
is "$st" 111 "a failed run exits 111"
is "$(cat "$T/log")" "/$TOKEN/fail" "it GETs the ping_url with /fail"
unlike "$out$(cat "$T/err")" "$TOKEN" "the token is not in the output or stderr"

# Negative twin of "not shown": the token is in what the server saw.
grep -qF "$TOKEN" "$T/log"; ok $? "the server log, grepped the same way, holds the token"

# The server fails: a warning without the URL, the status unchanged.
echo 500 >"$T/code"
: >"$T/log"
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "HTTP 500 from the ping_url leaves exit 0"
like "$(cat "$T/err")" "^pgbak-run: unable to ping the ping_url at 127.0.0.1: HTTP 500$" \
	"a warning says HTTP 500 and names the host"
unlike "$(cat "$T/err")" "$TOKEN" "but not the token"
is "$(grep -c '' "$T/log")" 3 "a 500 is tried 3 times"
: >"$T/log"
check_status 111 "and leaves 111 after a failed run" quiet run pgbak-run "$T/f.yml" 2>"$T/err"
like "$(cat "$T/err")" "unable to ping the ping_url at 127.0.0.1: HTTP 500" "with the warning"
echo 404 >"$T/code"
: >"$T/log"
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st:$(grep -c '' "$T/log")" 0:1 "a 404 is not retried (the URL is wrong), exit 0"

# A closed port.
kill "$srv"; wait "$srv" 2>/dev/null
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a closed port leaves exit 0"
like "$(cat "$T/err")" "^pgbak-run: unable to ping the ping_url at 127.0.0.1: .*onnect" \
	"a warning says it could not connect"
unlike "$(cat "$T/err")" "$TOKEN" "without the token"

# -n shows *** for the URL and GETs nothing.
out=$(run pgbak-run -n -v "$T/s.yml" 2>&1); st=$?
is "$st" 0 "-n exits 0"
like "$out" "ping_url: GET \*\*\* " "-n shows the ping as ***"
unlike "$out" "$TOKEN|127.0.0.1:$PING_PORT" "and neither the token nor the address"

# A URL written in the file is a secret too; one that is not http(s) is a
# settings error that does not show it.
settings "$T/lit.yml" "ping_url: http://127.0.0.1:1/$TOKEN" "" "$(db_yaml "$D" ping/)"
chmod 644 "$T/lit.yml"
out=$(run pgbak-run -n "$T/lit.yml" 2>&1)
like "$out" "holds a password or secret and others can read it" \
	"a ping_url written in a readable file gets the permission warning"
unlike "$out" "$TOKEN" "without the URL"
all=
for bad in "ftp://127.0.0.1/$TOKEN" "127.0.0.1/$TOKEN" "https:///$TOKEN"; do
	settings "$T/bad.yml" "ping_url: \"$bad\"" "" "$(db_yaml "$D" ping/)"
	out=$(run pgbak-run -n "$T/bad.yml" 2>&1); st=$?
	is "$st" 100 "ping_url $(echo "$bad" | sed "s/$TOKEN/TOKEN/"): exit 100"
	like "$out" "tasks.postgres.ping_url: not an http:// or https:// URL" "says why"
	all="$all$out"
done
unlike "$all" "$TOKEN" "none of those errors shows the URL"
psql_q -d postgres -c "drop database $D" >/dev/null 2>&1
