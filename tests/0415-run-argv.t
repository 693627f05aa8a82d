#!/bin/sh
# -n prints exactly what runs (issue 15): every child pgbak-run starts is a
# recorder that appends its argv (as one line, words joined by spaces) to
# $T/ran and execs the real program.  The commands -n printed, without the
# shell-like glue around them (" | ", " > FILE", "PGPASSWORD=*** ", the
# notes in parentheses), must be the lines recorded, in any order, for the
# stream, the temporary file and local mode, with globals, encrypt, a
# retention policy, verify and a hook.  The one word -n cannot know,
# the size after --expected-size, it prints as SIZE.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
command -v age >/dev/null && command -v age-keygen >/dev/null ||
	skip_all "age is not installed; run 'make deps'"
command -v pg_dumpall >/dev/null || skip_all "pg_dumpall is not installed"
plan 14
need_pg
need_s3

D=argv_$$
psql_q -d postgres -c "create database $D" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $D'"
psql_q -d "$D" -c "create table t (id int); insert into t values (1), (2)" || exit 1

# pgbak-run finds pgbak-gzip, -put, -exists, -verify and -prune next to
# itself: a copy of it among the recorders runs them all.
B=$T/bin
mkdir -p "$B" && cp "$PGBAK_BUILD/pgbak-run" "$B/" || exit 1
# recorder NAME REAL: $B/NAME, which records its argv and runs REAL.  One
# printf of one short line, so that the lines of children running at once
# do not mix (O_APPEND).  The children's environment is pgbak-run's choice:
# the log's path is written in, not passed.
recorder() {
	cat >"$B/$1" <<EOF
#!/bin/sh
line=\$0
for a in "\$@"; do line="\$line \$a"; done
printf '%s\n' "\$line" >>"$T/ran"
exec "$2" "\$@"
EOF
	chmod 755 "$B/$1"
}
for p in pgbak-gzip pgbak-put pgbak-exists pgbak-verify pgbak-prune; do
	recorder "$p" "$PGBAK_BUILD/$p"
done
recorder pg_dump "$REAL_PG_DUMP"
recorder pg_dumpall "$(command -v pg_dumpall)"
recorder age "$(command -v age)"
recorder hook "$(command -v true)"

# planned FILE: the commands of pgbak-run -n's output FILE, one a line,
# sorted; the hook that would not run after a success left out.
planned() {
	sed -n 's/^  //p' "$1" |
		sed '/^on_failure: /d; s/^on_success: //' |
		sed 's/ (after a success)$//; s/ (once the backup is stored or found)$//' |
		sed 's/ < the temporary file, then removed$//; s/ > .*$//' |
		sed 's/ | /\n/g' | sed 's/^PGPASSWORD=\*\*\* //; /^$/d' | LC_ALL=C sort
}
# recorded: what the children were started with, sorted, the size that
# only the run knows written as -n writes it.
recorded() {
	sed 's/ --expected-size [0-9][0-9]* / --expected-size SIZE /' "$T/ran" | LC_ALL=C sort
}
# differ A B TEXT: ok when A and B are not the same text.
differ() { test "$1" != "$2"; ok $? "$3"; }
# same_children NAME SETTINGS N: pgbak-run -n, then a run; the run exits 0,
# started N children, and the commands -n printed are those it ran.
same_children() {
	run "$B/pgbak-run" -n "$2" >"$T/$1.n" 2>"$T/err" || diag "$(cat "$T/err")"
	rm -f "$T/ran"
	run "$B/pgbak-run" "$2" >/dev/null 2>"$T/err"
	is "$?" 0 "$1: the run exits 0"
	is "$(recorded | grep -c '')" "$3" "$1: it started $3 children"
	is "$(recorded)" "$(planned "$T/$1.n")" "$1: -n printed exactly the argv of every child"
}

age-keygen -o "$T/key" 2>/dev/null || exit 1
PUB=$(age-keygen -y "$T/key")
HOOK="on_success: [$B/hook, ok, two]
on_failure: [$B/hook, failed]"
glob_yaml() { db_yaml "$@"; printf '        globals: true\n'; }

# stream: a password, globals, gzip_level, a retention policy, verify, a
# hook: exists, pg_dump | gzip | put, stale, verify, prune for the dump and
# for the globals (2 x 7), and the hook.
settings "$T/s.yml" "pg_dump: $B/pg_dump
pg_dumpall: $B/pg_dumpall
gzip_level: 1
verify: true
retention: { keep_daily: 1 }
$HOOK" "" "$(glob_yaml "$D" argv/s/ "$PGUSER" not-shown-pw)"
same_children stream "$T/s.yml" 15
like "$(cat "$T/stream.n")" "PGPASSWORD=\*\*\* $B/pg_dump .* -d $D --no-password \| " \
	"stream: -n marks the password as *** before pg_dump"
unlike "$(cat "$T/ran")" "not-shown-pw" "stream: no child's argv holds the password"

# temp file with encrypt: exists, pg_dump | gzip | age > TEMP, put < TEMP, stale.
settings "$T/t.yml" "pg_dump: $B/pg_dump
use_temp_file: true
temp_dir: $T
encrypt:
  age: $B/age
  age_recipients: [$PUB]" "" "$(db_yaml "$D" argv/t/)"
same_children tempfile "$T/t.yml" 6

# local, with globals and verify: pg_dump | gzip > FILE, verify -f FILE, twice.
settings "$T/l.yml" "pg_dump: $B/pg_dump
pg_dumpall: $B/pg_dumpall
local_dir: $T/out
verify: true" "enable: false" "$(glob_yaml "$D" argv/l/)"
same_children local "$T/l.yml" 6

# Negative twins: the comparison sees an argv that differs by one flag, and
# a child that was printed but did not run.
rm -f "$T/ran"
run "$B/pgbak-run" -f "$T/s.yml" >/dev/null 2>&1
run "$B/pgbak-run" -n -f "$T/s.yml" >"$T/f.n" 2>/dev/null
is "$(recorded)" "$(planned "$T/f.n")" "-f: -n -f printed exactly the argv of every child"
sed 's/ -C 3 / -C 4 /' "$T/f.n" >"$T/changed.n"
differ "$(recorded)" "$(planned "$T/changed.n")" \
	"a -n output with pgbak-put's -C changed does not match what ran"
differ "$(recorded)" "$(planned "$T/stream.n")" \
	"a run with -f (no pgbak-exists) does not match -n without -f"
