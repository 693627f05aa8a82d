#!/bin/sh
# encrypt: pg_dump | pgbak-gzip | age -r R... | pgbak-put, keys ending in
# .gz.age.  The object is age's format, not gzip; it restores with the
# identity (age -d -i KEY | gunzip | psql) into an identical database, and
# not with another.  The commit covers the age stage: an age that fails or
# is killed, or a pg_dump that fails while age exits 0, leaves no object and
# no upload.  A missing age stops the run (127) before anything runs.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/0400-run-lib.sh"
command -v age >/dev/null && command -v age-keygen >/dev/null ||
	skip_all "age is not installed; run 'make deps'"
plan 53
need_pg
need_s3

E=enc_$$
psql_q -d postgres -c "create database $E" || exit 1
at_exit "psql -X -q -d postgres -c 'drop database if exists $E'"
psql_q -d "$E" >/dev/null <<'SQL' || exit 1
create table t (id int primary key, s text, b bytea);
insert into t select g, 'Grüße ' || g || ' 日本', decode(md5(g::text), 'hex') from generate_series(1, 20000) g;
insert into t values (0, E'tab\there and quote '' \\ ', '\x00ff'::bytea);
SQL

age-keygen -o "$T/key" 2>/dev/null && age-keygen -o "$T/key2" 2>/dev/null &&
	age-keygen -o "$T/other" 2>/dev/null || exit 1
PUB=$(age-keygen -y "$T/key") PUB2=$(age-keygen -y "$T/key2")
ENC="encrypt:
  age_recipients: [$PUB]"
K=enc/$E-$TODAY.gz.age

# listing: the bucket's keys into $T/keys; listed KEY: KEY was in it.
listing() {
	awsref s3api list-objects-v2 --bucket "$PGBAK_BUCKET" --query 'Contents[].Key' \
		--output text | tr '\t' '\n' >"$T/keys"
}
listed() { grep -qxF -- "$1" "$T/keys"; }
# line_of TEXT KEY: the summary line of KEY.
line_of() { printf '%s\n' "$1" | grep -F -- "$2: "; }
# restore_age KEY IDENTITY: decrypt KEY into a fresh database and compare
# it with $E; exit 0 when identical.
restore_age() {
	_r=r_${E}
	psql_q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $_r" -c "create database $_r" || return 1
	fetch "$1" | age -d -i "$2" | gunzip | psql_q -d "$_r" >/dev/null 2>"$T/restore.err" || {
		diag "restore of $1 failed: $(head -n 3 "$T/restore.err")"
		return 1
	}
	dump_cmp "$E" >"$T/orig.sql" && dump_cmp "$_r" >"$T/back.sql" &&
		cmp -s "$T/orig.sql" "$T/back.sql"
}
at_exit "psql -X -q -d postgres -c 'drop database if exists r_$E'"

