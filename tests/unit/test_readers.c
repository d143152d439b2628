/* tests/unit/test_readers.c - trace readers through the public API
 * (vl_trace_open / vl_trace_read / vl_trace_rewind / vl_trace_close).
 *
 * Every test writes its trace to a temporary file (plain or gzip) and
 * compares what comes back with records written out by hand.
 */
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/testutil.h"

#define assert_contains(hay, needle)                                                   \
	do {                                                                           \
		const char *h_ = (hay), *n_ = (needle);                                \
		if (!strstr(h_, n_))                                                   \
			fail_msg("message '%s' does not contain '%s'", h_, n_);        \
	} while (0)

struct want {
	uint8_t op;
	uint64_t addr;
	uint32_t pid;
};

struct recs {
	struct vl_rec *r;
	size_t n, cap;
};

static void recs_push(struct recs *rs, const struct vl_rec *r)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		assert_non_null(rs->r);
	}
	rs->r[rs->n++] = *r;
}

/* ---- temporary files ---- */

static void tmp_path(char *path, size_t len)
{
	snprintf(path, len, "/tmp/vmlab-rd-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

static void write_plain(char *path, size_t plen, const void *data, size_t len)
{
	tmp_path(path, plen);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_text(char *path, size_t plen, const char *text)
{
	write_plain(path, plen, text, strlen(text));
}

static void write_gz(char *path, size_t plen, const void *data, size_t len)
{
	tmp_path(path, plen);
	gzFile g = gzopen(path, "wb");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
	assert_int_equal(gzclose(g), Z_OK);
}

/* Read a whole trace; returns 0 or the negative code of open or read. */
static int read_all(const char *path, const char *fmt, size_t batch_cap, struct recs *out,
		    char *fmt_used, size_t fmt_len, struct vl_error *err)
{
	struct vl_trace *t = NULL;
	vl_err_clear(err);
	int rc = vl_trace_open(&t, path, fmt, err);
	if (rc < 0)
		return rc;
	if (fmt_used)
		snprintf(fmt_used, fmt_len, "%s", vl_trace_format(t));
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, batch_cap, err), 0);
	for (;;) {
		ssize_t got = vl_trace_read(t, &b, err);
		if (got < 0) {
			rc = (int)got;
			break;
		}
		if (got == 0)
			break;
		assert_int_equal((size_t)got, b.n);
		assert_true(b.n <= b.cap);
		for (size_t i = 0; i < b.n; i++)
			recs_push(out, &b.recs[i]);
	}
	vl_batch_free(&b);
	vl_trace_close(t);
	return rc;
}

static void expect(const struct recs *rs, const struct want *w, size_t n)
{
	if (rs->n != n)
		fail_msg("%zu records, want %zu", rs->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct vl_rec *r = &rs->r[i];
		if (r->op != w[i].op || r->addr != w[i].addr || r->pid != w[i].pid)
			fail_msg("record %zu: op %u addr 0x%llx pid %u, want op %u addr 0x%llx pid %u",
				 i, r->op, (unsigned long long)r->addr, r->pid, w[i].op,
				 (unsigned long long)w[i].addr, w[i].pid);
	}
}

/* Read path as fmt (and, when auto_too, by detection); compare to w. */
static void check_file(const char *path, const char *fmt, const struct want *w, size_t n,
		       bool auto_too)
{
	struct vl_error err = { 0 };
	struct recs rs = { 0 };
	char used[32];
	if (read_all(path, fmt, 4096, &rs, used, sizeof(used), &err) < 0)
		fail_msg("reading %s as %s: %s", path, fmt, err.msg);
	assert_string_equal(used, fmt);
	expect(&rs, w, n);
	if (auto_too) {
		static const char *const autos[] = { "auto", NULL };
		for (size_t k = 0; k < 2; k++) {
			rs.n = 0;
			if (read_all(path, autos[k], 4096, &rs, used, sizeof(used), &err) < 0)
				fail_msg("reading %s by detection: %s", path, err.msg);
			if (strcmp(used, fmt))
				fail_msg("%s detected as %s, want %s", path, used, fmt);
			expect(&rs, w, n);
		}
	}
	free(rs.r);
}

/* ---- sample traces ---- */

static const char addr_text[] = "# a hand-written trace\n"
				"R 0x1000\n"
				"w 4096 2\n"
				"\n"
				"   I 0xABCdef 3   # trailing comment\n"
				"r 0x7fff0000 4294967295\n"
				"i 0X10\t7\r\n"
				"\t\n"
				"W 12345"; /* last line without newline */
static const struct want addr_want[] = {
	{ VL_OP_READ, 0x1000, 1 },       { VL_OP_WRITE, 4096, 2 },
	{ VL_OP_IFETCH, 0xabcdef, 3 },   { VL_OP_READ, 0x7fff0000, 4294967295u },
	{ VL_OP_IFETCH, 0x10, 7 },       { VL_OP_WRITE, 12345, 1 },
};

static const char lackey_text[] = "==123== Lackey, a memory tracer\n"
				  "==123== Command: ./a.out\n"
				  "--123-- a tool message\n"
				  "I  0400d7d4,3\n"
				  " L 04221bd0,8\n"
				  " S 7ff000398,8\n"
				  " M 0421ff80,4\n"
				  " L 0fff,8\n"      /* 0xfff..0x1006: two pages */
				  " S 0ffc,4\n"      /* 0xffc..0xfff: one page */
				  "I  00001ffe,4\n"  /* 0x1ffe..0x2001: two pages */
				  "==123== \n"
				  "==123== I   refs:      1\n";
static const struct want lackey_want[] = {
	{ VL_OP_IFETCH, 0x400d7d4, 1 }, { VL_OP_READ, 0x4221bd0, 1 },
	{ VL_OP_WRITE, 0x7ff000398, 1 }, { VL_OP_MODIFY, 0x421ff80, 1 },
	{ VL_OP_READ, 0xfff, 1 },        { VL_OP_READ, 0x1000, 1 },
	{ VL_OP_WRITE, 0xffc, 1 },       { VL_OP_IFETCH, 0x1ffe, 1 },
	{ VL_OP_IFETCH, 0x2000, 1 },
};

static const char vmsim_text[] = "0041f7a0 R\n"
				 "13f5e2c0 W\n"
				 "0x1000 r\n"
				 "  abc w  \n"
				 "\n"
				 "FFFFF000 R\n";
static const struct want vmsim_want[] = {
	{ VL_OP_READ, 0x41f7a0, 1 }, { VL_OP_WRITE, 0x13f5e2c0, 1 }, { VL_OP_READ, 0x1000, 1 },
	{ VL_OP_WRITE, 0xabc, 1 },   { VL_OP_READ, 0xfffff000, 1 },
};

#define NW(a) (sizeof(a) / sizeof(a[0]))

/* ---- formats ---- */

static void test_addr(void **state)
{
	(void)state;
	char path[64];
	write_text(path, sizeof(path), addr_text);
	check_file(path, "addr", addr_want, NW(addr_want), true);
	unlink(path);
}

static void test_addr_sizes(void **state)
{
	(void)state;
	/* addr records carry no size; lackey records carry theirs */
	char path[64];
	struct vl_error err = { 0 };
	struct recs rs = { 0 };
	write_text(path, sizeof(path), "R 0x10\n");
	assert_int_equal(read_all(path, "addr", 64, &rs, NULL, 0, &err), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].size, 0);
	unlink(path);
	rs.n = 0;
	write_text(path, sizeof(path), " L 04221bd0,8\n");
	assert_int_equal(read_all(path, "lackey", 64, &rs, NULL, 0, &err), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].size, 8);
	unlink(path);
	free(rs.r);
}

