/* traces/vmt_write.c - the .vmt writer (format: traces/vmt.c, docs/trace-format.md).
 *
 * Kept apart from the reader so the capture runtimes (the sancov library
 * linked into traced programs, the qemu plugin) need only this file,
 * traces/crc32c.c, core/error.c, core/sized.c and libzstd.
 *
 * Records accumulate in six section buffers (version 1.1: ops as op table
 * indices, the op table, the address differences, pids, an empty size
 * section, events; put_access says how a base is chosen); when a chunk
 * holds chunk_recs records, or its op table is full, it is assembled,
 * compressed with zstd (level 3 unless vl_vmt_writer_level says otherwise)
 * and written with one write(2) of header + payload, so a killed writer
 * leaves whole chunks.
 *
 * zstd's literals (the bytes no match covers: most of a varint address
 * stream) are stored as they are, not Huffman-coded: a chunk is 5-15%
 * larger, and zstd decompresses it 20-35% faster (docs/benchmarks.md), which
 * is what a trace read many times wants.  Any zstd decoder reads both
 * kinds: the format does not change.
 * The index is kept in memory and written by close.
 *
 * With vl_vmt_writer_async a second thread compresses and writes full
 * chunks while the caller fills the next one (double buffering: the caller
 * waits only when the worker is still busy with the previous chunk).  The
 * worker alone touches the compression buffers, index and file until close
 * joins it; its first error is returned by the next write or by close.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_literalCompressionMode, a parameter value only */
#include <zstd.h>

#include "core/sized.h"
#include "core/thread.h"
#include "traces/internal.h"
#include "traces/vmt.h"

/* ================= writer ================= */

/* Test hook (tests/unit/test_vmt.c): non-zero, writers opened from now on
 * write version 1.0 (the ops byte's size codes, varint differences from
 * an instruction and a data base), which this reader still reads. */
int vl_vmt_write_v10 = 0;

/* struct vl_vmt_meta of the first release (core/sized.h) */
#define VMT_META_V1 (offsetof(struct vl_vmt_meta, comment) + sizeof(const char *))

struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static int bytes_room(struct bytes *b, size_t more)
{
	if (b->n + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->n + more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return VL_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

struct index_ent {
	uint64_t offset, first_rec;
	uint32_t nrecs;
};

struct vl_vmt_writer {
	int fd;
	bool own_fd;
	char *path;
	size_t chunk_recs;
	struct bytes sect[NSECT];
	uint32_t nrecs;             /* records in the open chunk */
	uint64_t base[NBASE];       /* address bases (1.1) */
	uint8_t dord[3];            /* data bases, most recently used first */
	unsigned nd;                /* 3 until the chunk's first instruction fetch, then 2 */
	uint32_t pid;               /* current pid in the open chunk */
	/* the open chunk's op table: entry keys (byte0 | byte1 << 8 |
	 * byte2 << 16) + 1 in an open-addressed map, 0 empty */
	bool v10;                   /* write version 1.0 (vl_vmt_write_v10) */
	uint32_t ntab;
	uint32_t tkey[4 * TAB_MAX];
	uint8_t tidx[4 * TAB_MAX];
	uint64_t total;             /* records in finished chunks */
	uint64_t offset;            /* bytes written */
	struct index_ent *index;
	size_t nindex, index_cap;
	uint8_t *out;               /* chunk header + compressed payload */
	size_t out_cap;
	struct bytes raw;
	ZSTD_CCtx *cctx;
	bool failed;
	uint32_t room_left;         /* accesses that surely fit the sections (room_for) */
	/* async mode */
	bool async, busy, quit;
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct bytes pend[NSECT];   /* the chunk handed to the worker */
	uint32_t pend_nrecs;
	uint64_t pend_first;
	int werr_code;
	char werr[VL_ERRMSG_MAX];
};

static int write_all(struct vl_vmt_writer *w, const void *buf, size_t n, struct vl_error *err)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t put = write(w->fd, p, n);
		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0) {
			return vl_err(err, VL_EIO, "%s: write failed at byte %llu: %s", w->path,
				      (unsigned long long)w->offset, strerror(errno));
		}
		p += put;
		n -= (size_t)put;
		w->offset += (uint64_t)put;
	}
	return 0;
}

