#!/bin/sh
# pg_dump: auto (the default): the server's major version, asked with psql,
# picks pg_bin_root/MAJOR/bin/pg_dump (and pg_dumpall); without one, the
# pg_dump in PATH, unless the server is newer than it: then one line with
# the fix, exit 100, nothing dumped.  Only PostgreSQL 15 is installed, so
# the layouts are fake: wrappers that log which ran and run the real
# pg_dump, and a psql (the psql setting) that answers another version.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 22
need_pg

A=auto_$$
psql_q -d postgres -c "create database $A" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $A'"
psql_q -d "$A" -c "create table t as select 1 as i" || exit 1
REAL_PSQL=$(command -v psql)
REAL_PG_DUMPALL=$(command -v pg_dumpall)

R=$T/root
for v in 15 16; do
	mkdir -p "$R/$v/bin"
	for p in pg_dump pg_dumpall; do
		real=$REAL_PG_DUMP
		[ $p = pg_dumpall ] && real=$REAL_PG_DUMPALL
		printf '#!/bin/sh\necho %s-%s >>"%s/ran"\nexec "%s" "$@"\n' "$p" "$v" "$T" "$real" \
			>"$R/$v/bin/$p"
		chmod 755 "$R/$v/bin/$p"
	done
done
# A psql whose server says it is FAKE_VERSION (server_version_num).
{
	printf '#!/bin/sh\ncase "$*" in\n'
	printf '*server_version_num*) [ -n "${FAKE_VERSION:-}" ] && { echo "$FAKE_VERSION"; exit 0; } ;;\n'
	printf 'esac\nexec "%s" "$@"\n' "$REAL_PSQL"
} >"$T/psql"
chmod 755 "$T/psql"

# conf FILE [TASK_LINE...]: local-mode settings.
conf() {
	_f=$1
	shift
	{
		printf 'tasks:\n  postgres:\n    local_dir: %s\n    psql: %s\n' "$T/out" "$T/psql"
		for _l in "$@"; do printf '    %s\n' "$_l"; done
		printf '    s3: {enable: false}\n    dbs:\n'
		db_yaml "$A" a/
		printf '        globals: true\n'
	} >"$_f"
	chmod 600 "$_f"
}
K=$T/out/a/$A-$TODAY.gz
clean() { rm -rf "$T/out" "$T/ran"; }

conf "$T/s.yml" "pg_bin_root: $R"
out=$(run pgbak-run -n "$T/s.yml" 2>&1); st=$?
is "$st" 0 "-n exits 0"
like "$out" "^  $R/15/bin/pg_dump -h " "-n: the server is 15: $R/15/bin/pg_dump"
like "$out" "$R/15/bin/pg_dumpall -h " "-n: and its pg_dumpall for the globals"
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a run with pg_dump unset exits 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
is "$(sort "$T/ran" | tr '\n' ' ')" "pg_dump-15 pg_dumpall-15 " "the root's 15 ran, pg_dump and pg_dumpall"
check "the dump is stored" test -s "$K"

clean
conf "$T/auto.yml" "pg_bin_root: $R" "pg_dump: auto"
out=$(with_env FAKE_VERSION=160004 run pgbak-run "$T/auto.yml" 2>"$T/err"); st=$?
is "$st" 0 "pg_dump: auto, a server 16: exit 0"
is "$(sort "$T/ran" | tr '\n' ' ')" "pg_dump-16 pg_dumpall-16 " "the root's 16 ran"

# 17: no 17 in the root, PATH's pg_dump is 15: one line, exit 100.
clean
out=$(with_env FAKE_VERSION=170002 run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 100 "a server newer than every pg_dump: exit 100"
like "$out" "^$A: .*failed: server is PostgreSQL 17, pg_dump is 15: install postgresql-client-17 or set pg_dump:$" \
	"one line with the fix"
test ! -e "$T/ran" && test ! -e "$K"; ok $? "nothing dumped, nothing stored"
out=$(with_env FAKE_VERSION=170002 run pgbak-run -n "$T/s.yml" 2>&1); st=$?
like "$out" "server is PostgreSQL 17, pg_dump is 15" "-n says so too"
# the twin: an older server is dumped by the newer PATH pg_dump
out=$(with_env FAKE_VERSION=140010 run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "a server older than PATH's pg_dump, not in the root: exit 0"
test ! -e "$T/ran" && test -s "$K"; ok $? "PATH's pg_dump ran, not a wrapper"

# pg_dump set: no choice, no check.
clean
conf "$T/set.yml" "pg_bin_root: $R" "pg_dump: $R/16/bin/pg_dump"
out=$(with_env FAKE_VERSION=170002 run pgbak-run "$T/set.yml" 2>"$T/err"); st=$?
is "$st" 0 "pg_dump set: no version check, exit 0"
grep -qx pg_dump-16 "$T/ran"; ok $? "the pg_dump set ran"

# The server down: PATH's pg_dump runs and says why, as before auto.
clean
sed "s/port: $PGPORT/port: 1/" "$T/s.yml" >"$T/down.yml"
chmod 600 "$T/down.yml"
out=$(run pgbak-run "$T/down.yml" 2>"$T/err"); st=$?
is "$st" 111 "a server that does not answer: exit 111"
like "$out" "^a/$A-$TODAY\.gz: .*failed: pg_dump exited 1: .*" "pg_dump's own line says why"
test ! -e "$T/ran"; ok $? "the root's wrappers did not run"

# The default root: /usr/lib/postgresql.
clean
conf "$T/def.yml"
out=$(run pgbak-run -n "$T/def.yml" 2>&1); st=$?
is "$st" 0 "-n with the default root exits 0"
if [ -x /usr/lib/postgresql/15/bin/pg_dump ]; then
	like "$out" "^  /usr/lib/postgresql/15/bin/pg_dump -h " "the default root's 15 is chosen"
else
	skip "no /usr/lib/postgresql/15/bin/pg_dump here"
fi
conf "$T/nop.yml" "pg_bin_root: $T/nowhere"
out=$(run pgbak-run -n "$T/nop.yml" 2>&1)
like "$out" "^  $REAL_PG_DUMP -h " "twin: a root without it: PATH's pg_dump"