static void test_addr_bad_lines(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"X 0x10\n",           /* unknown operation */
		"R\n",                /* no address */
		"RW 0x10\n",          /* operation is one letter */
		"R 0xZZ\n",           /* not hex */
		"R 12ab\n",           /* not decimal */
		"R 0x10 abc\n",       /* pid not a number */
		"R 0x10 1 2\n",       /* text after the pid */
		"R 0x10 4294967296\n",/* pid above 32 bits */
		"R 0x10000000000000000\n", /* address above 64 bits */
	};
	for (size_t i = 0; i < NW(bad); i++) {
		char path[64];
		struct vl_error err = { 0 };
		struct recs rs = { 0 };
		write_text(path, sizeof(path), bad[i]);
		int rc = read_all(path, "addr", 64, &rs, NULL, 0, &err);
		if (rc >= 0)
			fail_msg("addr line '%.*s' accepted", (int)strlen(bad[i]) - 1, bad[i]);
		assert_contains(err.msg, path);
		assert_contains(err.msg, "line 1");
		unlink(path);
		free(rs.r);
	}
}

/* V POPULATE (docs/trace-format.md): ADDR, LEN, read|write, PID, into
 * struct vl_event as trace.h says (prot 0 or VL_POP_WRITE); a word other
 * than read or write is an error naming the line. */
