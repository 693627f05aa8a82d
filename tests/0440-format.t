#!/bin/sh
# format: plain | custom | directory (issue 18: 1).  For each format other
# than plain (tests/0430 covers plain) and each compression, a backup of a
# database with large objects, bytea, non-ASCII text and a table of 1M rows
# gets lib/name's suffix (.dump.zst, .tar.gz, ...), restores through
# pgbak-restore (pg_restore -j 2) into a new database with identical
# pg_dump output, and is listed by pgbak-ls.  One table alone comes back
# from a custom backup with -t.  Negative twins: an unknown format; jobs on
# a plain entry; -t and -j refused for a plain backup; --check refused for
# a custom one; a table -t names that the backup lacks fails.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
command -v zstd >/dev/null || skip_all "zstd is not installed; run 'make deps'"
command -v pg_restore >/dev/null || skip_all "pg_restore is not installed"
plan 71
need_pg
need_s3

Z=fm_$$
mixed_db "$Z" || exit 1
psql_q -d "$Z" -c "create table million (id int primary key);
insert into million select generate_series(1, 1000000)" >/dev/null || exit 1

keys() {
	awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --prefix "$1" \
		--query 'Contents[].Key' --output text 2>&1
}
# leftovers DIR: what a run left in its temp_dir (nothing, when all is well)
leftovers() { ls -A "$1"; }

TMPD=$T/tmp
mkdir -p "$TMPD"
dump_cmp "$Z" >"$T/orig.sql" || exit 1
for f in custom directory; do
	for c in zstd gzip none; do
		case $f in custom) w=.dump ;; directory) w=.tar ;; esac
		case $c in zstd) sfx=$w.zst ;; gzip) sfx=$w.gz ;; none) sfx=$w ;; esac
		K=$f$c/$Z-$TODAY$sfx
		settings "$T/$f$c.yml" "temp_dir: \"$TMPD\"
format: $f
compression: $c" "" "$(db_yaml "$Z" "$f$c/")
        jobs: 2"
		out=$(run pgbak-run "$T/$f$c.yml" 2>"$T/err"); st=$?
		is "$st" 0 "$f $c: pgbak-run exits 0"
		[ "$st" -eq 0 ] || diag "$out $(err "$T/err")"
		is "$(keys "$f$c/")" "$K" "$f $c: the one object is $K"
		is "$(leftovers "$TMPD")" "" "$f $c: nothing left in temp_dir"
		R=fr_$f${c}_$$
		drop_at_exit "$R"
		out=$(run pgbak-restore -c "$T/$f$c.yml" --into "$R" "$Z" 2>"$T/err"); st=$?
		like "$st: $out" "^0: restored $K into $R: .* \(pg_restore -j 2\)$" \
			"$f $c: pgbak-restore into a new database exits 0, with pg_restore -j 2"
		[ "$st" -eq 0 ] || diag "$(err "$T/err")"
		dump_cmp "$R" >"$T/back.sql" && cmp -s "$T/orig.sql" "$T/back.sql"
		ok $? "$f $c: pg_dump of the restore is identical to the source's"
		is "$(leftovers "$TMPD")" "" "$f $c: the restore left nothing in temp_dir"
		out=$(run pgbak-verify -v -c "$T/$f$c.yml" "$K" 2>"$T/err"); st=$?
		like "$st: $out" "^0: .*$K: ok, [0-9]+ bytes compressed, [0-9]+ bytes of (custom archive|tar)$" \
			"$f $c: pgbak-verify checks the compression and the archive: ok"
	done
done
out=$(run pgbak-run --verify --force "$T/directoryzstd.yml" 2>"$T/err"); st=$?
like "$st: $out" "^0: directoryzstd/$Z-$TODAY\.tar\.zst: .*: ok, verified$" \
	"pgbak-run --verify reads a directory backup back: ok, verified"

# pgbak-verify's archive checks, and their negative twins
fetch "customnone/$Z-$TODAY.dump" >"$T/good-20250101.dump"
fetch "directorynone/$Z-$TODAY.tar" >"$T/good-20250101.tar"
out=$(run pgbak-verify -f "$T/good-20250101.dump" 2>"$T/err"); st=$?
is "$st" 0 "verify -f: the stored .dump is a custom archive"
pg_dump -d "$Z" -t words | gzip -c >"$T/sql-20250101.dump.gz"
out=$(run pgbak-verify -f "$T/sql-20250101.dump.gz" 2>"$T/err"); st=$?
like "$st: $(err "$T/err")" "^1: .*sql-20250101\.dump\.gz: not a pg_dump custom archive: it does not start with PGDMP$" \
	"verify: a plain dump under a .dump.gz name is damaged (exit 1), saying why"
