#!/bin/sh
# The failure matrix of the custom and directory formats' stages (issue 18:
# 1): pg_dump killed, tar or zstd failing, the disk of temp_dir full under a
# directory dump, a SIGTERM and a timeout while pg_dump -Fd runs.  In each
# case: no object, no multipart upload, nothing left in temp_dir, and the
# summary names the culprit.  On the restore side, zstd -d or tar failing
# is named and the temporary directory removed.  Negative twins: the same
# settings with the real programs store, and restore.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
command -v zstd >/dev/null || skip_all "zstd is not installed; run 'make deps'"
command -v pg_restore >/dev/null || skip_all "pg_restore is not installed"
plan 48
need_pg
need_s3

Z=ff_$$
mixed_db "$Z" || exit 1
psql_q -d "$Z" -c "create table big as select g as id, md5(g::text) as h
	from generate_series(1, 100000) g" >/dev/null || exit 1
keys() {
	awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --prefix "$1" \
		--query 'Contents[].Key' --output text 2>&1
}
TMPD=$T/tmp
mkdir -p "$TMPD"

# nothing_left CASE PREFIX: no object under PREFIX, no upload, temp_dir empty
nothing_left() {
	is "$(keys "$2")" None "$1: no object"
	is "$(uploads)" None "$1: no multipart upload left"
	is "$(ls -A "$TMPD")" "" "$1: nothing left in temp_dir"
}

# A pg_dump that writes into its -f directory (directory format) or 20 MB
# to stdout (custom), then dies by SIGKILL.
cat >"$T/killed" <<'EOF'
#!/bin/sh
dir=
prev=
for a in "$@"; do [ "$prev" = -f ] && dir=$a; prev=$a; done
if [ -n "$dir" ]; then
	mkdir -p "$dir" && head -c 3000000 /dev/urandom >"$dir/1234.dat"
else
	head -c 20000000 /dev/urandom
fi
echo "pg_dump: error: about to die" >&2
kill -KILL $$
EOF
chmod 755 "$T/killed"
for f in custom directory; do
	case $f in custom) sfx=.dump.zst ;; directory) sfx=.tar.zst ;; esac
	settings "$T/k$f.yml" "temp_dir: \"$TMPD\"
format: $f
compression: zstd
pg_dump: $T/killed" "" "$(db_yaml "$Z" "k$f/")"
	out=$(run pgbak-run "$T/k$f.yml" 2>"$T/err"); st=$?
	like "$st: $out" "^111: k$f/$Z-$TODAY$(echo "$sfx" | sed 's/\./\\./g'): .*failed: pg_dump killed by SIGKILL" \
		"$f: pg_dump killed: exit 111, the summary names pg_dump"
	nothing_left "$f: pg_dump killed" "k$f/"
done

# zstd failing after some output, for both formats
fake_zstd "$T/fz"
for f in custom directory; do
	settings "$T/z$f.yml" "temp_dir: \"$TMPD\"
format: $f
compression: zstd" "" "$(db_yaml "$Z" "z$f/")"
	out=$(with_env PATH="$T/fz:$PATH" run pgbak-run "$T/z$f.yml" 2>"$T/err"); st=$?
	like "$st: $out" "^111: z$f/$Z-$TODAY\.[a-z.]*: .*failed: zstd exited 1: zstd: error: broken on purpose$" \
		"$f: zstd failing: exit 111, the summary names zstd"
	nothing_left "$f: zstd failing" "z$f/"
done

# tar failing (directory): after pg_dump succeeded, some bytes out, exit 2
mkdir -p "$T/ft"
cat >"$T/ft/tar" <<'EOF'
#!/bin/sh
head -c 20000000 /dev/urandom
echo "tar: broken on purpose" >&2
exit 2
EOF
chmod 755 "$T/ft/tar"
settings "$T/tar.yml" "temp_dir: \"$TMPD\"
format: directory
jobs: 2
compression: zstd" "" "$(db_yaml "$Z" "tar/")"
out=$(with_env PATH="$T/ft:$PATH" run pgbak-run "$T/tar.yml" 2>"$T/err"); st=$?
like "$st: $out" "^111: tar/$Z-$TODAY\.tar\.zst: .*failed: tar exited 2: tar: broken on purpose$" \
	"directory: tar failing: exit 111, the summary names tar"
nothing_left "directory: tar failing" "tar/"
# the negative twin: the real tar and zstd, same settings, store it
out=$(run pgbak-run "$T/tar.yml" 2>"$T/err"); st=$?
is "$st: $(keys tar/)" "0: tar/$Z-$TODAY.tar.zst" "directory: the real tar and zstd store it"
is "$(ls -A "$TMPD")" "" "directory: and leave nothing in temp_dir"

# temp_dir full under a directory dump: a 1 MiB tmpfs (as root), else a
# pg_dump that fails as pg_dump does on a full disk
FULL=$T/full
mkdir -p "$FULL"
full_dump=
if mount -t tmpfs -o size=1m pgbak-test "$FULL" 2>/dev/null; then
	at_exit "umount '$FULL'"
	how="a 1 MiB tmpfs"
else
	cat >"$T/enospc" <<'EOF'
#!/bin/sh
dir=
prev=
for a in "$@"; do [ "$prev" = -f ] && dir=$a; prev=$a; done
mkdir -p "$dir" && head -c 100000 /dev/zero >"$dir/toc.dat"
echo "pg_dump: error: could not write to file \"$dir/3000.dat\": No space left on device" >&2
exit 1
EOF
	chmod 755 "$T/enospc"
	full_dump="pg_dump: $T/enospc"
	how="a pg_dump that fails as on a full disk (no tmpfs without root)"
