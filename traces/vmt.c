/* traces/vmt.c - the native .vmt format: the reader (writer: vmt_write.c).
 *
 * Layout (docs/trace-format.md is the specification; all integers little
 * endian):
 *
 *   header   "\x89VMT\r\n\x1a\n", u16 major, u16 minor, u32 flags,
 *            u32 meta_len, meta ("key=value\n" lines), u32 crc32c
 *   chunk*   "VMTC", u32 seq, u32 nrecs, u32 raw_len, u32 comp_len,
 *            u64 first_rec, u32 crc32c (header bytes 0..27 + payload),
 *            comp_len bytes of one zstd frame holding raw_len bytes:
 *              6 x u32 section lengths, then the sections; version 1.0
 *              (flags 0):
 *              ops    one byte per record: kind (bits 0-2), pid follows
 *                     (bit 3), size code (bits 4-7)
 *              iaddr  zigzag LEB128 deltas of instruction-fetch addresses
 *              daddr  zigzag LEB128 deltas of data addresses
 *              pid    LEB128 pids, for records with bit 3
 *              size   one byte per record with size code 15
 *              event  LEB128 fields of events and process starts
 *            version 1.1 (minor 1, flag 0x1: vmt_read11 below):
 *              ops    one byte per record: an index into the op table
 *              table  3-byte entries: kind | pid flag, size, length of
 *                     the address difference | its base << 4
 *              addr   per access, that many bytes: the difference from
 *                     the base (one of three) plus 2^(8 len - 1)
 *              pid, (empty), event as in 1.0
 *   index    "VMTI", u32 nchunks, nchunks x (u64 offset, u64 first_rec,
 *            u32 nrecs), u64 total records, u32 crc32c
 *   trailer  u64 index offset, "VMTEND\0\0"
 *
 * Chunks are independent: each starts its bases at 0 and its pid at 1, so
 * any chunk decodes alone (the index gives random access).
 *
 * The reader reads sequentially through the shared byte source (a .vmt
 * may come from a pipe, or even be gzip-compressed again).  A file that
 * ends without its index (a writer killed, a copy cut short) is read up to
 * its last complete chunk and the trace's warning says so (but a file that
 * ends with its trailer was finished: a chunk reaching past it is damage,
 * an error; ends_early); anything
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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "traces/internal.h"
#include "traces/vmt.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ================= reader ================= */

/* Zeroed bytes behind a chunk's payload in rd.raw, so that the fast loop's
 * 8- and 64-byte loads near the end stay inside the buffer. */
#define RAW_PAD 64

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
	/* version 1.1 (v11): the chunk's op table decoded, the bases */
	bool v11;
	uint32_t ntab;
	uint64_t base[NBASE];
	struct dtab *dt;           /* the decoded op table */
};

/* A 1.1 op table as the fast loop uses it, entry j in element j of each
 * array: hi is the second half of the output record (op at bit 32, size
 * at bit 40; the pid is or-ed in), D_SLOW for a record the loop leaves to
 * the slow path (a new pid, an event, a process start, an index past the
 * table); the difference is the first len bytes of an 8-byte load (and-ed
 * with lenmask) less bias (2^(8 len - 1), 0 for len 0), added to base
 * `base`.  Arrays rather than an array of entries: every field is then
 * addressed by the ops byte scaled in the load itself, two additions a
 * record fewer (the loop is bound by its ALU operations). */
