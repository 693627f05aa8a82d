# tests/lib/faults.sh: what the fault tests of pgbak-run (05xx) share.
# Source after tests/lib.sh and need_s3.
#
# Each fault case checks the same things after a failed run: the exit
# status, the summary line, that the object a previous run stored under the
# key is still there byte for byte, that no multipart upload of the key is
# left, that temp_dir is empty and that no process of the run survived.

# A private temp_dir for the runs' settings, to see that it stays empty.
FAULT_TMP=$T/tmp
mkdir -p "$FAULT_TMP"

# key_uploads KEY: the ids of multipart uploads of exactly KEY, "" when none.
key_uploads() {
	awsref s3api list-multipart-uploads --bucket "$PGBAK_BUCKET" --prefix "$1" \
		--query "Uploads[?Key=='$1'].UploadId" --output text 2>&1 | grep -v '^None$'
}

# start_uploads KEY...: start a multipart upload of each KEY (one Python
# process, not one awscli each: seconds saved on a busy machine).
start_uploads() {
	python3 - "$@" <<'EOF'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
for k in sys.argv[1:]:
    s3.create_multipart_upload(Bucket=os.environ["PGBAK_BUCKET"], Key=k)
EOF
}

# good_object KEY: store a small known object under KEY (straight to the
# RGW) and keep its bytes in $T/good.KEY-as-file-name for intact_object.
good_object() {
	_g=$T/good.$(printf '%s' "$1" | tr '/' '_')
	printf 'yesterday good backup of %s %s\n' "$1" "$$" | gzip -n >"$_g"
	pgbak-put -e "$PGBAK_TEST_S3_ENDPOINT" "$1" <"$_g"
}

# intact_object KEY: KEY still holds what good_object stored, byte for byte.
intact_object() {
	_g=$T/good.$(printf '%s' "$1" | tr '/' '_')
	pgbak-get -e "$PGBAK_TEST_S3_ENDPOINT" "$1" 2>/dev/null | cmp -s - "$_g"
}

# ppid_of PID: the parent of PID (fails when PID is gone).
ppid_of() {
	_l=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	_l=${_l##*) }
	set -- $_l
	[ "$1" != Z ] || return 1	# a zombie is as good as gone
	echo "$2"
}

# strays: the live processes started from this test (they have our $T in
# their environment: pgbak-run passes it on to every stage) that are not
# this shell's own children (the proxy, a command substitution) or
# FAULT_BASE's, one
# "PID COMMAND" a line.  A stage a failed run left behind is such a process:
# its parent is gone, so it hangs under init.
strays() {
	for _e in $(grep -lzx "T=$T" /proc/[0-9]*/environ 2>/dev/null); do
		_p=${_e#/proc/}
		_p=${_p%/environ}
		_q=$_p
		while [ -n "$_q" ] && [ "$_q" -gt 1 ]; do
			case " $$ $FAULT_BASE " in *" $_q "*) break ;; esac
			_q=$(ppid_of "$_q") || _q=
		done
		[ "$_q" = 1 ] || [ "$_q" = 0 ] || continue
		ppid_of "$_p" >/dev/null || continue
		printf '%s %s\n' "$_p" "$(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)"
	done
}

# The servers a test run on its own started for itself (need_pg, need_s3)
# are not strays; nor is anything they start later.
FAULT_BASE=
FAULT_BASE=$(strays | cut -d' ' -f1 | tr '\n' ' ')

# no_strays: no process of ours is left, after up to 2 s.
no_strays() {
	_i=0
	while [ -n "$(strays)" ] && [ $_i -lt 20 ]; do sleep 0.1; _i=$((_i + 1)); done
	_s=$(strays)
	[ -z "$_s" ] || diag "left running: $_s"
	[ -z "$_s" ]
}

# our_pid NAME [PATTERN]: the pid of the running program NAME (a pgbak-run
# stage) that has our $T in its environment and whose command line matches
# the extended regex PATTERN (default: NAME), after up to 10 s.
our_pid() {
	_i=0
	while [ $_i -lt 100 ]; do
		for _p in $(pgrep -f -- "${2:-$1}"); do
			[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = "$(printf '%s' "$1" | cut -c1-15)" ] ||
				continue
			grep -qzx "T=$T" "/proc/$_p/environ" 2>/dev/null || continue
			echo "$_p"
			return 0
		done
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# wait_log PATTERN: until the proxy logged a request matching PATTERN (10 s).
wait_log() {
	_i=0
	while ! grep -Eq -- "$1" "$PROXY_LOG" && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	grep -Eq -- "$1" "$PROXY_LOG"
}

# via_proxy FILE: point the settings FILE at the proxy started last.
via_proxy() { sed -i "s|^      endpoint: .*|      endpoint: \"$PROXY_URL\"|" "$1"; }

# closed_port: a TCP port on 127.0.0.1 that nothing listens on (just freed).
closed_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# after_failure CASE KEY: what every failed run must leave as it was: the
# previous object of KEY byte for byte, no upload, no temp file, no process.
after_failure() {
	check "$1: the previous object is intact, byte for byte" intact_object "$2"
	is "$(key_uploads "$2")" "" "$1: no multipart upload left"
	is "$(ls -A "$FAULT_TMP")" "" "$1: temp_dir is empty"
	check "$1: no process left" no_strays
}
