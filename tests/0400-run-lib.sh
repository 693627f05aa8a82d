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

# ping_server LOG CODE_FILE: an HTTP server on 127.0.0.1 (stopped at exit),
# for ping_url: it appends each GET's path to LOG and answers with the
# status in CODE_FILE.  Its port in PING_PORT, its pid in PING_PID.
ping_server() {
	cat >"$T/ping-srv.py" <<'PY'
import http.server, os, sys
port_file, log, code_file = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        code = int(open(code_file).read())
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(port_file + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(port_file + ".tmp", port_file)
s.serve_forever()
PY
	python3 "$T/ping-srv.py" "$T/ping-port" "$1" "$2" 2>"$T/ping-srv.err" &
	PING_PID=$!
	at_exit "kill $PING_PID"
	_i=0
	while [ ! -s "$T/ping-port" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
	[ -s "$T/ping-port" ] || { echo "Bail out! the HTTP server did not start"; exit 1; }
	PING_PORT=$(cat "$T/ping-port")
}

# pg2_start: a second PostgreSQL (stopped at exit): its directory in PG2,
# its port in P2.  pg-server picks a free port, which another test may
# take first: a few tries.
pg2_start() {
	for _i in 1 2 3; do
		PG2=$T/pg2-$_i
		at_exit "'$TESTS_DIR/lib/pg-server' stop '$PG2'"
		"$TESTS_DIR/lib/pg-server" start "$PG2" >"$T/pg2.log" 2>&1 && break
		PG2=
	done
	[ -n "$PG2" ] || { cat "$T/pg2.log" >&2; echo "Bail out! cannot start a second PostgreSQL"; exit 1; }
	P2=$(. "$PG2/env"; echo "$PGBAK_TEST_PG_PORT")
}

# orders_trigger PORT STATEMENT: template1 of the server on PORT runs
# STATEMENT (no single quotes in it) after each CREATE TABLE public.orders,
# so that every database made there restores its orders otherwise: how the
# restore check tests make a server lose or reject rows.
orders_trigger() {
	psql_q -p "$1" -d template1 >/dev/null <<SQL
create or replace function public.on_create() returns event_trigger language plpgsql as \$\$
declare r record;
begin
  for r in select * from pg_event_trigger_ddl_commands() loop
    if r.command_tag = 'CREATE TABLE' and r.object_identity = 'public.orders' then
      execute '$2';
    end if;
  end loop;
end \$\$;
SQL
	[ "$(psql -X -At -p "$1" -d template1 -c "select count(*) from pg_event_trigger where evtname = 'on_create'")" = 1 ] ||
		psql_q -p "$1" -d template1 -c \
			"create event trigger on_create on ddl_command_end execute function public.on_create()"
}

# drop_at_exit DB...: drop these databases when the test ends.
drop_at_exit() {
	for _d in "$@"; do
		at_exit "psql -X -q -d postgres -c 'drop database if exists $_d'"
	done
}

# mixed_db DB: a new database (dropped at exit) with what a restore must
# bring back whole: non-ASCII text, quotes, tabs and newlines, bytea, a
# large object.  The caller adds its own big table.
mixed_db() {
	psql_q -d postgres -c "create database $1" || return 1
	drop_at_exit "$1"
	psql_q -d "$1" >/dev/null <<'SQL'
create table words (id int primary key, t text);
insert into words values (1, 'Grüße aus Köln'), (2, '日本語のテキスト'), (3, 'emoji 🐘 tab	here'),
	(4, E'quote '' and backslash \\ and newline\n');
create table blobs (id int primary key, b bytea);
insert into blobs select g, decode(md5(g::text) || '00ff0a0d', 'hex') from generate_series(1, 1000) g;
select lo_from_bytea(0, convert_to(repeat('large object ☃ ', 1000), 'UTF8'));
SQL
}

# fake_zstd DIR: DIR/zstd, a zstd that reads a little, writes 20 MB, then
# fails ("zstd: error: broken on purpose", exit 1); put DIR first in PATH.
fake_zstd() {
	mkdir -p "$1"
	cat >"$1/zstd" <<'EOF'
#!/bin/sh
head -c 100000 >/dev/null
head -c 20000000 /dev/urandom
echo "zstd: error: broken on purpose" >&2
exit 1
EOF
	chmod 755 "$1/zstd"
}