#define D_SLOW (1ull << 63)
struct dtab {
	uint64_t hi[TAB_MAX], lenmask[TAB_MAX], bias[TAB_MAX], len[TAB_MAX];
	uint8_t base[TAB_MAX];
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
	if (got < 8 || memcmp(p, VMT_MAGIC, 8))
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
	/* 1.0: no flags; 1.1: the op table flag (any other minor of 1.x
	 * reads as 1.0 or 1.1 by its flags, as a 1.0 reader read them) */
	if (flags & ~VMT_FLAG_TABLE)
		return vl_err(err, VL_EVERSION, "%s at byte 12: unknown header flags 0x%x", t->path,
			      flags);
	if ((flags & VMT_FLAG_TABLE) && minor < 1)
		return vl_err(err, VL_EVERSION,
			      "%s at byte 12: header flag 0x1 (op tables) in a version 1.%u file "
			      "(expected version 1.1 or later)", t->path, minor);
	if (flags & VMT_FLAG_TABLE) {
		r->v11 = true;
		r->dt = malloc(sizeof(*r->dt));
		if (!r->dt)
			return vl_err(err, VL_ENOMEM, "%s: out of memory", t->path);
	}
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
	free(r->dt);
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

/* The file ends got bytes (at p) after the current position, where a
 * chunk or the index needed more.  If those bytes end with the trailer,
 * the writer finished: a field that reaches past the end was damaged, and
 * reading to the last complete chunk would drop records silently.  Else
 * the file was cut short (cut_short). */
static int ends_early(struct vl_trace *t, struct rd *r, const uint8_t *p, ssize_t got,
		      const char *where, struct vl_error *err)
{
	if (got >= 16 && !memcmp(p + got - 8, "VMTEND\0\0", 8))
		return vl_err(err, VL_EFORMAT,
			      "%s chunk %u at byte %llu: %s, yet the file ends with its trailer "
			      "%lld bytes later (a damaged file)",
			      t->path, r->seq, (unsigned long long)vl_trace_pos(t), where,
			      (long long)got);
	return cut_short(t, r, where);
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

/* Version 1.1: check the chunk's op table (section S_TABLE) and decode it
 * into r->dt; indices past it get D_SLOW, and the slow path reports them. */
static int load_table(struct vl_trace *t, struct rd *r, uint64_t at, struct vl_error *err)
{
	size_t len = (size_t)(r->e[S_TABLE] - r->s[S_TABLE]);
	if (len == 0 || len % TAB_ENT || len / TAB_ENT > TAB_MAX)
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: op table of %zu bytes "
			      "(expected 1 to %u entries of %u bytes)", t->path, r->seq,
			      (unsigned long long)at, len, TAB_MAX, TAB_ENT);
	if (r->s[S_SIZE] != r->e[S_SIZE])
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: a version 1.1 chunk with "
			      "a size section (expected it empty)", t->path, r->seq,
			      (unsigned long long)at);
	uint32_t n = (uint32_t)(len / TAB_ENT);
	struct dtab *d = r->dt;
	memset(d, 0, sizeof(*d));
	for (uint32_t j = 0; j < TAB_MAX; j++) {
		d->hi[j] = D_SLOW;
		if (j >= n)
			continue;
		const uint8_t *q = r->s[S_TABLE] + TAB_ENT * j;
		unsigned kind = q[0] & 7u, size = q[1], l = q[2] & 15u, base = (unsigned)q[2] >> 4;
		const char *why = NULL;
		if (q[0] & ~(7u | F_PID))
			why = "unknown bits in its first byte";
		else if (kind > K_PROC)
			why = "unknown record kind";
		else if (kind > K_MODIFY && (size || q[2]))
			why = "an event or process start with a size or an address";
		else if (l > 8)
			why = "a difference longer than 8 bytes";
		else if (base >= NBASE)
			why = "a base past the third";
		if (why)
			return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: op table entry %u "
				      "(%02x %02x %02x): %s", t->path, r->seq,
				      (unsigned long long)at, j, q[0], q[1], q[2], why);
		if (kind > K_MODIFY)
			continue;
		d->hi[j] = (uint64_t)kind << 32 | (uint64_t)size << 40;
		if (q[0] & F_PID)
			d->hi[j] |= D_SLOW;
		d->lenmask[j] = l == 8 ? ~0ull : (1ull << (8 * l)) - 1;
		d->bias[j] = l ? 1ull << (8 * l - 1) : 0;
		d->len[j] = l;
		d->base[j] = (uint8_t)base;
	}
	r->ntab = n;
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
		return ends_early(t, r, p, got, "chunk header cut short", err);
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
		return ends_early(t, r, p, got, "last chunk cut short", err);
	uint32_t c = vl_crc32c(vl_crc32c(0, p, 28), p + CHUNK_HDR, comp);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	c = crc; /* make fuzz: let mutated payloads reach the decoder */
