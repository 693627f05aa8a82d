#!/bin/sh
# The systemd units in contrib/ are valid: systemd-analyze verify accepts
# them without a word (pointed at the built pgbak-run), and the same check
# does complain about a broken unit.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip_all "systemd-analyze not installed"
plan 4
mkdir -p "$T/units"
sed "s|/usr/local/bin/pgbak-run|$PGBAK_BUILD/pgbak-run|" \
	"$SRC_DIR/contrib/systemd/pgbak.service" >"$T/units/pgbak.service"
cp "$SRC_DIR/contrib/systemd/pgbak.timer" "$T/units/pgbak.timer"
out=$(systemd-analyze verify --man=no "$T/units/pgbak.service" "$T/units/pgbak.timer" 2>&1)
ok $? "systemd-analyze verify accepts pgbak.service and pgbak.timer"
is "$out" "" "... and has nothing to warn about"

sed 's/^Type=oneshot/Type=oneshot\nBogusKey=1/; s|^ExecStart=.*|ExecStart=/nonexistent/pgbak-run|' \
	"$T/units/pgbak.service" >"$T/units/broken.service"
out=$(systemd-analyze verify --man=no "$T/units/broken.service" 2>&1)
[ $? -ne 0 ]; ok $? "a unit whose program does not exist is refused"
like "$out" "Unknown key 'BogusKey'" "an unknown key is reported"
