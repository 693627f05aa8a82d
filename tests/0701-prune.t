#!/bin/sh
# pgbak-prune against the RGW: 40 days of fake-dated backups keep exactly
# what the policy says, nothing else under the prefix is ever touched, a
# dry run deletes nothing, no policy is refused, and -c prunes each
# database of a settings file by its own retention.
. "$(dirname "$0")/lib.sh"
plan 47
need_s3
. "$TESTS_DIR/0700-prune-lib.sh"

# The series of database "app" under db/app/app: Dec 15 2024 .. Jan 23 2025
# (40 days, .gz) and two encrypted ones (.gz.age) of Nov 1 and Oct 20 2024.
# Judged on Thu Jan 23 2025 with keep_daily 7, keep_weekly 4, keep_monthly 3:
#   daily    Jan 17 .. Jan 23
#   weekly   ISO W04 (Jan 20-26): Jan 23; W03 (13-19): Jan 19; W02 (6-12):
#            Jan 12; W01 (Mon Dec 30 - Sun Jan 5): Jan 5
#   monthly  Jan: Jan 23; Dec: Dec 31; Nov: Nov 1 (.gz.age); Oct is the 4th
# so 11 stay and the 31 others go (Oct 20 .gz.age among them).
{
	days 20241215 20250123 db/app/app- .gz
	echo db/app/app-20241101.gz.age
	echo db/app/app-20241020.gz.age
} | sort >"$T/series"
{
	echo db/app/app-20241101.gz.age
	echo db/app/app-20241231.gz
	echo db/app/app-20250105.gz
	echo db/app/app-20250112.gz
	days 20250117 20250123 db/app/app- .gz
} | sort >"$T/kept"
comm -23 "$T/series" "$T/kept" >"$T/gone"
is "$(wc -l <"$T/series" | tr -d ' ') $(wc -l <"$T/kept" | tr -d ' ') $(wc -l <"$T/gone" | tr -d ' ')" \
	"42 11 31" "42 backups: 11 to keep, 31 to delete"

# Keys that look like backups of app, or sit next to them, and are not.
cat >"$T/decoys" <<'EOF'
db/app/app-20250101.gz.bak
db/app/app-20250101.gz/extra
db/app/app-20250101.gz.age.tmp
db/app/app-20250101.gz.age.age
db/app/app-20250101.GZ
db/app/app-20250101x.gz
db/app/app-2025010.gz
db/app/app-202501011.gz
db/app/app-20251301.gz
db/app/app-20250230.gz
db/app/app-00000101.gz
db/app/app-2-20250101.gz
db/app/app--20250101.gz
db/app/app-20250101
db/app/other-20250101.gz
db/app/xapp-20250101.gz
db/app/App-20250101.gz
db/app/sub/app-20250101.gz
db/app-20250101.gz
db/app/app-2025-01-01.gz
EOF
sort -o "$T/decoys" "$T/decoys"
# and the backups of the databases of the settings file used at the end
{
	days 20250101 20250103 cfg/a/app2- .gz
	days 20250101 20250103 cfg/b/app3- .gz
	days 20250101 20250103 cfg/c/app4- .gz
} >"$T/cfg-keys"
cat "$T/series" "$T/decoys" "$T/cfg-keys" | put_keys
sort "$T/series" "$T/decoys" >"$T/all"
is "$(keys_under db/)" "$(cat "$T/all")" "62 objects stored (42 backups, 20 decoys)"

POLICY="--keep-daily 7 --keep-weekly 4 --keep-monthly 3 --today 20250123"

# No policy: refused before anything is listed.
run pgbak-prune db/app/app >"$T/out" 2>"$T/err"
is $? 100 "no --keep-* option: exit 100"
is "$(cat "$T/err")" "pgbak-prune: no retention policy: give --keep-days, --keep-daily, --keep-weekly or --keep-monthly" \
	"...saying which options give one"
is "$(keys_under db/)" "$(cat "$T/all")" "...nothing deleted"