#endif
	if (c != crc)
		return vl_err(err, VL_EFORMAT, "%s chunk %u at byte %llu: CRC mismatch (stored %08x, "
			      "computed %08x)", t->path, r->seq, (unsigned long long)at, crc, c);
	if (raw_len > r->raw_cap) {
		uint8_t *nr = realloc(r->raw, (size_t)raw_len + RAW_PAD);
		if (!nr)
			return vl_err(err, VL_ENOMEM, "%s: out of memory for chunk %u", t->path, r->seq);
		r->raw = nr;
		r->raw_cap = raw_len;
	}
	memset(r->raw + raw_len, 0, RAW_PAD);
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
	if (r->v11)
		VL_TRY(load_table(t, r, at, err));
	vl_trace_skip(t, CHUNK_HDR + (size_t)comp);
	vl_trace_release(t); /* a mapped file: the chunks read so far */
	r->chunk_off = at;
	r->ops = r->s[S_OPS];
	r->nrecs = nrecs;
	r->i = 0;
	r->iprev = r->dprev = 0;
	memset(r->base, 0, sizeof(r->base));
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

/* ---- the fast loop ----
 *
 * Plain accesses of the current pid are decoded by fast_loop; a record
 * with a new pid, an event, a process start or an unknown size code stops
 * it, and vmt_read handles that record the general way.
 *
 * For each ops byte fast_op[] holds the second half of the output record
 * (op at bit 32, size at bit 40, pad 0: the pid is or-ed in), with flags
 * in the pad bits saying when more is needed: FAST_SLOW (leave the loop),
 * FAST_IFETCH (the address comes from the instruction stream), FAST_SIZE
 * (the size byte comes from the size stream), each with FAST_FLAGGED (the
 * sign bit).  A data access with a power-of-two size, the common case, has
 * no flag.
 *
 * LEB128 without a branch per byte: an address stream is read through a
 * bit mask of the bytes that end a varint (high bit clear) in a 64-byte
 * window, so the next varint ends at the lowest set bit: finding it costs
 * a count of trailing zeros and clearing that bit, with no branch on the
 * length and no dependence through memory from one varint to the next.
 * The value comes from one 8-byte load: the bytes up to the first clear
 * high bit, their seven-bit groups gathered by PEXT where the CPU has a
 * fast one, else by shifts and masks.  A varint longer than 8 bytes (a
 * difference of 2^56 or more) and a stream that ends early go to varint(),
 * which gives the same values and the same errors.
 *
 * The 8- and 64-byte loads may read past a section's end into the next
 * section or the zeroed padding behind the payload (RAW_PAD); bytes past
 * the section's end are masked off and never decoded. */
#define FAST_FLAGGED (1ull << 63) /* any of the three below: one sign test */
#define FAST_SLOW (1ull << 62)
#define FAST_IFETCH (1ull << 61)
#define FAST_SIZE (1ull << 60)
#define FAST_FLAGS (~0ull << 48)
static uint64_t fast_op[256];
static bool fast_op_ready;
static void build_fast_op(void)
{
	for (unsigned op = 0; op < 256; op++) {
		unsigned kind = op & 7u, code = op >> 4;
		uint64_t f = (uint64_t)kind << 32;
		if ((op & F_PID) || kind > K_MODIFY || (code > 8 && code != SIZE_EXPLICIT))
			f = FAST_FLAGGED | FAST_SLOW;
		else if (code == SIZE_EXPLICIT)
			f |= FAST_FLAGGED | FAST_SIZE;
		else
			f |= (uint64_t)size_of_code[code] << 40;
		if (kind == K_IFETCH)
			f |= FAST_FLAGGED | FAST_IFETCH;
		fast_op[op] = f;
	}
	__atomic_store_n(&fast_op_ready, true, __ATOMIC_RELEASE);
}

enum { DEC_GENERIC, DEC_SWAR, DEC_PEXT };

struct vstream {
	const uint8_t *cur; /* the next varint */
	const uint8_t *win; /* bit j of ends stands for win[j] */
	const uint8_t *end; /* the stream's end */
	uint64_t ends;      /* varint ends in [cur, min(win + 64, end)); 0: reload */
};

/* Bit j set when p[j] < 0x80 (it ends a varint), j = 0..63. */
static inline uint64_t end_bits(const uint8_t *p)
{
#if defined(__SSE2__)
	uint64_t hi = 0;
	for (int j = 0; j < 4; j++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * j));
		hi |= (uint64_t)(uint32_t)_mm_movemask_epi8(v) << (16 * j);
	}
	return ~hi;
