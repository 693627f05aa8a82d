#!/bin/sh
# Hostile command lines (issue 8), for every program in $PGBAK_BUILD:
# unknown options, options missing their argument, 100 KB arguments, empty
# ones, bytes that are not UTF-8, control characters, and "--".  A usage
# error exits 100 with one printable line "prog: ..." on stderr; any other
# outcome is a status from the table in pgbak(7) with at most that one
# line -- never a crash, a sanitizer report or a hang.  --help prints
# usage on stdout and exits 0, --version exits 0; after "--" neither is
# taken as an option.
#
# The options that take an argument are read from each program's --help
# ("  -c, --config FILE"), so a new program or option is covered as it
# comes.  Nothing here reaches a network: S3 programs stop before any
# connection for want of a bucket or key, except where a test says so,
# and then they get an endpoint on 127.0.0.1 where nothing listens.
. "$(dirname "$0")/lib.sh"

# Known gaps in programs this test does not own: "PROGRAM CASE reason".
# prove shows them as TODO (and "TODO passed" once fixed: then drop the line).
KNOWN="
"

if [ "${PGBAK_VALGRIND:-0}" = 1 ]; then
	limit=120
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
else
	limit=20
	vg=
fi

# No credentials, no bucket: S3 programs stop before connecting.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN PGBAK_BUCKET \
	AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE \
	PGBAK_S3_TRIES
HOME=$T
export HOME

big=$(awk 'BEGIN { for (i = 0; i < 102400; i++) printf "a" }')
bad=$(printf '\377\376x')
ctl=$(printf 'a\nb\033[2J')

# server_env: credentials, a bucket and an endpoint where nothing listens.
server_env() {
	AWS_ACCESS_KEY_ID=AKIDHOSTILE AWS_SECRET_ACCESS_KEY=hostile-not-a-secret
	PGBAK_BUCKET=hostile AWS_ENDPOINT_URL=http://127.0.0.1:9 PGBAK_S3_TRIES=1
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY PGBAK_BUCKET AWS_ENDPOINT_URL PGBAK_S3_TRIES
}
no_server_env() {
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY PGBAK_BUCKET AWS_ENDPOINT_URL PGBAK_S3_TRIES
}

# try ARGS...: run $prog under the time limit; sets $rc, $out, $err.
try() {
	out=$(timeout "$limit" $vg "$prog" "$@" </dev/null 2>"$T/err"); rc=$?
	err=$(cat "$T/err")
}

# verdict STATUS DESC CASE: ok, or TODO when "$prog CASE" is a known gap.
verdict() {
	why=$(printf '%s\n' "$KNOWN" | awk -v p="$prog" -v c="$3" \
		'$1 == p && $2 == c { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }')
	[ "$1" -eq 0 ] || diag "$2: exit $rc" "stdout: $(printf '%.200s' "$out")" \
		"stderr: $(printf '%.300s' "$err")"
	if [ -z "$why" ]; then
		ok "$1" "$2"
	else
		_tap_n=$((_tap_n + 1))
		if [ "$1" -eq 0 ]; then r=ok; else r="not ok"; fi
		echo "$r $_tap_n - $2 # TODO $why"
	fi
}

# one_line: stderr is one printable line "prog: ...".
one_line() {
	[ "$(lines "$err")" -eq 1 ] && printf '%s' "$err" | grep -q "^$prog: " &&
		! printf '%s' "$err" | LC_ALL=C grep -q '[[:cntrl:]]'
}

# usage_error CASE DESC ARGS...: exit 100, nothing on stdout, one line.
usage_error() {
	c=$1 d=$2; shift 2
	try "$@"
	[ "$rc" -eq 100 ] && [ -z "$out" ] && one_line
	verdict $? "$prog $d: exit 100, one line" "$c"
}

# no_crash CASE DESC ARGS...: a status from the table (below 126) and
# stderr empty or one line: no sanitizer report, no signal, no hang.
no_crash() {
	c=$1 d=$2; shift 2
	try "$@"
	[ "$rc" -lt 126 ] && { [ -z "$err" ] || one_line; }
	verdict $? "$prog $d: no crash, at most one line" "$c"
}

