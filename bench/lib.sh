# bench/lib.sh: the pieces of bench/run (sourced by it; not a program).
# Globals from bench/run: BENCH_DIR SRC_DIR TESTS_DIR B W CACHE PY AWS GIB
# RECORDS and the BENCH_* settings.

step() { printf '\n== %s\n' "$*"; }

# q WORD: WORD single-quoted for a command string that bash -c reads.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# bench VERB ARGS...: bench/bench.py VERB with this run's records file.
bench() {
	v=$1; shift
	case $v in
	measure) "$PY" "$BENCH_DIR/bench.py" measure $(watch_pids) "$@" ;;
	*) "$PY" "$BENCH_DIR/bench.py" "$v" --records "$RECORDS" "$@" ;;
	esac
}

# watch_pids: --watch for the servers' processes, whose CPU a case adds to
# its clients' (the postmaster's counts its reaped backends).
watch_pids() {
	# the relay too, while the 50 ms path is up (cases 7, 8c): its CPU is a
	# cost of the path, on the same two cores, that neither client has
	for f in "$CACHE/pg/data/postmaster.pid" "$W/s3/run/client.rgw.test.pid" \
		"$W/s3/run/osd.0.pid" "$W/s3/run/mon.a.pid" "$W/relay.pid"; do
		[ -s "$f" ] && echo "--watch $(head -n 1 "$f")"
	done
}

# What the benchmark needs beyond the build: "make deps" (PostgreSQL with
# pgbench, the RGW, awscli, boto3, pigz, time) and, should that list ever
# change, the packages the benchmark itself relies on.  Installs only what dpkg says is missing, as "make deps" does.
need_packages() {
	make -s -C "$SRC_DIR" deps >/dev/null || { echo "bench/run: make deps failed" >&2; exit 111; }
	missing=
	for p in python3-boto3; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null ||
			{ echo "bench/run: not root and no sudo; install:$missing" >&2; exit 100; }
		sudo=sudo
	fi
	echo "bench/run: installing$missing"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $missing || exit 111
}

# Stop everything this run started and remove its files, whatever happened.
cleanup() {
	rc=$?
	set +e
	trap - EXIT INT TERM
	if [ -n "${CASE_PID:-}" ]; then
		kill "$CASE_PID" 2>/dev/null
		# the measurement takes its command along (bench.py on_stop)
		[ -s "$W/measure.pid" ] && kill "$(cat "$W/measure.pid")" 2>/dev/null
		i=0
		while kill -0 "$CASE_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		sleep 0.5	# the measured command's last moments, before its servers go
	fi
	# The servers first, and netns.sh in a subshell: a sourced file that
	# does not parse ends the shell that sources it, and that must not
	# leave this run's RGW or PostgreSQL behind.
	[ -f "$W/s3/env" ] || [ -d "$W/s3/run" ] && "$TESTS_DIR/lib/s3-server" stop "$W/s3" >/dev/null 2>&1
	[ -n "${pg_started:-}" ] && "$BENCH_DIR/pg-cache" stop "$CACHE/pg" >/dev/null 2>&1
	(. "$BENCH_DIR/netns.sh" && netns_down)
	rm -rf "$W"
	exit $rc
}

# pg_cached: the benchmark database, built on the first run and started from
# the cache on later ones; exports PGHOST PGPORT PGUSER (tests/lib/servers.sh).
pg_cached() {
	if [ ! -f "$CACHE/pg/ready" ]; then
		rm -rf "$CACHE/pg" "$CACHE/dump.sql"
		mkdir -p "$CACHE" || return 1
		pg_started=1
		"$TESTS_DIR/lib/pg-server" start "$CACHE/pg" || return 1
		. "$CACHE/pg/env"
		use_servers
		need_pg
		build_db || { echo "bench/run: cannot build the benchmark database" >&2; return 1; }
		touch "$CACHE/pg/ready"
	else
		pg_started=1
		"$BENCH_DIR/pg-cache" start "$CACHE/pg" || return 1
		. "$CACHE/pg/env"
		use_servers
		need_pg
	fi
	DB_BYTES=$(psql -X -At -d bench -c "select pg_database_size('bench')") || return 1
	echo "database bench: $((DB_BYTES / 1048576)) MiB on port $PGPORT"
}

# use_servers: tests/lib/servers.sh's need_pg and need_s3, reused as they are.
use_servers() {
	[ -n "${_servers:-}" ] && return 0
	_servers=1 T=$W
	. "$TESTS_DIR/lib/servers.sh"
}

