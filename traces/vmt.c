/* traces/vmt.c - the native .vmt format: writer and reader.
 *
 * Layout (docs/trace-format.md is the specification; all integers little
 * endian):
 *
 *   header   "\x89VMT\r\n\x1a\n", u16 major, u16 minor, u32 flags,
 *            u32 meta_len, meta ("key=value\n" lines), u32 crc32c
 *   chunk*   "VMTC", u32 seq, u32 nrecs, u32 raw_len, u32 comp_len,
 *            u64 first_rec, u32 crc32c (header bytes 0..27 + payload),
 *            comp_len bytes of one zstd frame holding raw_len bytes:
 *              6 x u32 section lengths, then the sections
 *              ops    one byte per record: kind (bits 0-2), pid follows
 *                     (bit 3), size code (bits 4-7)
 *              iaddr  zigzag LEB128 deltas of instruction-fetch addresses
 *              daddr  zigzag LEB128 deltas of data addresses
 *              pid    LEB128 pids, for records with bit 3
 *              size   one byte per record with size code 15
 *              event  LEB128 fields of events and process starts
 *   index    "VMTI", u32 nchunks, nchunks x (u64 offset, u64 first_rec,
 *            u32 nrecs), u64 total records, u32 crc32c
 *   trailer  u64 index offset, "VMTEND\0\0"
 *
 * Chunks are independent: each starts its delta bases at 0 and its pid at
 * 1, so any chunk decodes alone (the index gives random access).
 *
 * The reader reads sequentially through the shared byte source (a .vmt
 * may come from a pipe, or even be gzip-compressed again).  A file that
 * ends without its index (a writer killed, a copy cut short) is read up to
 * its last complete chunk and the trace's warning says so; anything
 * inconsistent inside the header or a complete chunk is an error naming the
 * file, the chunk and its byte offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "traces/internal.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static const uint8_t MAGIC[8] = { 0x89, 'V', 'M', 'T', '\r', '\n', 0x1a, '\n' };
#define VMT_MAJOR 1
#define VMT_MINOR 0
#define HDR_FIXED 20       /* magic, major, minor, flags, meta_len */
#define META_MAX (1u << 20)
#define CHUNK_HDR 32
#define CHUNK_RECS_DEFAULT (1u << 20)
#define CHUNK_RECS_MAX (16u << 20)
#define RAW_MAX (256u << 20)
#define NSECT 6
#define ZLEVEL 3

enum { K_READ = 0, K_WRITE = 1, K_IFETCH = 2, K_MODIFY = 3, K_EVENT = 4, K_PROC = 5 };
enum { S_OPS, S_IADDR, S_DADDR, S_PID, S_SIZE, S_EVENT };
#define F_PID 0x08
#define SIZE_EXPLICIT 15

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Size code: 0 unknown, c in 1..8 means 1 << (c - 1) bytes, 15 explicit. */
static uint8_t size_code(uint8_t size)
{
	if (size == 0)
		return 0;
	if ((size & (size - 1)) == 0)
		return (uint8_t)(__builtin_ctz(size) + 1);
	return SIZE_EXPLICIT;
}

/* ================= writer ================= */

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
	uint64_t iprev, dprev;      /* delta bases */
	uint32_t pid;               /* current pid in the open chunk */
	uint64_t total;             /* records in finished chunks */
	uint64_t offset;            /* bytes written */
	struct index_ent *index;
	size_t nindex, index_cap;
	uint8_t *out;               /* chunk header + compressed payload */
	size_t out_cap;
	struct bytes raw;
	ZSTD_CCtx *cctx;
	bool failed;
};

static int write_all(struct vl_vmt_writer *w, const void *buf, size_t n, struct vl_error *err)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t put = write(w->fd, p, n);
		if (put < 0 && errno == EINTR)
			continue;
		if (put < 0) {
			w->failed = true;
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
	w->iprev = w->dprev = 0;
	w->pid = 1;
}

