#!/bin/sh
# The names of a run, checked before anything runs: two objects under one
# key (two entries, however their prefixes are spelt; globals and .age keys
# too) are exit 100 naming both entries FILE:LINE, never a silent skip or
# overwrite; a name too long and a bad ping_url name FILE:LINE:COLUMN of the
# value; a name pgbak-name accepts is also written, in local and temp-file
# mode, although a temporary name's tail would push it past NAME_MAX, and
# local mode refuses up front a directory it could not create.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 55

# A pg_dump that leaves a trace and writes a tiny, complete dump.
cat >"$T/pg_dump" <<EOF
#!/bin/sh
echo ran >>"$T/ran"
echo 'SELECT 1;'
echo '-- PostgreSQL database dump complete'
EOF
chmod 755 "$T/pg_dump"
AGE=age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p

# conf FILE ENTRY...: local-mode settings whose dbs are the flow mappings
# ENTRY, the first on line 7 (line 8 with X, one more task line, set).
conf() {
	_f=$1
	shift
	{
		printf 'tasks:\n  postgres:\n    pg_dump: %s\n    local_dir: %s\n' \
			"$T/pg_dump" "$T/out"
		printf '    s3: {enable: false}\n'
		[ -n "${X:-}" ] && printf '    %s\n' "$X"
		printf '    dbs:\n'
		for _e in "$@"; do printf '      - {%s}\n' "$_e"; done
	} >"$_f"
	chmod 600 "$_f"
}
# clean: forget what earlier runs left.
clean() { rm -rf "$T/out" "$T/ran"; }

# The issue's example: dk/demo/ with demo, dk//demo/demo with big.
conf "$T/s.yml" "host: 127.0.0.1, database: demo, backup_file_prefix: dk/demo/" \
	"host: 127.0.0.1, database: big, backup_file_prefix: dk//demo/demo"
out=$(run pgbak-run -n "$T/s.yml" 2>"$T/err"); st=$?
is "$st:$out" "100:" "-n: two entries with one key are exit 100, nothing listed"
like "$(cat "$T/err")" "^pgbak-run: $T/s\.yml:8: tasks\.postgres\.dbs\[1\]'s dump \(database big\) would be stored as dk/demo/demo-YYYYMMDD\.gz, the key of dbs\[0\]'s dump \(database demo\) at $T/s\.yml:7: " \
	"the message names the key and both entries as FILE:LINE"
clean
check_status 100 "a run refuses them too" run pgbak-run "$T/s.yml" 2>/dev/null
check_status 100 "and so does a run with -f" run pgbak-run -f "$T/s.yml" 2>/dev/null
test ! -e "$T/ran" && test ! -e "$T/out"; ok $? "nothing was run or written"

# Two clusters, each with an app database, under one prefix.
conf "$T/two.yml" "host: db1.internal, database: app, backup_file_prefix: backups/" \
	"host: db2.internal, database: app, backup_file_prefix: backups/"
err=$(run pgbak-run -n "$T/two.yml" 2>&1 >/dev/null); st=$?
is "$st" 100 "two clusters' app under one prefix: exit 100"
like "$err" "two\.yml:8: .*backups/app-YYYYMMDD\.gz.* at $T/two\.yml:7: " \
	"the message names both entries"
check_status 100 "a run with -f refuses them" run pgbak-run -f "$T/two.yml" 2>/dev/null
# The negative twin: a directory per cluster.
conf "$T/two-ok.yml" "host: 127.0.0.1, database: app, backup_file_prefix: backups/db1/" \
	"host: 127.0.0.1, port: 2, database: app, backup_file_prefix: backups/db2/"
out=$(run pgbak-run -n "$T/two-ok.yml" 2>/dev/null); st=$?
is "$st" 0 "a directory per cluster: -n exits 0"
is "$(printf '%s\n' "$out" | grep -c "^backups/db[12]/app-$TODAY\.gz:$")" 2 "and lists both keys"
clean
check_status 0 "a run stores both" quiet run pgbak-run "$T/two-ok.yml"
is "$(grep -c ran "$T/ran")" 2 "pg_dump ran once for each"
check "both files are there" test -f "$T/out/backups/db1/app-$TODAY.gz" -a \
	-f "$T/out/backups/db2/app-$TODAY.gz"
out=$(run pgbak-run "$T/two-ok.yml" 2>/dev/null)
is "$(printf '%s\n' "$out" | grep -c ': skipped: already exists$')" 2 \
	"a second run skips each for its own file"