static void test_addr_populate(void **state)
{
	(void)state;
	char path[64];
	struct vl_error err = { 0 };
	write_text(path, sizeof(path),
		   "V POPULATE 0x7ffe0000 0x3000 write 7\nV POPULATE 4096 10 read\nR 0x10\n");
	struct vl_trace *t = NULL;
	assert_int_equal(vl_trace_open(&t, path, "addr", &err), 0);
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, 64, &err), 0);
	assert_int_equal(vl_trace_read(t, &b, &err), 3);
	assert_int_equal(b.n_events, 2);
	assert_int_equal(b.recs[0].op, VL_OP_EVENT);
	assert_int_equal(b.recs[0].pid, 7);
	assert_int_equal(b.events[0].kind, VL_EV_POPULATE);
	assert_int_equal(b.events[0].addr, 0x7ffe0000);
	assert_int_equal(b.events[0].len, 0x3000);
	assert_int_equal(b.events[0].prot, VL_POP_WRITE);
	assert_int_equal(b.recs[1].pid, 1);
	assert_int_equal(b.events[1].kind, VL_EV_POPULATE);
	assert_int_equal(b.events[1].addr, 4096);
	assert_int_equal(b.events[1].len, 10);
	assert_int_equal(b.events[1].prot, 0);
	vl_batch_free(&b);
	vl_trace_close(t);
	unlink(path);

	struct recs rs = { 0 };
	write_text(path, sizeof(path), "R 0x10\nV POPULATE 0x1000 0x1000 readwrite\n");
	assert_true(read_all(path, "addr", 64, &rs, NULL, 0, &err) < 0);
	assert_contains(err.msg, path);
	assert_contains(err.msg, "line 2");
	assert_contains(err.msg, "expected read or write");
	unlink(path);
	rs.n = 0;
	write_text(path, sizeof(path), "V POPULATE 0x1000\n");
	assert_true(read_all(path, "addr", 64, &rs, NULL, 0, &err) < 0);
	assert_contains(err.msg, "expected a length");
	unlink(path);
	free(rs.r);
}

/* trace.h: "pid 0 is reserved; traces without pids use 1": a reader must
 * not hand the engine a record of pid 0. */
static void test_addr_pid0(void **state)
{
	(void)state;
	char path[64];
	struct vl_error err = { 0 };
	struct recs rs = { 0 };
	write_text(path, sizeof(path), "R 0x1000 0\n");
	int rc = read_all(path, "addr", 64, &rs, NULL, 0, &err);
	unlink(path);
	size_t zero = 0;
	for (size_t i = 0; rc >= 0 && i < rs.n; i++)
		zero += rs.r[i].pid == 0;
	free(rs.r);
	if (zero)
		fail_msg("the addr reader produced a record with the reserved pid 0");
}

static void test_lackey(void **state)
{
	(void)state;
	char path[64];
	write_text(path, sizeof(path), lackey_text);
	check_file(path, "lackey", lackey_want, NW(lackey_want), true);
	unlink(path);
}

