/* tests/unit/test_vmt.c - the .vmt writer and reader, CRC32C, damaged files.
 *
 * Records written are compared field by field with the records read back;
 * damaged files are made here by cutting or flipping bytes of a file this
 * test wrote, at offsets computed from the format's layout
 * (docs/trace-format.md), not from the reader's code.
 */
#include "tests/testutil.h"
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "traces/internal.h"

#define HDR_FIXED 20
#define CHUNK_HDR 32
#define NSECT 6

static char tmpl[64];

static const char *tmp_path(void)
{
	snprintf(tmpl, sizeof(tmpl), "/tmp/vmlab-vmt-XXXXXX");
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	close(fd);
	return tmpl;
}

/* A mixed trace: pids switching, every op, odd sizes, every event kind. */
struct mixed {
	struct vl_rec *recs;
	struct vl_event *evs;
	size_t n, nev;
};

static void mixed_alloc(struct mixed *m, size_t n)
{
	m->recs = calloc(n, sizeof(*m->recs));
	m->evs = calloc(n, sizeof(*m->evs));
	assert_non_null(m->recs);
	assert_non_null(m->evs);
	m->n = n;
	m->nev = 0;
}

static void make_mixed(struct mixed *m, size_t n, uint64_t seed)
{
	mixed_alloc(m, n);
	uint64_t s = seed;
	uint32_t pid = 1;
	for (size_t i = 0; i < n; i++) {
		uint64_t r = tu_rand(&s);
		if (r % 97 == 0)
			pid = 1 + (uint32_t)(tu_rand(&s) % 5);
		if (r % 53 == 0) {
			struct vl_event *e = &m->evs[m->nev];
			e->kind = (uint32_t)(tu_rand(&s) % (VL_EV_ROI_END + 1));
			e->prot = (uint32_t)tu_rand(&s);
			e->addr = tu_rand(&s);
			e->len = tu_rand(&s) >> (r % 64);
			e->file_id = tu_rand(&s) % 1000;
			e->offset = tu_rand(&s);
			m->recs[i] = (struct vl_rec){ .addr = m->nev, .pid = pid, .op = VL_OP_EVENT };
			m->nev++;
			continue;
		}
		static const uint8_t sizes[] = { 0, 1, 2, 4, 8, 16, 3, 255, 64, 128, 7 };
		uint8_t op = (uint8_t)((r >> 8) % VL_OP_NACCESS);
		uint64_t a = (r >> 16) % 3 == 0 ? tu_rand(&s) /* anywhere, even > 2^63 */
						: 0x400000 + ((tu_rand(&s) % 100000) << 3);
		m->recs[i] = (struct vl_rec){ .addr = a, .pid = pid, .op = op,
					      .size = sizes[(r >> 24) % sizeof(sizes)] };
	}
}

static void write_mixed(const char *path, const struct mixed *m, size_t chunk, size_t batch)
{
	struct vl_error err = { 0 };
	struct vl_vmt_writer *w;
	struct vl_vmt_meta meta = { .size = sizeof(meta), .tool = "test_vmt", .cmdline = "prog --arg x",
				    .date = "2026-01-02T03:04:05Z" };
	if (vl_vmt_writer_open(&w, path, &meta, chunk, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(vl_vmt_write_proc(w, 1, "first", &err), 0);
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, batch, &err), 0);
	for (size_t i = 0; i < m->n;) {
		vl_batch_reset(&b);
		while (i < m->n && b.n < b.cap && b.n_events < b.ev_cap) {
			b.recs[b.n] = m->recs[i];
			if (m->recs[i].op == VL_OP_EVENT) {
				b.events[b.n_events] = m->evs[m->recs[i].addr];
				b.recs[b.n].addr = b.n_events++;
			}
			b.n++;
			i++;
		}
		if (vl_vmt_write(w, &b, &err) < 0)
			fail_msg("%s", err.msg);
	}
	assert_int_equal(vl_vmt_write_proc(w, 7, "second", &err), 0);
	if (vl_vmt_writer_close(w, &err) < 0)
		fail_msg("%s", err.msg);
	vl_batch_free(&b);
}

