#!/bin/sh
# End to end with no keys in the settings or the environment: pgbak-run
# backs a database up and pgbak-get restores it, with credentials from
# each network source in turn (web identity, the container endpoint,
# IMDSv2), served by tests/lib/metaserver.py and minted by the RGW, which
# checks them.  Each has its negative twin, which exits non-zero with the
# line that says why and leaves no object: a wrong web identity token, a
# wrong Authorization, an IMDSv1-only server, credentials already expired
# that no refresh renews.  The secrets handed out are never in a child's
# argv or environment (/proc/PID/cmdline, environ), nor in the output.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
. "$TESTS_DIR/lib/metaserver.sh"
plan 44
need_pg
need_s3_sts

D=credse2e_$$
psql_q -d postgres -c "create database $D" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $D'"
at_exit "psql -X -q -d postgres -c 'drop database if exists r_$D'"
psql_q -d "$D" -c "create table t as select g, md5(g::text) as h from generate_series(1, 20000) g" ||
	exit 1

printf 'eyJhbGciOiJSUzI1NiJ9.pgbak-e2e.sig\n' >"$T/wit"
printf 'eyJhbGciOiJSUzI1NiJ9.stolen.sig\n' >"$T/wrong"
start_meta --web-token-file "$T/wit"
M=$META_URL MC=$META_COUNTS MS=$META_SECRETS

# The children of pgbak-run, each a wrapper that writes down its argv and
# environment as the kernel holds them (/proc/$$), then execs the real one
# with the same PID.
BIN=$T/bin
mkdir "$BIN" "$T/seen"
cp "$PGBAK_BUILD/pgbak-run" "$BIN/"
for p in pgbak-put pgbak-exists pgbak-gzip pg_dump; do
	real=$PGBAK_BUILD/$p
	[ $p = pg_dump ] && real=$REAL_PG_DUMP
	cat >"$BIN/$p" <<EOF
#!/bin/sh
tr '\0' '\n' </proc/\$\$/environ >"$T/seen/$p.\$\$.env"
tr '\0' '\n' </proc/\$\$/cmdline >"$T/seen/$p.\$\$.argv"
exec "$real" "\$@"
EOF
	chmod 755 "$BIN/$p"
done

# via SOURCE CMD...: CMD with no keys anywhere, credentials only from
# SOURCE (web, container, imds) at the metaserver $MURL (default $M).
# WIT and AUTH replace the token file and the Authorization.
via() {
	(
		creds_unset
		u=${MURL:-$M}
		case $1 in
		web) export AWS_ROLE_ARN="$META_ROLE_ARN" AWS_ENDPOINT_URL_STS="$u/" \
			AWS_WEB_IDENTITY_TOKEN_FILE="${WIT:-$T/wit}" ;;
		container) export AWS_CONTAINER_CREDENTIALS_FULL_URI="$u/v2/credentials/pod" \
			AWS_CONTAINER_AUTHORIZATION_TOKEN="${AUTH:-$META_AUTH}" ;;
		imds) export AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$u" ;;
		esac
		shift
		run "$@"
	)
}

# restored SOURCE KEY: pgbak-get KEY through SOURCE restores a database
# that dumps the same as $D.
restored() {
	psql_q -d postgres -c "drop database if exists r_$D" 2>/dev/null
	psql_q -d postgres -c "create database r_$D" || return 1
	via "$1" pgbak-get -v "$2" 2>"$T/get.err" >"$T/got.gz" ||
		{ diag "$(cat "$T/get.err")"; return 1; }
	gunzip <"$T/got.gz" | psql_q -d "r_$D" >/dev/null || return 1
	dump_cmp "$D" >"$T/orig.sql" && dump_cmp "r_$D" >"$T/back.sql" &&
		cmp -s "$T/orig.sql" "$T/back.sql"
}

# backup SOURCE PREFIX: pgbak-run through SOURCE into PREFIX; its status.
backup() {
	settings "$T/$2.yml" "pg_dump: $BIN/pg_dump" "" "$(db_yaml "$D" "$2/")"
	! grep -q 'access_key\|access_secret\|session_token' "$T/$2.yml" || return 99
	via "$1" "$BIN/pgbak-run" --json "$T/$2.yml" >"$T/out" 2>"$T/err"
}

