#!/bin/sh
# pgbak-gzip: what it writes, every gunzip reads back byte for byte, at any
# thread count, at gzip's ratio; and the failures: a read error exits 111
# leaving no valid gzip, a write error exits 111 naming stdout, a usage
# error exits 100 with one line.
. "$(dirname "$0")/lib.sh"

# skip DESC: a test that cannot run here counts as passed, saying why.
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP $*"; }

# same_after DESC FILE CMD...: CMD, reading FILE.gz, writes FILE's bytes.
same_after() {
	_d=$1 _f=$2; shift 2
	"$@" < "$_f.gz" > "$_f.out" && cmp -s "$_f" "$_f.out"; ok $? "$_d"
	rm -f "$_f.out"
}

pyunzip='import gzip, sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))'
block=131072

# Inputs: empty, 1 byte, the default block size -1/+0/+1, and 100 MiB that
# alternates text, random bytes and zeros (stored and compressed blocks).
python3 - "$T" "$block" <<'EOF'
import random, sys
d, b = sys.argv[1], int(sys.argv[2])
r = random.Random(300)
open(d + "/empty", "wb").close()
open(d + "/one", "wb").write(b"x")
text = "".join("%d\tcustomer %d\t2024-06-%02d\t{\"n\": %d}\n" % (i, i * 7 % 1000, i % 28 + 1, i)
               for i in range(20000)).encode()
for name, n in (("b-1", b - 1), ("b", b), ("b+1", b + 1)):
    open(d + "/" + name, "wb").write((text + r.randbytes(n))[:n])
with open(d + "/big", "wb") as f:
    i = 0
    for k in range(100):
        i += 1
        part = "".join("%d\tline %d of part %d\t%s\n" % (i, j, k, "abc" * (j % 9))
                       for j in range(k * 100, k * 100 + 25000)).encode()
        chunk = part[:600000] + r.randbytes(300000) + bytes(100000)
        f.write((chunk + part)[:1 << 20])
EOF
if [ "$(wc -c < "$T/big")" -ne 104857600 ]; then
	echo "Bail out! cannot make the 100 MiB input"
	exit 1
fi

for p in 1 2 4; do
	for f in empty one b-1 b b+1 big; do
		if [ "$f" = big ]; then
			pgbak-gzip -p "$p" < "$T/$f" > "$T/$f.gz"
		else
			run pgbak-gzip -p "$p" < "$T/$f" > "$T/$f.gz"
		fi
		ok $? "-p $p, $f: exit 0"
		same_after "-p $p, $f: gunzip gives it back" "$T/$f" gunzip -c
		same_after "-p $p, $f: zcat gives it back" "$T/$f" zcat
		same_after "-p $p, $f: python gzip gives it back" "$T/$f" python3 -c "$pyunzip"
		gzip -t < "$T/$f.gz"; ok $? "-p $p, $f: gzip -t passes"
	done
	cp "$T/big.gz" "$T/big.gz.$p"
done
cmp -s "$T/big.gz.1" "$T/big.gz.4"; ok $? "-p 1 and -p 4 write the same bytes"

if command -v go >/dev/null 2>&1; then
	mkdir -p "$T/gounzip"
	cat > "$T/gounzip/main.go" <<'EOF'
package main

import (
	"compress/gzip"
	"io"
	"os"
)

func main() {
	r, err := gzip.NewReader(os.Stdin)
	if err != nil {
		os.Exit(1)
	}
	r.Multistream(false)
	if _, err := io.Copy(os.Stdout, r); err != nil {
		os.Exit(1)
	}
}
EOF
	(cd "$T/gounzip" && GO111MODULE=off GOCACHE="$T/gocache" go build -o gounzip main.go)
	same_after "-p 4, big: Go compress/gzip gives it back" "$T/big" "$T/gounzip/gounzip"
else
	skip "go is not installed: no Go compress/gzip check"
fi

# Levels: each one round-trips; 1 is bigger than 9.
for l in 1 9; do
	run pgbak-gzip -$l < "$T/b+1" > "$T/l$l.gz" && gunzip -c < "$T/l$l.gz" | cmp -s - "$T/b+1"
	ok $? "-$l: round trip"
done
pgbak-gzip --fast < "$T/big" | wc -c > "$T/n1"
pgbak-gzip --best < "$T/big" | wc -c > "$T/n9"
[ "$(cat "$T/n1")" -gt "$(cat "$T/n9")" ]; ok $? "--fast writes more than --best"

