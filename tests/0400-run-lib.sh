# tests/0400-run-lib.sh: what the pgbak-run tests (04xx) share.  Sourced
# after tests/lib.sh; not a test itself (tests/run only runs *.t).

TODAY=$(date +%Y%m%d)
REAL_PG_DUMP=$(command -v pg_dump)

# db_yaml DATABASE PREFIX [USER [PASSWORD]]: one entry of tasks.postgres.dbs.
db_yaml() {
	printf '      - host: "%s"\n        port: %s\n        user: "%s"\n' \
		"$PGHOST" "$PGPORT" "${3:-$PGUSER}"
	printf '        database: "%s"\n        backup_file_prefix: "%s"\n' "$1" "$2"
	if [ $# -ge 4 ]; then printf '        password: "%s"\n' "$4"; fi
}

# settings FILE TASK_LINES S3_LINES DB_YAML...: write a settings file (0600).
# TASK_LINES and S3_LINES are "key: value" lines, one per line.
settings() {
	_f=$1 _task=$2 _s3=$3
	shift 3
	{
		echo "tasks:"
		echo "  postgres:"
		printf '%s\n' "$_task" | sed '/^$/d; s/^/    /'
		echo "    s3:"
		echo "      endpoint: \"${AWS_ENDPOINT_URL:-http://127.0.0.1:1}\""
		echo "      bucket: \"${PGBAK_BUCKET:-none}\""
		printf '%s\n' "$_s3" | sed '/^$/d; s/^/      /'
		echo "    dbs:"
		for _d in "$@"; do printf '%s\n' "$_d"; done
	} >"$_f"
	chmod 600 "$_f"
}

# fake_pg_dump FILE GOOD_DB BODY: a pg_dump that runs the real one for
# GOOD_DB and BODY (shell text) for any other database.
fake_pg_dump() {
	cat >"$1" <<EOF
#!/bin/sh
db=
prev=
for a in "\$@"; do [ "\$prev" = -d ] && db=\$a; prev=\$a; done
[ "\$db" = "$2" ] && exec "$REAL_PG_DUMP" "\$@"
$3
EOF
	chmod 755 "$1"
}

# fetch KEY: the object's bytes on stdout, through pgbak-get when it is
# built, else through the reference client.
fetch() {
	if command -v pgbak-get >/dev/null 2>&1; then
		pgbak-get "$1"
	else
		awsref s3 cp "s3://$PGBAK_BUCKET/$1" - --only-show-errors
	fi
}

# has_object KEY: exit 0 when the bucket holds KEY.
has_object() {
	awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "$1" >/dev/null 2>&1
}

# uploads: the keys of multipart uploads in progress, "None" when none.
uploads() {
	awsref s3api list-multipart-uploads --bucket "$PGBAK_BUCKET" \
		--query 'Uploads[].Key' --output text 2>&1
}

# restore_same DB KEY: restore KEY into a fresh database and compare a
# pg_dump of it with one of DB; exit 0 when they are identical.
restore_same() {
	_r=r_$1_$$
	psql_q -d postgres -c "drop database if exists $_r" 2>/dev/null
	psql_q -d postgres -c "create database $_r" || return 1
	fetch "$2" | gunzip | psql_q -d "$_r" >/dev/null 2>"$T/restore.err" || {
		diag "restore of $2 failed: $(head -n 3 "$T/restore.err")"
		return 1
	}
	dump_cmp "$1" >"$T/orig.sql" && dump_cmp "$_r" >"$T/back.sql" &&
		cmp -s "$T/orig.sql" "$T/back.sql"
}

# dump_cmp DB: a plain dump to compare, without the random \restrict key
# that newer pg_dump releases write.
dump_cmp() { pg_dump -d "$1" | sed '/^\\\(un\)\{0,1\}restrict /d'; }

# obj_stamp KEY: LastModified and ETag of KEY, to see that it was not rewritten.
obj_stamp() {
	awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "$1" \
		--query '[LastModified, ETag]' --output text 2>&1
}

# no_procs PATTERN: exit 0 when no process's command line matches PATTERN
# (zombies waiting for init do not count), after up to 2 s.
no_procs() {
	_i=0
	while [ $_i -lt 20 ]; do
		_live=
		for _p in $(pgrep -f -- "$1"); do
			_s=$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -c1)
			[ -n "$_s" ] && [ "$_s" != Z ] && _live="$_live $_p"
		done
		[ -z "$_live" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	diag "still running:$_live"
	return 1
}

# quiet CMD...: CMD with its stdout thrown away (keeps TAP output clean).
quiet() { "$@" >/dev/null; }
