#!/bin/sh
# pgbak-put --abort-stale --any-date takes only a key as pgbak-run names
# it: lib/name's name_parse, the inverse of what pgbak-name builds, decides,
# so a key that merely ends like one ("a//app-...", "a/./app-...") is a
# usage error, not a listing under a prefix no backup of pgbak's has.
. "$(dirname "$0")/lib.sh"
plan 12
need_s3

for k in 'a//app-20250103.gz' 'a/./app-20250103.gz.age' '/a/app-20250103.gz' \
	'a\app-20250103.gz' 'a/-20250103.gz'; do
	pgbak-put --abort-stale --any-date -- "$k" 2>"$T/err"
	st=$?
	like "$st: $(cat "$T/err")" "^100: pgbak-put: --any-date: the key must end with -YYYYMMDD\.gz or -YYYYMMDD\.gz\.age, as pgbak-run names it" \
		"$k: exit 100, not a key pgbak-run names"
done
# Their twins, spelled as pgbak-name spells them, are taken.
for k in 'a/app-20250103.gz' 'a/app-20250103.gz.age' 'a/globals-20250103.gz' \
	'app-20250103.gz' 'a/.-20250103.gz'; do
	run pgbak-put --abort-stale --any-date -- "$k" 2>"$T/err"
	is "$?: $(cat "$T/err")" "0: " "$k: exit 0"
done
# A database named "." under a directory-like prefix is named so too.
is "$(pgbak-name -D 20250103 a/ . 2>&1)" "a/.-20250103.gz" \
	"pgbak-name makes a/.-20250103.gz from a/ and database ."
pgbak-put --abort-stale --any-date -- 'a/..-20250103.gz' 2>"$T/err"
is "$?: $(cat "$T/err")" "0: " "and a/..-20250103.gz from database .."