/* Read path back and compare with m's first `expect` records. */
static struct vl_trace *read_compare(const char *path, const struct mixed *m, size_t expect,
				     size_t batch)
{
	struct vl_error err = { 0 };
	struct vl_trace *t;
	if (vl_trace_open(&t, path, "auto", &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(vl_trace_format(t), "vmt");
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, batch, &err), 0);
	size_t k = 0;
	ssize_t got;
	while ((got = vl_trace_read(t, &b, &err)) > 0) {
		for (size_t i = 0; i < b.n; i++, k++) {
			assert_true(k < expect);
			const struct vl_rec *w = &m->recs[k], *r = &b.recs[i];
			assert_int_equal(r->op, w->op);
			assert_int_equal(r->pid, w->pid);
			assert_int_equal(r->size, w->size);
			if (w->op == VL_OP_EVENT) {
				assert_true(r->addr < b.n_events);
				assert_memory_equal(&b.events[r->addr], &m->evs[w->addr],
						    sizeof(struct vl_event));
			} else {
				assert_true(r->addr == w->addr);
			}
		}
	}
	if (got < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(k, expect);
	vl_batch_free(&b);
	return t;
}

static void test_crc32c(void **state)
{
	(void)state;
	/* the standard check value (RFC 3720 family, "123456789") */
	assert_int_equal(vl_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(vl_crc32c_portable(0, "123456789", 9), 0xE3069283u);
	/* RFC 3720 B.4: 32 bytes of zeros -> 0x8A9136AA */
	uint8_t z[32] = { 0 };
	assert_int_equal(vl_crc32c(0, z, 32), 0x8A9136AAu);
	uint8_t buf[1000];
	uint64_t s = 5;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)tu_rand(&s);
	for (size_t n = 0; n < sizeof(buf); n += 37) {
		assert_int_equal(vl_crc32c(0, buf, n), vl_crc32c_portable(0, buf, n));
		/* incremental = one shot */
		assert_int_equal(vl_crc32c(vl_crc32c(0, buf, n / 2), buf + n / 2, n - n / 2),
				 vl_crc32c(0, buf, n));
	}
}

/* CRC32C one bit at a time, straight from the definition (reflected
 * polynomial 0x82F63B78, initial value and final XOR all ones). */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

/* Long buffers: crc32c.c checks three blocks side by side (8 KiB, then
 * 256 bytes) and combines their CRCs; lengths and offsets around every
 * block boundary, against the bitwise definition. */
static void test_crc32c_long(void **state)
{
	(void)state;
	enum { MAX = 3 * 8192 * 2 + 3 * 256 * 3 + 100 };
	uint8_t *buf = malloc(MAX + 8);
	uint64_t s = 77;
	for (size_t i = 0; i < MAX + 8; i++)
		buf[i] = (uint8_t)tu_rand(&s);
	size_t lens[] = { 0, 1, 7, 8, 767, 768, 769, 3 * 256 + 8, 2 * 768 - 1, 2 * 768,
			  3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 3 * 8192 + 768 + 9,
			  6 * 8192, MAX };
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
		for (size_t off = 0; off < 8; off += 3) {
			uint32_t want = crc32c_bitwise(buf + off, lens[l]);
			assert_int_equal(vl_crc32c(0, buf + off, lens[l]), want);
			assert_int_equal(vl_crc32c_portable(0, buf + off, lens[l]), want);
			/* in two pieces, cut anywhere */
			size_t cut = (size_t)(tu_rand(&s) % (lens[l] + 1));
			assert_int_equal(vl_crc32c(vl_crc32c(0, buf + off, cut), buf + off + cut,
						   lens[l] - cut),
					 want);
		}
	free(buf);
}

static void test_varint(void **state)
{
	(void)state;
	uint8_t b[10];
	assert_int_equal(vl_put_varint(b, 0), 1);
	assert_int_equal(b[0], 0);
	assert_int_equal(vl_put_varint(b, 300), 2); /* 300 = 0b10_0101100 */
	assert_int_equal(b[0], 0xac);
	assert_int_equal(b[1], 0x02);
	assert_int_equal(vl_put_varint(b, UINT64_MAX), 10);
	assert_int_equal(vl_zigzag(0), 0);
	assert_int_equal(vl_zigzag(-1), 1);
	assert_int_equal(vl_zigzag(1), 2);
	assert_int_equal(vl_zigzag(-2), 3);
	assert_true(vl_unzigzag(vl_zigzag(INT64_MIN)) == INT64_MIN);
	assert_true(vl_unzigzag(vl_zigzag(INT64_MAX)) == INT64_MAX);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct mixed m;
	make_mixed(&m, 300000, 11);
	const char *path = tmp_path();
	/* several chunk sizes and batch sizes, so chunks and batches cut
	 * each other everywhere */
	size_t chunks[] = { 1, 1000, 65536, 0 };
	size_t batches[] = { 17, 4096, 333 };
	for (size_t c = 0; c < 4; c++) {
		size_t n = chunks[c] == 1 ? 3000 : m.n;
		struct mixed sub = m;
		sub.n = n;
		write_mixed(path, &sub, chunks[c], batches[c % 3]);
		struct vl_trace *t = read_compare(path, &m, n, batches[(c + 1) % 3]);
		assert_null(vl_trace_warning(t));
		assert_string_equal(vl_trace_meta(t, "tool"), "test_vmt");
		assert_string_equal(vl_trace_meta(t, "cmdline"), "prog --arg x");
		assert_string_equal(vl_trace_meta(t, "date"), "2026-01-02T03:04:05Z");
		assert_string_equal(vl_trace_meta(t, "page_size"), "4096");
		assert_string_equal(vl_trace_meta(t, "process.1"), "first");
		assert_string_equal(vl_trace_meta(t, "process.7"), "second");
		/* rewind reads the same again */
		struct vl_error err = { 0 };
		assert_int_equal(vl_trace_rewind(t, &err), 0);
		struct vl_batch b;
		vl_batch_init(&b, 1000, &err);
		size_t k = 0;
		ssize_t got;
		while ((got = vl_trace_read(t, &b, &err)) > 0)
			k += b.n;
		assert_int_equal(got, 0);
		assert_int_equal(k, n);
		vl_batch_free(&b);
		vl_trace_close(t);
	}
	unlink(path);
	free(m.recs);
	free(m.evs);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	rewind(f);
	uint8_t *p = malloc(*n + 1);
	assert_int_equal(fread(p, 1, *n, f), *n);
	fclose(f);
	return p;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Byte offsets of the chunks of a file, walking the layout. */
static size_t chunk_offsets(const uint8_t *p, size_t n, size_t *off, size_t max)
{
	uint32_t mlen;
	memcpy(&mlen, p + 16, 4);
	size_t at = HDR_FIXED + mlen + 4, k = 0;
	while (at + CHUNK_HDR <= n && !memcmp(p + at, "VMTC", 4) && k < max) {
		uint32_t comp;
		memcpy(&comp, p + at + 16, 4);
		off[k++] = at;
		at += CHUNK_HDR + comp;
	}
	return k;
}

/* Open and read to the end: 0, or the error code with msg filled. */
static int read_all(const char *path, struct vl_error *err, uint64_t *recs, char *warn)
{
	struct vl_trace *t;
	int rc = vl_trace_open(&t, path, "vmt", err);
	if (rc < 0)
		return rc;
	struct vl_batch b;
	vl_batch_init(&b, 4096, err);
	ssize_t got;
	*recs = 0;
	while ((got = vl_trace_read(t, &b, err)) > 0)
		*recs += b.n;
	const char *w = vl_trace_warning(t);
	snprintf(warn, VL_ERRMSG_MAX, "%s", w ? w : "");
	vl_batch_free(&b);
	vl_trace_close(t);
	return got < 0 ? (int)got : 0;
}

static void test_damage(void **state)
{
	(void)state;
	struct mixed m;
	make_mixed(&m, 50000, 3);
	/* keep only accesses so record counts are easy: */
	size_t k = 0;
	for (size_t i = 0; i < m.n; i++)
		if (m.recs[i].op != VL_OP_EVENT)
			m.recs[k++] = m.recs[i];
	m.n = k;
	char good[64], bad[64];
	snprintf(good, sizeof(good), "%s", tmp_path());
	snprintf(bad, sizeof(bad), "%s", tmp_path());
	write_mixed(good, &m, 10000, 4096);
	size_t n;
	uint8_t *p = slurp(good, &n);
	size_t off[16];
	size_t nch = chunk_offsets(p, n, off, 16);
	/* a chunk holds at most 10000 records, fewer when its op table of
	 * version 1.1 fills first (this trace's odd sizes and far jumps make
	 * many entries): the records before chunk c, from the chunk headers
	 * (u32 nrecs at byte 8) */
	size_t nchunks = (m.n + 2 + 9999) / 10000; /* + 2 process starts */
	assert_true(nch >= nchunks && nch >= 4);
	size_t before[17] = { 0 };
	for (size_t c = 0; c < nch; c++) {
		uint32_t nr;
		memcpy(&nr, p + off[c] + 8, 4);
		assert_true(nr <= 10000);
		before[c + 1] = before[c] + nr;
	}
	assert_int_equal(before[nch], m.n + 2);
	struct vl_error err = { 0 };
	char warn[VL_ERRMSG_MAX], expect[128];
	uint64_t recs;

	/* intact */
	assert_int_equal(read_all(good, &err, &recs, warn), 0);
	assert_int_equal(recs, m.n);
	assert_string_equal(warn, "");

	/* killed writer: cut in the middle of chunk 3 -> chunks 0..2 with a warning */
	spit(bad, p, off[3] + 100);
	assert_int_equal(read_all(bad, &err, &recs, warn), 0);
	assert_int_equal(recs, before[3] - 1); /* chunk 0 holds one process start */
	assert_non_null(strstr(warn, "read 3 complete chunks"));
	snprintf(expect, sizeof(expect), "at byte %zu", off[3]);
	assert_non_null(strstr(warn, expect));

	/* cut exactly after a chunk: the same, no index */
	spit(bad, p, off[2]);
	assert_int_equal(read_all(bad, &err, &recs, warn), 0);
	assert_int_equal(recs, before[2] - 1);
	assert_non_null(strstr(warn, "without an index"));

	/* cut inside the header: an error */
	spit(bad, p, 30);
	assert_int_equal(read_all(bad, &err, &recs, warn), VL_EFORMAT);
	assert_non_null(strstr(err.msg, "header cut short"));

	/* a flipped byte inside chunk 2's payload: CRC error naming it */
	uint8_t *q = malloc(n);
	memcpy(q, p, n);
	q[off[2] + CHUNK_HDR + 50] ^= 0x10;
	spit(bad, q, n);
	assert_int_equal(read_all(bad, &err, &recs, warn), VL_EFORMAT);
	snprintf(expect, sizeof(expect), "chunk 2 at byte %zu: CRC mismatch", off[2]);
	assert_non_null(strstr(err.msg, expect));
	assert_non_null(strstr(err.msg, bad));

	/* wrong magic */
	memcpy(q, p, n);
	q[1] = 'X';
	spit(bad, q, n);
	assert_int_equal(vl_trace_open(&(struct vl_trace *){ NULL }, bad, "vmt", &err), VL_EFORMAT);
	assert_non_null(strstr(err.msg, "wrong magic"));
	/* and auto-detection then does not call it vmt */
	struct vl_trace *t = NULL;
	if (vl_trace_open(&t, bad, "auto", &err) == 0) {
		assert_string_not_equal(vl_trace_format(t), "vmt");
		vl_trace_close(t);
	}

	/* a header from a newer major version */
	memcpy(q, p, n);
	q[8] = 2;
	spit(bad, q, n);
	assert_int_equal(vl_trace_open(&(struct vl_trace *){ NULL }, bad, "vmt", &err), VL_EVERSION);
	assert_non_null(strstr(err.msg, "version 2.1"));

	/* a chunk claiming absurd sizes (raw length 4 GiB - 1) */
	memcpy(q, p, n);
	memset(q + off[1] + 12, 0xff, 4);
	spit(bad, q, n);
	assert_int_equal(read_all(bad, &err, &recs, warn), VL_EFORMAT);
	snprintf(expect, sizeof(expect), "chunk 1 at byte %zu: impossible sizes", off[1]);
	assert_non_null(strstr(err.msg, expect));

	/* a chunk claiming a compressed length beyond the file: truncated */
	memcpy(q, p, n);
	uint32_t big = 40000;
	memcpy(q + off[nch - 1] + 16, &big, 4);
	spit(bad, q, n);
	int rc = read_all(bad, &err, &recs, warn);
	assert_true(rc == VL_EFORMAT || (rc == 0 && strstr(warn, "cut short")));

	/* chunks out of order */
	memcpy(q, p, n);
	q[off[1] + 4] = 5;
	spit(bad, q, n);
	assert_int_equal(read_all(bad, &err, &recs, warn), VL_EFORMAT);
	assert_non_null(strstr(err.msg, "chunk 1"));

	/* every single-byte flip of the first 600 bytes: an error or a clean
	 * read of the right count, never a crash or a silent wrong count */
	for (size_t i = 0; i < 600 && i < n; i++) {
		memcpy(q, p, n);
		q[i] ^= 0x41;
		spit(bad, q, n);
		rc = read_all(bad, &err, &recs, warn);
		if (rc == 0)
			assert_true(recs == m.n || warn[0]);
	}
	free(q);
	free(p);
	unlink(good);
	unlink(bad);
	free(m.recs);
	free(m.evs);
}

/* ---- the fast decoding loops against the general path ----
 *
 * traces/vmt.c decodes plain accesses in a fast loop (varint ends found
 * through a 64-byte mask, values gathered by PEXT or by shifts and masks,
 * a data-only variant) and everything else, and every varint under the
 * hook's generic setting, with the byte-at-a-time varint().  The loops
 * must give the same records and the same errors. */

/* Set by the test: 0 generic (varint() only), 1 shifts and masks, 2 PEXT
 * (honoured only on CPUs with BMI2), -1 the reader's own choice. */
extern int vl_vmt_decoder;
/* Set by the test: writers write version 1.0 (traces/vmt_write.c). */
extern int vl_vmt_write_v10;

static bool cpu_has_bmi2(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
#else
	return false;
#endif
}

/* Differences whose zigzag takes every varint length from 1 to 10 bytes:
 * a random magnitude of 0 to 64 bits, either sign. */
static uint64_t any_delta(uint64_t *s)
{
	unsigned bits = (unsigned)(tu_rand(s) % 65);
	uint64_t mag = bits == 64 ? tu_rand(s) : tu_rand(s) & ((1ull << bits) - 1);
	return tu_rand(s) & 1 ? 0 - mag : mag;
}

/* Runs of records of three kinds, so that chunks are data-only (reads,
 * writes, modifies of power-of-two sizes), mixed (instruction fetches,
 * sizes from the size stream) or full of pid changes and events. */
static void make_varied(struct mixed *m, size_t n, uint64_t seed)
{
	mixed_alloc(m, n);
	uint64_t s = seed, iaddr = 0, daddr = 0;
	uint32_t pid = 1;
	static const uint8_t pow2[] = { 0, 1, 2, 4, 8, 16, 32, 64, 128 };
	static const uint8_t odd[] = { 3, 5, 7, 12, 255, 100 };
	for (size_t i = 0; i < n;) {
		unsigned kind = (unsigned)(tu_rand(&s) % 3);
		size_t run = 1 + (size_t)(tu_rand(&s) % 2500);
		for (size_t j = 0; j < run && i < n; j++, i++) {
			uint64_t r = tu_rand(&s);
			if (kind == 2 && r % 7 == 0)
				pid = 1 + (uint32_t)(tu_rand(&s) % 9);
			if (kind == 2 && r % 11 == 0) {
				struct vl_event *e = &m->evs[m->nev];
				*e = (struct vl_event){ .kind = VL_EV_COMMIT, .prot = VL_PROT_READWRITE,
							.addr = tu_rand(&s), .len = r >> 40 };
				m->recs[i] = (struct vl_rec){ .addr = m->nev++, .pid = pid,
							      .op = VL_OP_EVENT };
				continue;
			}
			uint8_t op, size;
			if (kind == 0 || (r >> 8) % 2) {
				op = (uint8_t)(r >> 16) % 4 == 2 ? VL_OP_READ : (uint8_t)((r >> 16) % 4);
				size = pow2[(r >> 24) % sizeof(pow2)];
			} else {
				op = VL_OP_IFETCH;
				size = odd[(r >> 24) % sizeof(odd)];
			}
			if (kind != 0 && op != VL_OP_IFETCH && (r >> 32) % 5 == 0)
				size = odd[(r >> 36) % sizeof(odd)];
			uint64_t *prev = op == VL_OP_IFETCH ? &iaddr : &daddr;
			*prev += any_delta(&s);
			m->recs[i] = (struct vl_rec){ .addr = *prev, .pid = pid, .op = op,
						      .size = size };
		}
	}
}

/* Everything a read yields: records, events, warning or error. */
struct readout {
	struct vl_rec *recs;
	struct vl_event *evs;
	size_t n, nev;
	int rc;
	char msg[VL_ERRMSG_MAX];
};

static void read_out(const char *path, int decoder, size_t batch, struct readout *o)
{
	vl_vmt_decoder = decoder;
	struct vl_error err = { 0 };
	struct vl_trace *t;
	memset(o, 0, sizeof(*o));
	if (vl_trace_open(&t, path, "vmt", &err) < 0)
		fail_msg("%s", err.msg);
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, batch, &err), 0);
	size_t cap = 1024;
	o->recs = malloc(cap * sizeof(*o->recs));
	o->evs = malloc(cap * sizeof(*o->evs));
	ssize_t got;
	while ((got = vl_trace_read(t, &b, &err)) > 0) {
		while (o->n + b.n > cap || o->nev + b.n_events > cap) {
			cap *= 2;
			o->recs = realloc(o->recs, cap * sizeof(*o->recs));
			o->evs = realloc(o->evs, cap * sizeof(*o->evs));
		}
		for (size_t i = 0; i < b.n; i++) {
			struct vl_rec r = b.recs[i];
			if (r.op == VL_OP_EVENT) {
				o->evs[o->nev] = b.events[r.addr];
				r.addr = o->nev++;
			}
			o->recs[o->n++] = r;
		}
	}
	o->rc = (int)got;
	snprintf(o->msg, sizeof(o->msg), "%s", got < 0 ? err.msg : "");
	vl_batch_free(&b);
	vl_trace_close(t);
	vl_vmt_decoder = -1;
}

