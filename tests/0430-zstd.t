#!/bin/sh
# compression: zstd | none | gzip (issue 18: 2), plain format.  Each backs
# up with the right suffix (.zst, .sql, the seed's .gz), restores through
# pgbak-restore into a new database with identical pg_dump output, and
# passes pgbak-verify; a cut .zst, one without the completion line, and
# gzip bytes under a .zst name do not.  The zstd stage's failure matrix:
# zstd failing leaves no object and no upload and is named; pg_dump killed
# beside zstd is named.  pgbak-ls shows .zst backups, pgbak-prune prunes
# them.  Negative twins: an unknown compression, a level zstd takes but
# gzip does not, a level over zstd's.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
command -v zstd >/dev/null || skip_all "zstd is not installed; run 'make deps'"
plan 55
need_pg
need_s3
# err FILE: stderr without valgrind's own notes

Z=zs_$$
mixed_db "$Z" || exit 1
psql_q -d "$Z" -c "create table big as select g as id, md5(g::text) as h from generate_series(1, 100000) g;" >/dev/null || exit 1

# keys PREFIX: the keys stored under PREFIX, as the reference client lists them
keys() {
	awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --prefix "$1" \
		--query 'Contents[].Key' --output text 2>&1
}

# each compression: back up, the key, restore, compare, verify
for c in zstd none gzip; do
	case $c in
	zstd) sfx=.zst task="compression: zstd
compression_level: 3" entry= ;;
	none) sfx=.sql task= entry="        compression: none" ;;	# per entry
	gzip) sfx=.gz task= entry= ;;	# the default, unchanged
	esac
	K=$c/$Z-$TODAY$sfx
	settings "$T/$c.yml" "$task" "" "$(db_yaml "$Z" "$c/")
$entry"
	out=$(run pgbak-run "$T/$c.yml" 2>"$T/err"); st=$?
	is "$st" 0 "$c: pgbak-run exits 0"
	[ "$st" -eq 0 ] || diag "$(err "$T/err")"
	is "$(keys "$c/")" "$K" "$c: the one object is $K"
	is "$(uploads)" None "$c: no multipart upload left"
	R=zr_${c}_$$
	drop_at_exit "$R"
	out=$(run pgbak-restore -c "$T/$c.yml" --into "$R" "$Z" 2>"$T/err"); st=$?
	is "$st" 0 "$c: pgbak-restore into a new database exits 0"
	[ "$st" -eq 0 ] || diag "$(err "$T/err")"
	dump_cmp "$Z" >"$T/orig.sql" && dump_cmp "$R" >"$T/back.sql" &&
		cmp -s "$T/orig.sql" "$T/back.sql"
	ok $? "$c: pg_dump of the restore is identical to the source's"
	out=$(run pgbak-verify -v -c "$T/$c.yml" "$K" 2>"$T/err"); st=$?
	is "$st" 0 "$c: pgbak-verify passes"
done
out=$(run pgbak-run --verify --force "$T/zstd.yml" 2>"$T/err"); st=$?
like "$st: $out" "^0: zstd/$Z-$TODAY\.zst: .*: ok, verified$" \
	"zstd: pgbak-run --verify reads the stored .zst back: ok, verified"
out=$(run pgbak-run -n "$T/zstd.yml" 2>&1)
like "$out" "pg_dump .* \| [^ ]*zstd -q -c -3 -T2 --zstd=minMatch=6 --check \| [^ ]*pgbak-put " \
	"zstd: -n shows the stage's fixed argv"
out=$(run pgbak-run -n "$T/none.yml" 2>&1)
like "$out" "pg_dump [^|]* \| [^ ]*pgbak-put " "none: -n shows pg_dump straight into pgbak-put"
out=$(run pgbak-restore -n -c "$T/zstd.yml" --into x_$$ "$Z" 2>&1)
like "$out" "pgbak-get [^|]* \| [^ ]*zstd -d -c -q \| [^ ]*pgbak-restore --relay" \
	"zstd: pgbak-restore -n decompresses with zstd -d"
