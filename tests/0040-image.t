#!/bin/sh
# The container image (issue 19), run with podman against the suite's
# PostgreSQL and RGW: pgbak-run, the entrypoint, backs a database up as
# the non-root user pgbak, with the pg_dump that pg_dump: auto picks from
# the image's /usr/lib/postgresql/15/bin; pgbak-restore in the image puts
# it back into a new database, and pg_dump of source and target is
# identical.  Twin: with a wrong secret key the run exits 111 and stores
# nothing.
#
# Only "make image-test" runs it (it builds the image and names it in
# PGBAK_IMAGE); elsewhere it is skipped, as podman and the image may not
# be there.  contrib/image/containers.conf says how podman runs here.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
[ -n "${PGBAK_IMAGE:-}" ] || skip_all "make image-test runs it (PGBAK_IMAGE names the image)"
: "${CONTAINERS_CONF:=$SRC_DIR/contrib/image/containers.conf}"
export CONTAINERS_CONF
plan 18
need_pg
need_s3
podman image exists "$PGBAK_IMAGE" || { echo "Bail out! no image $PGBAK_IMAGE: make image"; exit 1; }

# img [PODMAN-OPTION...] -- [ARG...]: the image, run once, on the host's
# network (the servers listen on 127.0.0.1), the settings mounted where
# the image looks for them, the S3 keys passed by name (never in argv).
# Each container is named pgbak-tPID-*, and any such one left (a run that
# hung) is removed at exit: img runs in $(...), which cannot add to at_exit.
at_exit "podman ps -a -q --filter name=^pgbak-t$$- | xargs -r podman rm -f -t 0"
img() {
	_o=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do _o="$_o $1"; shift; done
	shift
	# shellcheck disable=SC2086 # the options, one word each
	podman run --rm --name "pgbak-t$$-$(date +%s%N)" --network host \
		-v "$T/s.yml:/etc/pgbak/settings.yml:ro" \
		-e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_REGION \
		-e AWS_EC2_METADATA_DISABLED $_o "$PGBAK_IMAGE" "$@"
}

S=img_$$ R=img_r_$$
at_exit "psql -X -q -d postgres -c 'drop database if exists $S' -c 'drop database if exists $R'"
psql_q -d postgres -c "create database $S" || exit 1
psql_q -d "$S" >/dev/null <<'SQL' || exit 1
create table t (id serial primary key, s text, b bytea);
insert into t (s, b) select 'Grüße ' || g || E' tab\there', decode(md5(g::text), 'hex')
	from generate_series(1, 20000) g;
create table "Mixed Case" ("x y" int);
insert into "Mixed Case" values (1), (2);
select lo_from_bytea(0, convert_to('a large object ☃', 'UTF8'));
SQL
K=img/$S-$TODAY.gz
# No secret in it: readable by the image's user, as a ConfigMap is.
settings "$T/s.yml" "" "" "$(db_yaml "$S" img/)"
chmod 644 "$T/s.yml"

# The image itself: who runs, what answers.
is "$(img --entrypoint id -- -un):$(img --entrypoint id -- -u)" pgbak:10001 \
	"the image runs as the non-root user pgbak (uid 10001)"
out=$(img -- --version 2>&1); st=$?
is "$st" 0 "the entrypoint is pgbak-run: --version exits 0"
like "$out" "^pgbak-run \(pgbak\) " "...and names pgbak-run"
like "$(img --entrypoint sh -- -c 'echo /usr/lib/postgresql/*/bin/pg_dump')" \
	"^/usr/lib/postgresql/15/bin/pg_dump$" \
	"the image carries Debian 12's pg_dump 15 where pg_dump: auto looks"

# -n: the pipeline pg_dump: auto chose for this PostgreSQL 15 server.
out=$(img -- -n /etc/pgbak/settings.yml 2>"$T/err"); st=$?
is "$st" 0 "-n in the image exits 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
like "$out" "(^| )/usr/lib/postgresql/15/bin/pg_dump " \
	"pg_dump: auto takes /usr/lib/postgresql/15/bin/pg_dump for a server 15"

# The backup: the image's default arguments, its settings file.
out=$(img -- 2>"$T/err"); st=$?
is "$st" 0 "pgbak-run in the image backs the database up: exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
like "$out" "^$K: dump [0-9]+ B, .*: ok$" "its summary names the key: ok"
check "the object is stored" has_object "$K"

# The restore, in the image too, into a new database; then compare.
out=$(img --entrypoint pgbak-restore -- -c /etc/pgbak/settings.yml --into "$R" "$S" 2>&1); st=$?
is "$st" 0 "pgbak-restore in the image restores it into a new database: exit 0"
[ "$st" -eq 0 ] || diag "$out"
dump_cmp "$S" >"$T/source.sql" && dump_cmp "$R" >"$T/target.sql"
cmp -s "$T/source.sql" "$T/target.sql"; ok $? "pg_dump of source and target: identical"
grep -q 'lo_create' "$T/target.sql"; ok $? "the target holds the large object"
# Twin of the comparison: a target that differs must not compare equal.
psql_q -d "$R" -c "update t set s = 'changed' where id = 1"
dump_cmp "$R" >"$T/target.sql"
! cmp -s "$T/source.sql" "$T/target.sql"; ok $? "a changed target no longer compares equal"

# Twin of the backup: a wrong secret key.  RGW refuses the signature; the
# run exits 111 (a system failure, not a settings one) and stores nothing.
K2=bad/$S-$TODAY.gz
settings "$T/s.yml" "" "" "$(db_yaml "$S" bad/)"
chmod 644 "$T/s.yml"
out=$(with_env AWS_SECRET_ACCESS_KEY=wrong-secret-key img -- 2>"$T/err"); st=$?
is "$st" 111 "with a wrong secret key pgbak-run in the image exits 111"
like "$(cat "$T/err")" "SignatureDoesNotMatch|403" "...saying why (403)"
unlike "$(cat "$T/err")" "wrong-secret-key" "...without the secret in its messages"
! has_object "$K2"; ok $? "no object is stored"
is "$(uploads)" None "no multipart upload is left"