static void chunk_reset(struct vl_vmt_writer *w)
{
	for (int i = 0; i < NSECT; i++)
		w->sect[i].n = 0;
	w->nrecs = 0;
	memset(w->base, 0, sizeof(w->base));
	w->dord[0] = 1;
	w->dord[1] = 2;
	w->dord[2] = 0;
	w->nd = 3;
	w->room_left = 0; /* async: the sections are other buffers now */
	w->pid = 1;
	w->ntab = 0;
	memset(w->tkey, 0, sizeof(w->tkey));
}

/* Assemble, compress and write one chunk of the given sections. */
static int compress_write(struct vl_vmt_writer *w, const struct bytes *sect, uint32_t nrecs,
			  uint64_t first, struct vl_error *err)
{
	size_t raw_len = NSECT * 4;
	for (int i = 0; i < NSECT; i++)
		raw_len += sect[i].n;
	if (raw_len > RAW_MAX)
		return vl_err(err, VL_ELIMIT, "%s: chunk of %zu bytes is too large", w->path, raw_len);
	w->raw.n = 0;
	if (bytes_room(&w->raw, raw_len) < 0)
		return vl_err(err, VL_ENOMEM, "%s: out of memory for a chunk", w->path);
	for (int i = 0; i < NSECT; i++)
		put32(w->raw.p + 4 * i, (uint32_t)sect[i].n);
	w->raw.n = NSECT * 4;
	for (int i = 0; i < NSECT; i++) {
		if (sect[i].n)
			memcpy(w->raw.p + w->raw.n, sect[i].p, sect[i].n);
		w->raw.n += sect[i].n;
	}
	size_t bound = ZSTD_compressBound(raw_len) + CHUNK_HDR;
	if (bound > w->out_cap) {
		uint8_t *o = realloc(w->out, bound);
		if (!o)
			return vl_err(err, VL_ENOMEM, "%s: out of memory for a chunk", w->path);
		w->out = o;
		w->out_cap = bound;
	}
	size_t comp = ZSTD_compress2(w->cctx, w->out + CHUNK_HDR, w->out_cap - CHUNK_HDR, w->raw.p,
				     raw_len);
	if (ZSTD_isError(comp))
		return vl_err(err, VL_EIO, "%s: zstd compression failed: %s", w->path,
			      ZSTD_getErrorName(comp));
	uint8_t *h = w->out;
	memcpy(h, "VMTC", 4);
	put32(h + 4, (uint32_t)w->nindex);
	put32(h + 8, nrecs);
	put32(h + 12, (uint32_t)raw_len);
	put32(h + 16, (uint32_t)comp);
	put64(h + 20, first);
	uint32_t crc = vl_crc32c(0, h, 28);
	crc = vl_crc32c(crc, h + CHUNK_HDR, comp);
	put32(h + 28, crc);
	if (w->nindex == w->index_cap) {
		size_t cap = w->index_cap ? 2 * w->index_cap : 64;
		struct index_ent *ix = realloc(w->index, cap * sizeof(*ix));
		if (!ix)
			return vl_err(err, VL_ENOMEM, "%s: out of memory for the index", w->path);
		w->index = ix;
		w->index_cap = cap;
	}
	w->index[w->nindex++] = (struct index_ent){ w->offset, first, nrecs };
	return write_all(w, h, CHUNK_HDR + comp, err);
}

static void *worker_main(void *arg)
{
	struct vl_vmt_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->busy)
			break;
		pthread_mutex_unlock(&w->mu);
		struct vl_error e = { 0 };
		int rc = compress_write(w, w->pend, w->pend_nrecs, w->pend_first, &e);
		pthread_mutex_lock(&w->mu);
		if (rc < 0 && !w->werr_code) {
			w->werr_code = rc;
			snprintf(w->werr, sizeof(w->werr), "%s", e.msg);
		}
		w->busy = false;
		pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* async: wait until the worker is idle; returns its error, if any. */
static int worker_idle(struct vl_vmt_writer *w, struct vl_error *err)
{
	pthread_mutex_lock(&w->mu);
	while (w->busy)
		pthread_cond_wait(&w->done, &w->mu);
	int rc = w->werr_code;
	pthread_mutex_unlock(&w->mu);
	if (rc < 0) {
		w->failed = true;
		return vl_err(err, rc, "%s", w->werr);
	}
	return 0;
}