# -n: the age stage between pgbak-gzip and pgbak-put, the .gz.age key.
settings "$T/s.yml" "$ENC" "" "$(db_yaml "$E" enc/)"
out=$(run pgbak-run -n "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "-n exits 0"
like "$out" "[^ ]*pgbak-exists --settings-fd 4 -- $K$" "-n: the existence check asks for the .gz.age key"
like "$out" "pg_dump .* \| [^ ]*pgbak-gzip \| [^ ]*/age -r $PUB \| [^ ]*pgbak-put --settings-fd 4 -C 3 --if-absent -- $K$" \
	"-n shows pg_dump | pgbak-gzip | age -r RECIPIENT | pgbak-put KEY.gz.age"
settings "$T/plain.yml" "" "" "$(db_yaml "$E" enc/)"
out=$(run pgbak-run -n "$T/plain.yml" 2>"$T/err")
unlike "$out" "age|\.gz\.age" "-n without encrypt: no age stage, a .gz key"

out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
is "$st" 0 "an encrypted backup: exit 0"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
like "$out" "^$K: dump [0-9]+ B, gzip [0-9]+ B, .*: ok$" "its line names the .gz.age key"
listing
check "the .gz.age object is stored" listed "$K"
! listed "enc/$E-$TODAY.gz"; ok $? "and no .gz object"
is "$(uploads)" None "no multipart upload is left"
is "$(pgbak-name -E enc/ "$E")" "$K" "pgbak-name -E names the same key"

fetch "$K" >"$T/obj"
is "$(head -c 21 "$T/obj")" "age-encryption.org/v1" "the object starts with age's header"
! gunzip -t <"$T/obj" 2>/dev/null; ok $? "it is not gzip"
! grep -q 'Grüße' "$T/obj"; ok $? "no clear text in it"
check "age -d -i KEY | gunzip | psql restores an identical database" restore_age "$K" "$T/key"
age -d -i "$T/other" <"$T/obj" >"$T/other.out" 2>"$T/other.err"; st=$?
[ "$st" -ne 0 ] && [ ! -s "$T/other.out" ]; ok $? "another identity cannot decrypt it"
like "$(cat "$T/other.err")" "no identity matched" "age says no identity matched"

# Daily idempotency on the .gz.age key.
stamp=$(obj_stamp "$K")
tick
out=$(run pgbak-run "$T/s.yml" 2>"$T/err"); st=$?
like "$st: $out" "^0: $K: .*: skipped: already exists$" "a second run skips the .gz.age key"
is "$(obj_stamp "$K")" "$stamp" "the object was not rewritten"
# ...and a plain .gz of the day is not an encrypted backup.
settings "$T/p2.yml" "" "" "$(db_yaml "$E" enc2/)"
settings "$T/e2.yml" "$ENC" "" "$(db_yaml "$E" enc2/)"
quiet run pgbak-run "$T/p2.yml" 2>"$T/err"
out=$(run pgbak-run "$T/e2.yml" 2>"$T/err"); st=$?
like "$st: $out" "^0: enc2/$E-$TODAY.gz.age: .*: ok$" \
	"an unencrypted .gz of the day does not make the encrypted run skip"

# Two recipients, and the globals encrypted too.
settings "$T/two.yml" "encrypt:
  age_recipients: [$PUB, $PUB2]" "" "$(db_yaml "$E" enc3/)
        globals: true"
out=$(run pgbak-run "$T/two.yml" 2>"$T/err"); st=$?
is "$st" 0 "two recipients and globals: exit 0"
like "$(line_of "$out" "enc3/globals-$TODAY.gz.age")" ": ok$" "the globals key ends in .gz.age"
check "the first identity decrypts" restore_age "enc3/$E-$TODAY.gz.age" "$T/key"
check "the second identity decrypts" restore_age "enc3/$E-$TODAY.gz.age" "$T/key2"
fetch "enc3/globals-$TODAY.gz.age" | age -d -i "$T/key2" | gunzip | grep -q '^CREATE ROLE postgres;'
ok $? "the encrypted globals decrypt to pg_dumpall's CREATE ROLE lines"

# Temp-file mode: the file holds age's output, its size is the object's.
mkdir "$T/tmp"
settings "$T/tf.yml" "$ENC
use_temp_file: true
temp_dir: $T/tmp" "" "$(db_yaml "$E" enctf/)"
out=$(run pgbak-run "$T/tf.yml" 2>"$T/err"); st=$?
like "$st: $out" "^0: enctf/$E-$TODAY.gz.age: .*: ok$" "temp-file mode: ok, .gz.age"
[ "$st" -eq 0 ] || diag "$(cat "$T/err")"
check "and it restores" restore_age "enctf/$E-$TODAY.gz.age" "$T/key"
is "$(ls -A "$T/tmp")" "" "temp_dir is empty afterwards"

# Local mode: the file name ends in .gz.age too.
settings "$T/loc.yml" "$ENC
local_dir: $T/local" "enable: false" "$(db_yaml "$E" encl/)"
out=$(run pgbak-run "$T/loc.yml" 2>"$T/err"); st=$?
like "$st: $out" "^0: encl/$E-$TODAY.gz.age: .*: ok$" "local mode: ok, .gz.age"
is "$(cd "$T/local" && find . -type f)" "./encl/$E-$TODAY.gz.age" "one file, named .gz.age"
age -d -i "$T/key" <"$T/local/encl/$E-$TODAY.gz.age" | gunzip -t
ok $? "it decrypts to valid gzip"
out=$(run pgbak-run "$T/loc.yml" 2>"$T/err")
like "$out" "skipped: already exists$" "local mode: the .gz.age file makes the next run skip"

# A failing age: 20 MB (a multipart upload under way) then exit 1.
cat >"$T/badage" <<'EOF'
#!/bin/sh
head -c 20000000 /dev/urandom
echo "age: error: disk on fire" >&2
exit 1
EOF
cat >"$T/killage" <<'EOF'
#!/bin/sh
head -c 20000000 /dev/urandom
kill -KILL $$
EOF
printf '#!/bin/sh\nexec age "$@"\n' >"$T/goodage"
chmod 755 "$T/badage" "$T/killage" "$T/goodage"
# fail_case NAME AGE REASON
fail_case() {
	settings "$T/$1.yml" "$ENC
  age: $2" "" "$(db_yaml "$E" "bad/$1/")"
	out=$(run pgbak-run "$T/$1.yml" 2>"$T/$1.err"); st=$?
	is "$st" 111 "$1: exit 111"
	like "$out" "^bad/$1/$E-$TODAY.gz.age: .*: failed: $3" "$1: the reason names age"
	listing
	! listed "bad/$1/$E-$TODAY.gz.age"; ok $? "$1: no object"
	is "$(uploads)" None "$1: no multipart upload left"
}
fail_case badage "$T/badage" "age exited 1: age: error: disk on fire"
like "$(cat "$T/badage.err")" "disk on fire" "badage: age's stderr is reported"
fail_case killage "$T/killage" "age killed by SIGKILL"
settings "$T/good.yml" "$ENC
  age: $T/goodage" "" "$(db_yaml "$E" good/)"
out=$(run pgbak-run "$T/good.yml" 2>"$T/err"); st=$?
like "$st: $out" "^0: good/$E-$TODAY.gz.age: .*: ok$" "the negative twin: a wrapper that runs age works"

# pg_dump fails half-way; age sees an ordinary end of input and exits 0
# with a valid file: the commit must still not be written.
fake_pg_dump "$T/half" none "head -c 20000000 /dev/urandom; echo 'pg_dump: error: half-way' >&2; exit 1"
settings "$T/half.yml" "$ENC
pg_dump: $T/half" "" "$(db_yaml "$E" bad/half/)"
out=$(run pgbak-run "$T/half.yml" 2>"$T/err"); st=$?
like "$st: $out" "^111: bad/half/$E-$TODAY.gz.age: .*: failed: pg_dump exited 1: pg_dump: error: half-way$" \
	"pg_dump failing before a successful age: exit 111, pg_dump named"
listing
! listed "bad/half/$E-$TODAY.gz.age"; ok $? "no object"
is "$(uploads)" None "no multipart upload left"

# No age: 127 before anything runs.
printf '#!/bin/sh\ntouch "%s/ran"\nexec "%s" "$@"\n' "$T" "$REAL_PG_DUMP" >"$T/spy"
chmod 755 "$T/spy"
settings "$T/noage.yml" "$ENC
  age: $T/nosuch/age
pg_dump: $T/spy" "" "$(db_yaml "$E" noage/)"
out=$(run pgbak-run "$T/noage.yml" 2>"$T/err"); st=$?
is "$st" 127 "encrypt.age that does not exist: exit 127"
like "$(cat "$T/err")" "age not found .*install the age package or set encrypt\.age" \
	"the message says what to do"
[ ! -e "$T/ran" ] && [ -z "$out" ]; ok $? "nothing ran, no summary line"
mkdir "$T/empty"
settings "$T/nopath.yml" "$ENC
pg_dump: $T/spy" "" "$(db_yaml "$E" noage/)"
env PATH="$T/empty" "$PGBAK_BUILD/pgbak-run" "$T/nopath.yml" >"$T/out" 2>"$T/err"; st=$?
like "$st: $(cat "$T/err")" "^127: .*age not found" "no age in PATH: exit 127"
[ ! -e "$T/ran" ]; ok $? "nothing ran"
listing
! grep -q '^noage/' "$T/keys"; ok $? "nothing stored"
settings "$T/withpath.yml" "$ENC
pg_dump: $T/spy" "" "$(db_yaml "$E" noage/)"
env PATH="$(dirname "$(command -v age)")" "$PGBAK_BUILD/pgbak-run" "$T/withpath.yml" \
	>"$T/out" 2>"$T/err"; st=$?
[ "$st" -eq 0 ] && [ -e "$T/ran" ]; ok $? "the negative twin: with age in PATH it runs"

# A secret identity pasted as a recipient is refused and not shown.
SECRET=$(grep '^AGE-SECRET-KEY-' "$T/other")
settings "$T/secret.yml" "encrypt:
  age_recipients: [$PUB, $SECRET]" "" "$(db_yaml "$E" secret/)"
out=$(run pgbak-run -n "$T/secret.yml" 2>"$T/err"); st=$?
like "$st: $(cat "$T/err")" "^100: .*age_recipients\[1\] is not an age public key.*secret identity" \
	"an identity among the recipients: exit 100"
! grep -qF -- "$SECRET" "$T/err" && [ -z "$out" ]; ok $? "the identity is not shown"