static void free_out(struct readout *o)
{
	free(o->recs);
	free(o->evs);
}

/* The same records (every byte, pad included), events and outcome. */
static void assert_same_out(const struct readout *a, const struct readout *b)
{
	assert_int_equal(a->rc, b->rc);
	assert_string_equal(a->msg, b->msg);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->nev, b->nev);
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(&a->recs[i], &b->recs[i], sizeof(struct vl_rec)))
			fail_msg("record %zu differs: addr %llx/%llx op %u/%u size %u/%u pid %u/%u", i,
				 (unsigned long long)a->recs[i].addr,
				 (unsigned long long)b->recs[i].addr, a->recs[i].op, b->recs[i].op,
				 a->recs[i].size, b->recs[i].size, a->recs[i].pid, b->recs[i].pid);
	assert_memory_equal(a->evs, b->evs, a->nev * sizeof(struct vl_event));
}

static void test_fast_loops(void **state)
{
	(void)state;
	struct mixed m;
	make_varied(&m, 120000, 29);
	/* the generator really produced every varint length in both streams */
	bool len_seen[2][11] = { { false } };
	uint64_t prev[2] = { 0, 0 };
	for (size_t i = 0; i < m.n; i++) {
		if (m.recs[i].op == VL_OP_EVENT)
			continue;
		int st = m.recs[i].op == VL_OP_IFETCH;
		uint8_t tmp[10];
		len_seen[st][vl_put_varint(tmp, vl_zigzag((int64_t)(m.recs[i].addr - prev[st])))] =
			true;
		prev[st] = m.recs[i].addr;
	}
	for (int st = 0; st < 2; st++)
		for (int len = 1; len <= 10; len++)
			assert_true(len_seen[st][len]);
	bool pext = cpu_has_bmi2();
	if (!pext)
		print_message("note: no BMI2 on this CPU: the PEXT loop is not compared\n");
	const char *path = tmp_path();
	size_t chunks[] = { 1000, 4093, 0 };
	size_t batches[] = { 1, 7, 8192 };
	const char *path11 = strdup(tmp_path());
	for (size_t c = 0; c < 3; c++) {
		vl_vmt_write_v10 = 1; /* the loops of version 1.0 */
		write_mixed(path, &m, chunks[c], 4096);
		vl_vmt_write_v10 = 0;
		write_mixed(path11, &m, chunks[c], 4096);
		for (size_t bi = 0; bi < 3; bi++) {
			if (batches[bi] == 1 && chunks[c] != 1000)
				continue; /* slow; one chunk size is enough */
			struct readout gen, fast;
			read_out(path, 0, batches[bi], &gen);
			assert_int_equal(gen.rc, 0);
			/* the general path gives what was written */
			assert_int_equal(gen.n, m.n);
			for (size_t i = 0; i < m.n; i++) {
				assert_int_equal(gen.recs[i].op, m.recs[i].op);
				assert_int_equal(gen.recs[i].pid, m.recs[i].pid);
				assert_int_equal(gen.recs[i].size, m.recs[i].size);
				if (m.recs[i].op == VL_OP_EVENT)
					assert_memory_equal(&gen.evs[gen.recs[i].addr],
							    &m.evs[m.recs[i].addr],
							    sizeof(struct vl_event));
				else
					assert_true(gen.recs[i].addr == m.recs[i].addr);
			}
			/* and every fast loop gives the general path's records */
			for (int d = 1; d <= (pext ? 2 : 1); d++) {
				read_out(path, d, batches[bi], &fast);
				assert_same_out(&gen, &fast);
				free_out(&fast);
			}
			read_out(path, -1, batches[bi], &fast);
			assert_same_out(&gen, &fast);
			free_out(&fast);
			/* version 1.1 of the same records: the same records */
			read_out(path11, -1, batches[bi], &fast);
			assert_same_out(&gen, &fast);
			free_out(&fast);
			free_out(&gen);
		}
	}
	unlink(path11);
	free((void *)path11);
	unlink(path);
	free(m.recs);
	free(m.evs);
}

