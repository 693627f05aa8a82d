#!/bin/sh
# Every man page is valid mdoc with no warnings, and has the sections an
# operator looks for.
. "$(dirname "$0")/lib.sh"
set -- "$SRC_DIR"/man/*.[1-8]
[ -f "$1" ] || skip_all "no man pages yet"
command -v mandoc >/dev/null || { echo "Bail out! mandoc not found; run 'make deps'"; exit 1; }
plan $(($# * 2))
for m in "$@"; do
	out=$(mandoc -Tlint -Wwarning "$m" 2>&1)
	is "$out" "" "$(basename "$m"): mandoc -Tlint is clean"
	missing=
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
		case $m in *.5|*.7) [ "$s" = "EXIT STATUS" ] || [ "$s" = OPTIONS ] && continue ;; esac
		grep -q "^\.Sh $s\$" "$m" || missing="$missing [$s]"
	done
	is "$missing" "" "$(basename "$m"): has the standard sections"
done
