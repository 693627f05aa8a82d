#!/bin/sh
# Hostile settings files (issue 8).  Whatever the file holds -- binary junk,
# huge values, deep nesting, an alias bomb, duplicate keys, bytes that are
# not UTF-8, NUL bytes, nothing, a directory, a FIFO nobody writes to,
# endless input -- "pgbak-run -n FILE" (a dry run: load, check, name,
# run nothing) exits 100 within a time limit with one printable line on
# stderr that names the file and the cause: never a crash, never a hang.
# The positive twins: a good file, a FIFO fed a good file, and a bomb in
# another task (never expanded) all load.  A file holding a literal secret
# that others can read loads with a warning; private or ${NAME}, without.
. "$(dirname "$0")/lib.sh"

[ -x "$PGBAK_BUILD/pgbak-run" ] || skip_all "pgbak-run is not built (it comes with branch run)"

# Under valgrind everything is slower; a hang is a hang either way.
if [ "${PGBAK_VALGRIND:-0}" = 1 ]; then
	limit=120
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
else
	limit=10
	vg=
fi
unset PGBAK_BUCKET
PGBAK_DB_PASSWORD=from-the-environment
export PGBAK_DB_PASSWORD

# load FILE: pgbak-run -n FILE under the time limit; sets $rc, $out, $err.
load() {
	out=$(timeout "$limit" $vg pgbak-run -n "$1" </dev/null 2>"$T/err"); rc=$?
	err=$(cat "$T/err")
}

# refused DESC FILE NEEDLE: exit 100, nothing on stdout, and one printable
# line "pgbak-run: ..." on stderr naming FILE and holding NEEDLE.
refused() {
	d=$1 f=$2 needle=$3
	load "$f"
	[ "$rc" -eq 100 ]; r=$?
	[ $r -eq 0 ] || diag "$d: exit $rc, wanted 100 (124: timed out, >= 128: crashed)"
	ok $r "$d: exit 100"
	[ -z "$out" ] && [ "$(lines "$err")" -eq 1 ] &&
		! printf '%s' "$err" | LC_ALL=C grep -q '[[:cntrl:]]' &&
		printf '%s' "$err" | grep -q '^pgbak-run: ' &&
		printf '%s' "$err" | grep -Fq -- "$f" &&
		printf '%s' "$err" | grep -Fq -- "$needle"
	r=$?
	[ $r -eq 0 ] || diag "$d: stdout '$out'" "stderr '$err'" "wanted one line naming $f and '$needle'"
	ok $r "$d: one line naming the file: $needle"
}

# loads DESC FILE: exit 0, the dry run on stdout, nothing on stderr.
loads() {
	load "$2"
	[ "$rc" -eq 0 ] && [ -z "$err" ] && printf '%s' "$out" | grep -q -- '-[0-9]\{8\}\.gz'
	r=$?
	[ $r -eq 0 ] || diag "$1: exit $rc, stdout '$out', stderr '$err'"
	ok $r "$1: loads"
}