/* A .vmt file of one chunk of nrecs records whose payload holds the six
 * sections given, with a correct CRC, index and trailer: bytes the writer
 * would never produce, to see how each loop reports them. */
static void write_one_chunk_v(const char *path, uint32_t nrecs, const uint8_t *const sec[NSECT],
			      const uint32_t len[NSECT], uint16_t minor, uint32_t flags);

static void write_one_chunk(const char *path, uint32_t nrecs, const uint8_t *const sec[NSECT],
			    const uint32_t len[NSECT])
{
	write_one_chunk_v(path, nrecs, sec, len, 0, 0);
}

/* The same with the header's minor version and flags (1, 1: version 1.1). */
static void write_one_chunk_v(const char *path, uint32_t nrecs, const uint8_t *const sec[NSECT],
			      const uint32_t len[NSECT], uint16_t minor, uint32_t flags)
{
	size_t raw_len = NSECT * 4;
	for (int i = 0; i < NSECT; i++)
		raw_len += len[i];
	uint8_t *raw = malloc(raw_len), *q = raw + NSECT * 4;
	for (int i = 0; i < NSECT; i++) {
		memcpy(raw + 4 * i, &len[i], 4);
		if (len[i])
			memcpy(q, sec[i], len[i]);
		q += len[i];
	}
	size_t bound = ZSTD_compressBound(raw_len);
	size_t n = HDR_FIXED + 4 + CHUNK_HDR + bound + 64;
	uint8_t *f = calloc(1, n), *p = f;
	static const uint8_t magic[8] = { 0x89, 'V', 'M', 'T', '\r', '\n', 0x1a, '\n' };
	uint16_t major = 1;
	uint32_t u32;
	uint64_t u64;
	memcpy(p, magic, 8);
	memcpy(p + 8, &major, 2);
	memcpy(p + 10, &minor, 2);
	memcpy(p + 12, &flags, 4); /* meta_len stays 0 */
	u32 = vl_crc32c(0, p, HDR_FIXED);
	memcpy(p + HDR_FIXED, &u32, 4);
	p += HDR_FIXED + 4;
	size_t chunk_at = (size_t)(p - f);
	size_t comp = ZSTD_compress(p + CHUNK_HDR, bound, raw, raw_len, 3);
	assert_false(ZSTD_isError(comp));
	memcpy(p, "VMTC", 4);
	memcpy(p + 8, &nrecs, 4); /* seq 0 */
	u32 = (uint32_t)raw_len;
	memcpy(p + 12, &u32, 4);
	u32 = (uint32_t)comp;
	memcpy(p + 16, &u32, 4); /* first_rec 0 */
	u32 = vl_crc32c(vl_crc32c(0, p, 28), p + CHUNK_HDR, comp);
	memcpy(p + 28, &u32, 4);
	p += CHUNK_HDR + comp;
	size_t index_at = (size_t)(p - f);
	memcpy(p, "VMTI", 4);
	u32 = 1;
	memcpy(p + 4, &u32, 4);
	u64 = chunk_at;
	memcpy(p + 8, &u64, 8); /* first_rec 0 */
	memcpy(p + 24, &nrecs, 4);
	u64 = nrecs;
	memcpy(p + 28, &u64, 8);
	u32 = vl_crc32c(0, p, 36);
	memcpy(p + 36, &u32, 4);
	u64 = index_at;
	memcpy(p + 40, &u64, 8);
	memcpy(p + 48, "VMTEND\0\0", 8);
	p += 56;
	spit(path, f, (size_t)(p - f));
	free(f);
	free(raw);
}