# Ratio: within 1 % of gzip -6 on a pg_dump-like text.
"$SRC_DIR/bench/gen-dump" $((16 << 20)) > "$T/dump.sql"
ours=$(pgbak-gzip -6 < "$T/dump.sql" | wc -c)
theirs=$(gzip -6 < "$T/dump.sql" | wc -c)
awk -v a="$ours" -v b="$theirs" 'BEGIN { d = a / b - 1; exit !(d < 0.01 && d > -0.01) }'
ok $? "ratio within 1 % of gzip -6 ($ours vs $theirs bytes)"

# -v: one line of numbers on stderr; without it, nothing.
run pgbak-gzip -v < "$T/b" > /dev/null 2> "$T/err"
n='[0-9.]+'
like "$(cat "$T/err")" "^pgbak-gzip: 131072 bytes in, $n bytes out, ratio $n, $n s, $n MiB/s\$" \
	"-v: bytes, ratio, seconds, MiB/s"
run pgbak-gzip < "$T/b" > /dev/null 2> "$T/err"
is "$(cat "$T/err")" "" "no -v: stderr stays empty"

# A read error: 111, the cause, and no valid gzip out.
run pgbak-gzip < / > "$T/dir.gz" 2> "$T/err"
is $? 111 "stdin is a directory: exit 111"
is "$(cat "$T/err")" "pgbak-gzip: unable to read stdin: Is a directory" "... and says so"
gzip -t < "$T/dir.gz" 2>/dev/null; [ $? -ne 0 ]; ok $? "... and gzip -t rejects what it wrote"

# Write errors: 111 and the cause, never a silent death by SIGPIPE.
run pgbak-gzip < "$T/b+1" > /dev/full 2> "$T/err"
is $? 111 "stdout is /dev/full: exit 111"
is "$(cat "$T/err")" "pgbak-gzip: unable to write stdout: No space left on device" \
	"... and says so"
head -c 4194304 /dev/urandom > "$T/rand"
{ pgbak-gzip < "$T/rand" 2> "$T/err"; echo $? > "$T/st"; } | true
is "$(cat "$T/st")" 111 "stdout is a pipe nobody reads: exit 111"
is "$(cat "$T/err")" "pgbak-gzip: unable to write stdout: Broken pipe" "... and says so"
# A closed stdout is /dev/null (every program opens it on a closed 0, 1
# or 2, see tests/0140-closed-fds.t), so nothing else can land there.
run pgbak-gzip < "$T/one" >&- 2> "$T/err"
is $? 0 "stdout closed: written to /dev/null, exit 0"
is "$(cat "$T/err")" "" "... and nothing to say"

# Usage errors: 100 and one line.
for args in "-0" "-x" "-p 0" "-p x" "-p 257" "-b 31" "-b 65537" "-p" "--bogus" "file.sql"; do
	# shellcheck disable=SC2086
	run pgbak-gzip $args < /dev/null > /dev/null 2> "$T/err"
	is $? 100 "pgbak-gzip $args: exit 100"
	is "$(lines "$(cat "$T/err")")" 1 "pgbak-gzip $args: one line on stderr"
done
run pgbak-gzip --help > "$T/out"
is $? 0 "--help: exit 0"
like "$(cat "$T/out")" "^usage: pgbak-gzip" "--help: usage on stdout"
run pgbak-gzip --version > "$T/out"
is $? 0 "--version: exit 0"
like "$(cat "$T/out")" "^pgbak-gzip \(pgbak\) [0-9]" "--version: the version"

# A terminal: refused (100) like gzip does, unless -f.
if command -v script >/dev/null 2>&1; then
	script -qec "pgbak-gzip < /dev/null" /dev/null > "$T/out" 2>&1
	is "$?" 100 "stdout is a terminal: exit 100"
	like "$(cat "$T/out")" "not written to a terminal: .*-f" "... and says why, and what to do"
	script -qec "pgbak-gzip -f < /dev/null" /dev/null > "$T/out" 2>&1
	is "$?" 0 "stdout is a terminal, -f: exit 0"
else
	skip "no script(1) to make a terminal"
	skip "no script(1) to make a terminal"
	skip "no script(1) to make a terminal"
fi
