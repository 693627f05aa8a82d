#!/bin/sh
# bench/put-rss.sh [BUILD_DIR]: peak RSS of pgbak-put for 256 MiB and for
# 1 GiB of input, default settings, against the test RGW.  pgbak-put's
# memory is its parts in flight, not its input, so the two must agree
# within 10 %; exits 1 when they do not.  Uses the running test RGW when
# PGBAK_TEST_S3_ENDPOINT is set, else starts one for the run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${1:-$src/build}
[ -x "$build/pgbak-put" ] || { echo "put-rss: $build/pgbak-put not built; run make" >&2; exit 100; }
[ -x /usr/bin/time ] || { echo "put-rss: /usr/bin/time not found; run make deps" >&2; exit 127; }

W=$(mktemp -d "${TMPDIR:-/tmp}/pgbak-bench.XXXXXX") || exit 111
cleanup() {
	[ -f "$W/s3/env" ] && "$src/tests/lib/s3-server" stop "$W/s3" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${PGBAK_TEST_S3_ENDPOINT:-}" ]; then
	"$src/tests/lib/s3-server" start "$W/s3" || exit 111
	. "$W/s3/env"
fi
export AWS_ACCESS_KEY_ID="$PGBAK_TEST_S3_ACCESS_KEY"
export AWS_SECRET_ACCESS_KEY="$PGBAK_TEST_S3_SECRET_KEY"
export AWS_ENDPOINT_URL="$PGBAK_TEST_S3_ENDPOINT" AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export PGBAK_BUCKET="bench-rss-$$"
aws=/usr/bin/aws
[ -x "$aws" ] || aws=aws
"$aws" --endpoint-url "$AWS_ENDPOINT_URL" s3api create-bucket --bucket "$PGBAK_BUCKET" \
	>/dev/null || exit 111

# rss MIB: peak RSS in KiB of pgbak-put storing MIB MiB of zeros.
rss() {
	head -c $(($1 * 1024 * 1024)) /dev/zero |
		/usr/bin/time -f %M -o "$W/rss" "$build/pgbak-put" "rss-$1.bin" || return 1
	"$aws" --endpoint-url "$AWS_ENDPOINT_URL" s3api delete-object --bucket "$PGBAK_BUCKET" \
		--key "rss-$1.bin" >/dev/null
	cat "$W/rss"
}

small=$(rss 256) || { echo "put-rss: the 256 MiB upload failed" >&2; exit 111; }
large=$(rss 1024) || { echo "put-rss: the 1 GiB upload failed" >&2; exit 111; }
ratio=$(awk "BEGIN { printf \"%.3f\", $large / $small }")
printf 'pgbak-put peak RSS: 256 MiB in: %d KiB, 1 GiB in: %d KiB, ratio %s (want 0.90-1.10)\n' \
	"$small" "$large" "$ratio"
awk "BEGIN { exit !($ratio >= 0.9 && $ratio <= 1.1) }"