size=$(wc -c <"$T/good-20250101.tar")
head -c $((size / 2)) "$T/good-20250101.tar" >"$T/cut-20250101.tar"
out=$(run pgbak-verify -f "$T/cut-20250101.tar" 2>"$T/err"); st=$?
like "$st: $(err "$T/err")" "^1: .*cut-20250101\.tar: truncated: the tar stream " \
	"verify: a .tar cut in half is damaged (exit 1)"
mkdir -p "$T/notoc" && echo x >"$T/notoc/1.dat" && tar -C "$T/notoc" -cf - . | zstd -q -c >"$T/notoc-20250101.tar.zst"
out=$(run pgbak-verify -f "$T/notoc-20250101.tar.zst" 2>"$T/err"); st=$?
like "$st: $(err "$T/err")" "^1: .*notoc-20250101\.tar\.zst: the tar stream has no toc\.dat: not a pg_dump directory$" \
	"verify: a tar without toc.dat is not a directory backup (exit 1)"

# pgbak-ls knows the formats through lib/name: the key, and --json's format
out=$(run pgbak-ls --json -c "$T/customzstd.yml" "$Z" 2>"$T/err"); st=$?
like "$st: $out" "^0: \{\"key\":\"customzstd/$Z-$TODAY\.dump\.zst\",.*\"format\":\"custom\"" \
	"pgbak-ls --json lists the .dump.zst backup as format custom"
out=$(run pgbak-ls --json -c "$T/directorygzip.yml" "$Z" 2>"$T/err"); st=$?
like "$st: $out" "^0: \{\"key\":\"directorygzip/$Z-$TODAY\.tar\.gz\",.*\"format\":\"directory\"" \
	"pgbak-ls --json lists the .tar.gz backup as format directory"
# pgbak-prune: a custom and a plain backup of one database are one series
P=prune/$Z-
printf 'x' | run pgbak-put -c "$T/customzstd.yml" "${P}20200101.dump.zst" 2>/dev/null &&
	printf 'x' | run pgbak-put -c "$T/customzstd.yml" "${P}20200102.gz" 2>/dev/null &&
	printf 'x' | run pgbak-put -c "$T/customzstd.yml" "${P}20200103.tar.zst" 2>/dev/null
ok $? "three days of one series in three formats stored"
out=$(run pgbak-prune --today 20200103 --keep-days=1 \
	"${P}20200103.tar.zst" 2>"$T/err"); st=$?
is "$st: $(keys prune/)" "0: ${P}20200103.tar.zst" \
	"pgbak-prune --keep-days=1 keeps the newest day, whatever the format of the others"

# one table from a custom backup: pgbak-restore -t (pg_restore -t)
psql_q -d "$Z" -c "create table solo as select g, 'ü' || g as t from generate_series(1, 500) g" ||
	exit 1
out=$(run pgbak-run -f "$T/customzstd.yml" 2>"$T/err"); st=$?
is "$st" 0 "custom: a new backup with the table solo"
R=fr_solo_$$
drop_at_exit "$R"
out=$(run pgbak-restore -c "$T/customzstd.yml" --into "$R" -t solo "$Z" 2>"$T/err"); st=$?
like "$st: $out" "^0: restored customzstd/$Z-$TODAY\.dump\.zst into $R: .*selected tables\)$" \
	"-t solo: the restore of one table exits 0"
[ "$st" -eq 0 ] || diag "$(err "$T/err")"
is "$(psql -X -At -d "$R" -c "select count(*), sum(g) from solo")" "500|125250" \
	"-t solo: the table came back whole"
is "$(psql -X -At -d "$R" -c "select count(*) from pg_class where relname in ('million', 'words', 'blobs')")" \
	"0" "-t solo: and no other table"
pg_dump -d "$Z" -t solo | sed '/^\\\(un\)\{0,1\}restrict /d' >"$T/solo1.sql"
pg_dump -d "$R" -t solo | sed '/^\\\(un\)\{0,1\}restrict /d' >"$T/solo2.sql"
cmp -s "$T/solo1.sql" "$T/solo2.sql"
ok $? "-t solo: pg_dump -t solo of source and target are identical"
out=$(run pgbak-restore -n -c "$T/customzstd.yml" --into x_$$ -t solo "$Z" 2>&1)
like "$out" "pgbak-get [^|]* \| [^ ]*zstd -d -c -q > [^ ]*/pgbak-restore\.[^/ ]*/dump
.*pg_restore -j 2 -e .* -d x_$$ --no-password -t solo [^ ]*/pgbak-restore\.[^/ ]*/dump" \
	"-n shows the fetch into a temporary file, then pg_restore -j 2 -t solo"
