#!/bin/sh
# A settings file its group or others can write draws a warning from
# pgbak-run (whoever writes it chooses the pg_dump that runs), with the
# fix; a file only its owner can write does not, secret or not.  The run
# goes on either way.
. "$(dirname "$0")/lib.sh"
plan 14

cat >"$T/s.yml" <<'EOF'
tasks:
  postgres:
    s3:
      enable: false
    dbs:
      - database: appdb
EOF
cp "$T/s.yml" "$T/secret.yml"
printf '        password: "hunter2-%s"\n' $$ >>"$T/secret.yml"
W="can be written by others: chmod go-w"

# load MODE FILE: pgbak-run -n FILE with FILE in MODE; sets $rc and $err.
load() {
	chmod "$1" "$2"
	run pgbak-run -n "$2" >/dev/null 2>"$T/err"; rc=$?
	err=$(cat "$T/err")
}

load 620 "$T/s.yml"
is "$rc" 0 "group-writable: the dry run still goes on"
is "$err" "pgbak-run: $T/s.yml $W $T/s.yml" "...with one warning naming the file and the fix"
load 602 "$T/s.yml"
is "$err" "pgbak-run: $T/s.yml $W $T/s.yml" "writable by others: the same warning"
load 666 "$T/s.yml"
like "$err" "$W" "writable by all: warned"
unlike "$err" "others can read it" "...but no secret, so no word about reading"

# Negative twins: only the owner writes.
load 644 "$T/s.yml"
is "$rc:$err" "0:" "mode 644 (readable, no secret): no warning"
load 600 "$T/s.yml"
is "$rc:$err" "0:" "mode 600: no warning"
load 400 "$T/s.yml"
is "$rc:$err" "0:" "mode 400: no warning"
chmod 666 "$T/s.yml"
chmod go-w "$T/s.yml"
load "$(stat -c %a "$T/s.yml")" "$T/s.yml"
is "$rc:$err" "0:" "after the advised chmod go-w: no warning"

# With a literal secret: both warnings, each on its line, no secret shown.
load 660 "$T/secret.yml"
is "$rc" 0 "group-writable with a secret: the dry run still goes on"
like "$err" "holds a password or secret and others can read it" "...warned about reading"
like "$err" "$W" "...and about writing"
is "$(lines "$err")" 2 "...two lines"
unlike "$err" "hunter2" "...the secret is not shown"