# build_db: pgbench's tables at BENCH_SCALE, and "events", BENCH_JSON_ROWS
# rows with a jsonb document each (text with non-ASCII, numbers, arrays),
# the kind of table a dump of an application database is mostly made of.
build_db() {
	t0=$(date +%s)
	psql -X -q -v ON_ERROR_STOP=1 -c "create database bench" || return 1
	PGOPTIONS='-c client_min_messages=warning' pgbench -i -q -s "$BENCH_SCALE" bench ||
		return 1
	psql -X -q -v ON_ERROR_STOP=1 -d bench <<SQL || return 1
do \$\$ begin perform setseed(0.25); end \$\$;
create table events (id bigint primary key, at timestamptz not null, doc jsonb not null);
insert into events
select i, timestamptz '2024-01-01 00:00:00+00' + i * interval '13 seconds',
	jsonb_build_object(
		'user', 'user' || (i % 50000),
		'action', (array['login','logout','view','search','buy','refund'])[1 + i % 6],
		'amount', round((random() * 1000)::numeric, 2),
		'city', (array['Zürich','São Paulo','東京','Kraków','Reykjavík','Paris'])[1 + i % 6],
		'tags', jsonb_build_array('t' || (i % 7), 'u' || (i % 13), 'v' || (i % 101)),
		'ok', i % 3 <> 0,
		'session', md5(i::text))
from generate_series(1, $BENCH_JSON_ROWS) i;
vacuum (freeze, analyze);
checkpoint;
SQL
	echo "built in $(( $(date +%s) - t0 )) s"
}

# s3_up: the test RGW with room for the largest case, and a fresh bucket.
s3_up() {
	PGBAK_TEST_S3_BYTES=${BENCH_S3_BYTES:-$((20 * GIB))}
	export PGBAK_TEST_S3_BYTES
	"$TESTS_DIR/lib/s3-server" start "$W/s3" || return 1
	. "$W/s3/env"
	use_servers
	need_s3
	EP=$PGBAK_TEST_S3_ENDPOINT
	export PGBAK_TEST_S3_DIR PGBAK_TEST_S3_ENDPOINT
	echo "rgw at $EP, bucket $PGBAK_BUCKET"
}

# The arguments pgbak-run gives pg_dump, for the baselines.
dump_args() { echo "-h 127.0.0.1 -p $PGPORT -U postgres -d bench --no-password"; }

# dump_file: the plain dump of the benchmark database, saved once, so the
# compression and upload cases measure the tool, not pg_dump.
dump_file() {
	DUMP=$CACHE/dump.sql
	if [ ! -s "$DUMP" ]; then
		step "saving the dump once: $DUMP"
		pg_dump $(dump_args) >"$DUMP.tmp" && mv "$DUMP.tmp" "$DUMP" || return 1
	fi
	DUMP_BYTES=$(stat -c %s "$DUMP")
	echo "dump: $((DUMP_BYTES / 1048576)) MiB"
}

# make_settings: pgbak-run settings files for level 6 (the default) and 1
# (gzip_level: 1).
make_settings() {
	for lvl in 6 1; do
		cat >"$W/run$lvl.yml" <<EOF
tasks:
  postgres:
    timeout: 1h
    gzip_level: $lvl
    dbs:
      - host: 127.0.0.1
        port: $PGPORT
        user: postgres
        database: bench
        backup_file_prefix: "bench/run$lvl/"
    s3:
      endpoint: "$EP"
      bucket: "$PGBAK_BUCKET"
EOF
		chmod 600 "$W/run$lvl.yml"
	done
}

# have PROGRAM...: all built; else the case is skipped, naming what is missing.
have() {
	miss=
	for p; do [ -x "$B/$p" ] || miss="$miss $p"; done
	[ -z "$miss" ] && return 0
	echo "not built:$miss"
	return 1
}

PREP="$BENCH_DIR/s3-empty"

# Cases 1 and 2 share one measurement of pgbak-run (level 6), interleaved
# with both baselines.
measure_run6() {
	[ -s "$W/g12.json" ] && return 0
	set -- --cmd "pgbak-run=$(q "$B/pgbak-run") --force $(q "$W/run6.yml")"
	case " $BENCH_CASES " in *" 1 "*)
		set -- "$@" --cmd "gzip|aws=pg_dump $(dump_args) | gzip -6 | $AWS --endpoint-url $EP s3 cp - s3://$PGBAK_BUCKET/base/bench.sql.gz --only-show-errors"
	esac
	case " $BENCH_CASES " in *" 2 "*)
		set -- "$@" --cmd "pigz=pg_dump $(dump_args) | pigz -6 >/dev/null"
	esac
	bench measure --out "$W/g12.json" --runs "$BENCH_RUNS" --prepare "$PREP" "$@"
}

# cpu_info ID GROUP SUBJECT BASELINE: the CPU seconds of both, clients and
# servers, as information: on a loaded machine it shows where the work
# went when the wall clock cannot (bench.py measure --watch).
cpu_info() {
	bench verdict --case "$1" --title "  CPU s incl. servers, $3 / $4" --metric allcpu \
		--subject "$W/$2.json:$3" --baseline "$W/$2.json:$4"
}