out=$(run pgbak-restore -n -c "$T/none.yml" --into x_$$ "$Z" 2>&1)
like "$out" "pgbak-get [^|]* \| [^ ]*pgbak-restore --relay" "none: no decompression stage"

# pgbak-verify: a good .zst passes; cut, no completion line, gzip: exit 1
KZ=zstd/$Z-$TODAY.zst
fetch "$KZ" >"$T/good-20250101.zst" || exit 1
out=$(run pgbak-verify -f "$T/good-20250101.zst" 2>"$T/err"); st=$?
is "$st" 0 "verify -f: the stored .zst is whole"
size=$(wc -c <"$T/good-20250101.zst")
head -c $((size - 7)) "$T/good-20250101.zst" >"$T/cut-20250101.zst"
out=$(run pgbak-verify -f "$T/cut-20250101.zst" 2>"$T/err"); st=$?
is "$st" 1 "verify: a .zst cut short exits 1"
like "$(err "$T/err")" "cut-20250101\.zst: damaged zstd stream \(zstd -d exited 1: .*\)$" \
	"verify: the cut one is named, with zstd's reason, on one line"
zstd -d -c -q "$T/good-20250101.zst" | grep -v '^-- PostgreSQL database dump complete' |
	zstd -q -c >"$T/nodone-20250101.zst"
out=$(run pgbak-verify -f "$T/nodone-20250101.zst" 2>"$T/err"); st=$?
is "$st" 1 "verify: a .zst without the completion line exits 1"
like "$(err "$T/err")" "nodone-20250101\.zst: the dump does not end with pg_dump's completion line" \
	"verify: it says the completion line is missing"
zstd -d -c -q "$T/good-20250101.zst" | gzip -c >"$T/gz-20250101.zst"
out=$(run pgbak-verify -f "$T/gz-20250101.zst" 2>"$T/err"); st=$?
is "$st" 1 "verify: gzip bytes under a .zst name exit 1 (zstd -d alone would take them)"
like "$(err "$T/err")" "not zstd" "verify: it says it is not zstd"
awsref s3 cp "$T/cut-20250101.zst" "s3://$PGBAK_BUCKET/cut/$Z-20250101.zst" --only-show-errors
out=$(run pgbak-verify -c "$T/zstd.yml" "cut/$Z-20250101.zst" 2>"$T/err"); st=$?
is "$st" 1 "verify: a cut .zst object in S3 exits 1"
fetch "none/$Z-$TODAY.sql" | grep -v '^-- PostgreSQL database dump complete' \
	>"$T/nodone-20250101.sql"
out=$(run pgbak-verify -f "$T/nodone-20250101.sql" 2>"$T/err"); st=$?
is "$st" 1 "verify: a .sql without the completion line exits 1"

# The zstd stage's failures.  A zstd that fails after some output: no
# object, no upload, the culprit named.
fake_zstd "$T/fz"
settings "$T/fz.yml" "compression: zstd" "" "$(db_yaml "$Z" fz/)"
out=$(with_env PATH="$T/fz:$PATH" run pgbak-run "$T/fz.yml" 2>"$T/err"); st=$?
is "$st" 111 "zstd failing: exit 111"
like "$out" "^fz/$Z-$TODAY\.zst: .*: failed: zstd exited 1: zstd: error: broken on purpose$" \
	"zstd failing: the summary names zstd"
is "$(keys fz/)" None "zstd failing: no object"
is "$(uploads)" None "zstd failing: no multipart upload left"
# pg_dump killed while zstd compresses: pg_dump is the culprit
fake_pg_dump "$T/killed" none 'head -c 20000000 /dev/urandom; echo "pg_dump: error: about to die" >&2; kill -KILL $$'
settings "$T/kd.yml" "compression: zstd
pg_dump: $T/killed" "" "$(db_yaml "$Z" kd/)"
out=$(run pgbak-run "$T/kd.yml" 2>"$T/err"); st=$?
is "$st" 111 "pg_dump killed beside zstd: exit 111"
like "$out" "^kd/$Z-$TODAY\.zst: .*: failed: pg_dump killed by SIGKILL" \
	"pg_dump killed: the summary names pg_dump, not zstd"