static int flush_chunk(struct vl_vmt_writer *w, struct vl_error *err)
{
	if (w->nrecs == 0)
		return 0;
	size_t raw_len = NSECT * 4;
	for (int i = 0; i < NSECT; i++)
		raw_len += w->sect[i].n;
	if (raw_len > RAW_MAX)
		return vl_err(err, VL_ELIMIT, "%s: chunk of %zu bytes is too large", w->path, raw_len);
	w->raw.n = 0;
	if (bytes_room(&w->raw, raw_len) < 0)
		return vl_err(err, VL_ENOMEM, "%s: out of memory for a chunk", w->path);
	for (int i = 0; i < NSECT; i++)
		put32(w->raw.p + 4 * i, (uint32_t)w->sect[i].n);
	w->raw.n = NSECT * 4;
	for (int i = 0; i < NSECT; i++) {
		if (w->sect[i].n)
			memcpy(w->raw.p + w->raw.n, w->sect[i].p, w->sect[i].n);
		w->raw.n += w->sect[i].n;
	}
	size_t bound = ZSTD_compressBound(raw_len) + CHUNK_HDR;
	if (bound > w->out_cap) {
		uint8_t *o = realloc(w->out, bound);
		if (!o)
			return vl_err(err, VL_ENOMEM, "%s: out of memory for a chunk", w->path);
		w->out = o;
		w->out_cap = bound;
	}
	size_t comp = ZSTD_compressCCtx(w->cctx, w->out + CHUNK_HDR, w->out_cap - CHUNK_HDR,
					w->raw.p, raw_len, ZLEVEL);
	if (ZSTD_isError(comp))
		return vl_err(err, VL_EIO, "%s: zstd compression failed: %s", w->path,
			      ZSTD_getErrorName(comp));
	uint8_t *h = w->out;
	memcpy(h, "VMTC", 4);
	put32(h + 4, (uint32_t)w->nindex);
	put32(h + 8, w->nrecs);
	put32(h + 12, (uint32_t)raw_len);
	put32(h + 16, (uint32_t)comp);
	put64(h + 20, w->total);
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
	w->index[w->nindex++] = (struct index_ent){ w->offset, w->total, w->nrecs };
	VL_TRY(write_all(w, h, CHUNK_HDR + comp, err));
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
	struct vl_vmt_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
	w->chunk_recs = chunk_recs;
	w->path = strdup(path);
	w->cctx = ZSTD_createCCtx();
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
	const struct vl_vmt_meta none = { 0 };
	if (!meta)
		meta = &none;
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
	memcpy(h, MAGIC, 8);
	put16(h + 8, VMT_MAJOR);
	put16(h + 10, VMT_MINOR);
	put32(h + 12, 0);
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

static inline int emit_head(struct vl_vmt_writer *w, unsigned kind, uint32_t pid, uint8_t size)
{
	uint8_t code = size_code(size);
	uint8_t op = (uint8_t)(kind | (uint8_t)(code << 4));
	if (pid != w->pid) {
		op |= F_PID;
		w->pid = pid;
		w->sect[S_PID].n += vl_put_varint(w->sect[S_PID].p + w->sect[S_PID].n, pid);
	}
	w->sect[S_OPS].p[w->sect[S_OPS].n++] = op;
	if (code == SIZE_EXPLICIT)
		w->sect[S_SIZE].p[w->sect[S_SIZE].n++] = size;
	return 0;
}

/* Room for one more record of the worst size (plus extra event bytes). */
static int room(struct vl_vmt_writer *w, size_t extra, struct vl_error *err)
{
	static const size_t per[NSECT] = { 1, 10, 10, 10, 1, 0 };
	for (int i = 0; i < NSECT; i++)
		if (bytes_room(&w->sect[i], per[i] + (i == S_EVENT ? extra : 0)) < 0) {
			w->failed = true;
			return vl_err(err, VL_ENOMEM, "%s: out of memory for a chunk", w->path);
		}
	return 0;
}

static int after_record(struct vl_vmt_writer *w, struct vl_error *err)
{
	if (++w->nrecs >= w->chunk_recs)
		return flush_chunk(w, err);
	return 0;
}

int vl_vmt_write(struct vl_vmt_writer *w, const struct vl_batch *b, struct vl_error *err)
{
	if (w->failed)
		return vl_err(err, VL_EIO, "%s: writer failed earlier", w->path);
	for (size_t i = 0; i < b->n; i++) {
		const struct vl_rec *r = &b->recs[i];
		if (r->op < VL_OP_NACCESS) {
			VL_TRY(room(w, 0, err));
			emit_head(w, r->op, r->pid, r->size);
			struct bytes *s = &w->sect[r->op == VL_OP_IFETCH ? S_IADDR : S_DADDR];
			uint64_t *prev = r->op == VL_OP_IFETCH ? &w->iprev : &w->dprev;
			s->n += vl_put_varint(s->p + s->n, vl_zigzag((int64_t)(r->addr - *prev)));
			*prev = r->addr;
		} else if (r->op == VL_OP_EVENT) {
			if (r->addr >= b->n_events) {
				w->failed = true;
				return vl_err(err, VL_EINVAL, "%s: record %zu names event %llu of %zu",
					      w->path, i, (unsigned long long)r->addr, b->n_events);
			}
			const struct vl_event *e = &b->events[r->addr];
			VL_TRY(room(w, 60, err));
			emit_head(w, K_EVENT, r->pid, 0);
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
	emit_head(w, K_PROC, pid, 0);
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
	if (w->failed)
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
	for (int i = 0; i < NSECT; i++)
		free(w->sect[i].p);
	free(w->raw.p);
	free(w->out);
	free(w->index);
	ZSTD_freeCCtx(w->cctx);
	free(w->path);
	free(w);
	return rc;
}

/* ================= reader ================= */

struct rd {
	ZSTD_DCtx *dctx;
	uint8_t *raw;
	size_t raw_cap;
	uint32_t seq;              /* next chunk number expected */
	uint64_t chunk_off;        /* byte offset of the current chunk */
	uint64_t total;            /* records in chunks read so far (incl. current) */
	bool done;
	/* current chunk's cursor */
	uint32_t nrecs, i;
	const uint8_t *ops;
	const uint8_t *s[NSECT], *e[NSECT];
	uint64_t iprev, dprev;
	uint32_t pid;
};

static int vmt_open(struct vl_trace *t, struct vl_error *err)
{
	struct rd *r = calloc(1, sizeof(*r));
	if (!r || !(r->dctx = ZSTD_createDCtx())) {
		free(r);
		return vl_err(err, VL_ENOMEM, "%s: out of memory", t->path);
	}
	t->state = r;
	const uint8_t *p;
	ssize_t got = vl_trace_peek(t, HDR_FIXED, &p, err);
	if (got < 0)
		return (int)got;
	if (got < 8 || memcmp(p, MAGIC, 8))
		return vl_err(err, VL_EFORMAT, "%s at byte 0: not a .vmt file (wrong magic)", t->path);
	if (got < HDR_FIXED)
		return vl_err(err, VL_EFORMAT, "%s at byte %zd: header cut short (truncated file)",
			      t->path, got);
	uint16_t major = get16(p + 8), minor = get16(p + 10);
	if (major != VMT_MAJOR)
		return vl_err(err, VL_EVERSION,
			      "%s at byte 8: .vmt version %u.%u, this vmlab reads version %u.x",
			      t->path, major, minor, VMT_MAJOR);
	uint32_t flags = get32(p + 12), mlen = get32(p + 16);
	if (flags != 0)
		return vl_err(err, VL_EVERSION, "%s at byte 12: unknown header flags 0x%x", t->path,
			      flags);
	if (mlen > META_MAX)
		return vl_err(err, VL_EFORMAT, "%s at byte 16: metadata length %u exceeds %u",
			      t->path, mlen, META_MAX);
	got = vl_trace_peek(t, HDR_FIXED + mlen + 4, &p, err);
	if (got < 0)
		return (int)got;
	if ((size_t)got < HDR_FIXED + mlen + 4)
		return vl_err(err, VL_EFORMAT, "%s at byte %zd: header cut short (truncated file)",
			      t->path, got);
	uint32_t crc = vl_crc32c(0, p, HDR_FIXED + mlen);
	if (crc != get32(p + HDR_FIXED + mlen))
		return vl_err(err, VL_EFORMAT, "%s at byte %u: header CRC mismatch", t->path,
			      HDR_FIXED + mlen);
	/* metadata lines */
	const char *m = (const char *)p + HDR_FIXED, *mend = m + mlen;
	while (m < mend) {
		const char *nl = memchr(m, '\n', (size_t)(mend - m));
		const char *eq = memchr(m, '=', (size_t)((nl ? nl : mend) - m));
		if (!nl || !eq)
			return vl_err(err, VL_EFORMAT, "%s at byte %zu: metadata is not key=value lines",
				      t->path, (size_t)(m - (const char *)p));
		char key[128], val[4096];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - m), m);
		snprintf(val, sizeof(val), "%.*s", (int)(nl - eq - 1), eq + 1);
		VL_TRY(vl_trace_add_meta(t, key, val, err));
		m = nl + 1;
	}
	vl_trace_skip(t, HDR_FIXED + mlen + 4);
	return 0;
}

static void vmt_close(struct vl_trace *t)
{
	struct rd *r = t->state;
	if (!r)
		return;
	ZSTD_freeDCtx(r->dctx);
	free(r->raw);
	free(r);
	t->state = NULL;
}

/* The file ends (or is cut) before its index. */
static int cut_short(struct vl_trace *t, struct rd *r, const char *where)
{
	vl_trace_set_warning(t,
			     "%s: %s at byte %llu (the writer did not finish); read %u complete "
			     "chunks, %llu records",
			     t->path, where, (unsigned long long)vl_trace_pos(t), r->seq,
			     (unsigned long long)r->total);
	r->done = true;
	return 0;
}

static int read_index(struct vl_trace *t, struct rd *r, struct vl_error *err)
{
	uint64_t at = vl_trace_pos(t);
	const uint8_t *p;
	ssize_t got = vl_trace_peek(t, 8, &p, err);
	if (got < 0)
		return (int)got;
	if (got < 8)
		return cut_short(t, r, "index cut short");
	uint32_t n = get32(p + 4);
	if (n != r->seq)
		return vl_err(err, VL_EFORMAT, "%s index at byte %llu: lists %u chunks, the file has %u",
			      t->path, (unsigned long long)at, n, r->seq);
	size_t len = 8 + 20 * (size_t)n + 12 + 16;
	got = vl_trace_peek(t, len, &p, err);
	if (got < 0)
		return (int)got;
	if ((size_t)got < len)
		return cut_short(t, r, "index cut short");
	size_t body = 8 + 20 * (size_t)n + 8;
	if (vl_crc32c(0, p, body) != get32(p + body))
		return vl_err(err, VL_EFORMAT, "%s index at byte %llu: CRC mismatch", t->path,
			      (unsigned long long)at);
	if (get64(p + body - 8) != r->total)
		return vl_err(err, VL_EFORMAT, "%s index at byte %llu: counts %llu records, the chunks "
			      "hold %llu", t->path, (unsigned long long)at,
			      (unsigned long long)get64(p + body - 8), (unsigned long long)r->total);
	if (get64(p + body + 4) != at || memcmp(p + body + 12, "VMTEND\0\0", 8))
		return vl_err(err, VL_EFORMAT, "%s at byte %llu: bad trailer after the index",
			      t->path, (unsigned long long)(at + body + 4));
	vl_trace_skip(t, len);
	got = vl_trace_peek(t, 1, &p, err);
	if (got < 0)
		return (int)got;
	if (got > 0)
		return vl_err(err, VL_EFORMAT, "%s at byte %llu: unexpected data after the trailer",
			      t->path, (unsigned long long)vl_trace_pos(t));
	r->done = true;
	return 0;
}

/* Load the next chunk; sets r->done at the end.  Returns 0 or <0. */
static int next_chunk(struct vl_trace *t, struct rd *r, struct vl_error *err)
{
	uint64_t at = vl_trace_pos(t);
	const uint8_t *p;
	ssize_t got = vl_trace_peek(t, 4, &p, err);
	if (got < 0)
		return (int)got;
	if (got == 0)
		return cut_short(t, r, "ends without an index");
	if (got == 4 && !memcmp(p, "VMTI", 4))
		return read_index(t, r, err);
	if (got < 4 || memcmp(p, "VMTC", 4)) {
		if (got < 4)
			return cut_short(t, r, "chunk header cut short");
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: expected a chunk (VMTC) or "
			      "the index (VMTI)", t->path, r->seq, (unsigned long long)at);
	}
	got = vl_trace_peek(t, CHUNK_HDR, &p, err);
	if (got < 0)
		return (int)got;
	if (got < CHUNK_HDR)
		return cut_short(t, r, "chunk header cut short");
	uint32_t seq = get32(p + 4), nrecs = get32(p + 8), raw_len = get32(p + 12),
		 comp = get32(p + 16), crc = get32(p + 28);
	uint64_t first = get64(p + 20);
	if (seq != r->seq)
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: numbered %u", t->path,
			      r->seq, (unsigned long long)at, seq);
	if (nrecs == 0 || nrecs > CHUNK_RECS_MAX || raw_len > RAW_MAX || raw_len < NSECT * 4 ||
	    comp > ZSTD_compressBound(raw_len) || comp == 0)
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: impossible sizes "
			      "(%u records, %u bytes, %u compressed)", t->path, r->seq,
			      (unsigned long long)at, nrecs, raw_len, comp);
	if (first != r->total)
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: starts at record %llu, "
			      "expected %llu", t->path, r->seq, (unsigned long long)at,
			      (unsigned long long)first, (unsigned long long)r->total);
	got = vl_trace_peek(t, CHUNK_HDR + (size_t)comp, &p, err);
	if (got < 0)
		return (int)got;
	if ((size_t)got < CHUNK_HDR + (size_t)comp)
		return cut_short(t, r, "last chunk cut short");
	uint32_t c = vl_crc32c(vl_crc32c(0, p, 28), p + CHUNK_HDR, comp);
	if (c != crc)
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: CRC mismatch (stored %08x, "
			      "computed %08x)", t->path, r->seq, (unsigned long long)at, crc, c);
	if (raw_len > r->raw_cap) {
		uint8_t *nr = realloc(r->raw, raw_len);
		if (!nr)
			return vl_err(err, VL_ENOMEM, "%s: out of memory for chunk %u", t->path, r->seq);
		r->raw = nr;
		r->raw_cap = raw_len;
	}
	size_t dn = ZSTD_decompressDCtx(r->dctx, r->raw, raw_len, p + CHUNK_HDR, comp);
	if (ZSTD_isError(dn) || dn != raw_len)
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: corrupt zstd payload (%s)",
			      t->path, r->seq, (unsigned long long)at,
			      ZSTD_isError(dn) ? ZSTD_getErrorName(dn) : "wrong length");
	uint64_t sum = NSECT * 4;
	const uint8_t *q = r->raw + NSECT * 4;
	for (int i = 0; i < NSECT; i++) {
		uint32_t len = get32(r->raw + 4 * i);
		sum += len;
		r->s[i] = q;
		q += len <= raw_len ? len : 0;
		r->e[i] = q;
	}
	if (sum != raw_len || (uint32_t)(r->e[S_OPS] - r->s[S_OPS]) != nrecs)
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: section lengths do not add "
			      "up", t->path, r->seq, (unsigned long long)at);
	vl_trace_skip(t, CHUNK_HDR + (size_t)comp);
	r->chunk_off = at;
	r->ops = r->s[S_OPS];
	r->nrecs = nrecs;
	r->i = 0;
	r->iprev = r->dprev = 0;
	r->pid = 1;
	r->seq++;
	r->total += nrecs;
	return 0;
}