# negative twin: a table the backup lacks is an error, not an empty success
R2=fr_none_$$
drop_at_exit "$R2"
out=$(run pgbak-restore -c "$T/customzstd.yml" --into "$R2" -t no_such_table "$Z" 2>&1)
st=$?
like "$st: $out" "^111: .*failed: -t no_such_table: the backup has no table of that name" \
	"-t no_such_table: refused, where pg_restore -t alone would restore nothing and exit 0"

# s3.enable: false: a directory backup into local_dir through the same
# tar | zstd stages and temporary name; the file is a whole .tar.zst
settings "$T/local.yml" "temp_dir: \"$TMPD\"
local_dir: $T/local
format: directory
compression: zstd" "enable: false" "$(db_yaml "$Z" "loc/")"
out=$(run pgbak-run "$T/local.yml" 2>"$T/err"); st=$?
is "$st: $(ls -A "$T/local/loc")" "0: $Z-$TODAY.tar.zst" \
	"local_dir: the directory backup is one file, named by lib/name"
zstd -d -c -q "$T/local/loc/$Z-$TODAY.tar.zst" | tar -tf - | grep -qx './toc.dat'
ok $? "local_dir: it is a zstd'd tar with toc.dat"
is "$(leftovers "$TMPD")" "" "local_dir: nothing left in temp_dir"

# restore_check.every: pgbak-restore --check counts a plain dump's rows, so
# a custom database is not checked (the check would refuse it); a plain
# one is (the negative twin, with -n)
for f in custom plain; do
	settings "$T/rc$f.yml" "metrics_file: $T/rc$f.prom
format: $f
restore_check:
  every: 1d" "" "$(db_yaml "$Z" "rc$f/")"
done
out=$(run pgbak-run "$T/rccustom.yml" 2>"$T/err"); st=$?
like "$st: $out" "^0: rccustom/$Z-$TODAY\.dump\.gz: .*ok" \
	"restore_check with format: custom: the backup is ok, not failed by a check it cannot have"
out=$(run pgbak-run -n "$T/rcplain.yml" 2>&1)
like "$out" "when no restore check passed within restore_check.every: .*pgbak-restore --check" \
	"restore_check with format: plain: -n shows the check"

# negative twins of the settings and options
settings "$T/badfmt.yml" "format: tar" "" "$(db_yaml "$Z" "x/")"
out=$(run pgbak-run -n "$T/badfmt.yml" 2>&1); st=$?
like "$st: $out" "^100: .*format.*expected plain, custom or directory" \
	"format: tar is refused (exit 100), naming the formats"
settings "$T/badjobs.yml" "" "" "$(db_yaml "$Z" "x/")
        jobs: 2"
out=$(run pgbak-run -n "$T/badjobs.yml" 2>&1); st=$?
like "$st: $out" "^100: .*jobs: the format is plain" "jobs on a plain entry is refused (exit 100)"
settings "$T/plain.yml" "" "" "$(db_yaml "$Z" "plain/")"
out=$(run pgbak-run "$T/plain.yml" 2>"$T/err"); st=$?
is "$st" 0 "plain: the default, a backup"
is "$(keys plain/)" "plain/$Z-$TODAY.gz" "plain: the seed's .gz name, unchanged"
out=$(run pgbak-restore -c "$T/plain.yml" --into x_$$ -t solo "$Z" 2>&1); st=$?
like "$st: $out" "^100: .*is a plain backup, restored by psql whole: -t TABLE needs" \
	"-t on a plain backup is refused (exit 100)"
out=$(run pgbak-restore -c "$T/customzstd.yml" --check "$Z" 2>&1); st=$?
like "$st: $out" "^100: .*is a custom backup: --check reads the SQL of a plain one" \
	"--check on a custom backup is refused (exit 100)"
out=$(run pgbak-run -n "$T/directoryzstd.yml" 2>&1)
like "$out" "pg_dump .* -Fd -Z0 --no-sync -j 2 -f [^ ]*/tmp/[^ ]*\.XXXXXX/dump \(a temporary directory, removed at the end\)
  [^ ]*tar -C [^ ]*\.XXXXXX/dump -cf - \. \| [^ ]*zstd -q -c -3 -T2 --check \| [^ ]*pgbak-put " \
	"directory: -n shows pg_dump -Fd --no-sync -j 2 into temp_dir, then tar | zstd | pgbak-put"
out=$(run pgbak-run -n "$T/customgzip.yml" 2>&1)
like "$out" "pg_dump .* -Fc -Z0 \| [^ ]*pgbak-gzip \| [^ ]*pgbak-put " \
	"custom: -n shows pg_dump -Fc -Z0 | pgbak-gzip | pgbak-put"
