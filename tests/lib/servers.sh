# tests/lib/servers.sh: the real servers a test needs, sourced by tests/lib.sh.
#
# Under tests/run one PostgreSQL and one RGW serve the whole suite (their
# addresses come in PGBAK_TEST_* variables); a test run on its own starts
# its own and stops them when it exits.  Either way each test gets a fresh
# bucket and makes its own databases, so tests never see each other's data.

# need_pg: PGHOST, PGPORT, PGUSER (trusted superuser), PGBAK_PW_USER and
# PGBAK_PW_PASS (a role that must give its password over TCP).
need_pg() {
	if [ -z "${PGBAK_TEST_PG_PORT:-}" ]; then
		"$TESTS_DIR/lib/server-start" pg-server "$T/pg" >&2 || { echo "Bail out! cannot start PostgreSQL"; exit 1; }
		at_exit "'$TESTS_DIR/lib/pg-server' stop '$T/pg'"
		. "$T/pg/env"
	fi
	PGHOST=127.0.0.1 PGPORT=$PGBAK_TEST_PG_PORT PGUSER=postgres PGDATABASE=postgres
	PGBAK_PW_USER=pgbak_pw PGBAK_PW_PASS=pgbak-pw-S3cret
	unset PGPASSWORD PGPASSFILE PGSERVICE
	PGCONNECT_TIMEOUT=10
	export PGHOST PGPORT PGUSER PGDATABASE PGBAK_PW_USER PGBAK_PW_PASS PGCONNECT_TIMEOUT
}

# psql_q SQL...: psql, quiet, stop on the first error.
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# need_s3: the AWS_* variables for the test RGW and PGBAK_BUCKET, a fresh
# empty bucket for this test.
need_s3() {
	if [ -z "${PGBAK_TEST_S3_ENDPOINT:-}" ]; then
		"$TESTS_DIR/lib/server-start" s3-server "$T/s3" >&2 || { echo "Bail out! cannot start Ceph RGW"; exit 1; }
		at_exit "'$TESTS_DIR/lib/s3-server' stop '$T/s3'"
		. "$T/s3/env"
	fi
	AWS_ACCESS_KEY_ID=$PGBAK_TEST_S3_ACCESS_KEY
	AWS_SECRET_ACCESS_KEY=$PGBAK_TEST_S3_SECRET_KEY
	AWS_ENDPOINT_URL=$PGBAK_TEST_S3_ENDPOINT
	AWS_REGION=us-east-1
	AWS_DEFAULT_REGION=us-east-1
	# Nothing of the user's own AWS setup may leak into a test.
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
	AWS_PAGER= AWS_EC2_METADATA_DISABLED=true
	unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_REGION \
		AWS_DEFAULT_REGION AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_PAGER \
		AWS_EC2_METADATA_DISABLED
	PGBAK_BUCKET=$(s3_bucket "$(basename "$0" .t)") || bucket_bail
	export PGBAK_BUCKET
}

# need_s3_sts: as need_s3, but on an RGW of this test's own with STS on
# (GetSessionToken mints session tokens that RGW checks), for the
# credential tests.  Not the suite's shared RGW: with STS on, RGW words a
# bad signature or an unknown key as AccessDenied, and other tests check
# the exact codes.
need_s3_sts() {
	PGBAK_TEST_S3_STS=1 "$TESTS_DIR/lib/server-start" s3-server "$T/s3sts" >&2 ||
		{ echo "Bail out! cannot start Ceph RGW with STS"; exit 1; }
	at_exit "'$TESTS_DIR/lib/s3-server' stop '$T/s3sts'"
	. "$T/s3sts/env"
	need_s3
}