case_1() {
	t="pgbak-run -6 / pg_dump|gzip -6|aws s3 cp"
	n=$(have pgbak-run pgbak-gzip pgbak-put pgbak-exists) ||
		{ bench skip --case 1 --title "$t" --note "$n"; return 0; }
	measure_run6 || return 1
	bench verdict --case 1 --title "$t (wall)" --metric time \
		--subject "$W/g12.json:pgbak-run" --baseline "$W/g12.json:gzip|aws" --le 0.75
	cpu_info 1c g12 pgbak-run "gzip|aws"
}

case_2() {
	t="pgbak-run -6 / pg_dump|pigz -6 >/dev/null"
	n=$(have pgbak-run pgbak-gzip pgbak-put pgbak-exists) ||
		{ bench skip --case 2 --title "$t" --note "$n"; return 0; }
	measure_run6 || return 1
	bench verdict --case 2 --title "$t (wall)" --metric time \
		--subject "$W/g12.json:pgbak-run" --baseline "$W/g12.json:pigz" --le 1.05
	cpu_info 2c g12 pgbak-run pigz
}

case_3() {
	t="pgbak-run -1 / pg_dump >/dev/null"
	n=$(have pgbak-run pgbak-gzip pgbak-put pgbak-exists) ||
		{ bench skip --case 3 --title "$t" --note "$n"; return 0; }
	bench measure --out "$W/g3.json" --runs "$BENCH_RUNS" --prepare "$PREP" \
		--cmd "pgbak-run-1=$(q "$B/pgbak-run") --force $(q "$W/run1.yml")" \
		--cmd "pg_dump=pg_dump $(dump_args) >/dev/null" || return 1
	bench verdict --case 3 --title "$t (wall)" --metric time \
		--subject "$W/g3.json:pgbak-run-1" --baseline "$W/g3.json:pg_dump" --le 1.35 \
		--note "gzip_level: 1"
	cpu_info 3c g3 pgbak-run-1 pg_dump
}

# gen_cmd BYTES: a command writing that many incompressible bytes at GB/s
# (openssl | head manage 200 MB/s here, slower than the upload they feed).
gen_cmd() { echo "$PY $(q "$BENCH_DIR/bench.py") gen $1"; }

case_4() {
	t="pgbak-put 1 GiB file / aws s3 cp -"
	n=$(have pgbak-put) || { bench skip --case 4 --title "$t" --note "$n"; return 0; }
	bash -c "$(gen_cmd $GIB)" >"$W/rand-1g" || return 1
	bench measure --out "$W/g4.json" --runs "$BENCH_RUNS" --prepare "$PREP" \
		--cmd "pgbak-put=exec $(q "$B/pgbak-put") bench/put-1g <$(q "$W/rand-1g")" \
		--cmd "aws-cp=exec $AWS --endpoint-url $EP s3 cp - s3://$PGBAK_BUCKET/bench/aws-1g --only-show-errors <$(q "$W/rand-1g")" ||
		return 1
	rm -f "$W/rand-1g"
	bench verdict --case 4a --title "$t (wall)" --metric time \
		--subject "$W/g4.json:pgbak-put" --baseline "$W/g4.json:aws-cp" --le 0.6
	bench verdict --case 4b --title "$t (peak RSS)" --metric rss \
		--subject "$W/g4.json:pgbak-put" --baseline "$W/g4.json:aws-cp" --le 0.25
	cpu_info 4c g4 pgbak-put aws-cp
	# issue 16: the client's own CPU (user + system), servers apart
	bench verdict --case 4f --title "pgbak-put / aws s3 cp - (CPU s, client only)" --metric cpu \
		--subject "$W/g4.json:pgbak-put" --baseline "$W/g4.json:aws-cp" --le 0.25
	bench verdict --case 4g --title "pgbak-put CPU s per GiB (1 GiB put)" --metric cpu \
		--subject "$W/g4.json:pgbak-put" --le 1.2
	big=$BENCH_BIG
	if [ "$big" = auto ]; then
		# 8 GiB stored in the RGW's memstore take about 14 GiB of RAM
		avail=$(awk '/^MemAvailable:/ {print int($2 / 1048576)}' /proc/meminfo)
		if [ "$avail" -ge 18 ]; then big=1; else
			big=0; why="$avail GiB available, 18 wanted"
		fi
	fi
	if [ "$big" != 1 ]; then
		bench skip --case 4d --title "pgbak-put peak RSS 8 GiB / 1 GiB stream" \
			--note "BENCH_BIG=$BENCH_BIG${why:+ ($why)}"
		return 0
	fi
	# Both from a pipe, as pgbak-run feeds it: a stream of unknown length,
	# where the growing part size would show if memory grew with it.
	bench measure --out "$W/g4c.json" --runs 1 --prepare "$PREP" \
		--cmd "put-1g-pipe=exec $(q "$B/pgbak-put") bench/pipe-1g < <($(gen_cmd $GIB))" \
		--cmd "put-8g-pipe=exec $(q "$B/pgbak-put") bench/pipe-8g < <($(gen_cmd $((8 * GIB))))" ||
		return 1
	bench verdict --case 4d --title "pgbak-put peak RSS 8 GiB / 1 GiB stream" --metric rss \
		--subject "$W/g4c.json:put-8g-pipe" --baseline "$W/g4c.json:put-1g-pipe" --within 0.9 1.1
	bench verdict --case 4e --title "pgbak-put peak RSS at 8 GiB (target in KiB)" --metric rss \
		--subject "$W/g4c.json:put-8g-pipe" --le 65536
}