static void test_fast_errors(void **state)
{
	(void)state;
	const char *path = tmp_path();
	bool pext = cpu_has_bmi2();
	/* 200 reads of 4 bytes (ops 0x30) with 3-byte varints, 600 bytes of
	 * daddr: long enough for several 64-byte windows */
	enum { N = 200 };
	uint8_t ops[N + 1], daddr[N * 3 + 16], iaddr[8], pidsec[8], sizes[8];
	memset(ops, 0x30, sizeof(ops));
	for (int i = 0; i < N; i++) {
		daddr[3 * i] = 0x80 | (uint8_t)i;
		daddr[3 * i + 1] = 0x81;
		daddr[3 * i + 2] = 0x01;
	}
	struct {
		const char *what;
		uint32_t nrecs, dlen, ilen, plen, zlen;
		void (*edit)(uint8_t *ops, uint8_t *d, uint8_t *i, uint8_t *p, uint8_t *z);
		const char *expect; /* NULL: reads cleanly */
	} cases[] = {
		{ "valid", N, 3 * N, 0, 0, 0, NULL, NULL },
		{ "last varint cut", N, 3 * N - 1, 0, 0, 0, NULL,
		  "record 199: address stream ends early" },
		{ "varint runs into the pid section", N, 3 * N - 1, 0, 1, 0, NULL,
		  "record 199: address stream ends early" },
		{ "a byte left over", N - 1, 3 * N - 2, 0, 0, 0, NULL,
		  "bytes left over in the chunk's streams" },
		{ "varint of 11 bytes", N, 3 * N, 0, 0, 0, NULL,
		  "record 100: address stream ends early" },
		{ "explicit size without its byte", N, 3 * N, 0, 0, 0, NULL,
		  "record 150: size stream ends early" },
		{ "fetch without its address", N, 3 * N, 0, 0, 0, NULL,
		  "record 120: address stream ends early" },
		{ "fetch with a 10-byte address", N, 3 * N, 10, 0, 1, NULL, NULL },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint8_t o[N + 1], d[sizeof(daddr)], is[16], ps[8], zs[8];
		memcpy(o, ops, sizeof(o));
		memcpy(d, daddr, sizeof(d));
		memset(is, 0, sizeof(is));
		memset(ps, 0, sizeof(ps));
		memset(zs, 0, sizeof(zs));
		(void)iaddr;
		(void)pidsec;
		(void)sizes;
		uint32_t dlen = cases[c].dlen;
		switch (c) {
		case 2: /* the last varint's end byte moved into the pid section */
			ps[0] = 0x01;
			break;
		case 4: /* record 100's varint: 11 bytes, all but the last continuing */
			memset(d + 300, 0x80, 10);
			d[310] = 0x01;
			memmove(d + 311, daddr + 303, 3 * N - 303);
			dlen = 3 * N + 8;
			break;
		case 5: /* record 150 has an explicit size, the size section is empty */
			o[150] = 0xf0;
			break;
		case 6: /* record 120 is an instruction fetch, no instruction address */
			o[120] = 0x32;
			break;
		case 7: /* record 60 fetches with a 10-byte address and an explicit size */
			o[60] = 0xf2;
			memset(is, 0xff, 9);
			is[9] = 0x01;
			zs[0] = 9;
			dlen = 3 * (N - 1); /* one data record less */
			break;
		}
		const uint8_t *sec[NSECT] = { o, is, d, ps, zs, zs };
		uint32_t len[NSECT] = { cases[c].nrecs, cases[c].ilen, dlen, cases[c].plen,
					cases[c].zlen, 0 };
		write_one_chunk(path, cases[c].nrecs, sec, len);
		struct readout gen, fast;
		read_out(path, 0, 64, &gen);
		if (cases[c].expect) {
			assert_int_equal(gen.rc, VL_EFORMAT);
			if (!strstr(gen.msg, cases[c].expect))
				fail_msg("%s: '%s' lacks '%s'", cases[c].what, gen.msg,
					 cases[c].expect);
		} else {
			if (gen.rc)
				fail_msg("%s: %s", cases[c].what, gen.msg);
			assert_int_equal(gen.n, cases[c].nrecs);
			/* record i: the sum of the differences of records 0..i */
			uint64_t a = 0;
			for (size_t i = 0, k = 0; i < gen.n; i++) {
				if (c == 7 && i == 60) {
					/* 9 x 0x7f, then 1: zigzag 2^64 - 1, the difference -2^63 */
					assert_true(gen.recs[i].addr == 1ull << 63);
					assert_int_equal(gen.recs[i].op, VL_OP_IFETCH);
					assert_int_equal(gen.recs[i].size, 9);
					continue;
				}
				/* 3 bytes k|0x80, 0x81, 0x01: z = k + (1 << 7) + (1 << 14) */
				uint64_t z = (k & 0x7f) + (1u << 7) + (1u << 14);
				a += (uint64_t)vl_unzigzag(z);
				k++;
				assert_true(gen.recs[i].addr == a);
				assert_int_equal(gen.recs[i].size, 4);
			}
		}
		for (int dec = 1; dec <= (pext ? 2 : 1); dec++) {
			read_out(path, dec, 64, &fast);
			assert_same_out(&gen, &fast);
			free_out(&fast);
		}
		free_out(&gen);
	}
	/* A data stream cut inside its last varint, at every length up to 300
	 * bytes, the byte after it (in the pid section) ending a varint: the
	 * fast loops' windows meet the section's end at every offset, and
	 * must not read across it.  Varints of 1 to 4 bytes (the fast loops'
	 * windows run on), then of 1 to 9 (the 9-byte ones go the slow way
	 * and the window starts again after them). */
	static const uint8_t lens[2][12] = { { 1, 3, 2, 4, 1, 1, 2, 3, 1, 4, 2, 2 },
					     { 1, 3, 2, 7, 1, 1, 5, 8, 2, 3, 9, 4 } };
	for (uint32_t cut = 1; cut <= 2 * 300; cut++) {
		const uint8_t *ln = lens[cut > 300];
		uint32_t bytes = cut > 300 ? cut - 300 : cut;
		uint8_t o[400], d[400], ps[1] = { 0x01 }, none[1] = { 0 };
		uint32_t nrecs = 0, at = 0;
		for (size_t v = 0; at < bytes; v++) {
			unsigned l = ln[v % 12];
			for (unsigned j = 0; j < l; j++)
				d[at + j] = (uint8_t)(j + 1 < l ? 0x80 | v : v & 0x7f);
			at += l;
			o[nrecs++] = 0x30;
		}
		d[bytes - 1] |= 0x80; /* the last varint does not end */
		const uint8_t *sec[NSECT] = { o, none, d, ps, none, none };
		uint32_t len[NSECT] = { nrecs, 0, bytes, 1, 0, 0 };
		write_one_chunk(path, nrecs, sec, len);
		char expect[64];
		snprintf(expect, sizeof(expect), "record %u: address stream ends early", nrecs - 1);
		struct readout gen, fast;
		read_out(path, 0, 8192, &gen);
		assert_int_equal(gen.rc, VL_EFORMAT);
		if (!strstr(gen.msg, expect))
			fail_msg("cut at %u: '%s' lacks '%s'", bytes, gen.msg, expect);
		for (int dec = 1; dec <= (pext ? 2 : 1); dec++) {
			read_out(path, dec, 8192, &fast);
			assert_same_out(&gen, &fast);
			free_out(&fast);
		}
		free_out(&gen);
	}
	unlink(path);
}


/* The async writer's compression thread takes none of the process's
 * signals: a signal sent to the process while the caller blocks it stays
 * pending until the caller unblocks it, and is then handled on the
 * caller's thread.  (Inside qemu-user, where the capture plugin runs this
 * writer, a SIGCHLD handled on the compression thread crashed qemu.) */
static volatile sig_atomic_t usr1_seen;
static volatile pid_t usr1_tid;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_tid = (pid_t)syscall(SYS_gettid);
	usr1_seen = 1;
}

static void test_async_signals(void **state)
{
	(void)state;
	const char *path = tmp_path();
	struct vl_vmt_meta meta = { .size = sizeof(meta), .tool = "t" };
	struct vl_error err = { 0 };
	struct vl_vmt_writer *w;
	struct sigaction sa = { .sa_handler = on_usr1 }, old_sa;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old_sa), 0);
	usr1_seen = 0;
	/* the thread is started while SIGUSR1 is not blocked here */
	assert_int_equal(vl_vmt_writer_open(&w, path, &meta, 0, &err), 0);
	assert_int_equal(vl_vmt_writer_async(w, &err), 0);
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	/* a thread that did not block it would take it now */
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(usr1_seen, 0);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
	assert_int_equal(usr1_seen, 1); /* delivered on unblocking, here */
	assert_int_equal(usr1_tid, (pid_t)syscall(SYS_gettid));
	struct vl_rec r[2] = { { .addr = 0x1000, .pid = 1 }, { .addr = 0x2000, .pid = 1 } };
	struct vl_batch b = { .recs = r, .n = 2, .cap = 2 };
	assert_int_equal(vl_vmt_write(w, &b, &err), 0);
	assert_int_equal(vl_vmt_writer_close(w, &err), 0);
	assert_int_equal(sigaction(SIGUSR1, &old_sa, NULL), 0);
	unlink(path);
}

/* Metadata filled in place (vl_vmt_fill_reserved): the records stay
 * readable, the CRC checks, the new keys appear, the rest stays reserved;
 * what does not fit is refused and changes nothing. */
