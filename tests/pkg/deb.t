#!/bin/sh
# The Debian package (issue 19), installed on this machine with apt-get:
# its programs and man pages work from /usr, the pgbak system user exists,
# /etc/pgbak/settings.yml is a conffile, root:pgbak 0640, readable by
# pgbak and nobody else, and disabled until edited; the units are
# installed and nothing is enabled.  apt-get purge then leaves no file of
# it behind, enabled timer included; the pgbak user stays, as Debian policy
# leaves system users (9.2.2).  make deb-test builds the .deb and runs this
# as root; it is not part of make check, which must not install packages.
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "not root"
[ -f "${PGBAK_DEB:-}" ] || skip_all "PGBAK_DEB is not a .deb (make deb-test sets it)"
if dpkg-query -W -f='${Status}' pgbak 2>/dev/null | grep -q 'ok installed'; then
	skip_all "a pgbak package is installed already; not replacing it"
fi
plan 30
export DEBIAN_FRONTEND=noninteractive
# Other apt-gets on this machine hold dpkg's lock for a while; wait for it.
APT="apt-get -o DPkg::Lock::Timeout=600 -y -q"
S=/etc/pgbak/settings.yml
UNITS=/lib/systemd/system

# pkgfiles: every path with "pgbak" in its name where a package installs
# or leaves files; not under /var/lib/containers (images others build
# here), /var/tmp or apt's cache of downloaded .debs.  -H: /lib may be a
# link to /usr/lib.
pkgfiles() {
	find -H /etc /usr /lib /var /opt /srv -xdev \( -path /var/lib/containers \
		-o -path /var/tmp -o -path /var/cache/apt \) -prune -o -name '*pgbak*' -print \
		2>/dev/null | sort -u
}
pkgfiles >"$T/before"
at_exit "$APT purge pgbak"

$APT install --no-install-recommends "$PGBAK_DEB" >"$T/install.log" 2>&1
r=$?; ok $r "apt-get install the .deb"
[ $r -eq 0 ] || diag "$(tail -n 20 "$T/install.log")"
like "$(dpkg-query -W -f='${Status} ${Version}' pgbak)" "^install ok installed [0-9]" \
	"dpkg knows it installed"
like "$(/usr/bin/pgbak-run --version)" "^pgbak-run \(pgbak\) [0-9]" "/usr/bin/pgbak-run --version"
is "$(man -w pgbak-run)" /usr/share/man/man8/pgbak-run.8.gz "man -w pgbak-run finds its page"
like "$(man -w pgbak.yaml)" "man5/pgbak.yaml.5" "... and pgbak.yaml(5)'s"

uid=$(id -u pgbak 2>/dev/null)
[ -n "$uid" ] && [ "$uid" -lt 1000 ]
ok $? "pgbak is a system user (uid ${uid:-none})"
is "$(stat -c '%U:%G %a' $S)" "root:pgbak 640" "$S is root:pgbak 0640"
like "$(dpkg-query -W -f='${Conffiles}' pgbak)" "$S " "... and a conffile"
# The example names ${PGBAK_DB_PASSWORD} and the AWS keys, which
# pgbak-run reads before it looks at enable; the unit would take them from
# /etc/pgbak/environment.
out=$(PGBAK_DB_PASSWORD=x AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
	runuser -u pgbak -- /usr/bin/pgbak-run $S 2>&1)
ok $? "pgbak-run as pgbak reads it and exits 0"
like "$out" "enable is false: nothing to do" "... doing nothing until it is edited"
fails "... and not telling the admin to chmod 600 it" grep -q 'chmod 600' $S
fails "user nobody cannot read it" runuser -u nobody -- cat $S 2>/dev/null

# An upgrade whose example changed replaces the unedited file with the
# same owner and mode; an edit the admin made is kept through the next one
# (here the downgrade back), owner and mode too.
# The newer package is this one repacked with one line added to the example.
dpkg-deb -R "$PGBAK_DEB" "$T/up" &&
	sed -i 's/^Version: .*/&+up1/' "$T/up/DEBIAN/control" &&
	echo '# the next version' >>"$T/up$S" &&
	(cd "$T/up" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' |
		sort | xargs md5sum >DEBIAN/md5sums) &&
	dpkg-deb --root-owner-group -b "$T/up" "$T/up.deb" >/dev/null
ok $? "a newer package, its example changed"
# upgrade DEB DESC: apt-get install DEB over the installed one.
upgrade() {
	$APT -o Dpkg::Options::=--force-confold --allow-downgrades install "$1" \
		>"$T/upgrade.log" 2>&1
	r=$?; ok $r "$2"
	[ $r -eq 0 ] || diag "$(tail -n 20 "$T/upgrade.log")"
}
upgrade "$T/up.deb" "upgrading to it"
grep -q '^# the next version$' $S
ok $? "... replaces the unedited $S"
is "$(stat -c '%U:%G %a' $S)" "root:pgbak 640" "... keeping it root:pgbak 0640"
echo '# edited by the admin' >>$S
upgrade "$PGBAK_DEB" "going back to the first package once $S is edited"
grep -q '^# edited by the admin$' $S
ok $? "... keeps the admin's edit"
is "$(stat -c '%U:%G %a' $S)" "root:pgbak 640" "... and its owner and mode"

[ -f $UNITS/pgbak.service ] && [ -f $UNITS/pgbak.timer ]
ok $? "pgbak.service and pgbak.timer are installed"
grep -q '^ExecStart=/usr/bin/pgbak-run /etc/pgbak/settings.yml$' $UNITS/pgbak.service &&
	grep -q '^User=pgbak$' $UNITS/pgbak.service
ok $? "the service runs /usr/bin/pgbak-run as pgbak"
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify --man=no $UNITS/pgbak.service $UNITS/pgbak.timer 2>&1)
	r=$?; [ -z "$out" ] && [ $r -eq 0 ]
	ok $? "systemd-analyze verify accepts the installed units without a word"
	[ -z "$out" ] || diag "$out"
else
	skip "systemd-analyze not installed"
fi
enabled=$(find /etc/systemd/system -name 'pgbak*' 2>/dev/null)
is "$enabled" "" "nothing of pgbak is enabled under /etc/systemd/system"

# The admin's step; the purge below must take it back.
systemctl enable pgbak.timer >"$T/enable.log" 2>&1
[ -L /etc/systemd/system/timers.target.wants/pgbak.timer ]
ok $? "systemctl enable pgbak.timer links it"
pkgfiles >"$T/installed"
# The negative twin of "nothing left": the same listing sees the package.
grep -qx /usr/bin/pgbak-run "$T/installed" && grep -qx /etc/pgbak "$T/installed" &&
	grep -qx /etc/systemd/system/timers.target.wants/pgbak.timer "$T/installed"
r=$?; ok $r "the listing of pgbak's files sees the installed ones"
[ $r -eq 0 ] || diag "$(cat "$T/installed")"

$APT purge pgbak >"$T/purge.log" 2>&1
r=$?; ok $r "apt-get purge pgbak"
[ $r -eq 0 ] || diag "$(tail -n 20 "$T/purge.log")"
dpkg-query -W -f='${Status}' pgbak 2>/dev/null | grep -q 'ok installed'
[ $? -ne 0 ]; ok $? "dpkg no longer has it installed"
pkgfiles >"$T/after"
left=$(comm -13 "$T/before" "$T/after")
is "$left" "" "no file of pgbak is left behind, the enabled timer's link included"
fails "no statoverride is left for $S" dpkg-statoverride --list $S
id -u pgbak >/dev/null 2>&1
ok $? "the pgbak user stays (Debian policy 9.2.2)"