static int bad(struct vl_trace *t, struct rd *r, const char *what, struct vl_error *err)
{
	return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: record %u: %s", t->path,
		      r->seq - 1, (unsigned long long)r->chunk_off, r->i, what);
}

/* LEB128 from [*p, end): 0 or -1 when it runs off the end or past 64 bits. */
static inline int varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	if (likely(p < end && *p < 0x80)) {
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (p == end)
			return -1;
		uint8_t c = *p++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

static const uint8_t size_of_code[16] = { 0, 1, 2, 4, 8, 16, 32, 64, 128 };

static ssize_t vmt_read(struct vl_trace *t, struct vl_batch *b, struct vl_error *err)
{
	struct rd *r = t->state;
	while (b->n < b->cap) {
		if (r->i == r->nrecs) {
			if (r->nrecs) { /* the chunk is used up: all its streams must be */
				for (int j = S_IADDR; j < NSECT; j++)
					if (r->s[j] != r->e[j])
						return bad(t, r, "bytes left over in the chunk's streams",
							   err);
				r->nrecs = r->i = 0;
			}
			if (r->done)
				break;
			VL_TRY(next_chunk(t, r, err));
			continue;
		}
		const uint8_t *ip = r->s[S_IADDR], *ie = r->e[S_IADDR];
		const uint8_t *dp = r->s[S_DADDR], *de = r->e[S_DADDR];
		uint64_t iprev = r->iprev, dprev = r->dprev;
		uint32_t pid = r->pid, i = r->i, nrecs = r->nrecs;
		const uint8_t *ops = r->ops;
		struct vl_rec *out = b->recs + b->n;
		size_t room = b->cap - b->n;
		size_t k = 0;
		int rc = 0;
		/* Hot loop: plain accesses of the current pid. */
		while (k < room && i < nrecs) {
			uint8_t op = ops[i];
			unsigned kind = op & 7u;
			if (unlikely(op & F_PID) || unlikely(kind > K_MODIFY) ||
			    unlikely((op >> 4) > 8))
				break;
			uint64_t d;
			if (kind == K_IFETCH) {
				if (unlikely(varint(&ip, ie, &d) < 0)) {
					rc = -1;
					break;
				}
				iprev += (uint64_t)vl_unzigzag(d);
				out[k].addr = iprev;
			} else {
				if (unlikely(varint(&dp, de, &d) < 0)) {
					rc = -1;
					break;
				}
				dprev += (uint64_t)vl_unzigzag(d);
				out[k].addr = dprev;
			}
			out[k].pid = pid;
			out[k].op = (uint8_t)kind;
			out[k].size = size_of_code[op >> 4];
			out[k].pad = 0;
			k++;
			i++;
		}
		b->n += k;
		r->s[S_IADDR] = ip;
		r->s[S_DADDR] = dp;
		r->iprev = iprev;
		r->dprev = dprev;
		r->i = i;
		if (rc < 0)
			return bad(t, r, "address stream ends early", err);
		if (k == room || i == nrecs)
			continue;
		/* Slow path: one record with a pid change, an explicit size, an
		 * event or a process start. */
		uint8_t op = ops[i];
		unsigned kind = op & 7u, code = op >> 4;
		uint64_t v;
		if (op & F_PID) {
			if (varint(&r->s[S_PID], r->e[S_PID], &v) < 0 || v == 0 || v > UINT32_MAX)
				return bad(t, r, "bad or missing pid", err);
			r->pid = (uint32_t)v;
		}
		uint8_t size;
		if (code == SIZE_EXPLICIT) {
			if (r->s[S_SIZE] == r->e[S_SIZE])
				return bad(t, r, "size stream ends early", err);
			size = *r->s[S_SIZE]++;
		} else if (code <= 8) {
			size = size_of_code[code];
		} else {
			return bad(t, r, "unknown size code", err);
		}
		struct vl_rec *o = &b->recs[b->n];
		if (kind <= K_MODIFY) {
			const uint8_t **sp = kind == K_IFETCH ? &r->s[S_IADDR] : &r->s[S_DADDR];
			uint64_t *prev = kind == K_IFETCH ? &r->iprev : &r->dprev;
			if (varint(sp, r->e[kind == K_IFETCH ? S_IADDR : S_DADDR], &v) < 0)
				return bad(t, r, "address stream ends early", err);
			*prev += (uint64_t)vl_unzigzag(v);
			*o = (struct vl_rec){ .addr = *prev, .pid = r->pid, .op = (uint8_t)kind,
					      .size = size };
			b->n++;
		} else if (kind == K_EVENT) {
			if (b->n_events == b->ev_cap) {
				/* no room for its arguments: undo the pid and leave it */
				if (op & F_PID)
					return bad(t, r, "internal: event batch full after a pid", err);
				break;
			}
			uint64_t f[6];
			for (int j = 0; j < 6; j++)
				if (varint(&r->s[S_EVENT], r->e[S_EVENT], &f[j]) < 0)
					return bad(t, r, "event stream ends early", err);
			if (f[0] > UINT32_MAX || f[1] > UINT32_MAX)
				return bad(t, r, "event kind or protection out of range", err);
			struct vl_event *e = &b->events[b->n_events];
			*e = (struct vl_event){ .kind = (uint32_t)f[0], .prot = (uint32_t)f[1],
						.addr = f[2], .len = f[3], .file_id = f[4],
						.offset = f[5] };
			*o = (struct vl_rec){ .addr = b->n_events, .pid = r->pid, .op = VL_OP_EVENT,
					      .size = size };
			b->n_events++;
			b->n++;
		} else if (kind == K_PROC) {
			if (varint(&r->s[S_EVENT], r->e[S_EVENT], &v) < 0 ||
			    v > (uint64_t)(r->e[S_EVENT] - r->s[S_EVENT]) || v > 4096)
				return bad(t, r, "process name runs off the event stream", err);
			char key[32], name[4100];
			snprintf(key, sizeof(key), "process.%u", r->pid);
			memcpy(name, r->s[S_EVENT], v);
			name[v] = '\0';
			r->s[S_EVENT] += v;
			VL_TRY(vl_trace_add_meta(t, key, name, err));
		} else {
			return bad(t, r, "unknown record kind", err);
		}
		r->i++;
	}
	return (ssize_t)b->n;
}

static int vmt_probe(const char *buf, size_t len)
{
	return len >= 8 && !memcmp(buf, MAGIC, 8) ? 100 : 0;
}

const struct vl_trace_format vl_fmt_vmt = {
	.name = "vmt",
	.help = "vmlab native: zstd chunks, CRC32C, index, delta-encoded (docs/trace-format.md)",
	.probe = vmt_probe,
	.open = vmt_open,
	.read = vmt_read,
	.close = vmt_close,
};