static void test_fill_reserved(void **state)
{
	(void)state;
	const char *path = tmp_path();
	char extra[64];
	snprintf(extra, sizeof(extra), "reserved=%40s\n", "");
	struct vl_vmt_meta meta = { .size = sizeof(meta), .tool = "t", .extra = extra };
	struct vl_error err = { 0 };
	struct vl_vmt_writer *w;
	assert_int_equal(vl_vmt_writer_open(&w, path, &meta, 0, &err), 0);
	struct vl_rec r[3] = { { .addr = 0x1000, .pid = 1 }, { .addr = 0x2000, .pid = 1, .op = 1 },
			       { .addr = 0x3000, .pid = 2 } };
	struct vl_batch b = { .recs = r, .n = 3, .cap = 3 };
	assert_int_equal(vl_vmt_write(w, &b, &err), 0);
	assert_int_equal(vl_vmt_writer_close(w, &err), 0);
	/* 40 spaces: the line is 50 bytes, of which 40 can take new lines
	 * (a "reserved=" line of 10 bytes stays); 34 fit, 43 do not */
	assert_int_equal(vl_vmt_fill_reserved(path, "exit_status=0\nfile.7=1:2:3 10 /x\n", &err), 0);
	assert_true(vl_vmt_fill_reserved(path, "k=0123456789012345678901234567890123456789\n", &err) ==
		    VL_EINVAL);
	assert_true(vl_vmt_fill_reserved(path, "no equals sign\n", &err) == VL_EINVAL);
	struct vl_trace *t;
	if (vl_trace_open(&t, path, "vmt", &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(vl_trace_meta(t, "exit_status"), "0");
	assert_string_equal(vl_trace_meta(t, "file.7"), "1:2:3 10 /x");
	assert_string_equal(vl_trace_meta(t, "tool"), "t");
	struct vl_batch in;
	assert_int_equal(vl_batch_init(&in, 16, &err), 0);
	assert_int_equal(vl_trace_read(t, &in, &err), 3);
	assert_int_equal(in.recs[2].addr, 0x3000);
	assert_null(vl_trace_warning(t));
	vl_batch_free(&in);
	vl_trace_close(t);
	unlink(path);
}


/* ---- version 1.1 ---- */

/* The payload of chunk 0 of a file (decompressed; caller frees) and its
 * six section lengths, read by the layout of docs/trace-format.md. */
static uint8_t *chunk0_payload(const uint8_t *f, size_t n, uint32_t len[NSECT],
			       const uint8_t *sec[NSECT])
{
	uint32_t mlen, raw, comp;
	memcpy(&mlen, f + 16, 4);
	const uint8_t *c = f + HDR_FIXED + mlen + 4;
	assert_true((size_t)(c - f) + CHUNK_HDR <= n);
	assert_memory_equal(c, "VMTC", 4);
	memcpy(&raw, c + 12, 4);
	memcpy(&comp, c + 16, 4);
	uint8_t *out = malloc(raw);
	assert_int_equal(ZSTD_decompress(out, raw, c + CHUNK_HDR, comp), raw);
	const uint8_t *q = out + NSECT * 4;
	for (int i = 0; i < NSECT; i++) {
		memcpy(&len[i], out + 4 * i, 4);
		sec[i] = q;
		q += len[i];
	}
	assert_true(q == out + raw);
	return out;
}

/* The exact bytes of a small 1.1 chunk.  Expected sections computed by an
 * independent model of the format (a Python script following
 * docs/trace-format.md, not this code) and checked by hand for the first
 * records: record 1, I 0x401000 from base 0 (0): 0x401000 < 2^23, so 3
 * bytes, biased by 2^23: 0xc01000 = 00 10 c0, table entry (02, 04, 03);
 * record 2, R 0x7ffd1000: both data bases are 0 and 4 bytes away, so the
 * one used less recently (2) takes it: 0x7ffd1000 + 2^31 = ff fd 10 00
 * little endian, entry (00, 08, 0x24); record 3, 8 bytes on: base 2, 0x88;
 * record 5, W 0x601000: 3 bytes from base 1 (0) against 4 from base 2;
 * record 6, R 0x7ffd1008 again: base 2, no bytes (length 0); record 7, pid
 * 2: entry (08, ...) and 02 in the pid section; record 11, 0xffff8000_00000000
 * from base 2 (0x7ffd1008): 7 bytes; record 12, I 0x80000000_00000000 from
 * 0x400ffc: 8 bytes; the last record repeats entry 12. */
static void test_v11_layout(void **state)
{
	(void)state;
	static const struct {
		uint8_t op;
		uint64_t addr;
		uint8_t size;
		uint32_t pid;
	} in[] = {
		{ VL_OP_IFETCH, 0x401000, 4, 1 },	   { VL_OP_READ, 0x7ffd1000, 8, 1 },
		{ VL_OP_READ, 0x7ffd1008, 8, 1 },	   { VL_OP_IFETCH, 0x401004, 4, 1 },
		{ VL_OP_WRITE, 0x601000, 4, 1 },	   { VL_OP_READ, 0x7ffd1008, 8, 1 },
		{ VL_OP_READ, 0x601004, 4, 2 },		   { VL_OP_MODIFY, 0x601004, 4, 2 },
		{ VL_OP_EVENT, 0, 0, 2 },		   { VL_OP_IFETCH, 0x400ffc, 1, 1 },
		{ VL_OP_READ, 0xffff800000000000ull, 0, 1 }, { VL_OP_IFETCH, 0x8000000000000000ull, 0, 1 },
		{ VL_OP_WRITE, 0x601010, 3, 1 },	   { VL_OP_WRITE, 0x601014, 3, 1 },
	};
	enum { N = sizeof(in) / sizeof(in[0]) };
	static const uint8_t ops[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				       0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0c };
	static const uint8_t tab[] = { 0x02, 0x04, 0x03, 0x00, 0x08, 0x24, 0x00, 0x08, 0x21, 0x02,
				       0x04, 0x01, 0x01, 0x04, 0x13, 0x00, 0x08, 0x20, 0x08, 0x04,
				       0x11, 0x03, 0x04, 0x10, 0x04, 0x00, 0x00, 0x0a, 0x01, 0x01,
				       0x00, 0x00, 0x27, 0x02, 0x00, 0x08, 0x01, 0x03, 0x11 };
	static const uint8_t addr[] = { 0x00, 0x10, 0xc0, 0x00, 0x10, 0xfd, 0xff, 0x88,
					0x84, 0x00, 0x10, 0xe0, 0x84, 0x78, 0xf8, 0xef,
					0x02, 0x80, 0xff, 0x7f, 0x7f, 0x04, 0xf0, 0xbf,
					0xff, 0xff, 0xff, 0xff, 0xff, 0x8c, 0x84 };
	static const uint8_t pids[] = { 0x02, 0x01 }, ev[] = { 1, 2, 3, 4, 5, 6 };
	struct vl_error err = { 0 };
	struct vl_vmt_writer *w;
	const char *path = tmp_path();
	if (vl_vmt_writer_open(&w, path, NULL, 0, &err) < 0)
		fail_msg("%s", err.msg);
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, 64, &err), 0);
	for (size_t i = 0; i < N; i++)
		b.recs[b.n++] = (struct vl_rec){ .addr = in[i].addr, .pid = in[i].pid, .op = in[i].op,
						 .size = in[i].size };
	b.events[b.n_events++] = (struct vl_event){ .kind = 1, .prot = 2, .addr = 3, .len = 4,
						    .file_id = 5, .offset = 6 };
	assert_int_equal(vl_vmt_write(w, &b, &err), 0);
	assert_int_equal(vl_vmt_writer_close(w, &err), 0);
	size_t n;
	uint8_t *f = slurp(path, &n);
	uint16_t minor;
	uint32_t flags;
	memcpy(&minor, f + 10, 2);
	memcpy(&flags, f + 12, 4);
	assert_int_equal(minor, 1);
	assert_int_equal(flags, 1);
	uint32_t len[NSECT];
	const uint8_t *sec[NSECT];
	uint8_t *raw = chunk0_payload(f, n, len, sec);
	assert_int_equal(len[0], sizeof(ops));
	assert_memory_equal(sec[0], ops, sizeof(ops));
	assert_int_equal(len[1], sizeof(tab));
	assert_memory_equal(sec[1], tab, sizeof(tab));
	assert_int_equal(len[2], sizeof(addr));
	assert_memory_equal(sec[2], addr, sizeof(addr));
	assert_int_equal(len[3], sizeof(pids));
	assert_memory_equal(sec[3], pids, sizeof(pids));
	assert_int_equal(len[4], 0);
	assert_int_equal(len[5], sizeof(ev));
	assert_memory_equal(sec[5], ev, sizeof(ev));
	/* and the reader gives the records back, with batches of 1, 3 and 64 */
	size_t batches[] = { 1, 3, 64 };
	for (int bi = 0; bi < 3; bi++) {
		struct readout o;
		read_out(path, -1, batches[bi], &o);
		assert_int_equal(o.rc, 0);
		assert_int_equal(o.n, N);
		for (size_t i = 0; i < N; i++) {
			assert_int_equal(o.recs[i].op, in[i].op);
			assert_int_equal(o.recs[i].pid, in[i].pid);
			assert_int_equal(o.recs[i].size, in[i].size);
			assert_int_equal(o.recs[i].pad, 0);
			if (in[i].op != VL_OP_EVENT)
				assert_true(o.recs[i].addr == in[i].addr);
		}
		assert_int_equal(o.nev, 1);
		assert_int_equal(o.evs[0].offset, 6);
		free_out(&o);
	}
	free(raw);
	free(f);
	vl_batch_free(&b);
	unlink(path);
}