# Every spelling lib/name takes for dk/demo/demo clashes with it.
for p in 'dk//demo/demo' '/dk/demo/demo' './dk/demo/demo' 'dk/./demo/demo' \
	'dk\demo\demo' '//dk/demo/./demo' 'dk/demo//demo'; do
	conf "$T/sp.yml" "database: demo, backup_file_prefix: dk/demo/" \
		"database: other, backup_file_prefix: '$p'"
	check_status 100 "dk/demo/ and $p clash" run pgbak-run -n "$T/sp.yml" 2>/dev/null
done
conf "$T/sp.yml" "database: demo, backup_file_prefix: dk/demo/" \
	"host: elsewhere, database: demo, backup_file_prefix: /dk//demo/"
check_status 100 "the same database under /dk//demo/ clashes" \
	run pgbak-run -n "$T/sp.yml" 2>/dev/null
# The negative twins: keys that differ.
for p in 'dk/demo2/demo' 'dk/demo/demo2' 'dk/demo/demo/demo'; do
	conf "$T/sp.yml" "database: demo, backup_file_prefix: dk/demo/" \
		"database: other, backup_file_prefix: '$p'"
	check_status 0 "dk/demo/ and $p do not clash" quiet run pgbak-run -n "$T/sp.yml"
done

# Globals: two of one directory, and a dump that takes the globals' key.
conf "$T/g.yml" "database: x, backup_file_prefix: g/a/, globals: true" \
	"host: other, database: y, backup_file_prefix: g//a/y, globals: true"
err=$(run pgbak-run -n "$T/g.yml" 2>&1 >/dev/null); st=$?
is "$st" 100 "two globals: true in one directory: exit 100"
like "$err" "g\.yml:8: .*dbs\[1\]'s globals .*g/a/globals-YYYYMMDD\.gz, the key of dbs\[0\]'s globals .*g\.yml:7: " \
	"the message names the globals key and both entries"
conf "$T/g.yml" "database: globals, backup_file_prefix: g/a/" \
	"database: y, backup_file_prefix: g/a/, globals: true"
check_status 100 "a dump named globals beside a globals: exit 100" \
	run pgbak-run -n "$T/g.yml" 2>/dev/null
conf "$T/g.yml" "database: x, backup_file_prefix: g/a/, globals: true" \
	"host: other, database: y, backup_file_prefix: g/b/y, globals: true"
check_status 0 "the negative twin: globals in two directories" \
	quiet run pgbak-run -n "$T/g.yml"

# encrypt: the .gz.age keys clash the same way.
X="encrypt: {age_recipients: [$AGE]}"
conf "$T/e.yml" "database: app, backup_file_prefix: enc/a/" \
	"host: other, database: other, backup_file_prefix: enc//a/app"
err=$(run pgbak-run -n "$T/e.yml" 2>&1 >/dev/null); st=$?
is "$st" 100 "encrypt: two dumps with one .gz.age key: exit 100"
like "$err" "e\.yml:9: .*stored as enc/a/app-YYYYMMDD\.gz\.age, .*e\.yml:8: " \
	"the message shows the .gz.age key and both entries"
conf "$T/e.yml" "database: app, backup_file_prefix: enc/a/, globals: true" \
	"host: other, database: other, backup_file_prefix: enc/a/o, globals: true"
err=$(run pgbak-run -n "$T/e.yml" 2>&1 >/dev/null); st=$?
is "$st" 100 "encrypt: two globals with one .gz.age key: exit 100"
like "$err" "enc/a/globals-YYYYMMDD\.gz\.age" "the message shows the globals' .gz.age key"
conf "$T/e.yml" "database: app, backup_file_prefix: enc/a/, globals: true" \
	"host: other, database: other, backup_file_prefix: enc/b/o, globals: true"
check_status 0 "the negative twin: encrypted names that differ" quiet run pgbak-run -n "$T/e.yml"
X=

