#!/bin/sh
# pgbak-put never publishes a partial object and leaves no upload behind:
# killed mid-upload, told no "commit", or fed a read error, it exits
# non-zero, the key does not exist, and no multipart upload remains.  With
# "commit" the object appears only after it.  --if-absent never replaces.
. "$(dirname "$0")/lib.sh"
plan 49
need_s3
. "$TESTS_DIR/lib/s3obj.sh"
P5=--part-size=5MiB

head -c $((12 * 1024 * 1024)) /dev/urandom >"$T/big"
printf 'small object\n' >"$T/small"
printf 'another writer\n' >"$T/x"

# SIGTERM in the middle of a multipart upload.
mkfifo "$T/in"
pgbak-put $P5 killed.bin <"$T/in" 2>"$T/err" &
put=$!
{ cat "$T/big"; exec sleep 30; } >"$T/in" &
feeder=$!
at_exit "kill $feeder"
wait_upload killed.bin
ok $? "SIGTERM: a multipart upload was under way"
kill -TERM $put
wait $put 2>/dev/null
is $? 143 "SIGTERM: pgbak-put dies of the signal after cleaning up (143)"
like "$(cat "$T/err")" "interrupted by signal 15" "SIGTERM: says why"
check "SIGTERM: no object" absent killed.bin
is "$(uploads killed.bin)" "" "SIGTERM: no multipart upload left"
kill $feeder 2>/dev/null; wait $feeder 2>/dev/null

# SIGINT while it waits for the commit of a small object.
rm -f "$T/in" && mkfifo "$T/in"
sleep 30 >"$T/in" &
holder=$!
at_exit "kill $holder"
pgbak-put $P5 -C 3 int.bin <"$T/small" 3<"$T/in" 2>/dev/null &
put=$!
wait_read $put 0 "$(wc -c <"$T/small")" || diag "pgbak-put never read its input"
kill -INT $put
wait $put
is $? 130 "SIGINT while waiting for the commit: 130"
check "SIGINT: no object" absent int.bin
kill $holder 2>/dev/null; wait $holder 2>/dev/null

# The commit handshake.
for what in small big; do
	run pgbak-put $P5 -C 3 "nocommit-$what" <"$T/$what" 3</dev/null 2>"$T/err"
	is $? 111 "$what: commit fd closed without \"commit\": exit 111"
	like "$(cat "$T/err")" "upstream failed; upload aborted" "$what: says the upstream failed"
	check "$what: no object without commit" absent "nocommit-$what"
	is "$(uploads "nocommit-$what")" "" "$what: no upload left without commit"
	printf 'rollback\n' >"$T/no"
	pgbak-put $P5 -C 3 "other-$what" <"$T/$what" 3<"$T/no" 2>/dev/null
	is $? 111 "$what: anything but \"commit\": exit 111"
	check "$what: no object after another word" absent "other-$what"
	printf 'commit\n' >"$T/yes"
	check "$what: with \"commit\" it is stored" run pgbak-put $P5 -C 3 \
		"commit-$what" <"$T/$what" 3<"$T/yes"
	check "$what: ...all of it" same "commit-$what" "$T/$what"
done

# The object appears only once "commit" arrives after EOF.
rm -f "$T/c" && mkfifo "$T/c"
pgbak-put $P5 -C 3 late.bin <"$T/big" 3<"$T/c" &
put=$!
exec 4>"$T/c"
wait_upload late.bin
ok $? "late commit: the parts are uploaded before it"
sleep 1
check "late commit: no object before it" absent late.bin
printf 'commit\n' >&4
exec 4>&-
wait $put
is $? 0 "late commit: stored after it"
check "late commit: all of it" same late.bin "$T/big"

