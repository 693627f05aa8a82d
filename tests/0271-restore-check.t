#!/bin/sh
# pgbak-restore --check: the newest backup restored into a scratch database
# pgbak_check_DB_DATE, every table's count(*) compared with the rows of its
# COPY block counted while streaming, the scratch database dropped after.
# It catches: a dump whose COPY block was cut short yet ends with pg_dump's
# completion line (a hand-made fixture), rows a server rejects silently (a
# trigger made by an event trigger in the restore_check server's template1)
# or loudly (a CHECK constraint made the same way), a damaged object, and a
# scratch database that cannot be created.  Each: exit 1 or 111, one line,
# no scratch database left behind.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
plan 54
need_pg
need_s3
# err: the test's stderr without valgrind's own notes ("--PID-- WARNING:
# unhandled syscall"); an error valgrind finds shows as exit 99 all the same.

C=chk_$$ SCR=pgbak_check_chk_$$_$TODAY
at_exit "psql -X -q -d postgres -c 'drop database if exists $C' -c 'drop database if exists $SCR'"
psql_q -d postgres -c "create database $C" || exit 1
psql_q -d "$C" >/dev/null <<'SQL' || exit 1
create table orders (id int primary key, note text);
insert into orders select g, E'line ' || g || E'\\nwith an escaped newline' from generate_series(1, 3000) g;
create table "Line Items" (o int, "qty x" int);
insert into "Line Items" select g % 3000 + 1, g from generate_series(1, 12345) g;
create table empty (a int);
-- a COPY line longer than the relay keeps of a line (1 KiB): 50 long column names
select format('create table wide (%s)', string_agg(format('a_column_with_a_rather_long_name_number_%s int', g), ', '))
  from generate_series(1, 50) g \gexec
insert into wide (a_column_with_a_rather_long_name_number_1) select g from generate_series(1, 7) g;
create sequence s;
select setval('s', 42);
select lo_from_bytea(0, 'one'), lo_from_bytea(0, 'two');
SQL
settings "$T/s.yml" "" "" "$(db_yaml "$C" chk/)"
out=$(pgbak-run "$T/s.yml" 2>&1) || { diag "$out"; exit 1; }
K=chk/$C-$TODAY.gz
# scratch_left [PORT]: how many pgbak_check_ databases the server has
scratch_left() {
	psql -X -At -p "${1:-$PGPORT}" -d postgres -c "select count(*) from pg_database where datname like 'pgbak\_check\_%$$%'"
}

# -n: the create, the pipeline with the counting relay, the drop.
out=$(run pgbak-restore -n --check -c "$T/s.yml" "$C" 2>"$T/err"); st=$?
is "$st" 0 "-n --check exits 0"
is "$(lines "$out")" 4 "-n --check: four commands"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^[^ ]*psql -X -q -v ON_ERROR_STOP=1 -At -c 'CREATE DATABASE \"$SCR\"' -h 127\.0\.0\.1 -p $PGPORT -U postgres -d postgres --no-password$" \
	"-n --check: the scratch database created by psql -c, as it would run"
like "$(printf '%s\n' "$out" | sed -n 1p)$(printf '%s\n' "$out" | sed -n 4p)" "-c 'DROP DATABASE IF EXISTS \"$SCR\"' .*-c 'DROP DATABASE IF EXISTS \"$SCR\"' " \
	"-n --check: a leftover dropped first, the scratch database dropped last"
like "$(printf '%s\n' "$out" | sed -n 3p)" "pgbak-get --settings-fd 4 -- $K \| [^ ]*gzip -d -c \| [^ ]*pgbak-restore --relay --count-fd 3 \| [^ ]*psql .* -d $SCR --no-password$" \
	"-n --check: the relay counts (--count-fd 3) into psql on the scratch database"
is "$(scratch_left)" 0 "-n made no scratch database"

# A good backup: ok, one line, the scratch database gone.
out=$(run pgbak-restore --check -c "$T/s.yml" "$C" 2>"$T/err"); st=$?
is "$st" 0 "the check of a good backup exits 0"
[ "$st" -eq 0 ] || diag "$(err)"
like "$out" "^ok: 4 tables, 15,352 rows, 2 large objects, 1 sequence, [0-9.]+ [kMG]?B in [0-9.]+s$" \
	"one line: tables (one with a COPY line over 1 KiB), rows (thousands separated), large objects, sequences, size, time"
is "$(err)" "" "nothing on stderr"
is "$(scratch_left)" 0 "the scratch database is dropped"
# --keep keeps it, holding the rows.
out=$(run pgbak-restore --check --keep -c "$T/s.yml" "$C" 2>"$T/err"); st=$?
is "$st" 0 "--check --keep exits 0"
is "$(psql -X -At -d "$SCR" -c 'select count(*) from "Line Items"')" 12345 "--keep: the scratch database is there, with the rows"
# A scratch database left behind is dropped before the next check.
out=$(run pgbak-restore --check -c "$T/s.yml" "$C" 2>"$T/err"); st=$?
is "$st" 0 "a check over a kept scratch database exits 0 (it is dropped first)"
is "$(scratch_left)" 0 "...and the scratch database is gone after it"
out=$(run pgbak-restore --check --into x -c "$T/s.yml" "$C" 2>"$T/err"); st=$?
is "$st" 100 "--check with --into: usage error"