int vl_vmt_writer_level(struct vl_vmt_writer *w, int level, struct vl_error *err)
{
	if (level < 1 || level > ZSTD_maxCLevel())
		return vl_err(err, VL_EINVAL, "%s: zstd level %d (expected 1 to %d)", w->path, level,
			      ZSTD_maxCLevel());
	if (w->async) /* the worker compresses with w->cctx */
		return vl_err(err, VL_EINVAL, "%s: set the zstd level before vl_vmt_writer_async",
			      w->path);
	size_t r = ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
	if (ZSTD_isError(r))
		return vl_err(err, VL_EINVAL, "%s: zstd level %d: %s", w->path, level,
			      ZSTD_getErrorName(r));
	return 0;
}

int vl_vmt_writer_async(struct vl_vmt_writer *w, struct vl_error *err)
{
	if (w->async)
		return 0;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	if (vl_thread_start(&w->worker, worker_main, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->done);
		return vl_err(err, VL_ENOMEM, "%s: cannot start the compression thread", w->path);
	}
	w->async = true;
	return 0;
}

static int flush_chunk(struct vl_vmt_writer *w, struct vl_error *err)
{
	if (w->nrecs == 0)
		return 0;
	if (w->async) {
		VL_TRY(worker_idle(w, err));
		pthread_mutex_lock(&w->mu);
		for (int i = 0; i < NSECT; i++) { /* hand the sections over, take the old ones */
			struct bytes t = w->pend[i];
			w->pend[i] = w->sect[i];
			w->sect[i] = t;
		}
		w->pend_nrecs = w->nrecs;
		w->pend_first = w->total;
		w->busy = true;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->mu);
	} else {
		int rc = compress_write(w, w->sect, w->nrecs, w->total, err);
		if (rc < 0) {
			w->failed = true;
			return rc;
		}
	}
	w->total += w->nrecs;
	chunk_reset(w);
	return 0;
}

int vl_vmt_writer_open(struct vl_vmt_writer **out, const char *path,
		       const struct vl_vmt_meta *meta, size_t chunk_recs, struct vl_error *err)
{
	if (chunk_recs == 0)
		chunk_recs = CHUNK_RECS_DEFAULT;
	if (chunk_recs > CHUNK_RECS_MAX)
		return vl_err(err, VL_EINVAL, "%s: at most %u records per chunk", path,
			      CHUNK_RECS_MAX);
	struct vl_vmt_meta mb = { .size = sizeof(mb) };
	if (meta)
		VL_TRY(sized_in(&mb, sizeof(mb), meta, VMT_META_V1, "struct vl_vmt_meta", err));
	meta = &mb;
	struct vl_vmt_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
	w->chunk_recs = chunk_recs;
	w->v10 = __atomic_load_n(&vl_vmt_write_v10, __ATOMIC_RELAXED) != 0;
	w->path = strdup(path);
	w->cctx = ZSTD_createCCtx();
	if (w->cctx) {
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, ZLEVEL);
		/* a libzstd without the parameter Huffman-codes literals:
		 * slower to decode, the same records */
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_literalCompressionMode,
				       ZSTD_lcm_uncompressed);
	}
	w->fd = -1;
	int rc;
	if (!w->path || !w->cctx) {
		rc = vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
		goto fail;
	}
	if (!strcmp(path, "-")) {
		w->fd = 1;
	} else {
		w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (w->fd < 0) {
			rc = vl_err(err, VL_EIO, "cannot create %s: %s", path, strerror(errno));
			goto fail;
		}
		w->own_fd = true;
	}
	/* metadata text */
	char date[32];

	if (!meta->date) {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	struct bytes m = { 0 };
	const char *keys[] = { "tool", "cmdline", "date", "comment" };
	const char *vals[] = { meta->tool, meta->cmdline, meta->date ? meta->date : date,
			       meta->comment };
	char ps[32];
	snprintf(ps, sizeof(ps), "%u", meta->page_size ? meta->page_size : VL_PAGE_SIZE);
	for (int i = 0; i <= 4; i++) {
		const char *k = i < 4 ? keys[i] : "page_size", *v = i < 4 ? vals[i] : ps;
		if (!v)
			continue;
		size_t kl = strlen(k), vl = strlen(v);
		if (bytes_room(&m, kl + vl + 2) < 0) {
			free(m.p);
			rc = vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
			goto fail;
		}
		memcpy(m.p + m.n, k, kl);
		m.p[m.n + kl] = '=';
		for (size_t j = 0; j < vl; j++) /* one line per key */
			m.p[m.n + kl + 1 + j] = v[j] == '\n' ? ' ' : (uint8_t)v[j];
		m.p[m.n + kl + 1 + vl] = '\n';
		m.n += kl + vl + 2;
	}
	if (meta->extra && *meta->extra) {
		/* verbatim, but only whole key=value lines */
		size_t xl = strlen(meta->extra);
		bool ok = meta->extra[xl - 1] == '\n';
		for (const char *l = meta->extra; ok && *l; l = strchr(l, '\n') + 1) {
			const char *nl = strchr(l, '\n'), *eq = memchr(l, '=', (size_t)(nl - l));
			ok = eq && eq > l;
		}
		if (!ok) {
			free(m.p);
			rc = vl_err(err, VL_EINVAL, "%s: extra metadata must be key=value lines", path);
			goto fail;
		}
		if (bytes_room(&m, xl) < 0) {
			free(m.p);
			rc = vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
			goto fail;
		}
		memcpy(m.p + m.n, meta->extra, xl);
		m.n += xl;
	}
	if (m.n > META_MAX) {
		free(m.p);
		rc = vl_err(err, VL_EINVAL, "%s: metadata longer than %u bytes", path, META_MAX);
		goto fail;
	}
	uint8_t *h = malloc(HDR_FIXED + m.n + 4);
	if (!h) {
		free(m.p);
		rc = vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
		goto fail;
	}
	memcpy(h, VMT_MAGIC, 8);
	put16(h + 8, VMT_MAJOR);
	put16(h + 10, w->v10 ? 0 : VMT_MINOR);
	put32(h + 12, w->v10 ? 0 : VMT_FLAG_TABLE);
	put32(h + 16, (uint32_t)m.n);
	if (m.n)
		memcpy(h + HDR_FIXED, m.p, m.n);
	put32(h + HDR_FIXED + m.n, vl_crc32c(0, h, HDR_FIXED + m.n));
	rc = write_all(w, h, HDR_FIXED + m.n + 4, err);
	free(h);
	free(m.p);
	if (rc < 0)
		goto fail;
	chunk_reset(w);
	*out = w;
	return 0;
fail:
	if (w->own_fd) {
		close(w->fd);
		unlink(path);
	}
	ZSTD_freeCCtx(w->cctx);
	free(w->path);
	free(w);
	return rc;
}

