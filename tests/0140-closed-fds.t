#!/bin/sh
# Every program started with descriptor 0, 1 or 2 closed: it opens
# /dev/null there first, so no pipe, socket or file of its own lands on it
# (pgbak-put polled its wake-up pipe as stdin and hung, pgbak-get wrote the
# object into libcurl's socket, pgbak-run wrote its summary into its cancel
# pipe and cancelled the next database).  No hang, the same exit status as
# with all open, the output that still has somewhere to go.  And standard
# output that cannot be written (/dev/full): exactly one line naming it,
# exit 111, and pgbak-run still backs every database up.  Each case has its
# twin with every descriptor open.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
. "$TESTS_DIR/0700-prune-lib.sh"
plan 93
need_pg
need_s3

[ -w /dev/full ] || skip_all "no /dev/full"

D=fds_$$
psql_q -d postgres -c "create database $D" || exit 1
psql_q -d "$D" -c "create table t as select g, md5(g::text) as s from generate_series(1, 1000) g" ||
	exit 1
pg_dump -d "$D" | gzip >"$T/dump.gz"
head -c 3000000 /dev/urandom >"$T/big"
printf 'hello\n' >"$T/in"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key big --body "$T/big" >/dev/null &&
	awsref s3api put-object --bucket "$PGBAK_BUCKET" --key dump.gz --body "$T/dump.gz" \
		>/dev/null &&
	printf 'x/x-20200101.gz\nx/x-20200102.gz\n' | put_keys || exit 1

# with FDS CMD...: run CMD, stdin from $T/in, stdout into $T/out, stderr
# into $T/err, except what FDS says: "open" (none closed), "0", "1", "2",
# "01", "012" (those closed) or "full" (stdout is /dev/full).  The exit
# status in $st, the case in words in $how; a hang ends after 60 s as
# 124.  Under valgrind only with every descriptor open: valgrind itself
# needs descriptor 2.
with() {
	_fds=$1
	shift
	case $_fds in
	open) how="all open" ;;
	full) how=">/dev/full" ;;
	?) how="fd $_fds closed" ;;
	*) how="fds $(printf '%s' "$_fds" | sed 's/./&, /g; s/, $//') closed" ;;
	esac
	: >"$T/out"
	: >"$T/err"
	case $_fds in
	open) run "$@" <"$T/in" >"$T/out" 2>"$T/err" ;;
	full) run "$@" <"$T/in" >/dev/full 2>"$T/err" ;;
	0) timeout 60 "$@" <&- >"$T/out" 2>"$T/err" ;;
	1) timeout 60 "$@" <"$T/in" >&- 2>"$T/err" ;;
	2) timeout 60 "$@" <"$T/in" >"$T/out" 2>&- ;;
	01) timeout 60 "$@" <&- >&- 2>"$T/err" ;;
	012) timeout 60 "$@" <&- >&- 2>&- ;;
	esac
	st=$?
}
out() { cat "$T/out"; }
# stderr without valgrind's own notes ("--PID-- WARNING: unhandled syscall"):
# an error valgrind finds shows as exit 99 all the same.  Nor -v's line
# naming where the credentials came from: information, not a message
# about the descriptors (that it is there is checked below).
err() { grep -v -e '^\(--\|==\)[0-9]*\(--\|==\) ' -e '^pgbak-[a-z]*: credentials: ' "$T/err"; }

# full CMD...: with stdout on /dev/full, CMD exits 111 with exactly one
# line, its program's, naming standard output and the cause.
full() {
	with full "$@"
	is "$st" 111 "$* >/dev/full: exit 111"
	is "$(lines "$(err)")" 1 "...exactly one line on stderr"
	like "$(err)" "^$1: unable to write .*(standard output|stdout): No space left on device$" \
		"...naming standard output and the cause"
}

# --- pgbak-name
for fds in open 0 2; do
	with $fds pgbak-name -D 20250909 p/ db
	is "$st:$(out)" "0:p/db-20250909.gz" "pgbak-name, $how: exit 0, the key"