#else
	uint64_t m = 0;
	for (int j = 0; j < 8; j++) {
		/* each byte's clear high bit to bit 0 of the byte, gathered
		 * into bits 56..63 by the multiplication */
		uint64_t e = (~get64(p + 8 * j) & 0x8080808080808080ull) >> 7;
		m |= (e * 0x0102040810204080ull >> 56) << (8 * j);
	}
	return m;
#endif
}

/* PEXT (BMI2): only in the loops pick_decoder chooses where the CPU has it. */
static inline uint64_t pext64(uint64_t w, uint64_t mask)
{
#if defined(__x86_64__)
	uint64_t x;
	__asm__("pextq %2, %1, %0" : "=r"(x) : "r"(w), "r"(mask));
	return x;
#else
	(void)w;
	(void)mask;
	return 0;
#endif
}

/* TZCNT (BMI1, which every CPU with BMI2 has) without the register clear
 * the compiler adds before it for CPUs where its result depends on the
 * old value of the register. */
static inline uint64_t tzcnt64(uint64_t m)
{
#if defined(__x86_64__)
	uint64_t x;
	__asm__("tzcntq %1, %0" : "=r"(x) : "r"(m) : "cc");
	return x;
#else
	return (uint64_t)__builtin_ctzll(m);
#endif
}

/* Out of line: one varint the slow way from p; returns the byte after it
 * and the value in *v, or NULL on error. */
static __attribute__((noinline)) const uint8_t *slow_varint(const uint8_t *p,
							    const uint8_t *end, uint64_t *v)
{
	return varint(&p, end, v) == 0 ? p : NULL;
}

/* The next difference of s (the varint, unzigzagged) into *delta; false
 * when the stream ends early or the varint is too long (where varint()
 * gives an error). */
static inline __attribute__((always_inline)) bool next_delta(struct vstream *s, uint64_t *delta,
							     int mode)
{
	uint64_t v;
	if (mode == DEC_GENERIC)
		goto slow;
	if (unlikely(!s->ends)) {
		size_t left = (size_t)(s->end - s->cur);
		uint64_t m = end_bits(s->cur);
		if (left < 64)
			m &= (1ull << left) - 1;
		if (!m)
			goto slow;
		s->win = s->cur;
		s->ends = m;
	}
	uint64_t w = get64(s->cur);
	uint64_t stop = ~w & 0x8080808080808080ull; /* the first set bit ends it */
	if (unlikely(!stop))
		goto slow;
	uint64_t upto = stop ^ (stop - 1); /* the varint's bytes, and less */
	if (mode == DEC_PEXT) {
		/* the seven-bit groups less the zigzag sign (bit 0): z >> 1 */
		uint64_t half = pext64(w, upto & ~0x8080808080808081ull);
		*delta = half ^ (0 - (w & 1));
	} else {
		uint64_t x = w & upto & 0x7f7f7f7f7f7f7f7full;
		x = (x & 0x007f007f007f007full) | (x & 0x7f007f007f007f00ull) >> 1;
		x = (x & 0x00003fff00003fffull) | (x & 0x3fff00003fff0000ull) >> 2;
		x = (x & 0x000000000fffffffull) | (x & 0x0fffffff00000000ull) >> 4;
		*delta = (uint64_t)vl_unzigzag(x);
	}
	/* the same byte as stop's first bit: ends covers every byte from cur */
	uint64_t last = mode == DEC_PEXT ? tzcnt64(s->ends) : (uint64_t)__builtin_ctzll(s->ends);
	s->cur = s->win + last + 1;
	s->ends &= s->ends - 1;
	return true;
slow:
	s->ends = 0;
	const uint8_t *p = slow_varint(s->cur, s->end, &v);
	if (!p)
		return false;
	s->cur = p;
	*delta = (uint64_t)vl_unzigzag(v);
	return true;
}

/* What the fast loop works on; vmt_read loads it from and stores it back
 * into struct rd around each run. */
struct fast {
	struct vstream is, ds;
	const uint8_t *zp, *ze; /* size stream */
	uint64_t iprev, dprev;
	uint32_t pid;
	int rc; /* 0, or -1 an address stream ends early, -2 the size stream */
};

/* Decode up to n records of ops into out; returns how many (fewer when a
 * record needs the general path, or on an error in st->rc).  data_only:
 * the chunk has no instruction addresses and no size bytes left, so a
 * record needing either leaves the loop (the general path then reports
 * the stream that ends early); fewer live registers. */
