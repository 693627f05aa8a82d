#!/bin/sh
# "make install" honours PREFIX and DESTDIR, installs every program, man
# page and example, the installed programs run, and every installed page
# formats; "make uninstall" takes all of it away again.
. "$(dirname "$0")/lib.sh"
command -v man >/dev/null || skip_all "man(1) not installed"
D=$T/dest P=/opt/pgbak-test
nprog=0 nman=0
for p in "$PGBAK_BUILD"/pgbak-*; do [ -f "$p" ] && [ -x "$p" ] && nprog=$((nprog + 1)); done
for m in "$SRC_DIR"/man/*.[1-8]; do nman=$((nman + 1)); done
plan $((6 + nprog + nman))
make -s -C "$SRC_DIR" install DESTDIR="$D" PREFIX="$P" >"$T/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=$P"

is "$(ls "$D$P/bin" | wc -l)" "$nprog" "all $nprog programs are installed in PREFIX/bin"
for p in "$D$P"/bin/pgbak-*; do
	like "$("$p" --version)" "^${p##*/} \(pgbak\) [0-9]" "installed ${p##*/} --version runs"
done
for m in "$SRC_DIR"/man/*.[1-8]; do
	f=${m##*/} s=${m##*.}
	out=$(man -l "$D$P/share/man/man$s/$f" 2>&1 </dev/null | head -n 3)
	like "$out" "[A-Z]" "man -l shows the installed $f"
done
[ -f "$D$P/share/doc/pgbak/examples/settings.yml" ]
ok $? "the example settings file is installed"
fails "nothing is installed outside DESTDIR" test -e "$P"

make -s -C "$SRC_DIR" uninstall DESTDIR="$D" PREFIX="$P" >>"$T/install.log" 2>&1
ok $? "make uninstall"
is "$(find "$D" -type f | wc -l)" 0 "uninstall leaves no file behind"
