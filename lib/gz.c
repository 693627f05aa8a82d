/*
 * gz: parallel gzip compression (see gz.h).
 *
 * Three kinds of thread share a fixed pool of slots under one mutex:
 *   - the calling thread reads a block into a free slot, copies the last
 *     32 KiB of the block before it in front as the deflate dictionary,
 *     and queues the slot (numbered in order) for compression;
 *   - workers take queued slots and deflate each one on its own raw
 *     deflate stream, ending it with Z_SYNC_FLUSH (a byte boundary, not the
 *     end of the stream) or Z_FINISH for the last one, and compute the
 *     block's CRC-32;
 *   - the writer takes the compressed slots in number order, writes them,
 *     folds their CRCs together with crc32_combine, and frees the slots.
 * Only the block marked last carries Z_FINISH, and the reader marks a
 * block last only at end of file, so the trailer cannot follow a failed
 * read.  A block is queued once the read after it returned, so the reader
 * knows whether it is the last one.
 */
#define _GNU_SOURCE		/* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "gz.h"

#define DICT ((size_t)32 << 10)		/* deflate's window */
#define PIPE_BYTES (1 << 20)		/* what we ask pipes to hold */
#define THREAD_STACK ((size_t)1 << 20)
#define ZSTATE_BYTES ((uint64_t)(256 + 8) << 10)	/* deflate at windowBits 15, memLevel 8 */

enum { SLOT_FREE, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct slot {
	struct slot *next;	/* free list or work queue */
	int state;
	uint64_t seq;		/* position in the output */
	int last;		/* end the deflate stream here */
	unsigned char *in;	/* DICT bytes of room for the dictionary, then the block */
	size_t dict;		/* dictionary bytes, ending at in + DICT */
	size_t len;		/* input bytes, from in + DICT */
	unsigned char *out;
	size_t out_len;
	uLong crc;		/* CRC-32 of the input bytes */
};

struct gz {
	pthread_mutex_t mu;
	pthread_cond_t free_cv;		/* a slot was freed, or failure */
	pthread_cond_t work_cv;		/* a slot was queued, end of input, or failure */
	pthread_cond_t done_cv;		/* a slot was compressed, or failure */
	struct slot *slots;
	int nslots;
	struct slot *free;
	struct slot *qhead, **qtail;
	uint64_t next_seq;
	int eof;			/* the reader queues nothing more */
	int failed;
	struct log_err err;		/* the first failure */

	int level;
	size_t block, out_cap;
	int out_fd;
	const char *in_name, *out_name;
	uint64_t bytes_out;		/* the writer's */
};

int
gz_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > GZ_THREADS_MAX ? GZ_THREADS_MAX : (int)n;
}

static int
nslots_for(int threads)
{
	return 2 * threads + 2;
}

/* Deflate's worst case for one block plus room for the sync marker. */
static size_t
out_cap_for(size_t block)
{
	return compressBound((uLong)block) + 64;
}

uint64_t
gz_memory(int threads, size_t block)
{
	uint64_t slot = DICT + block + out_cap_for(block);

	return (uint64_t)nslots_for(threads) * slot + (uint64_t)threads * ZSTATE_BYTES;
}

/* Record the first failure and wake every thread so that all of them stop. */
static void
gz_fail(struct gz *g, const struct log_err *le)
{
	pthread_mutex_lock(&g->mu);
	if (!g->failed) {
		g->failed = 1;
		g->err = *le;
	}
	pthread_cond_broadcast(&g->free_cv);
	pthread_cond_broadcast(&g->work_cv);
	pthread_cond_broadcast(&g->done_cv);
	pthread_mutex_unlock(&g->mu);
}