static inline __attribute__((always_inline)) size_t fast_loop(struct fast *st,
							      const uint8_t *ops, size_t n,
							      struct vl_rec *out, int mode,
							      bool data_only)
{
	struct vstream is = st->is, ds = st->ds;
	const uint8_t *zp = st->zp, *ze = st->ze;
	uint64_t iprev = st->iprev, dprev = st->dprev, pid = st->pid;
	size_t k;
	for (k = 0; k < n; k++) {
		uint64_t f = fast_op[ops[k]];
		uint64_t d, a;
		if (unlikely(f & FAST_FLAGGED)) {
			if (data_only || (f & FAST_SLOW))
				break;
			if (f & FAST_SIZE) {
				if (unlikely(zp == ze)) {
					st->rc = -2;
					break;
				}
				f |= (uint64_t)*zp++ << 40;
			}
			if (f & FAST_IFETCH) {
				if (unlikely(!next_delta(&is, &d, mode))) {
					st->rc = -1;
					break;
				}
				a = iprev += d;
				f &= ~FAST_FLAGS;
				goto store;
			}
			f &= ~FAST_FLAGS;
		}
		if (unlikely(!next_delta(&ds, &d, mode))) {
			st->rc = -1;
			break;
		}
		a = dprev += d;
store:;
		uint64_t hi = f | pid;
		memcpy(&out[k], &a, 8);
		memcpy((char *)&out[k] + 8, &hi, 8);
	}
	st->is = is;
	st->ds = ds;
	st->zp = zp;
	st->iprev = iprev;
	st->dprev = dprev;
	return k;
}

typedef size_t loop_fn(struct fast *st, const uint8_t *ops, size_t n, struct vl_rec *out);

static size_t loop_generic(struct fast *st, const uint8_t *ops, size_t n, struct vl_rec *out)
{
	return fast_loop(st, ops, n, out, DEC_GENERIC, false);
}

static size_t loop_swar(struct fast *st, const uint8_t *ops, size_t n, struct vl_rec *out)
{
	return fast_loop(st, ops, n, out, DEC_SWAR, false);
}

static size_t loop_swar_data(struct fast *st, const uint8_t *ops, size_t n, struct vl_rec *out)
{
	return fast_loop(st, ops, n, out, DEC_SWAR, true);
}

#if defined(__x86_64__)
#define TARGET_BMI2 __attribute__((target("bmi,bmi2")))
#else
#define TARGET_BMI2
#endif

TARGET_BMI2 static size_t loop_pext(struct fast *st, const uint8_t *ops, size_t n,
				    struct vl_rec *out)
{
	return fast_loop(st, ops, n, out, DEC_PEXT, false);
}

TARGET_BMI2 static size_t loop_pext_data(struct fast *st, const uint8_t *ops, size_t n,
					 struct vl_rec *out)
{
	return fast_loop(st, ops, n, out, DEC_PEXT, true);
}

/* The loops by decoder, [0] for any chunk, [1] for data_only. */
static loop_fn *const loops[3][2] = {
	[DEC_GENERIC] = { loop_generic, loop_generic },
	[DEC_SWAR] = { loop_swar, loop_swar_data },
	[DEC_PEXT] = { loop_pext, loop_pext_data },
};

/* Test hook (tests/unit/test_vmt.c compares the loops record for record):
 * -1 chooses below; 0 (DEC_GENERIC) decodes every varint with varint();
 * 1 (DEC_SWAR) shifts and masks; 2 (DEC_PEXT) PEXT, honoured only where
 * the CPU has BMI2. */
int vl_vmt_decoder = -1;

static int has_bmi2(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
#else
	return 0;
#endif
}

/* PEXT where it is one fast instruction: BMI2, but not AMD before Zen 3
 * (families 15h and 17h), where it is microcoded and slow; else shifts
 * and masks.  Decided once. */
static int pick_decoder(void)
{
	static int chosen = -1;
	int d = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
	if (d < 0) {
		d = DEC_SWAR;
#if defined(__x86_64__)
		if (has_bmi2() && !__builtin_cpu_is("amdfam15h") && !__builtin_cpu_is("amdfam17h"))
			d = DEC_PEXT;
#endif
		__atomic_store_n(&chosen, d, __ATOMIC_RELAXED);
	}
	int want = __atomic_load_n(&vl_vmt_decoder, __ATOMIC_RELAXED);
	if (want == DEC_GENERIC || want == DEC_SWAR || (want == DEC_PEXT && has_bmi2()))
		return want;
	return d;
}

