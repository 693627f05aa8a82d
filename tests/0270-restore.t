#!/bin/sh
# pgbak-restore: pgbak-get | [age -d] | gzip -d | relay | psql, every stage
# checked.  Round trips of a plain, a globals+database and an age-encrypted
# backup made by pgbak-run: pg_dump of source and target identical.  Each
# failure names its stage and leaves the target for inspection: a wrong age
# identity (age), a damaged object (gzip -d), psql stopping half-way on a
# missing role (psql), a stopped server (psql).  The target is refused when
# it is the source, or exists and is not empty, unless --force.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
command -v age >/dev/null && command -v age-keygen >/dev/null ||
	skip_all "age is not installed; run 'make deps'"
plan 51
need_pg
need_s3
# err: the test's stderr without valgrind's own notes ("--PID-- WARNING:
# unhandled syscall"); an error valgrind finds shows as exit 99 all the same.

S=rs_$$ ROLE=rs_reader_$$
# drop DB...: at exit, the databases a test made
drop_at_exit() { for _d in "$@"; do at_exit "psql -X -q -d postgres -c 'drop database if exists $_d'"; done; }
at_exit "psql -X -q -d postgres -c 'drop role if exists $ROLE'"
psql_q -d postgres -c "create role $ROLE nologin" -c "create database $S" || exit 1
drop_at_exit "$S"
psql_q -d "$S" >/dev/null <<SQL || exit 1
create table t (id serial primary key, s text, b bytea);
insert into t (s, b) select 'Grüße ' || g || E' tab\there', decode(md5(g::text), 'hex') from generate_series(1, 20000) g;
insert into t (s) values (E'back\\\\slash and \\\\. and a\nnewline');
create table "Mixed Case" ("x y" int);
insert into "Mixed Case" values (1), (2);
create table empty (a int);
grant select on t to $ROLE;
select lo_from_bytea(0, 'a large object');
SQL
dump_cmp "$S" >"$T/source.sql" || exit 1

settings "$T/s.yml" "" "" "$(db_yaml "$S" rs/)
        globals: true"
out=$(pgbak-run "$T/s.yml" 2>&1) || { diag "$out"; exit 1; }
K=rs/$S-$TODAY.gz G=rs/globals-$TODAY.gz

# -n: the pipeline as it would run, nothing restored.
out=$(run pgbak-restore -n -c "$T/s.yml" --into rs_none_$$ "$S" 2>"$T/err"); st=$?
is "$st" 0 "-n exits 0"
like "$out" "^[^ ]*pgbak-get --settings-fd 4 -- $K \| [^ ]*gzip -d -c \| [^ ]*pgbak-restore --relay \| [^ ]*psql -X -q -v ON_ERROR_STOP=1 -h 127\.0\.0\.1 -p $PGPORT -U postgres -d rs_none_$$ --no-password$" \
	"-n shows pgbak-get | gzip -d | relay | psql with ON_ERROR_STOP"
is "$(psql -X -At -d postgres -c "select count(*) from pg_database where datname = 'rs_none_$$'")" 0 \
	"-n created no database"
out=$(run pgbak-restore -n --globals -c "$T/s.yml" --into rs_none_$$ "$S" 2>"$T/err")
like "$(printf '%s\n' "$out" | head -n 1)" "pgbak-get --settings-fd 4 -- $G \| .*pgbak-restore --relay --globals \| " \
	"-n --globals: the globals object first, its relay with --globals"

# A plain round trip into a new database.
R=rs_into_$$
drop_at_exit "$R"
out=$(run pgbak-restore -c "$T/s.yml" --into "$R" "$S" 2>"$T/err"); st=$?
is "$st" 0 "pgbak-restore --into NEWDB exits 0"
[ "$st" -eq 0 ] || diag "$(err)"
like "$out" "^restored $K into $R: [0-9.]+ [kMG]?B \([0-9.]+ [kMG]?B of SQL\) in [0-9.]+s, [0-9.]+ [kMG]?B/s$" \
	"one summary line: bytes, SQL bytes, time, rate"
dump_cmp "$R" >"$T/back.sql"
check "pg_dump of source and target are identical" cmp -s "$T/source.sql" "$T/back.sql"
is "$(psql -X -At -d "$R" -c 'select count(*) from pg_largeobject_metadata')" 1 "the large object came back"

# Progress on a terminal only: script(1) gives the restore one.
TT=rs_tty_$$
drop_at_exit "$TT"
script -qec "pgbak-restore -c '$T/s.yml' --into $TT $S" /dev/null >"$T/tty.out" 2>&1; st=$?
is "$st" 0 "a restore on a terminal exits 0"
grep -q 'of SQL restored so far' "$T/tty.out"; ok $? "...showing the SQL bytes restored so far"
! grep -q 'restored so far' "$T/err"; ok $? "...which the restore without a terminal did not"

