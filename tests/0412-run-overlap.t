#!/bin/sh
# Overlapping runs (issue 13).  On one host a second pgbak-run of the same
# settings file, by any path to it, exits 1 at once with one line naming the
# pid of the run that holds it, and does nothing; a dry run needs no lock;
# --daemon holds it for its life, and a run killed by SIGKILL leaves none
# behind (its stages never had it).  A run of other settings naming the
# same key (another host, in effect) is not locked out, and its pgbak-put
# --if-absent does not replace the object the first run stored: that
# database is "skipped: already exists".  With -f it replaces it.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 30
need_pg
need_s3

D=ovl_$$
psql_q -d postgres -c "create database $D" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $D'"
K=ovl/$D-$TODAY.gz

# A pg_dump that says it started (hold-$TAG), waits for go-$TAG, then dumps
# with a first line of its own, so that each run's object can be told apart.
cat >"$T/pg_dump" <<EOF
#!/bin/sh
echo \$\$ >"$T/hold-\$TAG.tmp" && mv "$T/hold-\$TAG.tmp" "$T/hold-\$TAG"
i=0
while [ ! -e "$T/go-\$TAG" ] && [ \$i -lt 1200 ]; do sleep 0.1; i=\$((i + 1)); done
echo "-- run \$TAG"
exec "$REAL_PG_DUMP" "\$@"
EOF
chmod 755 "$T/pg_dump"
settings "$T/s.yml" "pg_dump: $T/pg_dump" "" "$(db_yaml "$D" ovl/)"
cp "$T/s.yml" "$T/other.yml"
ln -s s.yml "$T/link.yml"

# waitfile FILE: until FILE exists (60 s at most).
waitfile() {
	_i=0
	while [ ! -e "$1" ] && [ $_i -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -e "$1" ] || diag "$1 did not appear"
}
# first_line KEY: the first line of the stored dump.
first_line() { fetch "$1" | gunzip | head -n 1; }
etag() { awsref s3api head-object --bucket "$PGBAK_BUCKET" --key "$1" --query ETag --output text; }

# Run a holds the lock, stopped in its pg_dump.
TAG=a pgbak-run "$T/s.yml" >"$T/a.out" 2>"$T/a.err" &
a=$!
waitfile "$T/hold-a"

TAG=b run pgbak-run "$T/s.yml" >"$T/b.out" 2>"$T/b.err"
is $? 1 "a second run of the same settings exits 1"
is "$(cat "$T/b.err")" "pgbak-run: another pgbak-run (pid $a) holds $T/s.yml; nothing done: one run of a settings file at a time" \
	"...with one line naming the holder's pid and the file"
is "$(cat "$T/b.out")" "" "...and no summary"
[ ! -e "$T/hold-b" ]; ok $? "...and runs nothing"
(cd "$T" && TAG=b run pgbak-run link.yml >/dev/null 2>"$T/b.err")
is $? 1 "the same file through a symbolic link and a relative path: exit 1"
like "$(cat "$T/b.err")" "\(pid $a\) holds link.yml;" "...naming the path it was given"
TAG=b run pgbak-run -n "$T/s.yml" >"$T/n.out" 2>"$T/n.err"
is $? 0 "a dry run needs no lock: exit 0"
like "$(cat "$T/n.out")" "pgbak-put --settings-fd 4 -C 3 --if-absent -- $K$" \
	"...and shows pgbak-put --if-absent"
TAG=b run pgbak-run -n -f "$T/s.yml" >"$T/n.out" 2>"$T/n.err"
like "$(cat "$T/n.out")" "pgbak-put --settings-fd 4 -C 3 -- $K$" "-n -f: pgbak-put without --if-absent"

# Run c: other settings, the same key; not locked out, held in its pg_dump
# while run a stores the object.
TAG=c pgbak-run "$T/other.yml" >"$T/c.out" 2>"$T/c.err" &
c=$!
waitfile "$T/hold-c"
[ -e "$T/hold-c" ]; ok $? "a run of other settings is not locked out"
touch "$T/go-a"
wait $a
is $? 0 "the first run exits 0"
like "$(cat "$T/a.out")" "^$K: .*: ok$" "...and stored the object"
stamp=$(etag "$K")
touch "$T/go-c"
wait $c
is $? 0 "the run of other settings exits 0"
like "$(cat "$T/c.out")" "^$K: .*: skipped: already exists \(stored by another run meanwhile\)$" \
	"...its database skipped: already exists, stored by another run"
is "$(cat "$T/c.err")" "" "...and nothing on stderr: nothing failed"
is "$(etag "$K")" "$stamp" "the object is not replaced (the independent client's ETag)"
is "$(first_line "$K")" "-- run a" "...it is the first run's dump"
check "...and it restores" restore_same "$D" "$K"
is "$(uploads)" None "no multipart upload is left"

# Once run a ended, the lock is free.
TAG=a run pgbak-run "$T/s.yml" >"$T/a.out" 2>"$T/a.err"
is $? 0 "after the holder ended, a run of the same settings goes on (exit 0)"
like "$(cat "$T/a.out")" "^$K: .*: skipped: already exists$" "...and skips the stored object"

# -f: no --if-absent, the other settings' run replaces the object.
touch "$T/go-f"
TAG=f run pgbak-run -f "$T/other.yml" >"$T/f.out" 2>"$T/f.err"
is $? 0 "-f: exit 0"
is "$(first_line "$K")" "-- run f" "-f: the object is replaced"

# --daemon holds the lock for its life.
settings "$T/d.yml" "pg_dump: $T/pg_dump
interval: 3600" "" "$(db_yaml "$D" ovl/)"
TAG=a pgbak-run --daemon "$T/d.yml" >"$T/d.out" 2>"$T/d.err" &
dm=$!
i=0
while ! grep -qs "^$K: " "$T/d.out" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
like "$(cat "$T/d.out")" "^$K: .*: skipped: already exists$" "--daemon made its first pass"
TAG=a run pgbak-run "$T/d.yml" >/dev/null 2>"$T/b.err"
is $? 1 "between its passes the daemon still holds the lock: exit 1"
like "$(cat "$T/b.err")" "another pgbak-run \(pid $dm\) holds $T/d.yml;" "...naming the daemon"
kill -TERM $dm
wait $dm
is $? 0 "SIGTERM ends the daemon (exit 0)"
TAG=a run pgbak-run "$T/d.yml" >/dev/null 2>"$T/b.err"
is $? 0 "...and its lock with it"

# SIGKILL: the stages left behind never had the lock.
TAG=k pgbak-run -f "$T/s.yml" >/dev/null 2>&1 &
k=$!
waitfile "$T/hold-k"
at_exit "kill $(cat "$T/hold-k")"
kill -KILL $k
wait $k 2>/dev/null
kill -0 "$(cat "$T/hold-k")"
ok $? "SIGKILL to a run: its pg_dump is still there"
TAG=a run pgbak-run "$T/s.yml" >/dev/null 2>"$T/b.err"
is $? 0 "...and holds no lock: the next run goes on (exit 0)"
touch "$T/go-k"