/* Fill p with up to n bytes; *got < n only at end of file. */
static int
read_full(int fd, unsigned char *p, size_t n, size_t *got)
{
	ssize_t r;

	*got = 0;
	while (*got < n) {
		r = read(fd, p + *got, n - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Fewer, larger pipe transfers: ask for a bigger buffer; the limit may say no. */
static void
grow_pipe(int fd)
{
	struct stat sb;
	int size;

	if (fstat(fd, &sb) != 0 || !S_ISFIFO(sb.st_mode))
		return;
	for (size = PIPE_BYTES; size >= (128 << 10); size /= 2) {
		if (fcntl(fd, F_GETPIPE_SZ) >= size || fcntl(fd, F_SETPIPE_SZ, size) >= 0)
			return;
	}
}

/* Deflate one slot on zs into slot->out; 0 or -1. */
static int
deflate_slot(z_stream *zs, struct gz *g, struct slot *s)
{
	int rc, flush = s->last ? Z_FINISH : Z_SYNC_FLUSH;

	if (deflateReset(zs) != Z_OK)
		return -1;
	if (s->dict > 0 && deflateSetDictionary(zs, s->in + DICT - s->dict, (uInt)s->dict) != Z_OK)
		return -1;
	zs->next_in = s->in + DICT;
	zs->avail_in = (uInt)s->len;
	zs->next_out = s->out;
	zs->avail_out = (uInt)g->out_cap;
	rc = deflate(zs, flush);
	/* out_cap is beyond deflate's bound: all of it fits in one call */
	if (zs->avail_in != 0 || zs->avail_out == 0)
		return -1;
	if (s->last ? rc != Z_STREAM_END : rc != Z_OK)
		return -1;
	s->out_len = g->out_cap - zs->avail_out;
	s->crc = crc32(0, s->in + DICT, (uInt)s->len);
	return 0;
}

static void *
worker(void *arg)
{
	struct gz *g = arg;
	struct log_err le;
	struct slot *s;
	z_stream zs;
	int rc;

	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, g->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		log_fail(&le, EXIT_TEMP, "unable to start deflate: out of memory");
		gz_fail(g, &le);
		return NULL;
	}
	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (g->qhead == NULL && !g->eof && !g->failed)
			pthread_cond_wait(&g->work_cv, &g->mu);
		if (g->failed || g->qhead == NULL)
			break;
		s = g->qhead;
		g->qhead = s->next;
		if (g->qhead == NULL)
			g->qtail = &g->qhead;
		s->state = SLOT_BUSY;
		pthread_mutex_unlock(&g->mu);

		rc = deflate_slot(&zs, g, s);

		if (rc != 0) {
			log_fail(&le, EXIT_TEMP, "unable to compress block %llu: zlib: %s",
			    (unsigned long long)s->seq, zs.msg ? zs.msg : "internal error");
			gz_fail(g, &le);
		}
		pthread_mutex_lock(&g->mu);
		s->state = SLOT_DONE;
		pthread_cond_signal(&g->done_cv);
	}
	pthread_mutex_unlock(&g->mu);
	deflateEnd(&zs);
	return NULL;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* The slot numbered seq once it is compressed; NULL on failure. */
static struct slot *
wait_done(struct gz *g, uint64_t seq)
{
	int i;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		if (g->failed)
			break;
		for (i = 0; i < g->nslots; i++) {
			if (g->slots[i].state == SLOT_DONE && g->slots[i].seq == seq) {
				pthread_mutex_unlock(&g->mu);
				return &g->slots[i];
			}
		}
		pthread_cond_wait(&g->done_cv, &g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static void
release(struct gz *g, struct slot *s)
{
	pthread_mutex_lock(&g->mu);
	s->state = SLOT_FREE;
	s->next = g->free;
	g->free = s;
	pthread_cond_signal(&g->free_cv);
	pthread_mutex_unlock(&g->mu);
}

static void *
writer(void *arg)
{
	struct gz *g = arg;
	unsigned char head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	unsigned char tail[8];
	struct log_err le;
	struct slot *s;
	uint64_t seq, isize = 0;
	uLong crc = crc32(0, Z_NULL, 0);
	int last;

	/* XFL: what gzip writes for its fastest and its best level */
	head[8] = g->level == 9 ? 2 : g->level == 1 ? 4 : 0;
	for (seq = 0; (s = wait_done(g, seq)) != NULL; seq++) {
		if (seq == 0 && write_all(g->out_fd, head, sizeof head) != 0)
			break;
		g->bytes_out += seq == 0 ? sizeof head : 0;
		if (write_all(g->out_fd, s->out, s->out_len) != 0)
			break;
		g->bytes_out += s->out_len;
		crc = crc32_combine(crc, s->crc, (z_off_t)s->len);
		isize += s->len;
		last = s->last;
		release(g, s);
		if (!last)
			continue;
		put_le32(tail, (uint32_t)crc);
		put_le32(tail + 4, (uint32_t)isize);
		if (write_all(g->out_fd, tail, sizeof tail) != 0)
			break;
		g->bytes_out += sizeof tail;
		return NULL;
	}
	if (s != NULL) {
		log_fail_sys(&le, EXIT_TEMP, "unable to write %s", g->out_name);
		gz_fail(g, &le);
	}
	return NULL;
}

/* A free slot for the reader; NULL on failure. */
static struct slot *
take_free(struct gz *g)
{
	struct slot *s = NULL;

	pthread_mutex_lock(&g->mu);
	while (g->free == NULL && !g->failed)
		pthread_cond_wait(&g->free_cv, &g->mu);
	if (!g->failed) {
		s = g->free;
		g->free = s->next;
	}
	pthread_mutex_unlock(&g->mu);
	return s;
}

static void
queue(struct gz *g, struct slot *s, int last)
{
	pthread_mutex_lock(&g->mu);
	s->last = last;
	s->seq = g->next_seq++;
	s->state = SLOT_QUEUED;
	s->next = NULL;
	*g->qtail = s;
	g->qtail = &s->next;
	pthread_cond_signal(&g->work_cv);
	pthread_mutex_unlock(&g->mu);
}

/* The calling thread's part: read blocks and queue them; bytes read. */
static uint64_t
reader(struct gz *g, int in_fd)
{
	struct slot *cur = NULL, *s;
	struct log_err le;
	uint64_t total = 0;

	while ((s = take_free(g)) != NULL) {
		s->dict = 0;
		if (cur != NULL) {
			/* cur is a full block, and a block is at least DICT long */
			s->dict = DICT;
			memcpy(s->in, cur->in + DICT + cur->len - DICT, DICT);
		}
		if (read_full(in_fd, s->in + DICT, g->block, &s->len) != 0) {
			log_fail_sys(&le, EXIT_TEMP, "unable to read %s", g->in_name);
			gz_fail(g, &le);
			break;
		}
		total += s->len;
		if (s->len == 0) {
			/* end of file after a full block, or an empty input */
			if (cur != NULL) {
				queue(g, cur, 1);
				release(g, s);
			} else {
				queue(g, s, 1);
			}
			break;
		}
		if (cur != NULL)
			queue(g, cur, 0);
		cur = NULL;
		if (s->len < g->block) {
			queue(g, s, 1);
			break;
		}
		cur = s;
	}
	pthread_mutex_lock(&g->mu);
	g->eof = 1;
	pthread_cond_broadcast(&g->work_cv);
	pthread_mutex_unlock(&g->mu);
	return total;
}

static int
check_opts(const struct gz_opts *o, struct log_err *e)
{
	if (o->level < 0 || o->level > 9)
		return log_fail(e, EXIT_USAGE, "compression level %d is not 1 to 9", o->level);
	if (o->threads < 0 || o->threads > GZ_THREADS_MAX)
		return log_fail(e, EXIT_USAGE, "thread count %d is not 1 to %d",
		    o->threads, GZ_THREADS_MAX);
	if (o->block != 0 && (o->block < GZ_BLOCK_MIN || o->block > GZ_BLOCK_MAX))
		return log_fail(e, EXIT_USAGE, "block size %zu is not %zu to %zu bytes",
		    o->block, GZ_BLOCK_MIN, GZ_BLOCK_MAX);
	return 0;
}

static void
free_slots(struct gz *g)
{
	int i;

	for (i = 0; i < g->nslots; i++) {
		free(g->slots[i].in);
		free(g->slots[i].out);
	}
	free(g->slots);
}

static int
alloc_slots(struct gz *g, struct log_err *e)
{
	int i;

	g->slots = calloc((size_t)g->nslots, sizeof *g->slots);
	if (g->slots == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to allocate buffers");
	for (i = 0; i < g->nslots; i++) {
		g->slots[i].in = malloc(DICT + g->block);
		g->slots[i].out = malloc(g->out_cap);
		if (g->slots[i].in == NULL || g->slots[i].out == NULL) {
			free_slots(g);
			return log_fail_sys(e, EXIT_TEMP, "unable to allocate buffers");
		}
		g->slots[i].next = g->free;
		g->free = &g->slots[i];
	}
	return 0;
}

int
gz_compress(int in_fd, int out_fd, const struct gz_opts *o, struct gz_stats *st,
    struct log_err *e)
{
	static const struct gz_opts defaults;
	struct gz g;
	struct log_err le;
	pthread_t *tids, wtid;
	pthread_attr_t attr;
	uint64_t bytes_in;
	int i, rc, threads, started = 0, writing;

	if (o == NULL)
		o = &defaults;
	if (st != NULL)
		memset(st, 0, sizeof *st);
	if (check_opts(o, e) != 0)
		return -1;
	memset(&g, 0, sizeof g);
	g.level = o->level ? o->level : GZ_LEVEL_DEFAULT;
	g.block = o->block ? o->block : GZ_BLOCK_DEFAULT;
	g.out_cap = out_cap_for(g.block);
	g.out_fd = out_fd;
	g.in_name = o->in_name ? o->in_name : "input";
	g.out_name = o->out_name ? o->out_name : "output";
	threads = o->threads ? o->threads : gz_threads();
	g.nslots = nslots_for(threads);
	g.qtail = &g.qhead;
	tids = calloc((size_t)threads, sizeof *tids);
	if (tids == NULL)
		return log_fail_sys(e, EXIT_TEMP, "unable to allocate buffers");
	if (alloc_slots(&g, e) != 0) {
		free(tids);
		return -1;
	}
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.free_cv, NULL);
	pthread_cond_init(&g.work_cv, NULL);
	pthread_cond_init(&g.done_cv, NULL);
	grow_pipe(in_fd);
	grow_pipe(out_fd);

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	rc = pthread_create(&wtid, &attr, writer, &g);
	writing = rc == 0;
	for (i = 0; rc == 0 && i < threads; i++) {
		rc = pthread_create(&tids[i], &attr, worker, &g);
		started += rc == 0;
	}
	pthread_attr_destroy(&attr);
	if (!writing || started == 0) {
		/* pthread_create returns its error rather than setting errno */
		errno = rc;
		log_fail_sys(&le, EXIT_TEMP, "unable to start compression threads");
		gz_fail(&g, &le);
	}
	bytes_in = reader(&g, in_fd);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (writing)
		pthread_join(wtid, NULL);

	if (st != NULL) {
		st->bytes_in = bytes_in;
		st->bytes_out = g.bytes_out;
	}
	if (g.failed && e != NULL)
		*e = g.err;
	pthread_cond_destroy(&g.done_cv);
	pthread_cond_destroy(&g.work_cv);
	pthread_cond_destroy(&g.free_cv);
	pthread_mutex_destroy(&g.mu);
	free_slots(&g);
	free(tids);
	return g.failed ? -1 : 0;
}
