/*
 * Unit test of lib/gz: compress buffers through temporary files and pipes,
 * decompress them with zlib's own inflate, and check the bytes, the gzip
 * header and the CRC-32/ISIZE trailer; then the failures: a read error
 * must return -1 and leave no trailer, a write error must return -1.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "gz.h"

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031	/* Linux; hidden without _GNU_SOURCE */
#endif

static int ntest, nfail;

static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		nfail++;
	return cond;
}

static void
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Text with runs of noise: the dictionary matters and stored blocks happen. */
static unsigned char *
make_input(size_t n, uint32_t seed)
{
	static const char text[] =
	    "COPY public.accounts (aid, bid, abalance, filler) FROM stdin;\n"
	    "42\t7\t-1200\tthe quick brown fox jumps over the lazy dog\n";
	unsigned char *p = malloc(n ? n : 1);
	uint32_t x = seed | 1;
	size_t i;

	if (p == NULL)
		bail("malloc");
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if ((i / 4096) % 5 == 3)
			p[i] = (unsigned char)x;
		else
			p[i] = (unsigned char)text[(i + (x % 3 == 0)) % (sizeof text - 1)];
	}
	return p;
}

static int
temp_fd(void)
{
	char path[] = "/tmp/gz-unit.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		bail("mkstemp");
	unlink(path);
	return fd;
}

/* Everything in fd from offset 0. */
static unsigned char *
slurp(int fd, size_t *n)
{
	struct stat sb;
	unsigned char *p;
	ssize_t r;

	if (fstat(fd, &sb) != 0)
		bail("fstat");
	p = malloc((size_t)sb.st_size + 1);
	if (p == NULL)
		bail("malloc");
	r = pread(fd, p, (size_t)sb.st_size, 0);
	if (r != sb.st_size)
		bail("pread");
	*n = (size_t)r;
	return p;
}

/*
 * gunzip with zlib: 0 when z is one complete gzip member holding exactly
 * want, 1 when it is a complete member holding something else, -1 when it
 * is no complete member.  *good is how much it decompressed to, or SIZE_MAX
 * if that is not a prefix of want.
 */