/* The op table index of entry (b0, b1, b2) in the open chunk, added if
 * new; -1 when the table is full (the caller starts a new chunk). */
static inline int tab_index(struct vl_vmt_writer *w, unsigned b0, unsigned b1, unsigned b2)
{
	uint32_t key = (b0 | b1 << 8 | b2 << 16) + 1;
	uint32_t h = (key * 2654435761u) >> 22; /* 10 bits: 4 * TAB_MAX slots */
	while (w->tkey[h]) {
		if (w->tkey[h] == key)
			return w->tidx[h];
		h = (h + 1) & (4 * TAB_MAX - 1);
	}
	if (w->ntab == TAB_MAX)
		return -1;
	struct bytes *t = &w->sect[S_TABLE];
	t->p[t->n] = (uint8_t)b0;
	t->p[t->n + 1] = (uint8_t)b1;
	t->p[t->n + 2] = (uint8_t)b2;
	t->n += TAB_ENT;
	w->tkey[h] = key;
	w->tidx[h] = (uint8_t)w->ntab;
	return (int)w->ntab++;
}

/* Bytes of the difference d as a two's complement number: 0 (d = 0) to 8,
 * the fewest whose sign extension gives d back. */
static inline unsigned dlen(uint64_t d)
{
	uint64_t z = d ^ (uint64_t)((int64_t)d >> 63); /* the bits that must be stored, less the sign */
	return d ? (unsigned)(72 - __builtin_clzll(z | 1)) / 8 : 0;
}

/* Room for k more records of the worst size (plus extra event bytes). */
static int room_for(struct vl_vmt_writer *w, size_t k, size_t extra, struct vl_error *err)
{
	/* the larger of 1.1 (table entry, 8 address bytes and 8 more for the
	 * whole-word store) and 1.0 (varints in S_IADDR and S_DADDR, a size
	 * byte) */
	static const size_t per[NSECT] = { 1, 10, 16, 10, 1, 0 };
	for (int i = 0; i < NSECT; i++)
		if (bytes_room(&w->sect[i], per[i] * k + (i == S_EVENT ? extra : 0)) < 0) {
			w->failed = true;
			w->room_left = 0;
			return vl_err(err, VL_ENOMEM, "%s: out of memory for a chunk", w->path);
		}
	return 0;
}