done
with 1 pgbak-name -D 20250909 p/ db
is "$st:$(err)" "0:" "pgbak-name, $how: exit 0, silent (stdout is /dev/null)"
with 1 pgbak-name -D 2025-13-01 p/ db
is "$st" 100 "pgbak-name, $how, a bad date: exit 100"
like "$(err)" "^pgbak-name: .*2025-13-01" "...and the error still appears on stderr"
full pgbak-name -D 20250909 p/ db

# --- pgbak-exists
for fds in open 0 2; do
	with $fds pgbak-exists -v big
	like "$st:$(out)" "^0:size: 3000000" "pgbak-exists -v, $how: exit 0, the size"
done
with 1 pgbak-exists -v big
is "$st:$(err)" "0:" "pgbak-exists -v, $how: exit 0, silent"
grep -qx 'pgbak-exists: credentials: environment' "$T/err"
ok $? "...but for -v's one line naming the credentials' source"
with 1 pgbak-exists absent
is "$st" 1 "pgbak-exists, $how, an absent key: still exit 1"
with 1 pgbak-exists -b "nosuch-$PGBAK_BUCKET" big
is "$st" 111 "pgbak-exists, $how, no such bucket: exit 111"
like "$(err)" "^pgbak-exists: .*NoSuchBucket$" "...and the error still appears on stderr"
full pgbak-exists -v big

# --- pgbak-put: data from $T/in ("hello"), or nothing when fd 0 is closed
size() {
	awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "$1" --query ContentLength \
		--output text 2>&1
}
with open pgbak-put put/open
is "$st:$(size put/open)" "0:6" "pgbak-put, $how: exit 0, 6 bytes stored"
with 0 pgbak-put put/0
is "$st" 100 "pgbak-put, fd 0 closed: no hang, exit 100"
like "$(err)" "^pgbak-put: standard input is closed: nothing to store" \
	"...saying standard input is closed"
like "$(size put/0)" "Not Found|404" "...and nothing stored, not an empty object"
run pgbak-put put/null </dev/null
is "$?:$(size put/null)" "0:0" "pgbak-put </dev/null: an empty object, as asked"
for fds in 1 2; do
	with $fds pgbak-put put/$fds
	is "$st:$(size put/$fds)" "0:6" "pgbak-put, $how: exit 0, 6 bytes stored"
done
with 1 pgbak-put --if-absent put/open
is "$st" 1 "pgbak-put --if-absent, $how, the key exists: exit 1"
like "$(err)" "^pgbak-put: .*put/open exists; nothing stored$" \
	"...and the message still appears on stderr"

# --- pgbak-gzip
for fds in open 2; do
	with $fds pgbak-gzip
	is "$st:$(gunzip <"$T/out")" "0:hello" "pgbak-gzip, $how: exit 0, hello compressed"
done
with 0 pgbak-gzip
is "$st:$(wc -c <"$T/out")" "100:0" "pgbak-gzip, fd 0 closed: exit 100, nothing written"
like "$(err)" "^pgbak-gzip: standard input is closed" "...saying standard input is closed"
with 1 pgbak-gzip
is "$st:$(err)" "0:" "pgbak-gzip, $how: exit 0, silent"
with 1 pgbak-gzip -p 0
is "$st" 100 "pgbak-gzip, $how, a bad option: exit 100"
like "$(err)" "^pgbak-gzip: " "...and the error still appears on stderr"
full pgbak-gzip

# --- pgbak-get: 3 MB, so that a write into a socket would show
for fds in open 0 2; do
	with $fds pgbak-get big
	cmp -s "$T/out" "$T/big"
	is "$st:$?" "0:0" "pgbak-get, $how: exit 0, the object whole"
done
with 1 pgbak-get big
is "$st:$(err)" "0:" "pgbak-get, $how: exit 0, silent (written to /dev/null)"
with 1 pgbak-get absent
is "$st" 1 "pgbak-get, $how, an absent key: exit 1"
like "$(err)" "^pgbak-get: .*absent does not exist$" "...and the message still appears on stderr"
full pgbak-get big