/* The writer's choice of bases while a chunk has no instruction fetch:
 * three data bases (0, 1, 2), the least recently used one moved when the
 * nearest is 2 bytes or more away; after the first fetch, base 0 is the
 * fetches' and data use bases 1 and 2 (moved at 4 bytes).  Expected bytes
 * from the same independent Python model (docs/trace-format.md and
 * vmt_write.c's comment); by hand: record 1, R 0x1000, is 2 bytes from
 * every base (all 0), so the least recently used (0) takes it: 0x1000 +
 * 2^15 = 00 90; record 2, 0x1001, base 0, 0x81; record 3, R 0x9000, 2
 * bytes from base 0: base 2 (least recent), 0x9000 needs 3 bytes: 00 90
 * 80; record 4, 0x1002: base 0 again, 0x81 (so the two regions keep their
 * bases); record 10, I 0x400000: base 0, and from then on base 0 is no
 * data base: record 11, R 0x1004, is 3 bytes from base 2 (0x9008) and 4
 * from 1, so base 2. */
static void test_v11_bases(void **state)
{
	(void)state;
	static const struct {
		uint8_t op;
		uint64_t addr;
		uint8_t size;
	} in[] = {
		{ VL_OP_READ, 0x1000, 8 },	 { VL_OP_READ, 0x1001, 1 },    { VL_OP_READ, 0x9000, 4 },
		{ VL_OP_READ, 0x1002, 1 },	 { VL_OP_READ, 0x9004, 4 },    { VL_OP_READ, 0x7fff0000, 8 },
		{ VL_OP_READ, 0x9008, 4 },	 { VL_OP_READ, 0x1003, 1 },    { VL_OP_WRITE, 0x7fff0008, 8 },
		{ VL_OP_IFETCH, 0x400000, 4 }, { VL_OP_READ, 0x1004, 1 },    { VL_OP_READ, 0x7fff0010, 8 },
		{ VL_OP_READ, 0x9010, 4 },
	};
	enum { N = sizeof(in) / sizeof(in[0]) };
	static const uint8_t ops[] = { 0x00, 0x01, 0x02, 0x01, 0x03, 0x04, 0x03,
				       0x01, 0x05, 0x06, 0x07, 0x08, 0x02 };
	static const uint8_t tab[] = { 0x00, 0x08, 0x02, 0x00, 0x01, 0x01, 0x00, 0x04, 0x23,
				       0x00, 0x04, 0x21, 0x00, 0x08, 0x14, 0x01, 0x08, 0x11,
				       0x02, 0x04, 0x03, 0x00, 0x01, 0x23, 0x00, 0x08, 0x11 };
	static const uint8_t addr[] = { 0x00, 0x90, 0x81, 0x00, 0x90, 0x80, 0x81, 0x84, 0x00,
					0x00, 0xff, 0xff, 0x84, 0x81, 0x88, 0xfd, 0xef, 0xbf,
					0xfc, 0x7f, 0x7f, 0x88, 0x0c, 0x80, 0x80 };
	struct vl_error err = { 0 };
	struct vl_vmt_writer *w;
	const char *path = tmp_path();
	if (vl_vmt_writer_open(&w, path, NULL, 0, &err) < 0)
		fail_msg("%s", err.msg);
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, 64, &err), 0);
	for (size_t i = 0; i < N; i++)
		b.recs[b.n++] = (struct vl_rec){ .addr = in[i].addr, .pid = 1, .op = in[i].op,
						 .size = in[i].size };
	assert_int_equal(vl_vmt_write(w, &b, &err), 0);
	assert_int_equal(vl_vmt_writer_close(w, &err), 0);
	size_t n;
	uint8_t *f = slurp(path, &n);
	uint32_t len[NSECT];
	const uint8_t *sec[NSECT];
	uint8_t *raw = chunk0_payload(f, n, len, sec);
	assert_int_equal(len[0], sizeof(ops));
	assert_memory_equal(sec[0], ops, sizeof(ops));
	assert_int_equal(len[1], sizeof(tab));
	assert_memory_equal(sec[1], tab, sizeof(tab));
	assert_int_equal(len[2], sizeof(addr));
	assert_memory_equal(sec[2], addr, sizeof(addr));
	struct readout o;
	read_out(path, -1, 5, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.n, N);
	for (size_t i = 0; i < N; i++)
		assert_true(o.recs[i].addr == in[i].addr && o.recs[i].size == in[i].size);
	free_out(&o);
	free(raw);
	free(f);
	vl_batch_free(&b);
	unlink(path);
}

/* A second decoder of version 1.1, written from docs/trace-format.md alone
 * (byte by byte, no 8-byte loads, no table of masks): the accesses of a
 * chunk payload, events and process starts skipped. */
static size_t ref_decode11(const uint32_t len[NSECT], const uint8_t *const sec[NSECT],
			   struct vl_rec *out)
{
	uint64_t base[3] = { 0, 0, 0 };
	uint32_t pid = 1;
	const uint8_t *a = sec[2], *pp = sec[3];
	size_t k = 0;
	for (uint32_t i = 0; i < len[0]; i++) {
		const uint8_t *e = sec[1] + 3 * sec[0][i];
		if (e[0] & 8) {
			uint64_t v = 0;
			for (unsigned sh = 0;; sh += 7) {
				v |= (uint64_t)(*pp & 0x7f) << sh;
				if (!(*pp++ & 0x80))
					break;
			}
			pid = (uint32_t)v;
		}
		unsigned kind = e[0] & 7, l = e[2] & 15, bs = e[2] >> 4;
		if (kind > 3)
			continue;
		uint64_t u = 0;
		for (unsigned j = 0; j < l; j++)
			u |= (uint64_t)*a++ << (8 * j);
		uint64_t d = l ? u - (1ull << (8 * l - 1)) : 0;
		base[bs] += d;
		out[k++] = (struct vl_rec){ .addr = base[bs], .pid = pid, .op = (uint8_t)kind,
					    .size = e[1] };
	}
	return k;
}

/* The writer's 1.1 chunks decoded by ref_decode11 give the records
 * written (every difference length 0 to 8 and all three bases used), and
 * so does the reader. */
static void test_v11_reference(void **state)
{
	(void)state;
	struct mixed m;
	make_varied(&m, 30000, 41);
	size_t acc = 0;
	for (size_t i = 0; i < m.n; i++)
		acc += m.recs[i].op != VL_OP_EVENT;
	const char *path = tmp_path();
	write_mixed(path, &m, 0, 4096); /* one chunk of 1M records, unless the table fills */
	size_t n;
	uint8_t *f = slurp(path, &n);
	uint32_t mlen;
	memcpy(&mlen, f + 16, 4);
	struct vl_rec *got = calloc(acc + 16, sizeof(*got));
	size_t k = 0, at = HDR_FIXED + mlen + 4;
	bool lens[9] = { false }, bases[3] = { false };
	while (at + CHUNK_HDR <= n && !memcmp(f + at, "VMTC", 4)) {
		uint32_t raw, comp, len[NSECT];
		memcpy(&raw, f + at + 12, 4);
		memcpy(&comp, f + at + 16, 4);
		uint8_t *out = malloc(raw);
		assert_int_equal(ZSTD_decompress(out, raw, f + at + CHUNK_HDR, comp), raw);
		const uint8_t *sec[NSECT], *q = out + NSECT * 4;
		for (int i = 0; i < NSECT; i++) {
			memcpy(&len[i], out + 4 * i, 4);
			sec[i] = q;
			q += len[i];
		}
		for (uint32_t j = 0; j < len[1]; j += 3) {
			lens[sec[1][j + 2] & 15] = true;
			bases[sec[1][j + 2] >> 4 & 3] = true;
		}
		k += ref_decode11(len, sec, got + k);
		free(out);
		at += CHUNK_HDR + comp;
	}
	assert_int_equal(k, acc);
	for (int l = 0; l <= 8; l++)
		assert_true(lens[l]);
	assert_true(bases[0] && bases[1] && bases[2]);
	struct readout o;
	read_out(path, -1, 8192, &o);
	assert_int_equal(o.rc, 0);
	size_t j = 0;
	for (size_t i = 0; i < m.n; i++) {
		if (m.recs[i].op == VL_OP_EVENT)
			continue;
		assert_true(got[j].addr == m.recs[i].addr);
		assert_int_equal(got[j].op, m.recs[i].op);
		assert_int_equal(got[j].size, m.recs[i].size);
		assert_int_equal(got[j].pid, m.recs[i].pid);
		assert_memory_equal(&o.recs[i], &got[j], sizeof(struct vl_rec));
		j++;
	}
	free_out(&o);
	free(got);
	free(f);
	unlink(path);
	free(m.recs);
	free(m.evs);
}