fi
diag "disk full: $how"
settings "$T/full.yml" "temp_dir: \"$FULL\"
format: directory
compression: zstd
$full_dump" "" "$(db_yaml "$Z" "full/")"
out=$(run pgbak-run "$T/full.yml" 2>"$T/err"); st=$?
like "$st: $out" "^111: full/$Z-$TODAY\.tar\.zst: .*failed: pg_dump exited 1: .*No space left on device" \
	"directory: temp_dir full: exit 111, pg_dump named with its ENOSPC line"
is "$(keys full/)" None "temp_dir full: no object"
is "$(uploads)" None "temp_dir full: no multipart upload left"
is "$(ls -A "$FULL")" "" "temp_dir full: the partial directory is removed"

# SIGTERM and a timeout while pg_dump -Fd runs: the directory removed
U=$$
cat >"$T/stall-$U" <<EOF
#!/bin/sh
dir=
prev=
for a in "\$@"; do [ "\$prev" = -f ] && dir=\$a; prev=\$a; done
mkdir -p "\$dir" && head -c 1000000 /dev/urandom >"\$dir/1234.dat"
echo \$\$ >'$T/stall.pid'
sleep 1000.$U
EOF
chmod 755 "$T/stall-$U"
settings "$T/term.yml" "temp_dir: \"$TMPD\"
format: directory
pg_dump: $T/stall-$U" "" "$(db_yaml "$Z" "term/")"
rm -f "$T/stall.pid"
pgbak-run "$T/term.yml" >"$T/out" 2>"$T/err" &
bg=$!
i=0
while [ ! -s "$T/stall.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -n "$(ls -A "$TMPD")" ]; ok $? "SIGTERM: the directory exists while pg_dump -Fd runs"
kill -TERM $bg
wait $bg 2>/dev/null; st=$?	# the shell's "Terminated" line
is "$st" 143 "directory: SIGTERM while pg_dump -Fd runs: exit 143"
like "$(cat "$T/out")" "failed: cancelled by a signal" "SIGTERM: the summary says cancelled"
check "SIGTERM: no stage is left running" no_procs "1000\.$U"
nothing_left "directory: SIGTERM" "term/"
settings "$T/slow.yml" "temp_dir: \"$TMPD\"
format: directory
timeout: 2s
pg_dump: $T/stall-$U" "" "$(db_yaml "$Z" "slow/")"
out=$(run pgbak-run "$T/slow.yml" 2>"$T/err"); st=$?
like "$st: $out" "^111: slow/$Z-$TODAY\.tar\.gz: .*failed: timed out after 2s" \
	"directory: timeout while pg_dump -Fd runs: exit 111, timed out"
nothing_left "directory: timeout" "slow/"

# The restore side: zstd -d failing (custom), tar failing (directory)
settings "$T/rc.yml" "temp_dir: \"$TMPD\"
format: custom
compression: zstd" "" "$(db_yaml "$Z" "rc/")"
out=$(run pgbak-run "$T/rc.yml" 2>"$T/err"); st=$?
is "$st" 0 "custom: a backup to restore"
R=ffr_$$
drop_at_exit "$R" "${R}2" "${R}3"
out=$(with_env PATH="$T/fz:$PATH" run pgbak-restore -c "$T/rc.yml" --into "$R" "$Z" 2>&1); st=$?
like "$st: $out" "^111: .*restore of rc/$Z-$TODAY\.dump\.zst into $R failed: zstd -d exited 1: zstd: error: broken on purpose" \
	"restore: zstd -d failing is named (exit 111)"
is "$(ls -A "$TMPD")" "" "restore: zstd failing leaves nothing in temp_dir"
out=$(with_env PATH="$T/ft:$PATH" run pgbak-restore -c "$T/tar.yml" --into "${R}2" "$Z" 2>&1)
st=$?
like "$st: $out" "^111: .*restore of tar/$Z-$TODAY\.tar\.zst into ${R}2 failed: tar exited 2: tar: broken on purpose" \
	"restore: tar failing is named (exit 111)"
is "$(ls -A "$TMPD")" "" "restore: tar failing leaves nothing in temp_dir"
# the negative twin: the real programs restore it
out=$(run pgbak-restore -c "$T/tar.yml" --into "${R}3" "$Z" 2>"$T/err"); st=$?
is "$st" 0 "restore: the real tar and zstd restore the directory backup"
dump_cmp "$Z" >"$T/orig.sql" && dump_cmp "${R}3" >"$T/back.sql" && cmp -s "$T/orig.sql" "$T/back.sql"
ok $? "restore: with identical pg_dump output"

# SIGTERM while pg_restore runs: pgbak-restore stops it, removes the
# fetched archive and exits 143
mkdir -p "$T/fpr"
cat >"$T/fpr/pg_restore" <<EOF
#!/bin/sh
echo \$\$ >'$T/pr.pid'
sleep 1000.$U
EOF
chmod 755 "$T/fpr/pg_restore"
rm -f "$T/pr.pid"
PATH="$T/fpr:$PATH" pgbak-restore -c "$T/rc.yml" --into "${R}4" "$Z" >"$T/out" 2>"$T/err" &
bg=$!
drop_at_exit "${R}4"
i=0
while [ ! -s "$T/pr.pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMPD"/pgbak-restore.*/dump ]; ok $? "restore: the archive is fetched into temp_dir while pg_restore runs"
kill -TERM $bg
wait $bg 2>/dev/null; st=$?	# the shell's "Terminated" line
is "$st" 143 "restore: SIGTERM while pg_restore runs: exit 143"
check "restore: pg_restore is not left running" no_procs "1000\.$U"
is "$(ls -A "$TMPD")" "" "restore: SIGTERM leaves nothing in temp_dir"