is "$(keys kd/)" None "pg_dump killed: no object"
is "$(uploads)" None "pg_dump killed: no multipart upload left"
# the negative twin: the real zstd, through the same settings, stores
settings "$T/ok.yml" "compression: zstd" "" "$(db_yaml "$Z" fzok/)"
out=$(run pgbak-run "$T/ok.yml" 2>"$T/err"); st=$?
is "$st: $(keys fzok/)" "0: fzok/$Z-$TODAY.zst" "the real zstd, same settings: stored"

# pgbak-ls shows .zst backups; pgbak-prune prunes them
awsref s3 cp "$T/good-20250101.zst" "s3://$PGBAK_BUCKET/zstd/$Z-20250101.zst" --only-show-errors
out=$(run pgbak-ls -c "$T/zstd.yml" "$Z" 2>"$T/err"); st=$?
is "$st" 0 "pgbak-ls exits 0"
like "$out" "zstd/$Z-20250101\.zst" "pgbak-ls shows the older .zst backup"
like "$out" "zstd/$Z-$TODAY\.zst" "pgbak-ls shows today's .zst backup"
out=$(run pgbak-prune -c "$T/zstd.yml" --keep-days=1 "zstd/$Z-$TODAY.zst" 2>"$T/err"); st=$?
is "$st" 0 "pgbak-prune --keep-days=1 exits 0"
[ "$st" -eq 0 ] || diag "$(err "$T/err")"
is "$(keys zstd/)" "zstd/$Z-$TODAY.zst" "pgbak-prune deleted the older .zst, kept today's"

# Settings refused before anything runs: exit 100 naming the setting
settings "$T/bad.yml" "compression: brotli" "" "$(db_yaml "$Z" bad/)"
out=$(run pgbak-run "$T/bad.yml" 2>&1); st=$?
is "$st" 100 "compression: brotli: exit 100"
like "$out" "bad\.yml:[0-9]+:[0-9]+: tasks\.postgres\.compression: expected gzip, zstd or none, found \"brotli\"" \
	"compression: brotli: the message names the setting and what it takes"
settings "$T/bad.yml" "compression: zstd
compression_level: 25" "" "$(db_yaml "$Z" bad/)"
out=$(run pgbak-run "$T/bad.yml" 2>&1); st=$?
is "$st" 100 "compression_level: 25 with zstd: exit 100"
like "$out" "tasks\.postgres\.compression_level: expected an integer from 1 to 19" \
	"compression_level: 25: the message names the setting"
settings "$T/bad.yml" "compression_level: 12" "" "$(db_yaml "$Z" bad/)"
out=$(run pgbak-run "$T/bad.yml" 2>&1); st=$?
is "$st" 100 "compression_level: 12 with gzip (the default): exit 100"
like "$out" "tasks\.postgres\.compression_level: 12 is not a gzip level" \
	"compression_level: 12: gzip's range is named"
settings "$T/bad.yml" "gzip_level: 5
compression_level: 5" "" "$(db_yaml "$Z" bad/)"
out=$(run pgbak-run "$T/bad.yml" 2>&1); st=$?
is "$st" 100 "gzip_level and compression_level both: exit 100"
# the positive twin: a level zstd takes, per database, over the task's gzip
settings "$T/lv.yml" "gzip_level: 1" "" "$(db_yaml "$Z" lv/)
        compression: zstd
        compression_level: 12"
out=$(run pgbak-run -n "$T/lv.yml" 2>&1); st=$?
[ "$st" -eq 0 ] && printf '%s\n' "$out" | grep -q -- 'zstd -q -c -12 -T2 --zstd=minMatch=6 --check'
ok $? "compression_level: 12 with zstd per database: accepted"
is "$(keys bad/)" None "no refused settings stored anything"