static int
gunzip_is(const unsigned char *z, size_t zn, const unsigned char *want, size_t n,
    size_t *good)
{
	z_stream s;
	unsigned char *out = malloc(n + 64);
	int rc;

	memset(&s, 0, sizeof s);
	if (out == NULL || inflateInit2(&s, 16 + 15) != Z_OK)
		bail("inflateInit2");
	s.next_in = (unsigned char *)z;
	s.avail_in = (uInt)zn;
	s.next_out = out;
	s.avail_out = (uInt)(n + 64);
	rc = inflate(&s, Z_FINISH);
	*good = s.total_out <= n && memcmp(out, want, s.total_out) == 0 ? s.total_out : SIZE_MAX;
	inflateEnd(&s);
	free(out);
	if (rc != Z_STREAM_END)
		return -1;
	return s.avail_in != 0 || *good != n;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Compress buf from a temporary file; the output, or NULL on failure. */
static unsigned char *
compress_file(const unsigned char *buf, size_t n, const struct gz_opts *o, size_t *zn,
    struct gz_stats *st, struct log_err *e)
{
	int in = temp_fd(), out = temp_fd(), rc;
	unsigned char *z;

	if (n > 0 && write(in, buf, n) != (ssize_t)n)
		bail("write");
	if (lseek(in, 0, SEEK_SET) != 0)
		bail("lseek");
	rc = gz_compress(in, out, o, st, e);
	z = slurp(out, zn);
	close(in);
	close(out);
	if (rc != 0) {
		free(z);
		return NULL;
	}
	return z;
}

/* One round trip: output decompresses to the input, header and trailer right. */
static void
round_trip(size_t n, int level, int threads, size_t block)
{
	struct gz_opts o = { .level = level, .threads = threads, .block = block };
	struct gz_stats st;
	struct log_err e = { 0, "" };
	unsigned char *buf = make_input(n, (uint32_t)n), *z;
	size_t zn, good = 0;
	int pass;

	z = compress_file(buf, n, &o, &zn, &st, &e);
	if (!ok(z != NULL, "%zu bytes, level %d, %d threads, block %zu: compressed (%s)",
	    n, level, threads, block, e.msg)) {
		free(buf);
		return;
	}
	pass = zn >= 18 && z[0] == 0x1f && z[1] == 0x8b && z[2] == 8 &&
	    le32(z + zn - 8) == (uint32_t)crc32(0, buf, (uInt)n) &&
	    le32(z + zn - 4) == (uint32_t)n &&
	    gunzip_is(z, zn, buf, n, &good) == 0 &&
	    st.bytes_in == n && st.bytes_out == zn;
	ok(pass, "%zu bytes, level %d, %d threads: inflate gives the input back, "
	    "CRC-32 and ISIZE right, stats %llu in %llu out", n, level, threads,
	    (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out);
	free(z);
	free(buf);
}

struct feed {
	int fd;
	const unsigned char *p;
	size_t n, chunk;
};

/* Writes odd-sized pieces, so that gz sees short reads. */
static void *
feeder(void *arg)
{
	struct feed *f = arg;
	size_t off = 0, k;
	ssize_t r;

	while (off < f->n) {
		k = f->n - off < f->chunk ? f->n - off : f->chunk;
		r = write(f->fd, f->p + off, k);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(f->fd);
	return NULL;
}

static void
through_pipe(void)
{
	struct gz_opts o = { .level = 6, .threads = 4, .block = GZ_BLOCK_MIN };
	size_t n = 40 * GZ_BLOCK_MIN + 12345, zn, good = 0;
	unsigned char *buf = make_input(n, 7), *z;
	struct gz_stats st;
	struct log_err e = { 0, "" };
	struct feed f = { .p = buf, .n = n, .chunk = 4093 };
	pthread_t t;
	int p[2], out = temp_fd(), rc;

	if (pipe(p) != 0)
		bail("pipe");
	f.fd = p[1];
	pthread_create(&t, NULL, feeder, &f);
	rc = gz_compress(p[0], out, &o, &st, &e);
	pthread_join(t, NULL);
	close(p[0]);
	z = slurp(out, &zn);
	close(out);
	ok(rc == 0 && gunzip_is(z, zn, buf, n, &good) == 0,
	    "%zu bytes from a pipe in 4093-byte writes, 41 blocks: round trip (%s)", n, e.msg);
	free(z);
	free(buf);
}

/* The blocks do not depend on timing: any thread count gives the same bytes. */
static void
same_bytes(void)
{
	size_t n = 9 * GZ_BLOCK_DEFAULT + 99, z1n, z4n;
	unsigned char *buf = make_input(n, 99), *z1, *z4;
	struct gz_opts o1 = { .threads = 1 }, o4 = { .threads = 4 };
	struct log_err e;

	z1 = compress_file(buf, n, &o1, &z1n, NULL, &e);
	z4 = compress_file(buf, n, &o4, &z4n, NULL, &e);
	ok(z1 && z4 && z1n == z4n && memcmp(z1, z4, z1n) == 0,
	    "1 and 4 threads write the same bytes");
	free(z1);
	free(z4);
	free(buf);
}

static void
read_error_at_start(void)
{
	struct log_err e = { 0, "" };
	struct gz_opts o = { .in_name = "stdin" };
	int dir = open("/", O_RDONLY), out = temp_fd(), rc;
	size_t zn;
	unsigned char *z;

	rc = gz_compress(dir, out, &o, NULL, &e);
	z = slurp(out, &zn);
	ok(rc == -1 && e.status == EXIT_TEMP && strstr(e.msg, "unable to read stdin") != NULL,
	    "a directory as input: -1, EXIT_TEMP, '%s'", e.msg);
	ok(zn == 0, "a directory as input: nothing written (%zu bytes)", zn);
	free(z);
	close(dir);

	rc = gz_compress(dir, out, NULL, NULL, &e);
	ok(rc == -1 && strstr(e.msg, "unable to read input: Bad file descriptor") != NULL,
	    "a closed input descriptor: -1, '%s'", e.msg);
	close(out);
}

/*
 * A read that fails after several blocks went out: an empty, non-blocking
 * pipe whose writer stays open makes read() fail with EAGAIN.
 */
static void
read_error_midway(void)
{
	struct gz_opts o = { .threads = 2, .block = GZ_BLOCK_MIN };
	size_t n = 9 * GZ_BLOCK_MIN + 100, zn, good = 0;
	unsigned char *buf = make_input(n, 3), *z;
	struct log_err e = { 0, "" };
	int p[2], out = temp_fd(), rc;

	if (pipe(p) != 0)
		bail("pipe");
	if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0 ||
	    write(p[1], buf, n) != (ssize_t)n) {
		printf("ok %d # SKIP cannot fill a 1 MiB pipe: %s\n", ++ntest, strerror(errno));
		printf("ok %d # SKIP\n", ++ntest);
	} else {
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		rc = gz_compress(p[0], out, &o, NULL, &e);
		z = slurp(out, &zn);
		ok(rc == -1 && e.status == EXIT_TEMP && strstr(e.msg, "unable to read") != NULL,
		    "read fails after %zu bytes: -1, '%s'", n, e.msg);
		rc = gunzip_is(z, zn, buf, n, &good);
		ok(rc == -1 && good != SIZE_MAX,
		    "what went out (%zu bytes, %zu decompressed) is right but has no end: "
		    "no gunzip accepts it", zn, good);
		free(z);
	}
	close(p[0]);
	close(p[1]);
	close(out);
	free(buf);
}

static void
write_errors(void)
{
	size_t n = 3 * GZ_BLOCK_DEFAULT;
	unsigned char *buf = make_input(n, 5);
	struct gz_opts o = { .out_name = "stdout" };
	struct log_err e = { 0, "" };
	int in = temp_fd(), full = open("/dev/full", O_WRONLY), ro = open("/dev/null", O_RDONLY);
	int p[2], rc;

	if (write(in, buf, n) != (ssize_t)n || full < 0 || ro < 0 || pipe(p) != 0)
		bail("setup");
	rc = gz_compress(in, full, &o, NULL, &e);
	ok(rc == -1 && e.status == EXIT_TEMP &&
	    strcmp(e.msg, "unable to write stdout: No space left on device") == 0,
	    "/dev/full as output: -1, '%s'", e.msg);
	lseek(in, 0, SEEK_SET);
	rc = gz_compress(in, ro, NULL, NULL, &e);
	ok(rc == -1 && strstr(e.msg, "unable to write output") != NULL,
	    "a read-only output descriptor: -1, '%s'", e.msg);
	/* EPIPE needs SIGPIPE ignored, as pgbak-gzip does */
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	lseek(in, 0, SEEK_SET);
	rc = gz_compress(in, p[1], NULL, NULL, &e);
	ok(rc == -1 && strstr(e.msg, "Broken pipe") != NULL, "a pipe nobody reads: -1, '%s'",
	    e.msg);
	close(p[1]);
	close(in);
	close(full);
	close(ro);
	free(buf);
}

static void
bad_options(void)
{
	struct gz_opts lv = { .level = 10 }, th = { .threads = GZ_THREADS_MAX + 1 };
	struct gz_opts bl = { .block = GZ_BLOCK_MIN - 1 }, bh = { .block = GZ_BLOCK_MAX + 1 };
	struct log_err e = { 0, "" };

	ok(gz_compress(0, 1, &lv, NULL, &e) == -1 && e.status == EXIT_USAGE,
	    "level 10: EXIT_USAGE, '%s'", e.msg);
	ok(gz_compress(0, 1, &th, NULL, &e) == -1 && e.status == EXIT_USAGE,
	    "too many threads: EXIT_USAGE, '%s'", e.msg);
	ok(gz_compress(0, 1, &bl, NULL, &e) == -1 && e.status == EXIT_USAGE,
	    "block below 32 KiB: EXIT_USAGE, '%s'", e.msg);
	ok(gz_compress(0, 1, &bh, NULL, &e) == -1 && e.status == EXIT_USAGE,
	    "block above 64 MiB: EXIT_USAGE, '%s'", e.msg);
}

int
main(void)
{
	static const int levels[] = { 1, 6, 9 }, threads[] = { 1, 4 };
	size_t b = GZ_BLOCK_DEFAULT;
	size_t sizes[] = { 0, 1, b - 1, b, b + 1, 5 * b + 777 };
	size_t i, j, k;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
		for (j = 0; j < sizeof threads / sizeof threads[0]; j++)
			for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
				round_trip(sizes[k], levels[i], threads[j], 0);
	round_trip(2 * GZ_BLOCK_MIN, 6, 3, GZ_BLOCK_MIN);
	round_trip(20 * GZ_BLOCK_MIN - 1, 6, 8, GZ_BLOCK_MIN);
	through_pipe();
	same_bytes();
	read_error_at_start();
	read_error_midway();
	write_errors();
	bad_options();
	ok(gz_threads() >= 1, "gz_threads: %d", gz_threads());
	ok(gz_memory(2, GZ_BLOCK_DEFAULT) < (4u << 20),
	    "2 threads, 128 KiB blocks: at most %llu bytes, under 4 MiB",
	    (unsigned long long)gz_memory(2, GZ_BLOCK_DEFAULT));
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