static void test_vmsim(void **state)
{
	(void)state;
	char path[64];
	write_text(path, sizeof(path), vmsim_text);
	check_file(path, "vmsim", vmsim_want, NW(vmsim_want), true);
	unlink(path);
}

static void test_gzip(void **state)
{
	(void)state;
	char path[64];
	write_gz(path, sizeof(path), addr_text, strlen(addr_text));
	check_file(path, "addr", addr_want, NW(addr_want), true);
	unlink(path);
	write_gz(path, sizeof(path), lackey_text, strlen(lackey_text));
	check_file(path, "lackey", lackey_want, NW(lackey_want), true);
	unlink(path);
	write_gz(path, sizeof(path), vmsim_text, strlen(vmsim_text));
	check_file(path, "vmsim", vmsim_want, NW(vmsim_want), true);
	unlink(path);
}

static void test_empty(void **state)
{
	(void)state;
	char path[64];
	struct vl_error err = { 0 };
	struct recs rs = { 0 };
	write_text(path, sizeof(path), "");
	assert_int_equal(read_all(path, NULL, 64, &rs, NULL, 0, &err), 0);
	assert_int_equal(rs.n, 0);
	unlink(path);
	/* only comments and blank lines: no records, no error */
	write_text(path, sizeof(path), "# nothing\n\n   \n# here\n");
	assert_int_equal(read_all(path, "addr", 64, &rs, NULL, 0, &err), 0);
	assert_int_equal(rs.n, 0);
	unlink(path);
	free(rs.r);
}

/* ---- rewind ---- */

static void test_rewind(void **state)
{
	(void)state;
	for (int gz = 0; gz < 2; gz++) {
		char path[64];
		if (gz)
			write_gz(path, sizeof(path), addr_text, strlen(addr_text));
		else
			write_text(path, sizeof(path), addr_text);
		struct vl_error err = { 0 };
		struct vl_trace *t;
		assert_int_equal(vl_trace_open(&t, path, "addr", &err), 0);
		assert_string_equal(vl_trace_path(t), path);
		struct vl_batch b;
		assert_int_equal(vl_batch_init(&b, 16, &err), 0);
		for (int pass = 0; pass < 3; pass++) {
			struct recs rs = { 0 };
			ssize_t got;
			while ((got = vl_trace_read(t, &b, &err)) > 0)
				for (size_t i = 0; i < b.n; i++)
					recs_push(&rs, &b.recs[i]);
			if (got < 0)
				fail_msg("pass %d: %s", pass, err.msg);
			expect(&rs, addr_want, NW(addr_want));
			/* at the end it stays at the end */
			assert_int_equal(vl_trace_read(t, &b, &err), 0);
			free(rs.r);
			assert_int_equal(vl_trace_rewind(t, &err), 0);
		}
		vl_batch_free(&b);
		vl_trace_close(t);
		unlink(path);
	}
}

/* A raw file larger than the reader's first 1 MiB block (read from a
 * mapping of the whole file, its consumed pages given back as it goes):
 * every address comes back in order, as written, pid 1, a read; a rewind
 * half-way starts again from the first; a file that ends in a partial
 * record fails there (the read that meets it returns the error, not the
 * records before it in its batch), naming the byte offset of that record. */