/* Room for one more record (plus extra event bytes). */
static int room(struct vl_vmt_writer *w, size_t extra, struct vl_error *err)
{
	w->room_left = 0; /* the next access checks again */
	return room_for(w, 1, extra, err);
}

/* Room for one more access: checked for 256 at a time (profiled: checking
 * the six sections for every record was a third of the writer's time). */
static inline int room_access(struct vl_vmt_writer *w, struct vl_error *err)
{
	if (__builtin_expect(w->room_left == 0, 0)) {
		VL_TRY(room_for(w, 256, 0, err));
		w->room_left = 256;
	}
	w->room_left--;
	return 0;
}

/* The record's ops byte (its op table index) and pid; the caller adds the
 * rest.  Starts a new chunk first when the table is full. */
static int emit_head(struct vl_vmt_writer *w, unsigned kind, uint32_t pid, unsigned size,
		     unsigned lenbase, struct vl_error *err)
{
	unsigned b0 = kind | (pid != w->pid ? F_PID : 0);
	if (w->v10) { /* the 1.0 ops byte: its size code, a size byte if explicit */
		uint8_t code = size_code((uint8_t)size);
		if (code == SIZE_EXPLICIT)
			w->sect[S_SIZE].p[w->sect[S_SIZE].n++] = (uint8_t)size;
		if (b0 & F_PID) {
			w->pid = pid;
			w->sect[S_PID].n += vl_put_varint(w->sect[S_PID].p + w->sect[S_PID].n, pid);
		}
		w->sect[S_OPS].p[w->sect[S_OPS].n++] = (uint8_t)(b0 | (unsigned)code << 4);
		return 0;
	}
	int idx = tab_index(w, b0, size, lenbase);
	if (idx < 0)
		return 1;
	if (b0 & F_PID) {
		w->pid = pid;
		w->sect[S_PID].n += vl_put_varint(w->sect[S_PID].p + w->sect[S_PID].n, pid);
	}
	w->sect[S_OPS].p[w->sect[S_OPS].n++] = (uint8_t)idx;
	return 0;
}

/* Starts a new chunk because the op table is full. */
static int table_full(struct vl_vmt_writer *w, struct vl_error *err)
{
	VL_TRY(flush_chunk(w, err));
	return room(w, 0, err);
}

static int after_record(struct vl_vmt_writer *w, struct vl_error *err)
{
	if (++w->nrecs >= w->chunk_recs)
		return flush_chunk(w, err);
	return 0;
}

/* One access in version 1.0 (vl_vmt_write_v10): zigzag LEB128 against the
 * instruction or data base.  Version 1.1 goes through put_run. */
static int put_access(struct vl_vmt_writer *w, const struct vl_rec *r, struct vl_error *err)
{
	emit_head(w, r->op, r->pid, r->size, 0, err);
	unsigned b = r->op == VL_OP_IFETCH ? 0 : 1;
	struct bytes *s = &w->sect[b ? S_DADDR : S_IADDR];
	s->n += vl_put_varint(s->p + s->n, vl_zigzag((int64_t)(r->addr - w->base[b])));
	w->base[b] = r->addr;
	return 0;
}

/* Accesses in version 1.1: each is a difference from a base.  Instruction
 * fetches use base 0.  Data accesses use bases 1 and 2, and base 0 too
 * while the chunk has had no instruction fetch: the base with the
 * shortest difference (on a tie the one used last), but when even that
 * needs `far` bytes or more, the base used least recently, which then
 * moves there, so that data regions far apart (the heap, the stack, an
 * input and an output buffer, two pointers a compare loop advances
 * together) each keep a base.  far is 2 bytes with three data bases and 4
 * with two (measured on the samples: with two bases, moving one at every
 * 2-byte jump makes the bases chase each other; docs/benchmarks.md).
 *
 * put_run writes the accesses r[0..n), room made for n: it stops at
 * the first record that is not an access, or with *full set at one whose
 * op table entry does not fit (the caller starts a new chunk and goes on
 * from it); returns how many it wrote.  It works over local copies of
 * the bases, their order and the section ends: a byte stored through
 * w->sect[].p may alias w itself, so over w's fields the compiler would
 * reload every pointer, length and base after each byte (the capture
 * runtimes write every record through here: 1.7x its encoding time). */
