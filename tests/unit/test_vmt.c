/* tests/unit/test_vmt.c - the .vmt writer and reader, CRC32C, damaged files.
 *
 * Records written are compared field by field with the records read back;
 * damaged files are made here by cutting or flipping bytes of a file this
 * test wrote, at offsets computed from the format's layout
 * (docs/trace-format.md), not from the reader's code.
 */
#include "tests/testutil.h"
#include "traces/internal.h"

#define HDR_FIXED 20
#define CHUNK_HDR 32

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

static void make_mixed(struct mixed *m, size_t n, uint64_t seed)
{
	m->recs = calloc(n, sizeof(*m->recs));
	m->evs = calloc(n, sizeof(*m->evs));
	assert_non_null(m->recs);
	assert_non_null(m->evs);
	m->n = n;
	m->nev = 0;
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
	struct vl_vmt_meta meta = { .tool = "test_vmt", .cmdline = "prog --arg x",
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
	size_t nchunks = (m.n + 2 + 9999) / 10000; /* + 2 process starts */
	assert_int_equal(nch, nchunks);
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
	assert_int_equal(recs, 30000 - 1); /* chunk 0 holds one process start */
	assert_non_null(strstr(warn, "read 3 complete chunks"));
	snprintf(expect, sizeof(expect), "at byte %zu", off[3]);
	assert_non_null(strstr(warn, expect));

	/* cut exactly after a chunk: the same, no index */
	spit(bad, p, off[2]);
	assert_int_equal(read_all(bad, &err, &recs, warn), 0);
	assert_int_equal(recs, 20000 - 1);
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
	assert_non_null(strstr(err.msg, "version 2.0"));

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