static void test_raw_large(void **state)
{
	(void)state;
	const size_t n = 600000; /* 4.8 MB: several 1 MiB steps */
	uint64_t *a = malloc(n * 8 + 5);
	assert_non_null(a);
	for (size_t i = 0; i < n; i++) /* distinct canonical user addresses */
		a[i] = 0x10000000ull + (uint64_t)((i * 2654435761u) % 1000003u) * 4096 + (i & 0xfff);
	for (int bad = 0; bad < 2; bad++) {
		char path[64];
		if (bad)
			memset((uint8_t *)a + n * 8, 0x11, 5); /* 5 bytes of a record */
		write_plain(path, sizeof(path), a, n * 8 + (bad ? 5 : 0));
		struct vl_error err = { 0 };
		struct vl_trace *t;
		assert_int_equal(vl_trace_open(&t, path, "raw", &err), 0);
		struct vl_batch b;
		assert_int_equal(vl_batch_init(&b, 4096, &err), 0);
		for (int pass = 0; pass < 2; pass++) {
			size_t seen = 0;
			ssize_t got;
			while ((got = vl_trace_read(t, &b, &err)) > 0) {
				for (size_t i = 0; i < b.n; i++, seen++) {
					assert_true(seen < n);
					assert_int_equal(b.recs[i].addr, a[seen]);
					assert_int_equal(b.recs[i].pid, 1);
					assert_int_equal(b.recs[i].op, VL_OP_READ);
				}
				if (pass == 0 && seen >= n / 2)
					break; /* the first pass stops half-way */
			}
			if (pass == 0) {
				assert_true(seen >= n / 2 && seen < n);
				assert_int_equal(vl_trace_rewind(t, &err), 0);
				continue;
			}
			if (bad) {
				assert_true(got < 0);
				char at[64];
				snprintf(at, sizeof(at), "at byte %zu", n * 8);
				assert_contains(err.msg, at);
				assert_contains(err.msg, "5 of 8 bytes");
				/* the batch that meets the partial record fails whole */
				assert_true(seen > n - b.cap && seen <= n);
			} else {
				assert_int_equal(got, 0);
				assert_int_equal(seen, n);
			}
		}
		vl_batch_free(&b);
		vl_trace_close(t);
		unlink(path);
	}
	free(a);
}

/* Rewinding part-way through a long file starts again from record 0. */
static void test_rewind_midway(void **state)
{
	(void)state;
	char path[64];
	tmp_path(path, sizeof(path));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < 3000; i++)
		fprintf(f, "R %u\n", i * 4096);
	assert_int_equal(fclose(f), 0);
	struct vl_error err = { 0 };
	struct vl_trace *t;
	assert_int_equal(vl_trace_open(&t, path, NULL, &err), 0);
	struct vl_batch b;
	assert_int_equal(vl_batch_init(&b, 64, &err), 0);
	for (int k = 0; k < 5; k++)
		assert_true(vl_trace_read(t, &b, &err) > 0);
	assert_true(b.recs[0].addr > 0);
	assert_int_equal(vl_trace_rewind(t, &err), 0);
	uint64_t next = 0;
	ssize_t got;
	while ((got = vl_trace_read(t, &b, &err)) > 0)
		for (size_t i = 0; i < b.n; i++) {
			assert_int_equal(b.recs[i].addr, next * 4096);
			next++;
		}
	assert_int_equal(got, 0);
	assert_int_equal(next, 3000);
	vl_batch_free(&b);
	vl_trace_close(t);
	unlink(path);
}

/* ---- errors ---- */

static void bad_line3(const char *fmt, const char *text)
{
	char path[64];
	struct vl_error err = { 0 };
	struct recs rs = { 0 };
	write_text(path, sizeof(path), text);
	int rc = read_all(path, fmt, 64, &rs, NULL, 0, &err);
	if (rc >= 0)
		fail_msg("%s: a bad line 3 was accepted", fmt);
	assert_int_equal(err.code, rc);
	assert_contains(err.msg, path);
	assert_contains(err.msg, "line 3");
	unlink(path);
	free(rs.r);
}

static void test_bad_line3(void **state)
{
	(void)state;
	bad_line3("addr", "R 0x1\nW 0x2\nQ 0x3\nR 0x4\n");
	bad_line3("addr", "# comment\n\nR x\n");
	bad_line3("lackey", "I  0400d7d4,3\n L 04221bd0,8\n L 04221bd0\n");
	bad_line3("lackey", "==1== hi\n L 10,4\n Z 10,4\n");
	bad_line3("vmsim", "0041f7a0 R\n13f5e2c0 W\n13f5e2c0 Q\n");
	bad_line3("vmsim", "0041f7a0 R\n13f5e2c0 W\nR 13f5e2c0\n");
	/* detected as addr (2 of 3 lines fit), then line 3 fails */
	bad_line3("auto", "R 0x1\nW 0x2\nQ 0x3\n");
	/* the last line, without a newline */
	bad_line3("addr", "R 0x1\nW 0x2\nbogus");
}

