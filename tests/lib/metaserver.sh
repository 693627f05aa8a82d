# tests/lib/metaserver.sh: the local metadata server (tests/lib/metaserver.py)
# for the credential tests.  Source it after tests/lib.sh and need_s3_sts.

# start_meta [ARGS...]: a metaserver minting through the test RGW; sets
# META_URL, META_COUNTS (lines "NAME N"), META_LOG and META_SECRETS (what it
# handed out that must be seen nowhere).  Stopped at exit.
_metas=0
start_meta() {
	_metas=$((_metas + 1))
	_mp=$T/meta$_metas.port
	META_COUNTS=$T/meta$_metas.counts
	META_LOG=$T/meta$_metas.log
	META_SECRETS=$T/meta$_metas.secrets
	python3 "$TESTS_DIR/lib/metaserver.py" --port-file "$_mp" --count-file "$META_COUNTS" \
		--log "$META_LOG" --secrets-file "$META_SECRETS" --sts-endpoint "$PGBAK_TEST_S3_ENDPOINT" \
		--access-key "$PGBAK_TEST_S3_ACCESS_KEY" --secret-key "$PGBAK_TEST_S3_SECRET_KEY" \
		"$@" 2>>"$T/meta.err" &
	at_exit "kill $!"
	_i=0
	while [ ! -s "$_mp" ] && [ $_i -lt 300 ]; do sleep 0.05; _i=$((_i + 1)); done
	[ -s "$_mp" ] || { echo "Bail out! metaserver did not start"; cat "$T/meta.err" >&2; exit 1; }
	META_URL=http://127.0.0.1:$(cat "$_mp")
}

# meta_count NAME [COUNTS]: how many NAME requests the (last) metaserver counted.
meta_count() { sed -n "s/^$1 //p" "${2:-$META_COUNTS}"; }

# META_ROLE_ARN, META_AUTH, META_ROLE: what a metaserver accepts by default.
META_ROLE_ARN=arn:aws:iam::123456789012:role/pgbak-backup
META_AUTH='Bearer pgbak-container-test-token'
META_ROLE=pgbak-backup

# creds_unset: no credentials and no credential source from the environment,
# so that only what a test sets up is found.
creds_unset() {
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
		AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME AWS_ENDPOINT_URL_STS \
		AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
		AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
		AWS_EC2_METADATA_SERVICE_ENDPOINT
	AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null
	AWS_EC2_METADATA_DISABLED=true
	export AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_EC2_METADATA_DISABLED
}

# dead_port: a port on 127.0.0.1 nothing listens on (bound, then closed).
dead_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_silent: a listener that accepts connections and never answers (a
# firewall that drops, a host that hangs); sets SILENT_URL.  Stopped at exit.
start_silent() {
	_sp=$T/silent.port
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)' "$_sp" &
	at_exit "kill $!"
	_i=0
	while [ ! -s "$_sp" ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	[ -s "$_sp" ] || { echo "Bail out! silent listener did not start"; exit 1; }
	SILENT_URL=http://127.0.0.1:$(cat "$_sp")
}