# The dry run: the plan, and nothing deleted.
run pgbak-prune -n $POLICY db/app/app >"$T/plan" 2>"$T/err"
is $? 0 "--dry-run: exit 0"
is "$(cat "$T/err")" "" "...nothing on stderr"
is "$(wc -l <"$T/plan" | tr -d ' ')" 42 "...one line per backup, 42"
is "$(sed -n 's/^delete //p' "$T/plan" | sort)" "$(cat "$T/gone")" "...'delete' exactly the 31"
is "$(sed -n 's/^keep \([^ ]*\) .*/\1/p' "$T/plan" | sort)" "$(cat "$T/kept")" \
	"...'keep' exactly the 11"
is "$(head -n 1 "$T/plan")" "delete db/app/app-20241020.gz.age" "...oldest first"
is "$(tail -n 1 "$T/plan")" "keep db/app/app-20250123.gz (newest, daily, weekly, monthly)" \
	"...today's kept for every reason"
like "$(cat "$T/plan")" "keep db/app/app-20241101.gz.age \(monthly\)
" "...Nov 1 (.gz.age) kept as monthly"
like "$(cat "$T/plan")" "keep db/app/app-20250105.gz \(weekly\)
" "...Jan 5 kept as the newest of the week of Jan 1"
like "$(cat "$T/plan")" "keep db/app/app-20241231.gz \(monthly\)
" "...Dec 31 kept as monthly, not weekly (its week ends Jan 5)"
unlike "$(cat "$T/plan")" "other|xapp|App-|app-2-|app--|\.bak|\.tmp|\.GZ|/sub/|/extra|2025010\.|20251301|20250230|00000101|age\.age|x\.gz|2025-01|app-20250101$" \
	"...no decoy in the plan"
is "$(keys_under db/)" "$(cat "$T/all")" "...and nothing deleted"

# The real run: the 31 go, the 11 and every decoy stay.
run pgbak-prune $POLICY db/app/app >"$T/out" 2>"$T/err"
is $? 0 "prune: exit 0"
is "$(cat "$T/out")$(cat "$T/err")" "" "...silent without -v"
is "$(keys_under db/)" "$(sort "$T/kept" "$T/decoys")" \
	"...exactly the 11 kept backups and the 20 decoys remain"

# Again: nothing more to delete.
run pgbak-prune -v $POLICY db/app/app >"$T/out" 2>"$T/err"
is $? 0 "a second run: exit 0"
is "$(grep -c '^delete' "$T/out")" 0 "...deletes nothing"
is "$(grep -c '^keep' "$T/out")" 11 "...keeps the 11"
is "$(sans_creds "$T/err")" "pgbak-prune: db/app/app: kept 11, deleted 0" "...-v says so on stderr"
is "$(keys_under db/)" "$(sort "$T/kept" "$T/decoys")" "...and the bucket is unchanged"

# A key names its series, and must exist.
run pgbak-prune --keep-days 1 --today 20250123 db/app/app-20250124.gz >"$T/out" 2>"$T/err"
is $? 1 "the key of a backup not in the bucket: exit 1"
is "$(cat "$T/err")" "pgbak-prune: db/app/app-20250124.gz is not in s3://$PGBAK_BUCKET/: nothing pruned" \
	"...saying nothing was pruned"
is "$(keys_under db/)" "$(sort "$T/kept" "$T/decoys")" "...and nothing was"
run pgbak-prune -n --keep-days 1 --today 20250123 db/app/app-20241101.gz.age >"$T/out"
is $? 0 "the key of a .gz.age backup names the same series"
is "$(wc -l <"$T/out" | tr -d ' ')" 11 "...its 11 backups judged"