static void test_missing_file(void **state)
{
	(void)state;
	const char *path = "/nonexistent-vmlab-dir/trace.addr";
	struct vl_error err = { 0 };
	struct vl_trace *t = NULL;
	assert_int_equal(vl_trace_open(&t, path, NULL, &err), VL_ENOENT);
	assert_int_equal(err.code, VL_ENOENT);
	assert_contains(err.msg, path);
	vl_err_clear(&err);
	assert_int_equal(vl_trace_open(&t, path, "addr", &err), VL_ENOENT);
	assert_contains(err.msg, path);
}

static void test_unknown_format(void **state)
{
	(void)state;
	char path[64];
	write_text(path, sizeof(path), "R 0x1\n");
	struct vl_error err = { 0 };
	struct vl_trace *t = NULL;
	assert_int_equal(vl_trace_open(&t, path, "nosuchfmt", &err), VL_ENOENT);
	assert_contains(err.msg, "nosuchfmt");
	assert_contains(err.msg, "addr"); /* lists the known ones */
	unlink(path);
}

static void test_directory(void **state)
{
	(void)state;
	char dir[] = "/tmp/vmlab-rddir-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct vl_error err = { 0 };
	struct vl_trace *t = NULL;
	int rc = vl_trace_open(&t, dir, NULL, &err);
	rmdir(dir);
	assert_true(rc < 0);
	assert_contains(err.msg, dir);
}

static void test_garbage(void **state)
{
	(void)state;
	unsigned char buf[4096];
	uint64_t s = 7;
	for (size_t i = 0; i < sizeof(buf); i += 8) {
		uint64_t v = tu_rand(&s);
		memcpy(buf + i, &v, 8);
	}
	buf[0] = 0x7f; /* not a gzip magic */
	char path[64];
	write_plain(path, sizeof(path), buf, sizeof(buf));
	struct vl_error err = { 0 };
	struct vl_trace *t = NULL;
	assert_int_equal(vl_trace_open(&t, path, "auto", &err), VL_EFORMAT);
	assert_contains(err.msg, path);
	vl_err_clear(&err);
	assert_int_equal(vl_trace_open(&t, path, NULL, &err), VL_EFORMAT);
	/* forced to a format, garbage fails at read time with a location */
	struct recs rs = { 0 };
	int rc = read_all(path, "addr", 64, &rs, NULL, 0, &err);
	assert_true(rc < 0);
	assert_contains(err.msg, path);
	assert_contains(err.msg, "line");
	unlink(path);
	free(rs.r);
}

/* A big gzip trace: lines "R 0x<k*4096> <1 + k%5>\n". */
static char *big_text(unsigned nlines, size_t *len)
{
	size_t cap = (size_t)nlines * 32 + 64;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t used = 0;
	for (unsigned k = 0; k < nlines; k++)
		used += (size_t)snprintf(text + used, cap - used, "%c 0x%llx %u\n", "RWI"[k % 3],
					 (unsigned long long)k * 4096 * 3 + (k % 4096), 1 + k % 5);
	*len = used;
	return text;
}

static void test_truncated_gzip(void **state)
{
	(void)state;
	size_t len;
	char *text = big_text(100000, &len);
	char path[64];
	write_gz(path, sizeof(path), text, len);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	off_t full = st.st_size;
	assert_true(full > 1000);
	/* cut off the last byte, the trailer's length field, half the file,
	 * all but the header and two bytes (shortest first would make
	 * truncate() extend the file with zeros) */
	const off_t cuts[] = { full - 1, full - 4, full / 2, 12 };
	for (size_t i = 0; i < NW(cuts); i++) {
		assert_int_equal(truncate(path, cuts[i]), 0);
		struct vl_error err = { 0 };
		struct recs rs = { 0 };
		int rc = read_all(path, "addr", 4096, &rs, NULL, 0, &err);
		if (rc >= 0)
			fail_msg("gzip cut to %lld of %lld bytes read as a clean trace of %zu records",
				 (long long)cuts[i], (long long)full, rs.n);
		assert_true(rs.n < 100000 || cuts[i] >= full - 8);
		assert_contains(err.msg, path);
		free(rs.r);
	}
	unlink(path);
	free(text);
}