# The target is refused: the existing non-empty one, and the source.
out=$(run pgbak-restore -c "$T/s.yml" --into "$R" "$S" 2>"$T/err"); st=$?
is "$st" 100 "--into an existing non-empty database: refused, exit 100"
like "$(err)" "refusing to restore into database $R: it exists and holds [0-9]+ relations \(--force" \
	"...saying why and what overrides it"
out=$(run pgbak-restore -c "$T/s.yml" "$S" 2>"$T/err"); st=$?
is "$st" 100 "over the source database: refused, exit 100"
like "$(err)" "refusing to restore over the source database $S" "...saying so"
dump_cmp "$S" >"$T/now.sql"
check "the source is untouched" cmp -s "$T/source.sql" "$T/now.sql"
# ...and accepted: an existing empty database; the source once it is gone.
E=rs_empty_$$
drop_at_exit "$E"
psql_q -d postgres -c "create database $E" || exit 1
out=$(run pgbak-restore -c "$T/s.yml" --into "$E" "$S" 2>"$T/err"); st=$?
is "$st" 0 "--into an existing empty database is restored into"
out=$(run pgbak-restore -c "$T/s.yml" --force --into "$E" "$S" 2>"$T/err"); st=$?
is "$st" 111 "--force into the non-empty one: psql fails on the objects already there"
like "$(err)" "restore of $K into $E failed: psql exited 3: .*already exists; the database is left as it is, for inspection" \
	"...and says psql failed and the database is left"

# -D picks the day; a day without a backup is no backup.
out=$(run pgbak-restore -c "$T/s.yml" -D 2000-01-01 --into rs_none_$$ "$S" 2>"$T/err"); st=$?
is "$st" 111 "-D a day without a backup: exit 111"
like "$(err)" "no backup of $S of 20000101 in s3://$PGBAK_BUCKET/rs/$S-\*" "...naming what was looked for"
R2=rs_date_$$
drop_at_exit "$R2"
out=$(run pgbak-restore -c "$T/s.yml" -D "$TODAY" --into "$R2" "$S" 2>"$T/err"); st=$?
is "$st" 0 "-D TODAY restores today's backup"
out=$(run pgbak-restore -c "$T/s.yml" -D 2025-02-30 "$S" 2>"$T/err"); st=$?
is "$st" 100 "-D a date that does not exist: usage error"

# psql failing half-way: the role the dump grants to is gone.
psql_q -d postgres -c "drop database $R" -c "drop database $E" -c "drop database $R2" -c "drop database $TT" || exit 1
psql_q -d "$S" -c "revoke select on t from $ROLE" && psql_q -d postgres -c "drop role $ROLE" || exit 1
H=rs_half_$$
drop_at_exit "$H"
out=$(run pgbak-restore -c "$T/s.yml" --into "$H" "$S" 2>"$T/err"); st=$?
is "$st" 111 "a missing role: exit 111"
like "$(err)" "restore of $K into $H failed: psql exited 3: (psql:<stdin>:[0-9]+: )?ERROR: +role \"$ROLE\" does not exist; the database is left as it is, for inspection" \
	"...psql named as the culprit, with its error, the database left"
is "$(psql -X -At -d "$H" -c 'select count(*) from t')" 20001 "the target is left with what was restored before"
is "$(lines "$(err)")" 1 "one line"
# --globals restores the role first; the roles that exist are no error.
GR=rs_glob_$$
drop_at_exit "$GR"
out=$(run pgbak-restore -c "$T/s.yml" --globals --into "$GR" "$S" 2>"$T/err"); st=$?
is "$st" 0 "--globals then the database: exit 0 (postgres and others already exist)"
[ "$st" -eq 0 ] || diag "$(err)"
is "$(psql -X -At -d postgres -c "select count(*) from pg_roles where rolname = '$ROLE'")" 1 \
	"--globals brought the role back"
dump_cmp "$GR" >"$T/back.sql"
check "pg_dump of the source (as backed up) and the target are identical" cmp -s "$T/source.sql" "$T/back.sql"
# ...but another error of the globals is one: a role name the server refuses.
fetch "$G" | gunzip >"$T/g.sql"
printf 'CREATE ROLE pg_bad_%s;\n' $$ >>"$T/g.sql"
printf -- '--\n-- PostgreSQL database cluster dump complete\n--\n\n' >>"$T/g.sql"
gzip -c "$T/g.sql" >"$T/g.gz"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$G" --body "$T/g.gz" >/dev/null || exit 1
GB=rs_globbad_$$
drop_at_exit "$GB"
out=$(run pgbak-restore -c "$T/s.yml" --globals --into "$GB" "$S" 2>"$T/err"); st=$?
is "$st" 111 "--globals: an error other than 'already exists' fails the run"
like "$(err)" "restore of $G failed: psql exited 3: .*ERROR: +role name \"pg_bad_$$\" is reserved" \
	"...naming psql and the error"