static ssize_t vmt_read11(struct vl_trace *t, struct vl_batch *b, struct vl_error *err);

/* An event record (room in b's events checked by the caller): its six
 * fields from the event stream into b's next event, *o naming it. */
static int read_event(struct vl_trace *t, struct rd *r, struct vl_batch *b, struct vl_rec *o,
		      uint8_t size, struct vl_error *err)
{
	uint64_t f[6];
	for (int j = 0; j < 6; j++)
		if (varint(&r->s[S_EVENT], r->e[S_EVENT], &f[j]) < 0)
			return bad(t, r, "event stream ends early", err);
	if (f[0] > UINT32_MAX || f[1] > UINT32_MAX)
		return bad(t, r, "event kind or protection out of range", err);
	b->events[b->n_events] = (struct vl_event){ .kind = (uint32_t)f[0], .prot = (uint32_t)f[1],
						    .addr = f[2], .len = f[3], .file_id = f[4],
						    .offset = f[5] };
	*o = (struct vl_rec){ .addr = b->n_events, .pid = r->pid, .op = VL_OP_EVENT, .size = size };
	b->n_events++;
	return 0;
}

/* At the end of the open chunk (r->i == r->nrecs): check that all its
 * streams from first_stream on are used up, then open the next chunk.
 * Returns 1 when there is none, 0 or an error. */
static int chunk_end(struct vl_trace *t, struct rd *r, int first_stream, struct vl_error *err)
{
	if (r->nrecs) { /* the chunk is used up: all its streams must be */
		for (int j = first_stream; j < NSECT; j++)
			if (r->s[j] != r->e[j])
				return bad(t, r, "bytes left over in the chunk's streams", err);
		r->nrecs = r->i = 0;
	}
	if (r->done)
		return 1;
	VL_TRY(next_chunk(t, r, err));
	return 0;
}