/* ---- batches ---- */

static void test_batches(void **state)
{
	(void)state;
	const unsigned N = 100000;
	size_t len;
	char *text = big_text(N, &len);
	assert_true(len > (1u << 20)); /* more than the reader's buffer */
	for (int gz = 0; gz < 2; gz++) {
		char path[64];
		if (gz)
			write_gz(path, sizeof(path), text, len);
		else
			write_plain(path, sizeof(path), text, len);
		struct vl_error err = { 0 };
		struct vl_trace *t;
		assert_int_equal(vl_trace_open(&t, path, NULL, &err), 0);
		assert_string_equal(vl_trace_format(t), "addr");
		struct vl_batch b;
		assert_int_equal(vl_batch_init(&b, 64, &err), 0);
		assert_int_equal(b.cap, 64);
		uint64_t k = 0, calls = 0;
		ssize_t got;
		while ((got = vl_trace_read(t, &b, &err)) > 0) {
			calls++;
			assert_true(got <= 64);
			assert_int_equal((size_t)got, b.n);
			for (size_t i = 0; i < b.n; i++, k++) {
				const struct vl_rec *r = &b.recs[i];
				if (r->addr != k * 4096 * 3 + (k % 4096) || r->pid != 1 + k % 5 ||
				    r->op != k % 3)
					fail_msg("record %llu: op %u addr 0x%llx pid %u", (unsigned long long)k,
						 r->op, (unsigned long long)r->addr, r->pid);
			}
		}
		if (got < 0)
			fail_msg("after %llu records: %s", (unsigned long long)k, err.msg);
		assert_int_equal(k, N);
		assert_true(calls >= N / 64);
		vl_batch_free(&b);
		vl_trace_close(t);
		unlink(path);
	}
	free(text);
}

/* Line numbers keep counting across buffer refills. */
static void test_bad_line_far(void **state)
{
	(void)state;
	const unsigned N = 100000;
	size_t len;
	char *text = big_text(N, &len);
	text = realloc(text, len + 32);
	assert_non_null(text);
	memcpy(text + len, "R 0x1000 zz\nR 0x2000\n", 21);
	len += 21;
	char path[64];
	write_plain(path, sizeof(path), text, len);
	struct vl_error err = { 0 };
	struct recs rs = { 0 };
	int rc = read_all(path, NULL, 4096, &rs, NULL, 0, &err);
	assert_true(rc < 0);
	assert_contains(err.msg, path);
	assert_contains(err.msg, "line 100001");
	unlink(path);
	free(rs.r);
	free(text);
}

static void test_formats_listed(void **state)
{
	(void)state;
	const char *names[16];
	size_t n = vl_trace_formats(names, NULL, 16);
	assert_true(n >= 3);
	bool a = false, l = false, v = false;
	for (size_t i = 0; i < n && i < 16; i++) {
		a |= !strcmp(names[i], "addr");
		l |= !strcmp(names[i], "lackey");
		v |= !strcmp(names[i], "vmsim");
	}
	assert_true(a && l && v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_sizes),
		cmocka_unit_test(test_addr_bad_lines),
		cmocka_unit_test(test_addr_pid0),
		cmocka_unit_test(test_addr_populate),
		cmocka_unit_test(test_lackey),
		cmocka_unit_test(test_vmsim),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_rewind),
		cmocka_unit_test(test_rewind_midway),
		cmocka_unit_test(test_raw_large),
		cmocka_unit_test(test_bad_line3),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_unknown_format),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated_gzip),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_bad_line_far),
		cmocka_unit_test(test_formats_listed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