case_5() {
	t="pgbak-exists / aws s3api head-object"
	n=$(have pgbak-exists) || { bench skip --case 5 --title "$t" --note "$n"; return 0; }
	head -c 1000 /dev/zero | "$AWS" --endpoint-url "$EP" s3 cp - "s3://$PGBAK_BUCKET/bench/small" \
		--only-show-errors || return 1
	runs=$((BENCH_RUNS * 4))
	[ $runs -ge 10 ] || runs=10
	bench measure --out "$W/g5.json" --runs $runs --warmup 1 \
		--cmd "pgbak-exists=exec $(q "$B/pgbak-exists") bench/small" \
		--cmd "head-object=exec $AWS --endpoint-url $EP s3api head-object --bucket $PGBAK_BUCKET --key bench/small" ||
		return 1
	bench verdict --case 5 --title "$t (wall)" --metric time \
		--subject "$W/g5.json:pgbak-exists" --baseline "$W/g5.json:head-object" --le 0.1
}

case_6() {
	t="pgbak-gzip -6 / gzip -6 (compressed bytes)"
	n=$(have pgbak-gzip) || { bench skip --case 6 --title "$t" --note "$n"; return 0; }
	# one timed run of each on the saved dump, for the compressor's speed
	bench measure --out "$W/g6.json" --runs 1 \
		--cmd "pgbak-gzip=$(q "$B/pgbak-gzip") -6 <$(q "$DUMP") >$(q "$W/dump.pgbak.gz")" \
		--cmd "gzip=gzip -6 <$(q "$DUMP") >$(q "$W/dump.gz")" \
		--cmd "pigz=pigz -6 <$(q "$DUMP") >/dev/null" || return 1
	gunzip -c "$W/dump.pgbak.gz" | cmp -s - "$DUMP" ||
		{ echo "pgbak-gzip -6 output does not gunzip to the dump" >&2; return 1; }
	a=$(stat -c %s "$W/dump.pgbak.gz") b=$(stat -c %s "$W/dump.gz")
	rm -f "$W/dump.pgbak.gz" "$W/dump.gz"
	bench verdict --case 6 --title "$t" --metric bytes \
		--subject-value "$a" --baseline-value "$b" --within 0.99 1.01 \
		--note "dump $DUMP_BYTES bytes, gzip -6 ratio $(awk "BEGIN{printf \"%.3f\", $b/$DUMP_BYTES}")"
	bench verdict --case 6i --title "pgbak-gzip -6 / pigz -6 on the dump (wall, 1 run)" \
		--metric time --subject "$W/g6.json:pgbak-gzip" --baseline "$W/g6.json:pigz"
	bench verdict --case 6j --title "pgbak-gzip -6 / gzip -6 on the dump (wall, 1 run)" \
		--metric time --subject "$W/g6.json:pgbak-gzip" --baseline "$W/g6.json:gzip"
}

case_7() {
	t="pgbak-put 1 GiB / aws s3 cp - at 50 ms RTT"
	[ "$BENCH_NETNS" = 1 ] || { bench skip --case 7 --title "$t" --note "BENCH_NETNS=0"; return 0; }
	n=$(have pgbak-put) || { bench skip --case 7 --title "$t" --note "$n"; return 0; }
	. "$BENCH_DIR/netns.sh"
	netns_case "$t"
}