static size_t put_run(struct vl_vmt_writer *w, const struct vl_rec *r, size_t n, bool *full)
{
	uint8_t *ops = w->sect[S_OPS].p + w->sect[S_OPS].n;
	uint8_t *ad = w->sect[S_ADDR].p + w->sect[S_ADDR].n;
	uint8_t *pp = w->sect[S_PID].p + w->sect[S_PID].n;
	uint64_t base[NBASE];
	for (unsigned j = 0; j < NBASE; j++)
		base[j] = w->base[j];
	uint8_t dord[3] = { w->dord[0], w->dord[1], w->dord[2] };
	unsigned nd = w->nd;
	uint32_t pid = w->pid;
	uint32_t lkey = UINT32_MAX; /* the last record's table key and entry */
	int lidx = -1;
	size_t k = 0;
	for (; k < n && r[k].op < VL_OP_NACCESS; k++) {
		const struct vl_rec *x = &r[k];
		unsigned b = 0, ndn = nd, l;
		uint8_t dn[3] = { dord[0], dord[1], dord[2] };
		uint64_t dm = x->addr - base[dord[0]];
		if (x->op != VL_OP_IFETCH && dm + 128 < 256) {
			/* 0 or 1 byte from the base used last (dlen known) */
			b = dord[0];
			l = dm != 0;
			for (unsigned j = 1; dm && j < nd; j++)
				if (x->addr == base[dord[j]]) {
					b = dord[j];
					l = 0;
					break;
				}
		} else if (x->op != VL_OP_IFETCH) {
			unsigned best = 0, bl = dlen(dm);
			for (unsigned j = 1; j < nd; j++) {
				unsigned lj = dlen(x->addr - base[dord[j]]);
				if (lj < bl) {
					bl = lj;
					best = j;
				}
			}
			if (bl >= (nd == 3 ? 2u : 4u)) {
				best = nd - 1;
				bl = dlen(x->addr - base[dord[best]]);
			}
			b = dord[best];
			l = bl;
		} else {
			if (nd == 3) { /* base 0 is the instruction base from now on */
				unsigned m = 0;
				for (unsigned j = 0; j < 3; j++)
					if (dord[j])
						dn[m++] = dord[j];
				ndn = 2;
			}
			l = dlen(x->addr - base[0]);
		}
		uint64_t d = x->addr - base[b];
		unsigned b0 = x->op | (x->pid != pid ? F_PID : 0);
		uint32_t key = b0 | (unsigned)x->size << 8 | (l | b << 4) << 16;
		int idx = lidx;
		if (key != lkey) {
			idx = tab_index(w, b0, x->size, l | b << 4);
			lkey = idx < 0 ? UINT32_MAX : key;
			lidx = idx;
		}
		if (idx < 0) {
			*full = true;
			break; /* nothing of x written, the base order as before it */
		}
		nd = ndn;
		dord[0] = dn[0], dord[1] = dn[1], dord[2] = dn[2];
		if (b0 & F_PID) {
			pid = x->pid;
			pp += vl_put_varint(pp, pid);
		}
		*ops++ = (uint8_t)idx;
		uint64_t u = l ? d + (1ull << (8 * l - 1)) : 0;
		put64(ad, u);
		ad += l;
		base[b] = x->addr;
		if (x->op != VL_OP_IFETCH && dord[0] != b) {
			unsigned j = 1;
			while (dord[j] != b)
				j++;
			for (; j > 0; j--)
				dord[j] = dord[j - 1];
			dord[0] = (uint8_t)b;
		}
	}
	w->sect[S_OPS].n = (size_t)(ops - w->sect[S_OPS].p);
	w->sect[S_ADDR].n = (size_t)(ad - w->sect[S_ADDR].p);
	w->sect[S_PID].n = (size_t)(pp - w->sect[S_PID].p);
	for (unsigned j = 0; j < NBASE; j++)
		w->base[j] = base[j];
	w->dord[0] = dord[0], w->dord[1] = dord[1], w->dord[2] = dord[2];
	w->nd = nd;
	w->pid = pid;
	return k;
}