# rep STRING N: STRING N times, no newline.
rep() { awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'; }

# bomb KEY: a "billion laughs" mapping under KEY: &k stands for 9^11 nodes.
bomb() {
	printf '%s:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n' "$1"
	p=a
	for l in b c d e f g h i j k; do
		printf '  %s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n' \
			$l $l $p $p $p $p $p $p $p $p $p
		p=$l
	done
}

# good: the lines of a small valid file, to build variants on.
good() {
	printf 'tasks:\n  postgres:\n    s3: {bucket: b}\n    dbs:\n'
	printf '      - {database: appdb, backup_file_prefix: pg/}\n'
}

plan 81

# The positive twins first: what a good file does.
good >"$T/good.yml"
loads "a small good file" "$T/good.yml"
cp "$SRC_DIR/tests/data/conf/valid.yml" "$T/valid.yml"
chmod 600 "$T/valid.yml"
loads "the seed's example, private" "$T/valid.yml"
mkfifo "$T/fed.fifo"
cat "$T/good.yml" >"$T/fed.fifo" &
cat_pid=$!
at_exit "kill $cat_pid"
loads "a FIFO fed a good file" "$T/fed.fifo"
{ good; bomb lol; } >"$T/bomb-elsewhere.yml"
loads "an alias bomb (9^11 nodes) in another task, never expanded" "$T/bomb-elsewhere.yml"

# Binary junk.
gzip -9 -c <"$SRC_DIR/examples/settings.yml" >"$T/junk.yml"
refused "gzip data" "$T/junk.yml" "$T/junk.yml:1:1: control characters are not allowed"
cp "$PGBAK_BUILD/pgbak-name" "$T/program.yml"
refused "an executable" "$T/program.yml" "$T/program.yml"
printf 'tasks:\n  postgres:\n    s3: {bucket: "\033]0;owned\007"}\n' >"$T/escape.yml"
refused "a terminal escape written raw" "$T/escape.yml" "control characters are not allowed"

# Huge values.
{ good; printf '      - database: '; rep x 102400; echo; } >"$T/huge-value.yml"
refused "a 100 KB value" "$T/huge-value.yml" "value longer than 4096 bytes"
{ good; rep '# padding padding padding padding padding padding padding padding\n' 33000
} >"$T/huge-file.yml"
refused "a 2 MB file" "$T/huge-file.yml" "larger than 1048576 bytes"
printf 'tasks:\n  postgres:\n    dbs: [{database: a, port: 99999999999999999999999}]\n' \
	>"$T/huge-port.yml"
refused "a huge port" "$T/huge-port.yml" "expected an integer from 1 to 65535"
printf 'tasks:\n  postgres:\n    interval: 99999999999999999999d\n' >"$T/huge-interval.yml"
refused "a huge interval" "$T/huge-interval.yml" "expected a duration"
printf 'tasks:\n  postgres:\n    s3: {part_size: 18446744073709551617GiB}\n' >"$T/huge-size.yml"
refused "a part size past 2^64" "$T/huge-size.yml" "expected a size"
{ printf 'tasks:\n  postgres:\n    s3: {bucket: b}\n    dbs: ['; rep '{database: a}, ' 10000
  echo '{database: a}]'; } >"$T/many-dbs.yml"
refused "10001 databases" "$T/many-dbs.yml" "more than 10000 databases"

# Deep nesting, where pgbak skips and where it reads.
{ good; printf '  other: '; rep '[' 100000; rep ']' 100000; echo; } >"$T/deep-flow.yml"
refused "100000 nested lists in another task" "$T/deep-flow.yml" "nested deeper than 64 levels"
{ good; awk 'BEGIN { s = "  "; for (i = 0; i < 200; i++) { print s "k" i ":"; s = s " " } }'
} >"$T/deep-block.yml"
refused "200 nested mappings" "$T/deep-block.yml" "nested deeper than 64 levels"
{ printf 'tasks:\n  postgres:\n    s3: {bucket: b}\n    dbs: '; rep '[' 100000; rep ']' 100000
  echo; } >"$T/deep-dbs.yml"
refused "nested lists as tasks.postgres.dbs" "$T/deep-dbs.yml" "expected a mapping"

# Aliases where pgbak reads: refused, never expanded.
{ bomb lol; printf 'tasks:\n  postgres:\n    s3: {bucket: b}\n    dbs: *k\n'; } \
	>"$T/bomb-inside.yml"
refused "an alias bomb as tasks.postgres.dbs" "$T/bomb-inside.yml" "aliases are not supported"
{ bomb lol; printf 'tasks:\n  postgres:\n    s3: {bucket: b}\n    dbs:\n'
  printf '      - <<: *k\n        database: a\n'; } >"$T/bomb-merge.yml"
refused "an alias bomb merged into an entry" "$T/bomb-merge.yml" "merge keys (<<) are not supported"

# Duplicate keys, at every level pgbak reads.
{ good; echo 'tasks: {}'; } >"$T/dup-tasks.yml"
refused "tasks twice" "$T/dup-tasks.yml" "duplicate key tasks"
{ good; echo '  postgres: {}'; } >"$T/dup-postgres.yml"
refused "tasks.postgres twice" "$T/dup-postgres.yml" "duplicate key tasks.postgres"
{ good; echo '    s3: {bucket: c}'; } >"$T/dup-s3.yml"
refused "tasks.postgres.s3 twice" "$T/dup-s3.yml" "duplicate key s3"
printf 'tasks:\n  postgres:\n    s3: {bucket: b, bucket: c}\n' >"$T/dup-bucket.yml"
refused "a bucket twice" "$T/dup-bucket.yml" "duplicate key bucket"

# Bytes that are not UTF-8, and NUL bytes.
printf 'tasks:\n  postgres:\n    s3: {bucket: caf\351}\n' >"$T/latin1.yml"
refused "a Latin-1 byte" "$T/latin1.yml" "UTF-8"
printf 'tasks:\n  postgres:\n    s3: {bucket: \300\257}\n' >"$T/overlong.yml"
refused "an overlong UTF-8 form" "$T/overlong.yml" "UTF-8"
printf 'tasks:\n  postgres:\n    s3: {bucket: \355\240\200}\n' >"$T/surrogate.yml"
refused "a UTF-16 surrogate in UTF-8" "$T/surrogate.yml" "invalid Unicode character (U+D800)"
printf 'tasks:\n  postgres:\n    s3: {bucket: \200}\n' >"$T/continuation.yml"
refused "a lone continuation byte" "$T/continuation.yml" "UTF-8"
printf 'tasks:\n  postgres:\n    s3: {bucket: b\000c}\n' >"$T/nul.yml"
refused "a NUL byte" "$T/nul.yml" "(byte 0x00)"
printf 'tasks:\n  postgres:\n    s3: {bucket: "b\\0c"}\n' >"$T/nul-escape.yml"
refused "a NUL written as \\\\0" "$T/nul-escape.yml" "NUL byte"
head -c 4096 /dev/zero >"$T/zeros.yml"
refused "4096 NUL bytes" "$T/zeros.yml" "(byte 0x00)"

# Nothing, or not a YAML mapping.
: >"$T/empty.yml"
refused "an empty file" "$T/empty.yml" "no tasks.postgres section"
printf '# only a comment\n---\n...\n' >"$T/comment.yml"
refused "a comment and an empty document" "$T/comment.yml" "no tasks.postgres section"
printf -- '- tasks\n' >"$T/list.yml"
refused "a list at the top" "$T/list.yml" "expected a mapping at the top"
{ good; printf -- '---\n'; good; } >"$T/two-docs.yml"
refused "two documents" "$T/two-docs.yml" "more than one YAML document"
printf 'tasks:\n  postgres:\n    s3: {bucket: "b}\n' >"$T/unterminated.yml"
refused "an unterminated quote" "$T/unterminated.yml" "while scanning a quoted scalar at line 3"

# Not a regular file.
mkdir "$T/dir.yml"
refused "a directory" "$T/dir.yml" "is a directory"
refused "a missing file" "$T/missing.yml" "No such file or directory"
mkfifo "$T/lonely.fifo"
refused "a FIFO that nobody writes to" "$T/lonely.fifo" "FIFO"
mkfifo "$T/yes.fifo"
yes 'tasks: postgres' >"$T/yes.fifo" &
yes_pid=$!
at_exit "kill $yes_pid"
refused "a FIFO fed endless input" "$T/yes.fifo" "larger than 1048576 bytes"
kill "$yes_pid" 2>/dev/null
refused "/dev/zero" /dev/zero "larger than 1048576 bytes"

# A literal secret in a file others can read: a warning, once.
cp "$T/valid.yml" "$T/shared.yml"
chmod 644 "$T/shared.yml"
load "$T/shared.yml"
is "$rc" 0 "a shared file with a literal secret still loads"
like "$err" "^pgbak-run: $T/shared.yml holds a password or secret and others can read it" \
	"...with a warning naming the file"
is "$(lines "$err")" 1 "...on one line"
unlike "$err" 'secret"|xxx' "...that does not show the secret"
chmod 640 "$T/shared.yml"
load "$T/shared.yml"
like "$err" "holds a password or secret and others can read it" "readable by its group: warned too"
chmod 600 "$T/shared.yml"
load "$T/shared.yml"
is "$rc:$err" "0:" "the same file, private: no warning"
sed 's/password: "secret"/password: ${PGBAK_DB_PASSWORD}/; s/access_secret: "xxx"/access_secret: ${PGBAK_DB_PASSWORD}/' \
	"$T/valid.yml" >"$T/env.yml"
chmod 644 "$T/env.yml"
load "$T/env.yml"
is "$rc:$err" "0:" "secrets from \${NAME} in a shared file: no warning"