# --- pgbak-verify
for fds in open 0 2; do
	with $fds pgbak-verify -v dump.gz
	like "$st:$(out)" "^0:s3://$PGBAK_BUCKET/dump.gz: ok, " \
		"pgbak-verify -v, $how: exit 0, ok"
done
with 1 pgbak-verify -v dump.gz
is "$st:$(err)" "0:" "pgbak-verify -v, $how: exit 0, silent"
with 1 pgbak-verify big
is "$st" 1 "pgbak-verify, $how, not a gzip: exit 1"
like "$(err)" "^pgbak-verify: s3://$PGBAK_BUCKET/big: " "...and the verdict still appears on stderr"
full pgbak-verify -v dump.gz

# --- pgbak-prune: the plan of a dry run
PLAN="delete x/x-20200101.gz
keep x/x-20200102.gz (newest, daily)"
for fds in open 0 2; do
	with $fds pgbak-prune -n --today 20200102 --keep-daily 1 x/x
	is "$st:$(out)" "0:$PLAN" "pgbak-prune -n, $how: exit 0, the plan"
done
with 1 pgbak-prune -n --today 20200102 --keep-daily 1 x/x
is "$st:$(err)" "0:" "pgbak-prune -n, $how: exit 0, silent"
with 1 pgbak-prune --today 20200102 x/x
is "$st" 100 "pgbak-prune, $how, no policy: exit 100"
like "$(err)" "^pgbak-prune: no retention policy" "...and the error still appears on stderr"
full pgbak-prune -n --today 20200102 --keep-daily 1 x/x x/y
# -v prints the plan before deleting: when it cannot, nothing is deleted.
full pgbak-prune -v --today 20200102 --keep-daily 1 x/x
is "$(keys_under x/)" "x/x-20200101.gz
x/x-20200102.gz" "pgbak-prune -v >/dev/full deleted nothing it could not list"
with open pgbak-prune -v --today 20200102 --keep-daily 1 x/x
is "$st:$(out)" "0:$PLAN" "its twin, stdout open: exit 0, the plan"
is "$(keys_under x/)" "x/x-20200102.gz" "...and the old backup deleted"

# --- pgbak-run: two databases each time, under a prefix of the case's own
backs_up() {
	_fds=$1
	settings "$T/run-$_fds.yml" "" "" "$(db_yaml "$D" "r$_fds/")" "$(db_yaml "$D" "q$_fds/")"
	with "$_fds" pgbak-run "$T/run-$_fds.yml"
	has_object "r$_fds/$D-$TODAY.gz" && has_object "q$_fds/$D-$TODAY.gz"
	is "$st:$?" "0:0" "pgbak-run, $how: exit 0, both databases stored"
}
for fds in open 0 2; do
	backs_up $fds
	like "$(out)" "^r$fds/$D-$TODAY.gz: dump .*: ok
q$fds/$D-$TODAY.gz: dump .*: ok$" "...and both summary lines"
done
for fds in 1 01; do
	backs_up $fds
	is "$(err)" "" "...and nothing on stderr"
done
backs_up 012

settings "$T/fail.yml" "" "" "$(db_yaml "nosuch_$D" f1/)"
with 1 pgbak-run "$T/fail.yml"
is "$st" 111 "pgbak-run, $how, a database that fails: exit 111"
like "$(err)" "nosuch_$D" "...and its error still appears on stderr"

settings "$T/full.yml" "" "" "$(db_yaml "$D" rfull/)" "$(db_yaml "$D" qfull/)"
full pgbak-run "$T/full.yml"
has_object "rfull/$D-$TODAY.gz" && has_object "qfull/$D-$TODAY.gz"
ok $? "pgbak-run >/dev/full: both databases stored all the same"
full pgbak-run -n "$T/full.yml"
with open pgbak-run "$T/full.yml"
like "$st:$(out)" "^0:rfull/$D-$TODAY.gz: .*: skipped: already exists
qfull/$D-$TODAY.gz: .*: skipped: already exists$" "its twin, stdout open: exit 0, the summary"