# Case 8: pgbak-get's ranges in flight.  On loopback they must cost
# nothing against one stream (-p 1); across 50 ms (BENCH_NETNS=1, see
# netns.sh) they must beat awscli's download, in bounded memory.  The
# object is stored once (pgbak-put) and read by every run: no --prepare.
case_8() {
	t="pgbak-get 1 GiB, -p 24 (default) / -p 1 on loopback"
	n=$(have pgbak-get pgbak-put) || { bench skip --case 8 --title "$t" --note "$n"; return 0; }
	bash -c "$(gen_cmd $GIB)" | "$B/pgbak-put" bench/get-1g || return 1
	bench measure --out "$W/g8.json" --runs "$BENCH_RUNS" \
		--cmd "get=exec $(q "$B/pgbak-get") bench/get-1g >/dev/null" \
		--cmd "get-p1=exec $(q "$B/pgbak-get") -p 1 bench/get-1g >/dev/null" || return 1
	bench verdict --case 8a --title "$t (wall)" --metric time \
		--subject "$W/g8.json:get" --baseline "$W/g8.json:get-p1" --le 1.05
	bench verdict --case 8b --title "pgbak-get peak RSS on loopback (target in KiB)" \
		--metric rss --subject "$W/g8.json:get" --le 65536
	cpu_info 8g g8 get get-p1
	if [ "$BENCH_NETNS" != 1 ]; then
		bench skip --case 8c --title "pgbak-get 1 GiB / aws s3 cp s3://… - at 50 ms RTT" \
			--note "BENCH_NETNS=0"
		return 0
	fi
	. "$BENCH_DIR/netns.sh"
	netns_get_case "pgbak-get 1 GiB / aws s3 cp s3://… - at 50 ms RTT"
}

# The backup's own CPU, pg_dump and the servers apart: compressing and
# uploading the saved dump, pgbak-gzip | pgbak-put against gzip -6 | aws
# (pgbak-run's relays, about 1.5 s per GB relayed, are not in it).
case_9() {
	t="pgbak-gzip|pgbak-put / gzip -6|aws s3 cp - (CPU s)"
	n=$(have pgbak-gzip pgbak-put) || { bench skip --case 9 --title "$t" --note "$n"; return 0; }
	bench measure --out "$W/g9.json" --runs "$BENCH_RUNS" --prepare "$PREP" \
		--cmd "pgbak=$(q "$B/pgbak-gzip") -6 <$(q "$DUMP") | $(q "$B/pgbak-put") bench/dump.gz" \
		--cmd "gzip|aws=gzip -6 <$(q "$DUMP") | $AWS --endpoint-url $EP s3 cp - s3://$PGBAK_BUCKET/bench/aws-dump.gz --only-show-errors" ||
		return 1
	bench verdict --case 9 --title "$t" --metric cpu \
		--subject "$W/g9.json:pgbak" --baseline "$W/g9.json:gzip|aws" \
		--note "the saved dump, $DUMP_BYTES bytes; pg_dump and the servers not counted"
	bench verdict --case 9w --title "pgbak-gzip|pgbak-put / gzip -6|aws s3 cp - (wall)" \
		--metric time --subject "$W/g9.json:pgbak" --baseline "$W/g9.json:gzip|aws"
}

# The bandwidth cap (max_rate): 200 MB at 20MB/s each way, the achieved
# rate (bytes over the command's wall time) against the cap.
case_10() {
	t="pgbak-put --max-rate 20MB, 200 MB: achieved / cap"
	n=$(have pgbak-put pgbak-get) || { bench skip --case 10 --title "$t" --note "$n"; return 0; }
	rb=200000000 cap=20000000
	bash -c "$(gen_cmd $rb)" >"$W/rand-200m" || return 1
	bench measure --out "$W/g10.json" --runs "$BENCH_RUNS" \
		--cmd "put=exec $(q "$B/pgbak-put") --max-rate 20MB bench/capped <$(q "$W/rand-200m")" ||
		return 1
	bench measure --out "$W/g10g.json" --runs "$BENCH_RUNS" \
		--cmd "get=exec $(q "$B/pgbak-get") --max-rate 20MB bench/capped >/dev/null" || return 1
	rm -f "$W/rand-200m"
	bench verdict --case 10 --title "$t" --metric rate --bytes $rb \
		--subject "$W/g10.json:put" --baseline-value $cap --within 0.9 1.1 \
		--note "4 parts in flight; wall time includes start, Complete and HEAD"
	bench verdict --case 10g --title "pgbak-get --max-rate 20MB, 200 MB: achieved / cap" \
		--metric rate --bytes $rb --subject "$W/g10g.json:get" --baseline-value $cap \
		--within 0.9 1.1
}

