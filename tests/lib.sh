# tests/lib.sh: a tiny TAP library for pgbak's shell tests (after mblaze's t/lib.sh).
# Source it first thing:  . "$(dirname "$0")/lib.sh"
# It puts the built programs first on PATH, gives each test a private $T
# directory, and removes it (and stops whatever the test started) on exit.

set -u
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
# A test in a subdirectory (tests/faults/, make check-faults) shares this one.
[ -f "$TESTS_DIR/lib.sh" ] || TESTS_DIR=$(cd "$TESTS_DIR/.." && pwd)
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
: "${PGBAK_BUILD:=$SRC_DIR/build}"
export PGBAK_BUILD
PATH=$PGBAK_BUILD:$PATH
export PATH
LC_ALL=C
export LC_ALL

T=$(mktemp -d "${TMPDIR:-/tmp}/pgbak-test.XXXXXX")
chmod 755 "$T"
export T
_tap_n=0
_tap_fail=0
_tap_plan=
_cleanup_cmds=

# at_exit CMD: run CMD (a string for eval) when the test ends, newest first.
at_exit() { _cleanup_cmds="$1
$_cleanup_cmds"; }
_tap_exit() {
	rc=$?
	set +e
	printf '%s\n' "$_cleanup_cmds" | while IFS= read -r c; do
		[ -n "$c" ] && eval "$c" >/dev/null 2>&1
	done
	_valgrind_report
	rm -rf "$T"
	if [ -z "$_tap_plan" ]; then echo "1..$_tap_n"; fi
	if [ "$_tap_fail" -gt 0 ] && [ "$rc" -eq 0 ]; then rc=1; fi
	exit "$rc"
}
trap _tap_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

plan() { _tap_plan=$1; echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; _tap_plan=0; exit 0; }
# skip REASON: a check this server cannot show, counted and said (TAP "# skip").
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # skip $*"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /' >&2; }

# wait_read PID FD SIZE: until process PID has read SIZE bytes of its
# descriptor FD (its file offset there), 30 s at most; false if it never did.
wait_read() {
	_i=0
	while [ $_i -lt 300 ]; do
		_pos=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$1/fdinfo/$2" 2>/dev/null)
		[ -n "$_pos" ] && [ "$_pos" -ge "$3" ] && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}

# wait_size FILE... BYTES: until one of the FILEs (a glob) holds BYTES or
# more, 60 s at most; false if none did.
wait_size() {
	_want=$1; shift
	_i=0
	while [ $_i -lt 600 ]; do
		for _f in "$@"; do
			[ -f "$_f" ] && [ "$(wc -c <"$_f")" -ge "$_want" ] && return 0
		done
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}

# tick: until the clock's second changes (a second at most), for checks of
# times stamped in whole seconds: the event is the tick, not a delay.
tick() {
	_s=$(date +%s)
	_i=0
	while [ "$(date +%s)" = "$_s" ] && [ $_i -lt 300 ]; do sleep 0.01; _i=$((_i + 1)); done
}

# ok COND DESC: COND is a shell status (use: ok $? "desc" after a command).
ok() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_fail=$((_tap_fail + 1))
	fi
}

# check DESC CMD...: CMD must exit 0.
check() {
	d=$1; shift
	"$@"; ok $? "$d"
}

# check_status WANT DESC CMD...: CMD must exit WANT.
check_status() {
	want=$1 d=$2; shift 2
	"$@"; got=$?
	[ "$got" -eq "$want" ]; r=$?
	[ $r -eq 0 ] || diag "$d: exit $got, wanted $want"
	ok $r "$d"
}

# fails DESC CMD...: CMD must exit non-zero (the negative twin of check).
fails() {
	d=$1; shift
	"$@"; got=$?
	[ "$got" -ne 0 ]; r=$?
	[ $r -eq 0 ] || diag "$d: exit 0, wanted a failure"
	ok $r "$d"
}

# is GOT WANT DESC: string equality.
is() {
	[ "$1" = "$2" ]; r=$?
	[ $r -eq 0 ] || diag "got:  '$1'" "wanted: '$2'"
	ok $r "$3"
}

# like GOT PATTERN DESC: GOT matches the extended regex PATTERN.
like() {
	printf '%s' "$1" | grep -Eq -- "$2"; r=$?
	[ $r -eq 0 ] || diag "got: '$1'" "does not match: '$2'"
	ok $r "$3"
}

# unlike GOT PATTERN DESC: GOT must not match.
unlike() {
	printf '%s' "$1" | grep -Eq -- "$2"; r=$?
	[ $r -ne 0 ]; r=$?
	[ $r -eq 0 ] || diag "got: '$1'" "matches: '$2'"
	ok $r "$3"
}

# sans_creds FILE: FILE without the line -v adds naming where the S3
# credentials came from ("pgbak-prune: credentials: environment"), for
# tests that compare the rest of -v's output exactly (0220 checks the line).
sans_creds() { grep -v '^pgbak-[a-z]*: credentials: ' "$1"; }

# err [FILE]: FILE ($T/err by default) without the lines valgrind writes
# (==PID== , --PID-- ) when a test's stderr is its.
err() { grep -v '^\(--\|==\)[0-9]*\(--\|==\) ' "${1:-$T/err}"; }

# lines TEXT: how many lines TEXT has.
lines() { printf '%s' "$1" | grep -c ''; }

# valgrind's own lines go to $T/valgrind.PID, not to the program's stderr,
# which tests compare: its note that it has no handler for pidfd_open
# (spawn falls back to polling) would otherwise be part of every message
# of a program that starts a child.  An error it finds still makes the
# program exit 99; at the end, every line but that note is shown.
_valgrind_report() {
	for _f in "$T"/valgrind.*; do
		[ -s "$_f" ] || continue
		grep -v -e 'unhandled amd64-linux syscall: 434' -e 'write your own handler' \
			-e 'README_MISSING_SYSCALL_OR_IOCTL' -e 'we consider this a bug' \
			-e 'valgrind.org/support/bug_reports' "$_f" | sed 's/^/# /'
	done
}

# run CMD...: run a program under valgrind when PGBAK_VALGRIND=1.
run() {
	if [ "${PGBAK_VALGRIND:-0}" = 1 ]; then
		valgrind -q --log-file="$T/valgrind.%p" --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$@"
	else
		"$@"
	fi
}

# with_env [-u NAME | NAME=VALUE]... CMD...: CMD (a program, or a function
# that calls run) in a subshell with that environment; not through env(1),
# whose child run()'s valgrind would not be.
with_env() {
	(
		while [ $# -gt 0 ]; do
			case $1 in
			-u) unset "$2"; shift 2 ;;
			*=*) export "$1"; shift ;;
			*) break ;;
			esac
		done
		"$@"
	)
}

. "$TESTS_DIR/lib/servers.sh"