int vl_vmt_write(struct vl_vmt_writer *w, const struct vl_batch *b, struct vl_error *err)
{
	if (w->failed)
		return vl_err(err, VL_EIO, "%s: writer failed earlier", w->path);
	for (size_t i = 0; i < b->n;) {
		const struct vl_rec *r = &b->recs[i];
		if (r->op < VL_OP_NACCESS && !w->v10) {
			/* a run of accesses: room for it at once (the rest of
			 * the batch, up to the chunk's end, 64 Ki at most) */
			size_t want = b->n - i, left = w->chunk_recs - w->nrecs;
			if (want > left)
				want = left;
			if (want > 65536)
				want = 65536;
			VL_TRY(room_for(w, want, 0, err));
			w->room_left = 0;
			bool full = false;
			size_t k = put_run(w, r, want, &full);
			w->nrecs += (uint32_t)k;
			if (full)
				VL_TRY(table_full(w, err));
			else if (w->nrecs >= w->chunk_recs)
				VL_TRY(flush_chunk(w, err));
			i += k; /* on at the record put_run stopped at */
			continue;
		}
		if (r->op < VL_OP_NACCESS) {
			VL_TRY(room_access(w, err));
			VL_TRY(put_access(w, r, err));
		} else if (r->op == VL_OP_EVENT) {
			if (r->addr >= b->n_events) {
				w->failed = true;
				return vl_err(err, VL_EINVAL, "%s: record %zu names event %llu of %zu",
					      w->path, i, (unsigned long long)r->addr, b->n_events);
			}
			const struct vl_event *e = &b->events[r->addr];
			VL_TRY(room(w, 60, err));
			if (emit_head(w, K_EVENT, r->pid, 0, 0, err) > 0) {
				VL_TRY(table_full(w, err));
				VL_TRY(room(w, 60, err));
				emit_head(w, K_EVENT, r->pid, 0, 0, err);
			}
			struct bytes *s = &w->sect[S_EVENT];
			s->n += vl_put_varint(s->p + s->n, e->kind);
			s->n += vl_put_varint(s->p + s->n, e->prot);
			s->n += vl_put_varint(s->p + s->n, e->addr);
			s->n += vl_put_varint(s->p + s->n, e->len);
			s->n += vl_put_varint(s->p + s->n, e->file_id);
			s->n += vl_put_varint(s->p + s->n, e->offset);
		} else {
			w->failed = true;
			return vl_err(err, VL_EINVAL, "%s: record %zu has unknown op %u", w->path, i,
				      r->op);
		}
		VL_TRY(after_record(w, err));
		i++;
	}
	return 0;
}

int vl_vmt_write_proc(struct vl_vmt_writer *w, uint32_t pid, const char *name,
		      struct vl_error *err)
{
	if (w->failed)
		return vl_err(err, VL_EIO, "%s: writer failed earlier", w->path);
	size_t len = name ? strlen(name) : 0;
	if (len > 4096)
		len = 4096;
	VL_TRY(room(w, 10 + len, err));
	if (emit_head(w, K_PROC, pid, 0, 0, err) > 0) {
		VL_TRY(table_full(w, err));
		VL_TRY(room(w, 10 + len, err));
		emit_head(w, K_PROC, pid, 0, 0, err);
	}
	struct bytes *s = &w->sect[S_EVENT];
	s->n += vl_put_varint(s->p + s->n, len);
	if (len)
		memcpy(s->p + s->n, name, len);
	s->n += len;
	return after_record(w, err);
}

uint64_t vl_vmt_records(const struct vl_vmt_writer *w)
{
	return w->total + w->nrecs;
}

uint64_t vl_vmt_bytes(const struct vl_vmt_writer *w)
{
	return w->offset;
}