static ssize_t vmt_read(struct vl_trace *t, struct vl_batch *b, struct vl_error *err)
{
	struct rd *r = t->state;
	if (r->v11)
		return vmt_read11(t, b, err);
	if (unlikely(!__atomic_load_n(&fast_op_ready, __ATOMIC_ACQUIRE)))
		build_fast_op(); /* idempotent; racing threads write the same values */
	loop_fn *const *loop = loops[pick_decoder()];
	while (b->n < b->cap) {
		if (r->i == r->nrecs) {
			int rc = chunk_end(t, r, S_IADDR, err);
			if (rc < 0)
				return rc;
			if (rc)
				break;
			continue;
		}
		uint32_t i = r->i, nrecs = r->nrecs;
		size_t room = b->cap - b->n;
		size_t lim = room < (size_t)(nrecs - i) ? room : (size_t)(nrecs - i);
		struct fast st = { .is = { r->s[S_IADDR], NULL, r->e[S_IADDR], 0 },
				   .ds = { r->s[S_DADDR], NULL, r->e[S_DADDR], 0 },
				   .zp = r->s[S_SIZE], .ze = r->e[S_SIZE],
				   .iprev = r->iprev, .dprev = r->dprev, .pid = r->pid };
		bool data_only = st.is.cur == st.is.end && st.zp == st.ze;
		size_t k = loop[data_only](&st, r->ops + i, lim, b->recs + b->n);
		i += (uint32_t)k;
		b->n += k;
		r->s[S_IADDR] = st.is.cur;
		r->s[S_DADDR] = st.ds.cur;
		r->s[S_SIZE] = st.zp;
		r->iprev = st.iprev;
		r->dprev = st.dprev;
		r->i = i;
		if (st.rc == -2)
			return bad(t, r, "size stream ends early", err);
		if (st.rc < 0)
			return bad(t, r, "address stream ends early", err);
		if (k == room || i == nrecs)
			continue;
		/* Slow path: one record with a pid change, an event, a process
		 * start or an unknown size code. */
		uint8_t op = r->ops[i];
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
			VL_TRY(read_event(t, r, b, o, size, err));
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

/* ---- version 1.1 ----
 *
 * Each ops byte indexes the chunk's op table (r->dt), which gives the
 * record's kind and size and the length (0 to 8 bytes) and base of its
 * address difference: no varint to find, no branch on the record's kind,
 * the bases in registers, each updated by an add of the difference masked
 * by its entry (only the record's own base moves).  Records with a new
 * pid, events and process starts leave the loop (D_SLOW), as in 1.0.
 *
 * checked: the address stream may end within these n records, so each
 * record's bytes are checked against its end; unchecked when 8 bytes a
 * record fit (8-byte loads past the stream read the following sections
 * or RAW_PAD, and the length mask drops those bytes). */
struct fast11 {
	const uint8_t *ap, *ae; /* address stream */
	uint64_t b0, b1, b2;
	uint64_t pid;
	int rc; /* 0, or -1 the address stream ends early */
};

/* The difference of entry j: the low len bytes of w, less the bias. */
static inline uint64_t unbias(uint64_t w, const struct dtab *t, size_t j)
{
	return (w & t->lenmask[j]) - t->bias[j];
}

/* One record (entry j of t, already known not D_SLOW) into *o. */
static inline __attribute__((always_inline)) void rec11(const struct dtab *t, size_t j, uint64_t w,
							 uint64_t *b0, uint64_t *b1,
							 uint64_t *b2, const uint64_t *pid,
							 struct vl_rec *o)
{
	uint64_t d = unbias(w, t, j);
	uint64_t base = *b0, a;
#if defined(__x86_64__)
	/* the base, by conditional moves (which base a record uses follows
	 * no pattern a branch predictor could learn; the compiler turns the C
	 * below into branches): one comparison with 1, below for base 0,
	 * equal for 1, above for 2 */
	__asm__("cmpb $1, %[sel]\n\t"
		"cmove %[b1], %[base]\n\t"
		"cmova %[b2], %[base]\n\t"
		"lea (%[base],%[d]), %[a]\n\t" /* lea keeps the flags */
		"cmovb %[a], %[b0]\n\t"
		"cmove %[a], %[b1]\n\t"
		"cmova %[a], %[b2]"
		: [base] "+&r"(base), [a] "=&r"(a), [b0] "+r"(*b0), [b1] "+r"(*b1), [b2] "+r"(*b2)
		: [sel] "m"(t->base[j]), [d] "r"(d)
		: "cc");
	uint64_t h = t->hi[j];
	/* the pid from memory: one register fewer in the loop */
	__asm__("or %[pid], %[h]" : [h] "+r"(h) : [pid] "m"(*pid));
#else
	unsigned sel = t->base[j];
	base = sel == 1 ? *b1 : sel == 2 ? *b2 : base;
	a = base + d;
	*b0 = sel == 0 ? a : *b0;
	*b1 = sel == 1 ? a : *b1;
	*b2 = sel == 2 ? a : *b2;
	uint64_t h = t->hi[j] | *pid;
#endif
	memcpy(o, &a, 8);
	memcpy((char *)o + 8, &h, 8);
}

static inline __attribute__((always_inline)) size_t loop11(struct fast11 *st,
							   const struct dtab *dt,
							   const uint8_t *ops, size_t n,
							   struct vl_rec *out, bool checked)
{
	const uint8_t *ap = st->ap, *ae = st->ae;
	uint64_t b0 = st->b0, b1 = st->b1, b2 = st->b2;
	size_t k;
	for (k = 0; k < n; k++) {
		size_t j = ops[k];
		if (unlikely(dt->hi[j] & D_SLOW))
			break;
		uint64_t w = get64(ap);
		const uint8_t *nx = ap + dt->len[j];
		if (checked && unlikely(nx > ae)) {
			st->rc = -1;
			break;
		}
		ap = nx;
		rec11(dt, j, w, &b0, &b1, &b2, &st->pid, &out[k]);
	}
	st->ap = ap;
	st->b0 = b0;
	st->b1 = b1;
	st->b2 = b2;
	return k;
}

static __attribute__((noinline)) size_t loop11_fast(struct fast11 *st, const struct dtab *dt,
						    const uint8_t *ops, size_t n,
						    struct vl_rec *out)
{
	return loop11(st, dt, ops, n, out, false);
}

static __attribute__((noinline)) size_t loop11_checked(struct fast11 *st, const struct dtab *dt,
						       const uint8_t *ops, size_t n,
						       struct vl_rec *out)
{
	return loop11(st, dt, ops, n, out, true);
}

static ssize_t vmt_read11(struct vl_trace *t, struct vl_batch *b, struct vl_error *err)
{
	struct rd *r = t->state;
	while (b->n < b->cap) {
		if (r->i == r->nrecs) {
			int rc = chunk_end(t, r, S_ADDR, err);
			if (rc < 0)
				return rc;
			if (rc)
				break;
			continue;
		}
		uint32_t i = r->i, nrecs = r->nrecs;
		size_t room = b->cap - b->n;
		size_t lim = room < (size_t)(nrecs - i) ? room : (size_t)(nrecs - i);
		struct fast11 st = { .ap = r->s[S_ADDR], .ae = r->e[S_ADDR], .b0 = r->base[0],
				     .b1 = r->base[1], .b2 = r->base[2], .pid = r->pid };
		/* unchecked for as many records as surely have their bytes */
		size_t safe = (size_t)(st.ae - st.ap) / 8;
		size_t k = safe ? loop11_fast(&st, r->dt, r->ops + i, safe < lim ? safe : lim,
					      b->recs + b->n)
				: loop11_checked(&st, r->dt, r->ops + i, lim, b->recs + b->n);
		i += (uint32_t)k;
		b->n += k;
		r->s[S_ADDR] = st.ap;
		r->base[0] = st.b0;
		r->base[1] = st.b1;
		r->base[2] = st.b2;
		r->i = i;
		if (st.rc < 0)
			return bad(t, r, "address stream ends early", err);
		if (k == room || i == nrecs || (safe && k == safe && safe < lim))
			continue;
		/* Slow path: one record with a pid change, an event, a process
		 * start or an index past the table. */
		uint8_t idx = r->ops[i];
		if (idx >= r->ntab) {
			char what[96];
			snprintf(what, sizeof(what), "op index %u past the chunk's op table (%u entries)",
				 idx, r->ntab);
			return bad(t, r, what, err);
		}
		const uint8_t *q = r->s[S_TABLE] + TAB_ENT * idx;
		unsigned kind = q[0] & 7u;
		uint64_t v;
		if (q[0] & F_PID) {
			if (varint(&r->s[S_PID], r->e[S_PID], &v) < 0 || v == 0 || v > UINT32_MAX)
				return bad(t, r, "bad or missing pid", err);
			r->pid = (uint32_t)v;
		}
		struct vl_rec *o = &b->recs[b->n];
		if (kind <= K_MODIFY) {
			unsigned l = q[2] & 15u, base = (unsigned)q[2] >> 4;
			if ((size_t)(r->e[S_ADDR] - r->s[S_ADDR]) < l)
				return bad(t, r, "address stream ends early", err);
			r->base[base] += unbias(get64(r->s[S_ADDR]), r->dt, idx);
			r->s[S_ADDR] += l;
			*o = (struct vl_rec){ .addr = r->base[base], .pid = r->pid, .op = (uint8_t)kind,
					      .size = q[1] };
			b->n++;
		} else if (kind == K_EVENT) {
			if (b->n_events == b->ev_cap) {
				if (q[0] & F_PID)
					return bad(t, r, "internal: event batch full after a pid", err);
				break;
			}
			VL_TRY(read_event(t, r, b, o, 0, err));
			b->n++;
		} else { /* K_PROC: load_table allows no other kind */
			if (varint(&r->s[S_EVENT], r->e[S_EVENT], &v) < 0 ||
			    v > (uint64_t)(r->e[S_EVENT] - r->s[S_EVENT]) || v > 4096)
				return bad(t, r, "process name runs off the event stream", err);
			char key[32], name[4100];
			snprintf(key, sizeof(key), "process.%u", r->pid);
			memcpy(name, r->s[S_EVENT], v);
			name[v] = '\0';
			r->s[S_EVENT] += v;
			VL_TRY(vl_trace_add_meta(t, key, name, err));
		}
		r->i++;
	}
	return (ssize_t)b->n;
}

static int vmt_probe(const char *buf, size_t len)
{
	return len >= 8 && !memcmp(buf, VMT_MAGIC, 8) ? 100 : 0;
}

const struct vl_trace_format vl_fmt_vmt = {
	.name = "vmt",
	.help = "vmlab native: zstd chunks, CRC32C, index, delta-encoded (docs/trace-format.md)",
	.probe = vmt_probe,
	.open = vmt_open,
	.read = vmt_read,
	.close = vmt_close,
};