# The fixture: a COPY block cut short, the completion line after it.
F=fix_$$
settings "$T/f.yml" "" "" "$(db_yaml "$F" chk/)"
KF=chk/$F-$TODAY.gz
# fixture whole|cut|moved: the dump; "moved" uses the sequence after setting it.
fixture() {
	printf 'SET client_encoding = %s;\n' "'UTF8'"
	printf 'CREATE TABLE public.notes (s text);\n'
	printf 'CREATE SEQUENCE public."n s";\n\n'
	printf "SELECT pg_catalog.setval('public.\"n s\"', 7, true);\n"
	[ "$1" = moved ] && printf "SELECT nextval('public.\"n s\"');\n"
	printf 'COPY public.notes (s) FROM stdin;\nfirst\nsecond\n'
	[ "$1" = cut ] || printf '\\.\n\n'
	printf -- '--\n-- PostgreSQL database dump complete\n--\n\n'
}
fixture whole | gzip >"$T/whole.gz"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$KF" --body "$T/whole.gz" >/dev/null || exit 1
out=$(run pgbak-restore --check -c "$T/f.yml" "$F" 2>"$T/err"); st=$?
is "$st" 0 "the fixture made whole passes the check"
like "$out" "^ok: 1 table, 2 rows, 1 sequence, " "...with its 1 table, 2 rows and 1 sequence"
# a sequence that does not end where the dump set it
fixture moved | gzip >"$T/moved.gz"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$KF" --body "$T/moved.gz" >/dev/null || exit 1
out=$(run pgbak-restore --check -c "$T/f.yml" "$F" 2>"$T/err"); st=$?
is "$st" 1 "a sequence restored to another value than the dump sets: exit 1"
is "$(err)" "pgbak-restore: check of $KF: sequence 'public.\"n s\"': dump sets 7, restored 8" \
	"...one line: the sequence, the two values"
is "$(scratch_left)" 0 "...and no scratch database left"
fixture cut | gzip >"$T/cut.gz"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$KF" --body "$T/cut.gz" >/dev/null || exit 1
gunzip -t "$T/cut.gz"; ok $? "the cut fixture is valid gzip"
fixture cut | psql_q -d postgres -c "create database fixcheck_$$" >/dev/null
at_exit "psql -X -q -d postgres -c 'drop database if exists fixcheck_$$'"
fixture cut | psql_q -d fixcheck_$$ >/dev/null 2>&1; ok $? "...and psql alone restores it with exit 0"
out=$(run pgbak-restore --check -c "$T/f.yml" "$F" 2>"$T/err"); st=$?
is "$st" 1 "the check of the cut fixture exits 1"
like "$(err)" "^pgbak-restore: check of $KF failed: relay exited 1: .*COPY block of public\.notes has no end" \
	"...saying the COPY block of public.notes was cut short"
is "$(lines "$(err)")" 1 "...on one line"
is "$out" "" "...and no ok line"
is "$(scratch_left)" 0 "...and no scratch database left"

# A damaged object: gzip -d fails; exit 1, nothing left.
fetch "$K" >"$T/good.gz"
size=$(wc -c <"$T/good.gz")
head -c $((size - 20)) "$T/good.gz" >"$T/short.gz"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$KF" --body "$T/short.gz" >/dev/null || exit 1
out=$(run pgbak-restore --check -c "$T/f.yml" "$F" 2>"$T/err"); st=$?
is "$st" 1 "a truncated object: exit 1"
like "$(err)" "check of $KF failed: gzip -d exited 1: " "...naming gzip -d"
is "$(scratch_left)" 0 "...and no scratch database left"

# SIGTERM mid-check: every stage stopped, the scratch database dropped all
# the same, and the check dies of the signal (143).  The psql that restores
# is a stand-in that says it started and then reads nothing.
mkdir -p "$T/bin"
REAL_PSQL=$(command -v psql)
cat >"$T/bin/psql" <<EOF
#!/bin/sh
for a in "\$@"; do [ "\$a" = -c ] && exec "$REAL_PSQL" "\$@"; done
case " \$* " in *" -At "*) exec "$REAL_PSQL" "\$@" ;; esac
: >"$T/psql-started"
exec sleep 300.$$
EOF
chmod 755 "$T/bin/psql"
vg=
[ "${PGBAK_VALGRIND:-0}" = 1 ] &&	# as run() does, but in the background as itself
	vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