for path in "$PGBAK_BUILD"/pgbak-*; do
	[ -f "$path" ] && [ -x "$path" ] || continue
	prog=${path##*/}

	try --help
	[ "$rc" -eq 0 ] && [ -z "$err" ] && printf '%s' "$out" | head -n 1 | grep -q "^usage: $prog "
	verdict $? "$prog --help: usage on stdout, exit 0" help
	help=$out
	try --version
	[ "$rc" -eq 0 ] && [ -z "$err" ] && printf '%s' "$out" | head -n 1 | grep -q "^$prog "
	verdict $? "$prog --version: exit 0" version
	opts=$(printf '%s\n' "$help" |
		sed -n 's/^ *\(-[A-Za-z], \)\{0,1\}\(--[a-z][a-z-]*\) [A-Z].*/\2/p')
	[ -n "$opts" ] || opts=--no-option-takes-an-argument

	usage_error usage "--no-such-option" --no-such-option
	usage_error usage "-% (an unknown short option)" -%
	usage_error usage "--help=x" --help=x
	usage_error usage "--<not UTF-8>" "--$bad"
	usage_error usage "--<100 KB>" "--$big"
	usage_error big "<100 KB operand>" "$big"

	no_crash value '""' ""
	no_crash value '"" ""' "" ""
	no_crash value "<100 KB> <100 KB>" "$big" "$big"
	no_crash value "<not UTF-8> <not UTF-8>" "$bad" "$bad"

	try -- --help
	[ "$rc" -lt 126 ] && { [ -z "$err" ] || one_line; } &&
		! printf '%s' "$out" | grep -q '^usage:'
	verdict $? "$prog -- --help: --help is an operand" dashdash
	try -- --version
	[ "$rc" -lt 126 ] && { [ -z "$err" ] || one_line; } &&
		! printf '%s' "$out" | grep -q '(pgbak)'
	verdict $? "$prog -- --version: --version is an operand" dashdash

	for o in $opts; do
		[ "$o" = --no-option-takes-an-argument ] && continue
		usage_error usage "$o (its argument missing)" "$o"
		no_crash value "$o \"\" k" "$o" "" k
		no_crash value "$o <100 KB> k" "$o" "$big" k
		no_crash value "$o <not UTF-8> k" "$o" "$bad" k
		no_crash value "$o=<100 KB> k" "$o=$big" k
	done

	# Control characters, and a KEY or file that is not UTF-8, with an S3
	# server on 127.0.0.1 where nothing listens, so that every check is
	# reached: refused before any connection, on one line.
	server_env
	no_crash ctl "<newline, escape>" "$ctl"
	for o in $opts; do
		[ "$o" = --no-option-takes-an-argument ] ||
			no_crash "ctl$o" "$o <newline, escape> k" "$o" "$ctl" k
	done
	try "$bad"
	[ "$rc" -eq 100 ] && [ -z "$out" ] && one_line
	verdict $? "$prog <not UTF-8>: exit 100, one line" utf8
	no_server_env
done

# pgbak-name's refusals, which the loop above reaches only in part.
prog=pgbak-name
usage_error name "-D <newline date> a b" -D "$(printf '2025\n0101')" a b
like "$err" 'invalid date "2025\?0101"' "pgbak-name shows a bad date without its newline"
usage_error name "<prefix not UTF-8> db" "$(printf 'a\377/')" db
like "$err" 'not valid UTF-8' "pgbak-name says the prefix is not UTF-8"
usage_error name "x/ <overlong />" x/ "$(printf '\300\257')"
usage_error name "x/ <surrogate>" x/ "$(printf '\355\240\200')"
try -D 20250909 "$(printf 'caf\303\251/')" "$(printf 'b\303\251')"
is "$rc:$out" "0:$(printf 'caf\303\251/b\303\251-20250909.gz')" "pgbak-name takes UTF-8 names"