# A read error: a directory at once, and EIO after 12 MiB (a memory mapping
# read through /proc/self/mem, followed by an unmapped hole).
pgbak-put $P5 dir.bin <"$T" 2>"$T/err"
is $? 111 "read error at once: exit 111"
like "$(cat "$T/err")" "unable to read standard input" "read error: says so"
check "read error at once: no object" absent dir.bin
python3 - <<'EOF' 2>"$T/err"
import ctypes, mmap, os, sys
size = 12 << 20
m = mmap.mmap(-1, size + (1 << 20))
m.write(os.urandom(size))
addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
libc = ctypes.CDLL(None, use_errno=True)
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.munmap(addr + size, 1 << 20)          # the hole: reading it is EIO
fd = os.open("/proc/self/mem", os.O_RDONLY)
os.lseek(fd, addr, os.SEEK_SET)
pid = os.fork()
if pid == 0:
    os.dup2(fd, 0)
    os.execvp("pgbak-put", ["pgbak-put", "--part-size=5MiB", "eio.bin"])
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
EOF
is $? 111 "EIO after 12 MiB: exit 111"
like "$(cat "$T/err")" "unable to read standard input.*: Input/output error" "EIO: says so"
check "EIO: no object" absent eio.bin
is "$(uploads eio.bin)" "" "EIO: the multipart upload was aborted"

# --if-absent: never replaces an object, not even one that appears meanwhile.
awsref s3api put-object --bucket "$PGBAK_BUCKET" --key there.bin --body "$T/small" >/dev/null
before=$(awsref s3api head-object --bucket "$PGBAK_BUCKET" --key there.bin --query ETag)
run pgbak-put --if-absent there.bin <"$T/big" 2>"$T/err"
is $? 1 "--if-absent on an existing key: exit 1"
like "$(cat "$T/err")" "there.bin exists; nothing stored" "...and says so"
is "$(awsref s3api head-object --bucket "$PGBAK_BUCKET" --key there.bin --query ETag)" \
	"$before" "...and the object is unchanged"
check "--if-absent on an absent key stores it" pgbak-put --if-absent new.bin <"$T/small"
for what in small big; do
	rm -f "$T/c" && mkfifo "$T/c"
	pgbak-put $P5 --if-absent -C 3 "race-$what" <"$T/$what" 3<"$T/c" 2>/dev/null &
	put=$!
	exec 4>"$T/c"
	# the other writer comes once pgbak-put has its data (the part upload
	# under way, for big), so that it lands during the upload
	if [ $what = big ]; then wait_upload race-big; else
		wait_read $put 0 "$(wc -c <"$T/small")"; fi || diag "pgbak-put did not start"
	awsref s3api put-object --bucket "$PGBAK_BUCKET" --key "race-$what" \
		--body "$T/x" >/dev/null
	printf 'commit\n' >&4
	exec 4>&-
	wait $put
	is $? 1 "$what: --if-absent, created by another writer meanwhile: exit 1"
	check "$what: ...and the other writer's object stands" same "race-$what" "$T/x"
done
is "$(uploads race-big)" "" "--if-absent race: no upload left"

# --abort-stale aborts old uploads of exactly KEY, not of its neighbours.
for k in stale.bin stale.bin.other; do
	awsref s3api create-multipart-upload --bucket "$PGBAK_BUCKET" --key "$k" >/dev/null
done
run pgbak-put --abort-stale stale.bin </dev/null
is $? 0 "--abort-stale: exit 0"
is "$(uploads stale.bin | wc -w)" 1 "...uploads younger than an hour are kept"
run pgbak-put --abort-stale=0 stale.bin </dev/null
is "$(uploads stale.bin)" "" "--abort-stale=0: the upload of the key is aborted"
is "$(uploads stale.bin.other | wc -w)" 1 "...and not that of another key with it as prefix"
check "--abort-stale stores nothing" absent stale.bin

# More stale uploads than one listing page (100) holds: all are found.
python3 - <<'EOF'
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
for i in range(101):
    s3.create_multipart_upload(Bucket=os.environ["PGBAK_BUCKET"], Key="many.bin")
EOF
pgbak-put --abort-stale=0 many.bin
is "$(uploads many.bin)" "" "--abort-stale: 101 uploads, over two listing pages, all aborted"