# need_s3_moto: as need_s3, but against moto in server mode, a second S3
# implementation (issue 16: other providers), started for this test alone
# and stopped at exit.  Without moto (it is on PyPI, not in Debian, so
# "make deps" cannot install it) the whole test is skipped, never failed
# or silently passed.  PGBAK_TEST_MOTO_PYTHON names the Python that has it.
# Sets MOTO_START_MS, the start-up time.  Call before plan (a skip is a plan).
need_s3_moto() {
	_py=${PGBAK_TEST_MOTO_PYTHON:-python3}
	"$_py" -c 'import moto.server' 2>/dev/null ||
		skip_all "moto not installed ($_py -c 'import moto.server' failed)"
	_t0=$(date +%s%N)
	# Port 0: the kernel picks a free one, so no other server can take it
	# between a check and the bind; werkzeug prints the one it got.
	# moto's own minimum part size made explicit: S3's 5 MiB.
	S3_UPLOAD_PART_MIN_SIZE=5242880 "$_py" -m moto.server -H 127.0.0.1 -p 0 \
		>"$T/moto.log" 2>&1 &
	_moto=$!
	at_exit "kill $_moto"
	# Ready when it answers ListBuckets; 30 s at most, however slow each try.
	_end=$(($(date +%s) + 30)) _port=
	while [ "$(date +%s)" -lt $_end ] && kill -0 $_moto 2>/dev/null; do
		_port=$(sed -n 's|.*Running on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' \
			"$T/moto.log" 2>/dev/null | head -n 1)
		[ -n "$_port" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			"http://127.0.0.1:$_port/")" = 200 ] && break
		_port=
		sleep 0.1
	done
	if [ -z "$_port" ]; then
		echo "Bail out! moto did not start: it exited, or did not answer in 30 s"
		sed 's/^/# /' "$T/moto.log" >&2
		exit 1
	fi
	MOTO_START_MS=$(( ($(date +%s%N) - _t0) / 1000000 ))
	# need_s3 takes a server it is given: moto's address, any keys (moto
	# does not check signatures).
	PGBAK_TEST_S3_ENDPOINT=http://127.0.0.1:$_port
	PGBAK_TEST_S3_ACCESS_KEY=PGBAKMOTOACCESSKEY01
	PGBAK_TEST_S3_SECRET_KEY=pgbak-moto-secret-key-00000000000000000
	need_s3
}

# awsref ARGS...: the independent S3 client that checks what we wrote
# (Debian's awscli, the one "make deps" installs, before any other on PATH).
AWSCLI=/usr/bin/aws
[ -x "$AWSCLI" ] || AWSCLI=aws
awsref() {
	"$AWSCLI" --endpoint-url "$AWS_ENDPOINT_URL" --cli-connect-timeout 5 \
		--cli-read-timeout 60 "$@"
}

# s3_bucket HINT: create a new, empty bucket and print its name.  It runs
# inside $(...), where an exit ends only that subshell: on failure it says
# why on stderr and returns 1, and the caller bails out (bucket_bail).
# Tried three times: awscli's own retries do not cover every error a
# loaded RGW gives while it starts its pools.
s3_bucket() {
	b=$(printf '%s' "$1" | tr 'A-Z_.' 'a-z--' | tr -cd 'a-z0-9-' | cut -c1-40)
	b="t-$b-$$-$(date +%s%N | cut -c10-16)"
	for _try in 1 2 3; do
		awsref s3api create-bucket --bucket "$b" >/dev/null 2>"$T/create-bucket.err" &&
			{ echo "$b"; return 0; }
	done
	echo "cannot create bucket $b: $(tail -n 1 "$T/create-bucket.err")" >&2
	return 1
}

# bucket_bail: after a failed s3_bucket, end the test with TAP's Bail out.
bucket_bail() {
	echo "Bail out! cannot create a bucket: $(tail -n 1 "$T/create-bucket.err" 2>/dev/null)"
	exit 1
}

# start_proxy [--tls CERT KEY] [--rule KIND:N:ACTION]...: a fault-injecting
# proxy in front of the test RGW (tests/lib/s3-proxy.py); sets PROXY_URL
# and PROXY_LOG (one line per request: KIND N ACTION).  Stopped at exit.
_proxies=0
start_proxy() {
	_proxies=$((_proxies + 1))
	pf=$T/proxy$_proxies.port
	PROXY_LOG=$T/proxy$_proxies.log
	scheme=http
	case "$*" in *--tls*) scheme=https ;; esac
	python3 "$TESTS_DIR/lib/s3-proxy.py" --upstream "$PGBAK_TEST_S3_ENDPOINT" \
		--port-file "$pf" --log "$PROXY_LOG" "$@" 2>>"$T/proxy.err" &
	pid=$!
	at_exit "kill $pid"
	i=0
	while [ ! -s "$pf" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$pf" ] || { echo "Bail out! s3-proxy did not start"; cat "$T/proxy.err" >&2; exit 1; }
	PROXY_URL=$scheme://127.0.0.1:$(cat "$pf")
	: >"$PROXY_LOG"
}