# A name at the limit: pgbak-name accepts a 243-byte basename (255 bytes
# with -YYYYMMDD.gz, NAME_MAX), so a run must write it: the temporary names
# have room for their tails.
B=$(printf '%0243d' 0 | tr 0 b)
name=$(pgbak-name -f "long/$B" x); st=$?
is "$st:${#name}" "0:255" "pgbak-name accepts the 243-byte basename"
conf "$T/long.yml" "database: x, backup_file_prefix: long/$B"
clean
out=$(run pgbak-run "$T/long.yml" 2>"$T/err"); st=$?
is "$st" 0 "local mode writes it: exit 0"
check "the file has the full name" test -f "$T/out/long/$B-$TODAY.gz"
is "$(find "$T/out" -name '.*tmp')" "" "no temporary file is left"
# The negative twin: 244 bytes is too long for a file name, refused at load
# time with the position of the prefix's value.
B3=$(printf '%0244d' 0 | tr 0 b)
fails "pgbak-name refuses the 244-byte basename" pgbak-name "long/$B3" x 2>/dev/null
conf "$T/long.yml" "database: x, backup_file_prefix: long/$B3"
col=$(sed -n 7p "$T/long.yml" | awk '{ print index($0, "long/") }')
clean
err=$(run pgbak-run "$T/long.yml" 2>&1); st=$?
is "$st" 100 "a name too long: exit 100"
like "$err" "^pgbak-run: $T/long\.yml:7:$col: tasks\.postgres\.dbs\[0\]: backup name .* is too long" \
	"the message names FILE:LINE:COLUMN of the prefix"
test ! -e "$T/ran"; ok $? "nothing was run"
conf "$T/long.yml" "database: $B3"
col=$(sed -n 7p "$T/long.yml" | awk -v b="$B3" '{ print index($0, b) }')
like "$(run pgbak-run -n "$T/long.yml" 2>&1)" "^pgbak-run: $T/long\.yml:7:$col: .* too long" \
	"without a prefix, FILE:LINE:COLUMN of the database"

# Local mode: a directory of the key over NAME_MAX could not be created,
# so it is refused at load time too; S3 has no such limit.
conf "$T/ld.yml" "database: x, backup_file_prefix: d/$(printf '%0256d' 0)/"
col=$(sed -n 7p "$T/ld.yml" | awk '{ print index($0, "d/") }')
err=$(run pgbak-run -n "$T/ld.yml" 2>&1); st=$?
is "$st" 100 "local mode, a directory of 256 bytes: exit 100"
like "$err" "^pgbak-run: $T/ld\.yml:7:$col: tasks\.postgres\.dbs\[0\]: the key .* has a directory longer than a file name may be \(255 bytes\)" \
	"the message names FILE:LINE:COLUMN of the prefix"
conf "$T/ld.yml" "database: x, backup_file_prefix: d/$(printf '%0255d' 0)/"
clean
check_status 0 "the negative twin: a directory of 255 bytes is written" \
	quiet run pgbak-run "$T/ld.yml"
sed 's/    s3: {enable: false}/    s3: {bucket: b}/' "$T/ld.yml" >"$T/ld3.yml"
sed -i "s|d/0*/|d/$(printf '%0256d' 0)/|" "$T/ld3.yml"
check_status 0 "and in S3 a directory of 256 bytes is a valid key" \
	quiet run pgbak-run -n "$T/ld3.yml"

# ping_url: a bad one at its FILE:LINE:COLUMN, the good one accepted.
X="ping_url: \"ftp://127.0.0.1/token\""
conf "$T/p.yml" "database: x, backup_file_prefix: p/"
err=$(run pgbak-run -n "$T/p.yml" 2>&1); st=$?
is "$st" 100 "a ping_url that is not http(s): exit 100"
is "$err" "pgbak-run: $T/p.yml:6:15: tasks.postgres.ping_url: not an http:// or https:// URL with a host" \
	"the message names FILE:LINE:COLUMN of the value"
unlike "$err" "token" "and does not show the URL"
X="ping_url: \"http://127.0.0.1:1/token\""
conf "$T/p.yml" "database: x, backup_file_prefix: p/"
check_status 0 "the negative twin: an http:// ping_url is accepted" quiet run pgbak-run -n "$T/p.yml"
X=

# Temp-file mode writes the 243-byte name too (into temp_dir, then S3).
need_s3
PGHOST=127.0.0.1 PGPORT=1 PGUSER=postgres
mkdir -p "$T/tmp"
settings "$T/tf.yml" "use_temp_file: true
temp_dir: $T/tmp
pg_dump: $T/pg_dump" "" "$(db_yaml x "long/$B")"
out=$(run pgbak-run "$T/tf.yml" 2>"$T/err"); st=$?
is "$st" 0 "temp-file mode with the 243-byte basename: exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
check "the object is stored under its full key" has_object "long/$B-$TODAY.gz"
is "$(ls -A "$T/tmp")" "" "temp_dir is empty afterwards"
out=$(run pgbak-run -n "$T/tf.yml" 2>/dev/null)
like "$out" " > $T/tmp/b{200}\.XXXXXX$" "-n shows the shortened temporary name"
