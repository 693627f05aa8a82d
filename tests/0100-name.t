#!/bin/sh
# pgbak-name: both output forms, the seed's examples, -D forms, today in
# the TZ, and usage errors (exit 100, one line on stderr).
. "$(dirname "$0")/lib.sh"

# name ARGS...: stdout, stderr (in $T/err) and status (in $rc) of pgbak-name.
name() {
	out=$(run pgbak-name "$@" 2>"$T/err"); rc=$?
	err=$(cat "$T/err")
}

# usage_error DESC ARGS...: exit 100, nothing on stdout, one line on stderr.
usage_error() {
	d=$1; shift
	name "$@"
	[ "$rc" -eq 100 ] && [ -z "$out" ] && [ "$(lines "$err")" -eq 1 ] &&
		printf '%s' "$err" | grep -q '^pgbak-name: '
	r=$?
	[ $r -eq 0 ] || diag "exit $rc, stdout '$out', stderr '$err'"
	ok $r "$d"
}

plan 38

# The seed's two examples: both spell the same key and local name.
name -D 2025-09-09 backup/postgre/prod/oneapi/ oneapi
is "$out" backup/postgre/prod/oneapi/oneapi-20250909.gz "seed, directory-like: key"
is "$rc:$err" "0:" "seed, directory-like: exit 0, nothing on stderr"
name -f -D 2025-09-09 backup/postgre/prod/oneapi/ oneapi
is "$out" oneapi-20250909.gz "seed, directory-like: local name with -f"
name -D 20250909 backup/postgre/prod/oneapi/oneapi oneapi
is "$out" backup/postgre/prod/oneapi/oneapi-20250909.gz "seed, file-like: key"
name --file --date 20250909 backup/postgre/prod/oneapi/oneapi oneapi
is "$out" oneapi-20250909.gz "seed, file-like: local name with --file"

# The key ends with exactly one newline.
run pgbak-name -D 20250909 a/ db >"$T/out"
is "$(od -An -c "$T/out" | tr -d ' \n')" 'a/db-20250909.gz\n' "output is the key and one newline"

# Normalization and fallbacks through the program.
name -D 20250909 '\\backup\\x//y/./z' db
is "$out" backup/x/y/z-20250909.gz "backslashes, leading and repeated slashes, . segments"
name -D 20250909 '' appdb
is "$out" appdb-20250909.gz "empty prefix: the database names the file"
name -D 20250909 /// appdb
is "$out" appdb-20250909.gz "only slashes: the database names the file"
name -D 20250909 '' ''
is "$out" pg-backup-20250909.gz "no prefix, no database: pg-backup"
name -f -D 20250909 x/ ''
is "$out" pg-backup-20250909.gz "directory-like prefix, no database: pg-backup"
name -D 20250909 -- -odd/ db
is "$out" -odd/db-20250909.gz "-- lets a prefix start with a dash"

# Refusals: exit 100, one line, nothing printed.
usage_error ".. segment refused" -D 20250909 a/../b db
like "$err" '"a/../b" has a "\.\." segment' ".. message names the prefix"
usage_error "database with a slash refused where it names the file" -D 20250909 a/ x/y
name -D 20250909 a/b x/y
is "$rc:$out" "0:a/b-20250909.gz" "database with a slash is fine under a file-like prefix"

# -D forms and validation.
name -D 2024-02-29 p/ db
is "$out" p/db-20240229.gz "-D YYYY-MM-DD, leap day"
name --date=20000229 p/ db
is "$out" p/db-20000229.gz "--date=YYYYMMDD, leap day of a 400th year"
usage_error "-D 20250230 refused" -D 20250230 p/ db
like "$err" 'invalid date "20250230"' "bad date named in the message"
usage_error "-D 19000229 refused (not a leap year)" -D 19000229 p/ db
usage_error "-D 2025-9-9 refused" -D 2025-9-9 p/ db
usage_error "-D 2025/09/09 refused" -D 2025/09/09 p/ db
usage_error "-D empty refused" -D '' p/ db

# Default date: today in the local time zone, TZ honoured.
# tz ZONE ARGS...: pgbak-name under TZ=ZONE.
tz() { TZ=$1; export TZ; shift; name "$@"; unset TZ; }
before=$(TZ=UTC0 date +%Y%m%d)
tz UTC0 p/ db
after=$(TZ=UTC0 date +%Y%m%d)
[ "$out" = "p/db-$before.gz" ] || [ "$out" = "p/db-$after.gz" ]
ok $? "no -D: today's date in UTC ($out)"
tz XXX-14 p/ db; east=${out#p/db-}
tz YYY+12 p/ db; west=${out#p/db-}
[ "${east%.gz}" -gt "${west%.gz}" ]
ok $? "TZ is honoured: UTC+14 is a day ahead of UTC-12 ($east, $west)"

# Usage errors.
usage_error "no arguments" 
usage_error "one argument" p/
usage_error "three arguments" p/ db extra
usage_error "unknown option" -x p/ db
usage_error "unknown long option" --bogus p/ db
usage_error "-D without its argument" p/ db -D
usage_error "--file takes no argument" --file=x p/ db

# --help and --version.
name --help
is "$rc" 0 "--help exits 0"
like "$out" '^usage: pgbak-name \[-fgE\] \[-D DATE\] PREFIX DATABASE' "--help prints the usage on stdout"
is "$err" "" "--help writes nothing on stderr"
name --version
like "$rc:$out" '^0:pgbak-name \(pgbak\) [0-9]+\.[0-9]+' "--version prints the version"

# A failed write to stdout is a system failure, not silence.
if [ -w /dev/full ]; then
	run pgbak-name -D 20250909 p/ db >/dev/full 2>"$T/err"
	is "$?" 111 "write error on stdout: exit 111"
else
	ok 0 "# SKIP no /dev/full"
fi
