#!/bin/sh
# Every option a program accepts is in its man page, and every option its
# man page documents is in its --help: the two cannot drift apart.
. "$(dirname "$0")/lib.sh"

# help_opts PROG: the options --help lists, one per line, sorted.
help_opts() {
	"$1" --help | sed 1d | grep -oE '(^|[][ ,|(])--?[A-Za-z0-9][A-Za-z0-9-]*' |
		sed 's/^[][ ,|(]*//' | sort -u
}
# missing A B: the lines of text A that text B lacks.
missing() {
	printf '%s\n' "$1" | sed '/^$/d' >"$T/a"
	printf '%s\n' "$2" | sed '/^$/d' >"$T/b"
	comm -23 "$T/a" "$T/b" | tr '\n' ' ' | sed 's/ $//'
}
# man_opts PAGE: the options the OPTIONS section documents (.It Fl ...).
man_opts() {
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$1" | grep '^\.It' |
		grep -oE 'Fl [A-Za-z0-9-]+' | sed 's/^Fl /-/' | sort -u
}

set --
for p in "$PGBAK_BUILD"/pgbak-*; do
	[ -x "$p" ] && [ -f "$p" ] && set -- "$@" "${p##*/}"
done
[ $# -gt 0 ] || { echo "Bail out! no programs built in $PGBAK_BUILD"; exit 1; }
plan $(($# * 3 + 2))
for p in "$@"; do
	page=$(ls "$SRC_DIR"/man/"$p".[1-8] 2>/dev/null | head -n 1)
	[ -n "$page" ]; ok $? "$p has a man page"
	h=$(help_opts "$p") m=$(man_opts "${page:-/dev/null}")
	is "$(missing "$h" "$m")" "" "$p: every option in --help is in $p's man page"
	is "$(missing "$m" "$h")" "" "$p: every option in the man page is in --help"
done

# The negative twin: the comparison notices an option the page lacks.
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "usage: fake [-q]"\necho "  -q, --zap  quiet"\n' >"$T/bin/fake"
chmod +x "$T/bin/fake"
printf '.Sh OPTIONS\n.Bl -tag\n.It Fl q\n.El\n.Sh EXIT STATUS\n' >"$T/fake.1"
h=$(help_opts "$T/bin/fake") m=$(man_opts "$T/fake.1")
is "$h" "$(printf -- '--zap\n-q')" "help_opts reads options from --help"
is "$(missing "$h" "$m")" "--zap" "a missing option is caught"