# Cases 11 and 12 (issue 17): pgbak-restore of the saved dump, stored once
# gzip'd under today's key, against psql reading the same dump from a local
# file (createdb included on both sides); and the restore check against
# that restore.  Each run starts with neither target database there.
case_11() {
	t="pgbak-restore / createdb && psql < dump.sql"
	n=$(have pgbak-restore pgbak-get pgbak-gzip pgbak-put pgbak-name) ||
		{ bench skip --case 11 --title "$t" --note "$n"; return 0; }
	sed 's|bench/run6/|bench/rst/|' "$W/run6.yml" >"$W/rst.yml" && chmod 600 "$W/rst.yml" ||
		return 1
	key=$("$B/pgbak-name" bench/rst/ bench) || return 1
	"$B/pgbak-gzip" -6 <"$DUMP" | "$B/pgbak-put" -c "$W/rst.yml" "$key" || return 1
	pg="-h 127.0.0.1 -p $PGPORT -U postgres"
	bench measure --out "$W/g11.json" --runs "$BENCH_RUNS" \
		--prepare "psql -X -q $pg -d postgres -c 'drop database if exists bench_r' -c 'drop database if exists pgbak_check_bench_$(date +%Y%m%d)'" \
		--cmd "pgbak-restore=$(q "$B/pgbak-restore") -c $(q "$W/rst.yml") --into bench_r bench" \
		--cmd "check=$(q "$B/pgbak-restore") -c $(q "$W/rst.yml") --check bench" \
		--cmd "psql=createdb $pg bench_r && psql -X -q -v ON_ERROR_STOP=1 $pg -d bench_r <$(q "$DUMP") >/dev/null" ||
		return 1
	psql -X -q $pg -d postgres -c 'drop database if exists bench_r'
	bench verdict --case 11 --title "$t (wall)" --metric time \
		--subject "$W/g11.json:pgbak-restore" --baseline "$W/g11.json:psql" --le 1.1
	cpu_info 11c g11 pgbak-restore psql
	bench verdict --case 12 --title "pgbak-restore --check / pgbak-restore (wall)" \
		--metric time --subject "$W/g11.json:check" --baseline "$W/g11.json:pgbak-restore" --le 1.15
}

# Case 13 (issue 18): compression: zstd at level 3.  13: pgbak-run against
# bare pg_dump (wall); 13b: the bytes of pgbak-run's zstd argv against
# gzip -6 on the saved dump; 13c: that zstd's CPU against pgbak-gzip -6's,
# one run each on the saved dump, so the stage is measured without pg_dump.
# 13d, 13e (INFO): zstd's own -3 (minMatch 5) and -1, for the record.
case_13() {
	z3="zstd -q -c -3 -T2 --zstd=minMatch=6 --check"	# pgbak-run/argv.c's
	t="pgbak-run zstd -3 / pg_dump >/dev/null"
	n=$(have pgbak-run pgbak-gzip pgbak-put pgbak-exists) ||
		{ bench skip --case 13 --title "$t" --note "$n"; return 0; }
	command -v zstd >/dev/null ||
		{ bench skip --case 13 --title "$t" --note "zstd not installed"; return 0; }
	sed -e 's|bench/run6/|bench/zst/|' \
		-e 's|gzip_level: 6|compression: zstd\n    compression_level: 3|' \
		"$W/run6.yml" >"$W/zst.yml" && chmod 600 "$W/zst.yml" || return 1
	bench measure --out "$W/g13.json" --runs "$BENCH_RUNS" --prepare "$PREP" \
		--cmd "pgbak-run-zstd=$(q "$B/pgbak-run") --force $(q "$W/zst.yml")" \
		--cmd "pg_dump|zstd=pg_dump $(dump_args) | $z3 >/dev/null" \
		--cmd "nice-run=nice -n 10 $(q "$B/pgbak-run") --force $(q "$W/zst.yml")" \
		--cmd "pg_dump=pg_dump $(dump_args) >/dev/null" || return 1
	bench verdict --case 13 --title "$t (wall)" --metric time \
		--subject "$W/g13.json:pgbak-run-zstd" --baseline "$W/g13.json:pg_dump" --le 1.05 \
		--note "compression: zstd, compression_level: 3 ($z3)"
	cpu_info 13a g13 pgbak-run-zstd pg_dump
	# the floor without pgbak or a store: what zstd alone costs the dump's
	# wall on these cores, and what pgbak-run and the upload add on top
	bench verdict --case 13f --title "  pg_dump | zstd -3 >/dev/null / pg_dump (wall)" \
		--metric time --subject "$W/g13.json:pg_dump|zstd" --baseline "$W/g13.json:pg_dump"
	bench verdict --case 13g --title "  pgbak-run zstd -3 / pg_dump | zstd -3 (wall)" \
		--metric time --subject "$W/g13.json:pgbak-run-zstd" --baseline "$W/g13.json:pg_dump|zstd"
	# whether the database backend, which the backup's stages compete with
	# for the cores, gains when they run niced (the backend is not: it is
	# the postmaster's child)
	bench verdict --case 13h --title "  nice -n 10 pgbak-run zstd -3 / pg_dump (wall)" \
		--metric time --subject "$W/g13.json:nice-run" --baseline "$W/g13.json:pg_dump"
	bench measure --out "$W/g13s.json" --runs 1 \
		--cmd "zstd=$z3 <$(q "$DUMP") >$(q "$W/dump.zst")" \
		--cmd "pgbak-gzip=$(q "$B/pgbak-gzip") -6 <$(q "$DUMP") >/dev/null" \
		--cmd "gzip=gzip -6 <$(q "$DUMP") >$(q "$W/dump.gz")" || return 1
	zstd -d -c -q "$W/dump.zst" | cmp -s - "$DUMP" ||
		{ echo "zstd -3 output does not decompress to the dump" >&2; return 1; }
	a=$(stat -c %s "$W/dump.zst") b=$(stat -c %s "$W/dump.gz")
	a3=$(zstd -q -c -3 -T2 --check <"$DUMP" | wc -c) || return 1
	a1=$(zstd -q -c -1 -T2 --check <"$DUMP" | wc -c) || return 1
	rm -f "$W/dump.zst" "$W/dump.gz"
	bench verdict --case 13b --title "zstd -3 / gzip -6 (compressed bytes)" --metric bytes \
		--subject-value "$a" --baseline-value "$b" --le 0.85 --note "$z3"
	bench verdict --case 13c --title "zstd -3 -T2 / pgbak-gzip -6 on the dump (CPU s, 1 run)" \
		--metric cpu --subject "$W/g13s.json:zstd" --baseline "$W/g13s.json:pgbak-gzip" \
		--le 0.35
	bench verdict --case 13d --title "  zstd's own -3 (minMatch 5) / gzip -6 (bytes)" \
		--metric bytes --subject-value "$a3" --baseline-value "$b"
	bench verdict --case 13e --title "  zstd -1 / gzip -6 (bytes)" \
		--metric bytes --subject-value "$a1" --baseline-value "$b"
}