# A damaged object: gzip -d is the culprit.
fetch "$K" >"$T/good.gz"
size=$(wc -c <"$T/good.gz")
cp "$T/good.gz" "$T/bad.gz"
printf 'XXXXXXXXXXXXXXXX' | dd of="$T/bad.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$K" --body "$T/bad.gz" >/dev/null || exit 1
D=rs_damaged_$$
drop_at_exit "$D"
out=$(run pgbak-restore -c "$T/s.yml" --into "$D" "$S" 2>"$T/err"); st=$?
is "$st" 111 "a damaged object: exit 111"
like "$(err)" "restore of $K into $D failed: gzip -d exited 1: .*; the database is left as it is, for inspection" \
	"...gzip -d named as the culprit"
unlike "$(err)" "psql exited|pgbak-get exited" "...not psql nor pgbak-get"
is "$(psql -X -At -d postgres -c "select count(*) from pg_database where datname = '$D'")" 1 \
	"...and the target is left for inspection"
# Truncated: the gzip stream stops early.
head -c $((size - 100)) "$T/good.gz" >"$T/short.gz"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$K" --body "$T/short.gz" >/dev/null || exit 1
D2=rs_trunc_$$
drop_at_exit "$D2"
out=$(run pgbak-restore -c "$T/s.yml" --into "$D2" "$S" 2>"$T/err"); st=$?
is "$st" 111 "a truncated object: exit 111"
like "$(err)" "failed: gzip -d exited 1: .*unexpected end of file" "...gzip -d says the end is missing"
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "$K" --body "$T/good.gz" >/dev/null || exit 1

# A stopped server: nothing listens on the port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=$(run pgbak-restore -c "$T/s.yml" --port "$port" --into rs_none_$$ "$S" 2>"$T/err"); st=$?
is "$st" 111 "a stopped server: exit 111"
like "$(err)" "unable to look for database rs_none_$$: psql exited 2: .*(Connection refused|connection to server)" \
	"...psql says it cannot connect"

# The encrypted backup: age -d with the identity; a wrong one names age.
age-keygen -o "$T/key" 2>/dev/null && age-keygen -o "$T/other" 2>/dev/null || exit 1
PUB=$(age-keygen -y "$T/key")
settings "$T/e.yml" "encrypt:
  age_recipients: [$PUB]" "" "$(db_yaml "$S" enc/)"
out=$(pgbak-run "$T/e.yml" 2>&1) || { diag "$out"; exit 1; }
KE=enc/$S-$TODAY.gz.age
out=$(run pgbak-restore -c "$T/e.yml" --into rs_none_$$ "$S" 2>"$T/err"); st=$?
is "$st" 100 "an encrypted backup without -i: usage error"
like "$(err)" "encrypted \(\.gz\.age\): -i IDENTITY" "...saying -i is needed"
out=$(run pgbak-restore -n -c "$T/e.yml" -i "$T/key" --into rs_none_$$ "$S" 2>"$T/err")
like "$out" "pgbak-get --settings-fd 4 -- $KE \| [^ ]*age -d -i $T/key \| [^ ]*gzip -d -c \| " \
	"-n: the age stage between pgbak-get and gzip -d"
W=rs_wrongkey_$$
drop_at_exit "$W"
out=$(run pgbak-restore -c "$T/e.yml" -i "$T/other" --into "$W" "$S" 2>"$T/err"); st=$?
is "$st" 111 "a wrong identity: exit 111"
like "$(err)" "restore of $KE into $W failed: age exited 1: .*no identity matched" "...age named as the culprit"
A=rs_age_$$
drop_at_exit "$A"
out=$(run pgbak-restore -c "$T/e.yml" -i "$T/key" --into "$A" "$S" 2>"$T/err"); st=$?
is "$st" 0 "the right identity: exit 0"
[ "$st" -eq 0 ] || diag "$(err)"
like "$out" "^restored $KE into $A: " "...the summary names the .gz.age key"
# the source changed since (revoke): compare with it as it is now
dump_cmp "$S" >"$T/now.sql"
dump_cmp "$A" >"$T/back.sql"
check "pg_dump of source and decrypted target are identical" cmp -s "$T/now.sql" "$T/back.sql"

# The password goes to psql in its environment, never in argv.
settings "$T/p.yml" "" "" "$(db_yaml "$S" rs/ postgres 'pw-in-env-S3cret')"
out=$(run pgbak-restore -n -c "$T/p.yml" --into rs_none_$$ "$S" 2>&1)
like "$out" "\| PGPASSWORD=\*\*\* [^ ]*psql " "-n shows PGPASSWORD=*** before psql"
unlike "$out" "pw-in-env-S3cret" "...and never the password"
is "$(run pgbak-restore -n -c "$T/s.yml" --into rs_none_$$ "$S" 2>&1 | grep -c PGPASSWORD)" 0 \
	"...and no PGPASSWORD when the entry has none"