int vl_vmt_writer_close(struct vl_vmt_writer *w, struct vl_error *err)
{
	if (!w)
		return 0;
	int rc = 0;
	if (w->async) {
		rc = worker_idle(w, err);
		pthread_mutex_lock(&w->mu);
		w->quit = true;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->worker, NULL);
		w->async = false; /* the last chunk and the index are written here */
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->done);
	}
	if (rc == 0 && w->failed)
		rc = vl_err(err, VL_EIO, "%s: incomplete (an earlier write failed)", w->path);
	if (rc == 0)
		rc = flush_chunk(w, err);
	if (rc == 0) {
		size_t n = 8 + 20 * w->nindex + 12 + 16;
		uint8_t *ix = malloc(n);
		if (!ix) {
			rc = vl_err(err, VL_ENOMEM, "%s: out of memory for the index", w->path);
		} else {
			uint64_t at = w->offset;
			memcpy(ix, "VMTI", 4);
			put32(ix + 4, (uint32_t)w->nindex);
			uint8_t *p = ix + 8;
			for (size_t i = 0; i < w->nindex; i++, p += 20) {
				put64(p, w->index[i].offset);
				put64(p + 8, w->index[i].first_rec);
				put32(p + 16, w->index[i].nrecs);
			}
			put64(p, w->total);
			put32(p + 8, vl_crc32c(0, ix, (size_t)(p + 8 - ix)));
			p += 12;
			put64(p, at);
			memcpy(p + 8, "VMTEND\0\0", 8);
			rc = write_all(w, ix, n, err);
			free(ix);
		}
	}
	if (w->own_fd && close(w->fd) < 0 && rc == 0)
		rc = vl_err(err, VL_EIO, "%s: close failed: %s", w->path, strerror(errno));
	for (int i = 0; i < NSECT; i++) {
		free(w->sect[i].p);
		free(w->pend[i].p);
	}
	free(w->raw.p);
	free(w->out);
	free(w->index);
	ZSTD_freeCCtx(w->cctx);
	free(w->path);
	free(w);
	return rc;
}


/* ---- metadata rewritten in place ---- */

int vl_vmt_fill_reserved(const char *path, const char *extra, struct vl_error *err)
{
	static const char key[] = "reserved=";
	FILE *f = fopen(path, "r+b");
	if (!f)
		return vl_err(err, VL_EIO, "%s: %s", path, strerror(errno));
	uint8_t fixed[HDR_FIXED];
	uint8_t *h = NULL;
	int rc = 0;
	if (fread(fixed, 1, HDR_FIXED, f) != HDR_FIXED || memcmp(fixed, VMT_MAGIC, 8)) {
		rc = vl_err(err, VL_EFORMAT, "%s: not a .vmt file", path);
		goto out;
	}
	uint32_t mlen = get32(fixed + 16);
	if (mlen > META_MAX || !(h = malloc(HDR_FIXED + (size_t)mlen + 1))) {
		rc = vl_err(err, VL_EFORMAT, "%s: bad metadata length %u", path, mlen);
		goto out;
	}
	memcpy(h, fixed, HDR_FIXED);
	if (fread(h + HDR_FIXED, 1, mlen, f) != mlen) {
		rc = vl_err(err, VL_EFORMAT, "%s: metadata cut short", path);
		goto out;
	}
	char *m = (char *)h + HDR_FIXED;
	m[mlen] = '\0';
	char *r = strstr(m, key);
	if (r && r != m && r[-1] != '\n')
		r = NULL;
	char *rend = r ? memchr(r, '\n', (size_t)(m + mlen - r)) : NULL;
	size_t room = r && rend ? (size_t)(rend + 1 - r) : 0, xl = strlen(extra);
	/* extra, then what is left of the reserved line */
	if (!rend || xl + sizeof(key) > room ||
	    (xl && (extra[xl - 1] != '\n' || !strchr(extra, '=')))) {
		rc = vl_err(err, VL_EINVAL,
			    "%s: %zu bytes of metadata do not fit the %zu reserved (or are not key=value lines)",
			    path, xl, room);
		goto out;
	}
	memcpy(r, extra, xl);
	memcpy(r + xl, key, sizeof(key) - 1);
	memset(r + xl + sizeof(key) - 1, ' ', room - xl - sizeof(key));
	r[room - 1] = '\n';
	uint8_t crc[4];
	put32(crc, vl_crc32c(0, h, HDR_FIXED + mlen));
	if (fseek(f, HDR_FIXED, SEEK_SET) != 0 || fwrite(m, 1, mlen, f) != mlen ||
	    fwrite(crc, 1, 4, f) != 4 || fflush(f) != 0)
		rc = vl_err(err, VL_EIO, "%s: rewriting the metadata: %s", path, strerror(errno));
out:
	free(h);
	if (fclose(f) != 0 && rc == 0)
		rc = vl_err(err, VL_EIO, "%s: %s", path, strerror(errno));
	return rc;
}