# Case 14 (issue 18): where a custom-format dump is compressed.  pg_dump
# -Fc compresses inside pg_dump (-Z, zlib, in the process that also talks
# to the server), or writes -Z0 into our stage (zstd -T2, pgbak-gzip), as
# plain dumps do.  Each command writes its archive to a file, so the sizes
# are compared too; wall and CPU (clients and servers) against -Z6, the
# -Fc default.
case_14() {
	t="pg_dump -Fc -Z0 | stage / pg_dump -Fc (-Z6)"
	n=$(have pgbak-gzip) || { bench skip --case 14 --title "$t" --note "$n"; return 0; }
	command -v zstd >/dev/null ||
		{ bench skip --case 14 --title "$t" --note "zstd not installed"; return 0; }
	bench measure --out "$W/g14.json" --runs "$BENCH_RUNS" \
		--cmd "Z6=pg_dump -Fc -Z6 $(dump_args) >$(q "$W/c.Z6")" \
		--cmd "Z1=pg_dump -Fc -Z1 $(dump_args) >$(q "$W/c.Z1")" \
		--cmd "Z0zstd=pg_dump -Fc -Z0 $(dump_args) | zstd -q -c -3 -T2 --check >$(q "$W/c.zst")" \
		--cmd "Z0gzip=pg_dump -Fc -Z0 $(dump_args) | $(q "$B/pgbak-gzip") -6 >$(q "$W/c.gz")" ||
		return 1
	for s in Z1 Z0zstd Z0gzip; do
		bench verdict --case "14$s" --title "pg_dump -Fc $s / -Z6 (wall)" --metric time \
			--subject "$W/g14.json:$s" --baseline "$W/g14.json:Z6"
		bench verdict --case "14$s-c" --title "  CPU s incl. servers, $s / -Z6" \
			--metric allcpu --subject "$W/g14.json:$s" --baseline "$W/g14.json:Z6"
	done
	z6=$(stat -c %s "$W/c.Z6")
	for f in Z1:c.Z1 Z0zstd:c.zst Z0gzip:c.gz; do
		bench verdict --case "14${f%%:*}-b" --title "  bytes, ${f%%:*} / -Z6" --metric bytes \
			--subject-value "$(stat -c %s "$W/${f#*:}")" --baseline-value "$z6"
	done
	rm -f "$W"/c.Z6 "$W"/c.Z1 "$W"/c.zst "$W"/c.gz
}

# Case 15 (issue 18): format: directory with jobs: 2 against a plain dump,
# both through pgbak-run with zstd -3 into the RGW: pg_dump -Fd -j 2 into
# temp_dir, then tar | zstd | pgbak-put, against pg_dump | zstd |
# pgbak-put.  15b: the bare dumps, pg_dump -Fd -j 2 -Z0 against plain
# pg_dump, without the store.
case_15() {
	t="pgbak-run format: directory, jobs: 2 / plain (zstd -3)"
	n=$(have pgbak-run pgbak-put pgbak-exists) ||
		{ bench skip --case 15 --title "$t" --note "$n"; return 0; }
	command -v zstd >/dev/null ||
		{ bench skip --case 15 --title "$t" --note "zstd not installed"; return 0; }
	for f in plain directory; do
		sed -e "s|bench/run6/|bench/$f/|" \
			-e "s|gzip_level: 6|compression: zstd\n    format: $f\n    temp_dir: $W|" \
			"$W/run6.yml" >"$W/$f.yml" && chmod 600 "$W/$f.yml" || return 1
	done
	sed -i 's|format: directory|format: directory\n    jobs: 2|' "$W/directory.yml" || return 1
	bench measure --out "$W/g15.json" --runs "$BENCH_RUNS" --prepare "$PREP; rm -rf $(q "$W/fd")" \
		--cmd "directory=$(q "$B/pgbak-run") --force $(q "$W/directory.yml")" \
		--cmd "plain=$(q "$B/pgbak-run") --force $(q "$W/plain.yml")" \
		--cmd "pg_dump-Fd-j2=pg_dump -Fd -j 2 -Z0 -f $(q "$W/fd") $(dump_args)" \
		--cmd "no-sync=pg_dump -Fd -j 2 -Z0 --no-sync -f $(q "$W/fd") $(dump_args)" \
		--cmd "pg_dump=pg_dump $(dump_args) >/dev/null" || return 1
	rm -rf "$W/fd"
	bench verdict --case 15 --title "$t (wall)" --metric time \
		--subject "$W/g15.json:directory" --baseline "$W/g15.json:plain" --le 0.75
	cpu_info 15c g15 directory plain
	bench verdict --case 15b --title "pg_dump -Fd -j 2 -Z0 / pg_dump (wall, no store)" \
		--metric time --subject "$W/g15.json:pg_dump-Fd-j2" --baseline "$W/g15.json:pg_dump"
	# the directory is read once by tar and removed: pg_dump's closing
	# fsync of every file buys nothing there
	bench verdict --case 15d --title "  pg_dump -Fd -j 2 -Z0 --no-sync / without (wall, no store)" \
		--metric time --subject "$W/g15.json:no-sync" --baseline "$W/g15.json:pg_dump-Fd-j2"
}

# Case 16 (issue 18): pgbak-restore of a custom backup (zstd -3, stored
# once) with pg_restore -j 2, against psql of the plain dump from a local
# file, as case 11's baseline; and with pg_restore -j 1.  Each run starts
# with no target database.
case_16() {
	t="pgbak-restore custom -j 2 / createdb && psql < dump.sql"
	n=$(have pgbak-run pgbak-restore pgbak-get pgbak-put pgbak-exists) ||
		{ bench skip --case 16 --title "$t" --note "$n"; return 0; }
	command -v zstd >/dev/null ||
		{ bench skip --case 16 --title "$t" --note "zstd not installed"; return 0; }
	sed -e 's|bench/run6/|bench/cus/|' \
		-e "s|gzip_level: 6|compression: zstd\n    format: custom\n    temp_dir: $W|" \
		"$W/run6.yml" >"$W/cus.yml" && chmod 600 "$W/cus.yml" || return 1
	"$B/pgbak-run" --force "$W/cus.yml" >/dev/null || return 1
	pg="-h 127.0.0.1 -p $PGPORT -U postgres"
	bench measure --out "$W/g16.json" --runs "$BENCH_RUNS" \
		--prepare "psql -X -q $pg -d postgres -c 'drop database if exists bench_r'" \
		--cmd "restore-j2=$(q "$B/pgbak-restore") -c $(q "$W/cus.yml") -j 2 --into bench_r bench" \
		--cmd "restore-j1=$(q "$B/pgbak-restore") -c $(q "$W/cus.yml") -j 1 --into bench_r bench" \
		--cmd "psql=createdb $pg bench_r && psql -X -q -v ON_ERROR_STOP=1 $pg -d bench_r <$(q "$DUMP") >/dev/null" ||
		return 1
	psql -X -q $pg -d postgres -c 'drop database if exists bench_r'
	bench verdict --case 16 --title "$t (wall)" --metric time \
		--subject "$W/g16.json:restore-j2" --baseline "$W/g16.json:psql"
	bench verdict --case 16b --title "pgbak-restore custom -j 2 / -j 1 (wall)" --metric time \
		--subject "$W/g16.json:restore-j2" --baseline "$W/g16.json:restore-j1"
	cpu_info 16c g16 restore-j2 psql
}

finish() {
	cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	mem=$(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
	bench finish --out "$BENCH_RESULTS" \
		--meta "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		--meta "nproc=$(nproc)" --meta "cpu=$cpu" --meta "mem_gib=$mem" \
		--meta "kernel=$(uname -r)" \
		--meta "loadavg_start=$load_start" --meta "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" \
		--meta "commit=$(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null)" \
		--meta "bench_scale=$BENCH_SCALE" --meta "json_rows=$BENCH_JSON_ROWS" \
		--meta "db_bytes=$DB_BYTES" --meta "dump_bytes=$DUMP_BYTES" \
		--meta "runs=$BENCH_RUNS" \
		--meta "pg_dump=$(pg_dump --version)" --meta "awscli=$("$AWS" --version 2>&1)" \
		--meta "gzip=$(gzip --version | head -n 1)" --meta "pigz=$(pigz --version 2>&1)" \
		--meta "seconds=$(( $(date +%s) - started ))"
}