/* Damaged 1.1 payloads with a correct CRC (what a buggy writer, or a
 * fuzzer with the CRC check off, gives): random bytes of the ops, table,
 * address, pid and event sections changed, or a section cut short, then
 * read with random batch sizes.  Every read ends in records or in one
 * line naming the file, never a crash (the sanitizer build checks the
 * memory accesses: the fast loop's 8-byte loads near a section's end). */
static void test_v11_mutations(void **state)
{
	(void)state;
	struct mixed m;
	make_varied(&m, 3000, 43);
	const char *path = strdup(tmp_path());
	write_mixed(path, &m, 0, 4096);
	size_t n;
	uint8_t *f = slurp(path, &n);
	uint32_t len0[NSECT];
	const uint8_t *sec0[NSECT];
	uint8_t *raw = chunk0_payload(f, n, len0, sec0);
	uint32_t nrecs, mlen;
	memcpy(&mlen, f + 16, 4);
	memcpy(&nrecs, f + HDR_FIXED + mlen + 4 + 8, 4); /* chunk 0's record count */
	uint64_t s = 77;
	size_t ok = 0, bad = 0;
	for (int it = 0; it < 1500; it++) {
		uint8_t *copy[NSECT];
		uint32_t len[NSECT];
		for (int i = 0; i < NSECT; i++) {
			len[i] = len0[i];
			copy[i] = malloc(len0[i] + 1);
			memcpy(copy[i], sec0[i], len0[i]);
		}
		int changes = 1 + (int)(tu_rand(&s) % 3);
		for (int c = 0; c < changes; c++) {
			int i = (int)(tu_rand(&s) % NSECT);
			if (!len[i])
				continue;
			if (tu_rand(&s) % 4 == 0)
				len[i] -= (uint32_t)(1 + tu_rand(&s) % (len[i] < 8 ? len[i] : 8));
			else
				copy[i][tu_rand(&s) % len[i]] = (uint8_t)tu_rand(&s);
		}
		const uint8_t *cs[NSECT];
		for (int i = 0; i < NSECT; i++)
			cs[i] = copy[i];
		write_one_chunk_v(path, len[0] == len0[0] ? nrecs : len[0], cs, len, 1, 1);
		struct readout o;
		read_out(path, -1, 1 + (size_t)(tu_rand(&s) % 300), &o);
		if (o.rc < 0) {
			bad++;
			if (!strstr(o.msg, path) || strchr(o.msg, '\n'))
				fail_msg("iteration %d: '%s'", it, o.msg);
		} else {
			ok++;
		}
		free_out(&o);
		for (int i = 0; i < NSECT; i++)
			free(copy[i]);
	}
	print_message("note: %zu damaged chunks read, %zu refused\n", ok, bad);
	assert_true(bad > 100); /* most damage is seen */
	free(raw);
	free(f);
	unlink(path);
	free((void *)path);
	free(m.recs);
	free(m.evs);
}

/* Bad 1.1 chunks: one-line errors naming the file, the chunk, its byte
 * offset and (for records) the record. */
static void test_v11_errors(void **state)
{
	(void)state;
	const char *path = tmp_path();
	/* table: 0 = R size 8, 1 byte, base 1; 1 = I size 4, 2 bytes, base 0 */
	uint8_t tab[] = { 0x00, 0x08, 0x11, 0x02, 0x04, 0x02 };
	uint8_t ops[64], addr[256];
	for (int i = 0; i < 64; i++)
		ops[i] = (uint8_t)(i % 3 == 2); /* R R I R R I ... */
	memset(addr, 0x81, sizeof(addr));
	/* sections: ops, table, addr, pid, size, event */
	const uint8_t *sec[NSECT] = { ops, tab, addr, NULL, NULL, NULL };
	/* 64 records: 43 reads (1 byte) + 21 fetches (2 bytes) = 85 bytes */
	uint32_t len[NSECT] = { 64, sizeof(tab), 85, 0, 0, 0 };
	struct readout o;
	write_one_chunk_v(path, 64, sec, len, 1, 1);
	read_out(path, -1, 8192, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.n, 64);
	/* reads: base 1 rises by 1 (0x81 - 0x80) each; fetches by 0x8181 - 0x8000 */
	assert_true(o.recs[63].addr == 43);
	assert_true(o.recs[62].addr == 21 * 0x181ull);
	free_out(&o);

	struct {
		uint32_t alen;   /* address section length */
		int poke;        /* -1, or an ops index set to 5 (past the table) */
		int tpoke;       /* -1, or a table byte set to tval */
		uint8_t tval;
		uint16_t minor;
		uint32_t slen;   /* size section length (must be 0 in 1.1) */
		const char *want;
	} cases[] = {
		{ 84, -1, -1, 0, 1, 0, "record 63: address stream ends early" },
		{ 86, -1, -1, 0, 1, 0, "bytes left over in the chunk's streams" },
		{ 85, 10, -1, 0, 1, 0, "record 10: op index 5 past the chunk's op table (2 entries)" },
		{ 85, -1, 2, 0x31, 1, 0, "op table entry 0 (00 08 31): a base past the third" },
		{ 85, -1, 2, 0x19, 1, 0, "op table entry 0 (00 08 19): a difference longer than 8 bytes" },
		{ 85, -1, 3, 0x06, 1, 0, "op table entry 1 (06 04 02): unknown record kind" },
		{ 85, -1, 3, 0x14, 1, 0, "op table entry 1 (14 04 02): unknown bits in its first byte" },
		{ 85, -1, 3, 0x04, 1, 0, "op table entry 1 (04 04 02): an event or process start with a size or an address" },
		{ 85, -1, -1, 0, 1, 1, "a version 1.1 chunk with a size section" },
		{ 85, -1, -1, 0, 0, 0, "at byte 12: header flag 0x1 (op tables) in a version 1.0 file" },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint8_t o2[64], t2[sizeof(tab)];
		memcpy(o2, ops, sizeof(ops));
		memcpy(t2, tab, sizeof(tab));
		if (cases[c].poke >= 0)
			o2[cases[c].poke] = 5;
		if (cases[c].tpoke >= 0)
			t2[cases[c].tpoke] = cases[c].tval;
		const uint8_t *s2[NSECT] = { o2, t2, addr, NULL, addr, NULL };
		uint32_t l2[NSECT] = { 64, sizeof(tab), cases[c].alen, 0, cases[c].slen, 0 };
		write_one_chunk_v(path, 64, s2, l2, cases[c].minor, 1);
		for (size_t bsz = 1; bsz <= 8192; bsz *= 8192) {
			struct vl_error err = { 0 };
			struct vl_trace *t;
			int rc = vl_trace_open(&t, path, "vmt", &err);
			if (rc == 0) {
				vl_trace_close(t);
				read_out(path, -1, bsz, &o);
				rc = o.rc;
				snprintf(err.msg, sizeof(err.msg), "%s", o.msg);
				free_out(&o);
			}
			if (rc >= 0 || !strstr(err.msg, cases[c].want) || !strstr(err.msg, path) ||
			    strchr(err.msg, '\n'))
				fail_msg("case %zu, batch %zu: rc %d, '%s' (expected '%s')", c, bsz, rc,
					 err.msg, cases[c].want);
			if (cases[c].minor == 1 && !strstr(err.msg, "chunk 0 at byte 24"))
				fail_msg("case %zu: '%s' names no chunk", c, err.msg);
		}
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_crc32c_long),
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_fast_loops),
		cmocka_unit_test(test_fast_errors),
		cmocka_unit_test(test_async_signals),
		cmocka_unit_test(test_fill_reserved),
		cmocka_unit_test(test_v11_layout),
		cmocka_unit_test(test_v11_bases),
		cmocka_unit_test(test_v11_reference),
		cmocka_unit_test(test_v11_errors),
		cmocka_unit_test(test_v11_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