PATH=$T/bin:$PATH $vg pgbak-restore --check -c "$T/s.yml" "$C" >"$T/out" 2>"$T/err" &
bg=$!
at_exit "kill $bg"
i=0
while [ ! -f "$T/psql-started" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -f "$T/psql-started" ]; ok $? "the stalled psql started"
kill -TERM $bg
wait $bg 2>/dev/null; st=$?	# the shell's "Terminated" line
is "$st" 143 "SIGTERM mid-check: exit 143"
check "...no stage is left running" no_procs "sleep 300\.$$"
is "$(scratch_left)" 0 "...and the scratch database is dropped"
like "$(err)" "check of $K failed: cancelled by a signal" "...saying it was cancelled"

# A second server for restore_check, whose template1 changes what a new
# database does: an event trigger on CREATE TABLE public.orders.
pg2_start
q2() { psql_q -p "$P2" "$@"; }
settings "$T/r.yml" "restore_check:
  host: 127.0.0.1
  port: $P2
  user: postgres" "" "$(db_yaml "$C" chk/)"
out=$(run pgbak-restore --check -c "$T/r.yml" "$C" 2>"$T/err"); st=$?
is "$st" 0 "restore_check on a second server: ok"
[ "$st" -eq 0 ] || diag "$(err)"
is "$(scratch_left "$P2")" 0 "...its scratch database dropped there"
# silently: a trigger that drops every 1000th order
q2 -d template1 >/dev/null <<'SQL' || exit 1
create function public.drop_some() returns trigger language plpgsql as
  $$ begin if new.id % 1000 = 0 then return null; end if; return new; end $$;
SQL
orders_trigger "$P2" "create trigger drop_some before insert on public.orders for each row execute function public.drop_some()" ||
	exit 1
out=$(run pgbak-restore --check -c "$T/r.yml" "$C" 2>"$T/err"); st=$?
is "$st" 1 "rows dropped silently by the server: exit 1"
is "$(err)" "pgbak-restore: check of $K: public.orders: dump has 3,000 rows, restored 2,997" \
	"...one line: the table, the dump's rows, the restored rows"
is "$out" "" "...and no ok line"
is "$(scratch_left "$P2")" 0 "...and no scratch database left"
# loudly: a CHECK constraint that rejects them
orders_trigger "$P2" "alter table public.orders add constraint no_thousands check (id % 1000 <> 0)" ||
	exit 1
out=$(run pgbak-restore --check -c "$T/r.yml" "$C" 2>"$T/err"); st=$?
is "$st" 1 "rows rejected by a CHECK constraint: exit 1"
like "$(err)" "^pgbak-restore: check of $K failed: psql exited 3: ERROR: +new row for relation \"orders\" violates check constraint \"no_thousands\"$" \
	"...one line naming psql and the constraint"
is "$(scratch_left "$P2")" 0 "...and no scratch database left"
q2 -d template1 -c "drop event trigger on_create" || exit 1
# A scratch database that cannot be created: a user without CREATEDB,
# who logs in with the password restore_check takes from the environment.
q2 -d postgres -c "alter role $PGBAK_PW_USER nocreatedb" || exit 1
settings "$T/n.yml" "restore_check:
  host: 127.0.0.1
  port: $P2
  user: $PGBAK_PW_USER
  password: \${CHECK_PW}" "" "$(db_yaml "$C" chk/)"
out=$(CHECK_PW=$PGBAK_PW_PASS run pgbak-restore --check -c "$T/n.yml" "$C" 2>"$T/err"); st=$?
is "$st" 111 "a scratch database that cannot be created: exit 111"
is "$(err)" "pgbak-restore: check of $K: unable to create database $SCR: psql exited 1: ERROR:  permission denied to create database" \
	"...one line: psql's error (the password got it that far)"
is "$(scratch_left "$P2")" 0 "...and no scratch database"
out=$(CHECK_PW=wrong run pgbak-restore --check -c "$T/n.yml" "$C" 2>"$T/err"); st=$?
is "$st" 111 "the wrong password: exit 111"
like "$(err)" "password authentication failed for user \"$PGBAK_PW_USER\"" "...psql says so"
out=$(CHECK_PW=$PGBAK_PW_PASS run pgbak-restore -n --check -c "$T/n.yml" "$C" 2>&1)
like "$out" "PGPASSWORD=\*\*\* [^ ]*psql .* -h 127\.0\.0\.1 -p $P2 -U $PGBAK_PW_USER -d $SCR " \
	"-n: psql on the restore_check server, the password as ***"
unlike "$out" "$PGBAK_PW_PASS" "...never the password itself"
q2 -d postgres -c "alter role $PGBAK_PW_USER createdb" || exit 1
out=$(CHECK_PW=$PGBAK_PW_PASS run pgbak-restore --check -c "$T/n.yml" "$C" 2>"$T/err"); st=$?
is "$st" 1 "with CREATEDB the user creates it, but restores as itself: ALTER ... OWNER TO postgres fails, exit 1"
like "$(err)" "check of $K failed: psql exited 3: ERROR: +must be member of role \"postgres\"" "...naming psql"
is "$(scratch_left "$P2")" 0 "...and the scratch database is dropped all the same"