# Usage errors: exit 100, nothing deleted.
bad=
for args in "db/app/" "db//app/app-20250123.gz" "--keep-daily 0 db/app/app" \
	"--keep-daily 100001 db/app/app" "--keep-weekly x db/app/app" "--today 20250230 db/app/app" \
	"" "--keep-days 1 db/../app" "--keep-days 1 --no-such db/app/app"; do
	run pgbak-prune $([ "$args" = "${args#--keep}" ] && echo --keep-days 1) $args \
		>/dev/null 2>"$T/err"
	rc=$?
	[ $rc -eq 100 ] && [ "$(wc -l <"$T/err")" -eq 1 ] || bad="$bad [$args: $rc]"
done
is "$bad" "" "a directory prefix, a key pgbak would not name, bad numbers or dates: 100, one line"
run pgbak-prune --keep-days 1 db/app/ 2>&1 | grep -q "names a directory: give the prefix with the basename (db/app/DATABASE)"
ok $? "...the directory prefix is told how to name the series"
is "$(keys_under db/)" "$(sort "$T/kept" "$T/decoys")" "...and nothing was deleted"

# -c: each database by its retention (the task's, or its own).
cat >"$T/settings.yml" <<EOF
tasks:
  postgres:
    retention: { keep_daily: 1 }
    s3:
      endpoint: "$AWS_ENDPOINT_URL"
      bucket: "$PGBAK_BUCKET"
    dbs:
      - database: app2
        backup_file_prefix: cfg/a/
      - database: app3
        backup_file_prefix: cfg/b/app3
        retention: {}
      - database: app4
        backup_file_prefix: cfg/c/
        retention: { keep_days: 2 }
EOF
run pgbak-prune -c "$T/settings.yml" -n --today 20250103 >"$T/plan" 2>"$T/err"
is $? 0 "-c --dry-run: exit 0"
is "$(cat "$T/plan")" "delete cfg/a/app2-20250101.gz
delete cfg/a/app2-20250102.gz
keep cfg/a/app2-20250103.gz (newest, daily)
delete cfg/c/app4-20250101.gz
keep cfg/c/app4-20250102.gz (days)
keep cfg/c/app4-20250103.gz (newest, days)" "...the task's policy for app2, its own for app4, none for app3"
is "$(keys_under cfg/ | wc -l | tr -d ' ')" 9 "...nothing deleted"
run pgbak-prune -c "$T/settings.yml" --today 20250103
is $? 0 "-c: exit 0"
is "$(keys_under cfg/)" "cfg/a/app2-20250103.gz
cfg/b/app3-20250101.gz
cfg/b/app3-20250102.gz
cfg/b/app3-20250103.gz
cfg/c/app4-20250102.gz
cfg/c/app4-20250103.gz" "...app2 keeps its newest, app4 two days, app3 (retention: {}) all"

run pgbak-prune -c "$T/settings.yml" app3 2>"$T/err"
is $? 100 "-c naming a database without a policy: exit 100"
like "$(cat "$T/err")" "app3 has no retention policy" "...saying so"
run pgbak-prune -c "$T/settings.yml" nosuch 2>"$T/err"
is $? 100 "-c naming a database the settings lack: exit 100"
run pgbak-prune -c "$T/settings.yml" --keep-days 1 --today 20250103 app4
is $? 0 "-c with --keep-days 1 for app4: the option wins"
is "$(keys_under cfg/c/)" "cfg/c/app4-20250103.gz" "...app4 keeps today's only"
run pgbak-prune -c "$T/settings.yml" --keep-days 1 --today 20250103 cfg/b/app3-20250103.gz
is $? 0 "-c with a key selects its database (app3), --keep-days 1 as its policy"
is "$(keys_under cfg/b/)" "cfg/b/app3-20250103.gz" "...app3 keeps today's only"

sed '/retention/d' "$T/settings.yml" >"$T/none.yml"
run pgbak-prune -c "$T/none.yml" 2>"$T/err"
is $? 100 "-c, no database with a policy: exit 100"
is "$(cat "$T/err")" "pgbak-prune: $T/none.yml: no retention policy: give keep_days, keep_daily, keep_weekly or keep_monthly" \
	"...naming the settings keys"
