#!/bin/sh
# The settings module against its page and its fixtures.  Loading files is
# tested by the unit program build/tests/unit/conf.t (fixtures in
# tests/data/conf); here: every key lib/conf.c accepts is documented in
# pgbak.yaml(5) and every documented key is accepted, every fixture is used,
# the example has no tabs, and under PGBAK_VALGRIND=1 the unit programs run
# clean under valgrind.
. "$(dirname "$0")/lib.sh"

# Keys of the field tables in lib/conf.c: F(st, key, kind), FA(...), R(...), M(...),
# { "key", ...
code_keys() {
	sed -n -e 's/^[[:space:]]*[FRM]A\{0,1\}(conf[a-z0-9_]*, \([a-z0-9_]*\),.*/\1/p' \
		-e 's/^[[:space:]]*{ "\([a-z0-9_]*\)", K_.*/\1/p' "$1" | sort -u
}
# Keys documented in the page: ".It Ic key : Ar type".
doc_keys() {
	sed -n 's/^\.It Ic \([a-z0-9_]*\) : .*/\1/p' "$1" | sort -u
}

plan 9

code=$(code_keys "$SRC_DIR/lib/conf.c")
doc=$(doc_keys "$SRC_DIR/man/pgbak.yaml.5")
like "$code" 'backup_file_prefix' "keys found in lib/conf.c"
is "$(printf '%s\n' "$code" | wc -l | tr -d ' ')" 61 "lib/conf.c has 61 distinct keys (enable, timeout, retention, compression, compression_level, format, jobs, pg_dump_options twice; host, port, user, password also in restore_check)"
is "$doc" "$code" "pgbak.yaml(5) documents exactly the keys lib/conf.c accepts"
# The negative twin: a page missing one key does not pass.
grep -v '^\.It Ic storage_class :' "$SRC_DIR/man/pgbak.yaml.5" >"$T/short.5"
[ "$(doc_keys "$T/short.5")" != "$code" ]
ok $? "a page without storage_class is caught"

unused=
for f in "$SRC_DIR"/tests/data/conf/*.yml; do
	grep -q "\"$(basename "$f")\"" "$SRC_DIR/tests/unit/conf.c" || unused="$unused $(basename "$f")"
done
is "$unused" "" "every fixture in tests/data/conf is used by tests/unit/conf.c"

tab=$(printf '\t')
grep -n "$tab" "$SRC_DIR/examples/settings.yml" >"$T/tabs"
is "$(cat "$T/tabs")" "" "examples/settings.yml has no tabs"
grep -q "$tab" "$SRC_DIR/tests/data/conf/tabs.yml"
ok $? "tests/data/conf/tabs.yml does have tabs"

if [ "${PGBAK_VALGRIND:-0}" = 1 ]; then
	for u in conf name; do
		(cd "$SRC_DIR" && run "$PGBAK_BUILD/tests/unit/$u.t") >"$T/$u.out" 2>&1
		r=$?
		[ $r -eq 0 ] || diag "$(grep -v '^ok' "$T/$u.out")"
		ok $r "unit/$u.t is clean under valgrind"
	done
else
	ok 0 "# SKIP valgrind runs only with PGBAK_VALGRIND=1"
	ok 0 "# SKIP valgrind runs only with PGBAK_VALGRIND=1"
fi
