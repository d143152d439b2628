/* tests/unit/test_elist.c - lru and fifo when the engine keeps their list
 * (VL_REPL_ENGINE_LIST: the global manager threads it through the frame
 * records) give the textbook results.
 *
 * Expected counts come from a second implementation in this file: a plain
 * array of resident pages per run, ordered by last use (lru) or by arrival
 * (fifo), with a dirty bit per page set by a store since it came in.  The
 * engine's rules for the textbook personality: every miss is a fault; a
 * victim is written back if dirty (then its copy is current, so it comes
 * back clean).  Traces are random (a fixed seed), several processes, with
 * reads and writes, on --machine none (the walk loop's fast fault path)
 * and on the generic machine (TLBs: the general loop), with run.check on,
 * which checks the list's links after every batch.
 */
#include "tests/testutil.h"

struct ref {
	uint64_t key[64]; /* pid << 32 | page, index 0 the victim end */
	bool dirty[64];
	unsigned n, frames;
	uint64_t faults, writebacks;
};

static void ref_access(struct ref *m, bool lru, uint64_t key, bool write)
{
	for (unsigned i = 0; i < m->n; i++) {
		if (m->key[i] != key)
			continue;
		bool d = m->dirty[i] || write;
		if (lru) { /* to the most recent end */
			memmove(&m->key[i], &m->key[i + 1], (m->n - i - 1) * sizeof(m->key[0]));
			memmove(&m->dirty[i], &m->dirty[i + 1], (m->n - i - 1) * sizeof(m->dirty[0]));
			m->key[m->n - 1] = key;
			m->dirty[m->n - 1] = d;
		} else {
			m->dirty[i] = d;
		}
		return;
	}
	m->faults++;
	if (m->n == m->frames) { /* evict index 0 */
		if (m->dirty[0])
			m->writebacks++;
		memmove(&m->key[0], &m->key[1], (m->n - 1) * sizeof(m->key[0]));
		memmove(&m->dirty[0], &m->dirty[1], (m->n - 1) * sizeof(m->dirty[0]));
		m->n--;
	}
	m->key[m->n] = key;
	m->dirty[m->n] = write;
	m->n++;
}

static void check_policy(const char *policy, const char *machine, unsigned frames, uint64_t seed)
{
	enum { N = 20000 };
	struct vl_rec *recs = calloc(N, sizeof(*recs));
	assert_non_null(recs);
	struct ref m = { .frames = frames };
	uint64_t s = seed;
	bool lru = strcmp(policy, "lru") == 0;
	for (size_t i = 0; i < N; i++) {
		uint64_t x = vl_rand_next(&s);
		uint32_t pid = 1 + (uint32_t)(x % 3);
		/* a hot set of 8 pages per process and a cold tail of 40 */
		uint64_t page = (x >> 8) % 4 ? (x >> 16) % 8 : 8 + (x >> 16) % 40;
		bool write = (x >> 40) % 4 == 0;
		recs[i] = (struct vl_rec){ .addr = (0x10000 + page) << 12, .pid = pid,
					   .op = write ? VL_OP_WRITE : VL_OP_READ };
		ref_access(&m, lru, (uint64_t)pid << 32 | page, write);
	}
	char fr[32], po[64];
	snprintf(fr, sizeof(fr), "memory.frames=%u", frames);
	snprintf(po, sizeof(po), "replacement.policy=%s", policy);
	/* page tables in frames off, so all `frames` frames hold pages */
	const char *sets[] = { fr, po, "run.check=on", "memory.pt_frames=off", NULL };
	struct vl_engine *e = tu_engine_on(machine, sets);
	tu_feed(e, recs, N);
	const struct vl_counters *c = vl_engine_counters(e);
	assert_true(m.faults > 2000 && m.writebacks > 100); /* the trace does evict */
	assert_int_equal(c->faults, m.faults);
	assert_int_equal(c->writebacks, m.writebacks);
	assert_int_equal(c->evictions, m.faults - frames);
	vl_engine_free(e);
	free(recs);
}

static void test_lru_engine_list(void **state)
{
	(void)state;
	check_policy("lru", "none", 24, 1);
	check_policy("lru", "none", 40, 2);
	check_policy("lru", "generic", 24, 3);
}

static void test_fifo_engine_list(void **state)
{
	(void)state;
	check_policy("fifo", "none", 24, 4);
	check_policy("fifo", "none", 40, 5);
	check_policy("fifo", "generic", 24, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lru_engine_list),
		cmocka_unit_test(test_fifo_engine_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