for s in web container imds; do
	case $s in
	web) what="web identity, role $META_ROLE_ARN" name=sts ;;
	container) what="container endpoint $M/v2/credentials/pod" name=container ;;
	imds) what="instance metadata, role $META_ROLE" name=imds ;;
	esac
	backup $s $s; st=$?
	is "$st" 0 "$s: pgbak-run backs up with no keys in settings or environment"
	[ "$st" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"
	check "$s: the object is stored" has_object "$s/$D-$TODAY.gz"
	[ "$(meta_count $name "$MC")" -ge 2 ]
	ok $? "$s: the credentials came from the metaserver ($(meta_count $name "$MC") fetches)"
	check "$s: pgbak-get restores the database" restored $s "$s/$D-$TODAY.gz"
	grep -qxF "pgbak-get: credentials: $what" "$T/get.err"
	ok $? "$s: pgbak-get -v names the source"
	cat "$T/out" "$T/err" "$T/get.err" >>"$T/printed"
done

# The secrets handed out, nowhere they could be read.
[ -s "$MS" ]; ok $? "secrets were handed out ($(wc -l <"$MS") lines)"
set -- "$T/seen"/pgbak-put.*.env
[ -s "$1" ]; ok $? "the children's environments were seen"
! cat "$T/seen"/*.env "$T/seen"/*.argv | grep -qF -f "$MS"
ok $? "no fetched secret in a child's environment or argv"
! grep -qF -f "$MS" "$T/printed"
ok $? "no fetched secret in the output or the messages (--json, stderr, -v)"
cat "$T/seen"/pgbak-put.*.env | grep -q "^AWS_CONTAINER_AUTHORIZATION_TOKEN=" &&
	! cat "$T/seen"/pgbak-gzip.*.env "$T/seen"/pg_dump.*.env |
	grep -q "^AWS_CONTAINER_AUTHORIZATION_TOKEN="
ok $? "the container token reaches the S3 children alone"

# twin SOURCE PREFIX REGEX: pgbak-run and pgbak-get through SOURCE fail
# with a line matching REGEX, and PREFIX holds no object.
twin() {
	backup "$1" "$2"; st=$?
	[ "$st" -ne 0 ]; ok $? "$2: pgbak-run fails (exit $st)"
	like "$(cat "$T/err")" "$3" "$2: the line says why"
	! has_object "$2/$D-$TODAY.gz"; ok $? "$2: no object"
	via "$1" pgbak-get "$1/$D-$TODAY.gz" >/dev/null 2>"$T/get.err"; st=$?
	[ "$st" -ne 0 ] && grep -Eq -- "$3" "$T/get.err"
	ok $? "$2: pgbak-get fails the same way (exit $st)"
}
c0=$(meta_count sts "$MC")
WIT=$T/wrong twin web webneg "web identity: STS refused role $META_ROLE_ARN: InvalidIdentityToken"
is "$(meta_count sts "$MC")" "$c0" "web: no credentials for a wrong token"
unlike "$(cat "$T/err" "$T/get.err")" "stolen" "web: the token is not printed"

c0=$(meta_count container "$MC")
AUTH='Bearer wrong' twin container ctrneg "container credentials refused: HTTP 401"
is "$(meta_count container "$MC")" "$c0" "container: no credentials for a wrong Authorization"

start_meta --imdsv1-only
MURL=$META_URL twin imds imdsneg \
	"no credentials: tried .*instance metadata \(IMDSv2 token refused: HTTP 405; IMDSv1 is not used\)"
is "$(meta_count v1get) $(meta_count imds)" "0 0" "imds: nothing asked of IMDSv1"

start_meta --expires-in -60
MURL=$META_URL twin container expneg "credentials from container endpoint .* expired"
[ "$(meta_count container)" -ge 2 ]
ok $? "expired: the source was asked again ($(meta_count container) fetches)"

# Nothing set up and a metadata address that never answers (a host outside
# EC2): the chain names every source it tried, at once, and exits 100.
start_silent
t0=$(date +%s)
err=$(MURL=$SILENT_URL via imds pgbak-get "web/$D-$TODAY.gz" 2>&1 >/dev/null); st=$?
el=$(($(date +%s) - t0))
is "$st" 100 "no source: pgbak-get exits 100"
like "$err" "no credentials: tried .*web identity \(AWS_ROLE_ARN unset\).*container \(unset\), instance metadata \(no answer in 1 s\)" \
	"one line lists what was tried"
[ "$el" -le 20 ]; ok $? "it gave up at once ($el s, under valgrind too)"
