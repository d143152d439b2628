/* tests/unit/test_procs.c - the process table: an exited process's slot is
 * given to the next new process, while the per-process results keep every
 * process ever seen, in order of first appearance, with its counters.
 *
 * The expected counters come from a tally kept here, beside the records
 * the test makes: with memory large enough that nothing is evicted, each
 * distinct page a process touches (first by a write, so the linux zero
 * page adds no copy-on-write fault) is one demand-zero fault, every
 * record is one access, and an exited process holds no page and no
 * commit.  A pid that comes back after V EXIT is a new process (a new
 * row).  run.check = on checks the model's invariants after every batch. */
#include "tests/testutil.h"

struct tally {
	uint32_t pid;
	uint64_t accesses, faults;
	bool exited;
};

struct script {
	struct vl_rec *recs;
	struct vl_event *evs;
	size_t n, cap, nev;
	struct tally *rows;
	size_t nrows;
	uint32_t *live_row; /* per pid (small pids): row + 1 of its live process, 0 none */
	uint32_t max_pid;
};

static void s_init(struct script *s, size_t cap, uint32_t max_pid, size_t max_rows)
{
	*s = (struct script){ .cap = cap, .max_pid = max_pid };
	s->recs = calloc(cap, sizeof(*s->recs));
	s->evs = calloc(cap, sizeof(*s->evs));
	s->rows = calloc(max_rows, sizeof(*s->rows));
	s->live_row = calloc(max_pid + 1, sizeof(*s->live_row));
	assert_non_null(s->recs);
	assert_non_null(s->evs);
	assert_non_null(s->rows);
	assert_non_null(s->live_row);
}

static void s_free(struct script *s)
{
	free(s->recs);
	free(s->evs);
	free(s->rows);
	free(s->live_row);
}

static struct tally *s_row(struct script *s, uint32_t pid)
{
	assert_true(pid <= s->max_pid);
	if (!s->live_row[pid]) {
		s->rows[s->nrows] = (struct tally){ .pid = pid };
		s->live_row[pid] = (uint32_t)++s->nrows;
	}
	return &s->rows[s->live_row[pid] - 1];
}

/* pid touches page number page (op) ; new says whether it is the first
 * touch of that page in this life of the process (the caller knows). */
static void s_access(struct script *s, uint32_t pid, uint64_t page, uint8_t op, bool first)
{
	assert_true(s->n < s->cap);
	struct tally *t = s_row(s, pid);
	t->accesses++;
	t->faults += first;
	s->recs[s->n++] = (struct vl_rec){ .addr = page << 12, .pid = pid, .op = op };
}

static void s_exit(struct script *s, uint32_t pid)
{
	assert_true(s->n < s->cap);
	struct tally *t = s_row(s, pid);
	t->exited = true;
	s->live_row[pid] = 0;
	s->evs[s->nev] = (struct vl_event){ .kind = VL_EV_EXIT };
	s->recs[s->n++] = (struct vl_rec){ .addr = s->nev++, .pid = pid, .op = VL_OP_EVENT };
}

/* Every row as the tally says. */
static void s_compare(const struct script *s, struct vl_engine *e, const char *os)
{
	assert_int_equal(vl_engine_nprocs(e), s->nrows);
	assert_int_equal(vl_engine_counters(e)->processes, s->nrows);
	for (size_t i = 0; i < s->nrows; i++) {
		struct vl_proc_counters pc = { .size = sizeof(pc) };
		assert_int_equal(vl_engine_proc_counters(e, i, &pc), 0);
		const struct tally *t = &s->rows[i];
		if (pc.pid != t->pid || pc.accesses != t->accesses || pc.faults != t->faults ||
		    pc.faults_demand_zero != t->faults || pc.evictions != 0 ||
		    pc.access_violations != 0 ||
		    (t->exited && (pc.resident_pages != 0 || pc.commit_pages != 0)))
			fail_msg("--os %s row %zu: pid %u accesses %llu faults %llu dz %llu resident %llu "
				 "commit %llu; expected pid %u accesses %llu faults %llu%s",
				 os, i, pc.pid, (unsigned long long)pc.accesses,
				 (unsigned long long)pc.faults, (unsigned long long)pc.faults_demand_zero,
				 (unsigned long long)pc.resident_pages,
				 (unsigned long long)pc.commit_pages, t->pid,
				 (unsigned long long)t->accesses, (unsigned long long)t->faults,
				 t->exited ? ", exited: nothing resident or committed" : "");
	}
	struct vl_proc_counters none = { .size = sizeof(none) };
	assert_int_equal(vl_engine_proc_counters(e, s->nrows, &none), VL_EINVAL);
}

static const char *const oses[] = { "textbook", "windows", "linux" };

/* An engine under personality os (its preset, as vmlab run --os loads
 * it) with one more setting. */
static struct vl_engine *os_engine(const char *os, const char *frames, bool check)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	struct vl_engine *e;
	if (vl_config_new(&cfg, &err) < 0 || vl_config_load_preset(cfg, "os", os, &err) < 0 ||
	    vl_config_set_arg(cfg, frames, &err) < 0 ||
	    (check && vl_config_set_arg(cfg, "run.check=on", &err) < 0) ||
	    vl_engine_new(&e, cfg, &err) < 0)
		fail_msg("--os %s: %s", os, err.msg);
	vl_config_free(cfg);
	return e;
}

/* Processes that exit while others live, and pids that come back: rows
 * stay in order of first appearance although slots are reused. */
static void test_rows_keep_order(void **state)
{
	(void)state;
	struct script s;
	s_init(&s, 256, 100, 64);
	s_access(&s, 10, 0x100, VL_OP_WRITE, true);
	s_access(&s, 10, 0x101, VL_OP_WRITE, true);
	s_access(&s, 20, 0x100, VL_OP_WRITE, true);  /* another process: its own page */
	s_access(&s, 10, 0x100, VL_OP_READ, false);
	s_exit(&s, 10);                               /* row 0 exits, its slot is free */
	s_access(&s, 30, 0x100, VL_OP_WRITE, true);   /* row 2 takes it */
	s_access(&s, 30, 0x100, VL_OP_READ, false);
	s_access(&s, 30, 0x200, VL_OP_WRITE, true);
	s_access(&s, 10, 0x100, VL_OP_WRITE, true);   /* pid 10 again: row 3, a fresh start */
	s_exit(&s, 20);
	s_exit(&s, 30);
	s_access(&s, 40, 0x300, VL_OP_WRITE, true);   /* row 4 */
	s_access(&s, 20, 0x300, VL_OP_WRITE, true);   /* row 5 */
	s_access(&s, 10, 0x100, VL_OP_READ, false);   /* row 3 still */
	s_exit(&s, 77);                               /* seen only to exit: row 6, no access */
	s_access(&s, 40, 0x301, VL_OP_WRITE, true);
	for (size_t o = 0; o < 3; o++) {
		struct vl_engine *e = os_engine(oses[o], "memory.frames=512", true);
		tu_feed_events(e, s.recs, s.evs, s.n, 3, oses[o]); /* small batches: checked often */
		s_compare(&s, e, oses[o]);
		/* hand-checked against the script: pids by row */
		static const uint32_t pids[] = { 10, 20, 30, 10, 40, 20, 77 };
		assert_int_equal(s.nrows, 7);
		for (size_t i = 0; i < 7; i++)
			assert_int_equal(s.rows[i].pid, pids[i]);
		vl_engine_free(e);
	}
	s_free(&s);
}

/* 20,000 short-lived processes with access counts from 1 to 20,000 (so
 * the exited processes' records hold counters of one, two and three
 * bytes), some alive at the end; every row as the tally says, and the
 * process table's invariants (run.check: live slots found by pid after
 * thousands of removals from the pid hash) after every batch. */
static void test_many_short_lived(void **state)
{
	(void)state;
	const uint32_t nproc = 20000;
	struct script s;
	s_init(&s, 600000, nproc + 8, nproc + 8);
	uint64_t x = 42;
	for (uint32_t p = 1; p <= nproc; p++) {
		/* mostly one to four accesses; every 1000th process 20,000 over
		 * 3 pages, every 100th 300 over 2 */
		uint32_t n = p % 1000 == 0 ? 20000 : p % 100 == 0 ? 300 : 1 + (uint32_t)(tu_rand(&x) % 4);
		uint32_t pages = p % 1000 == 0 ? 3 : p % 100 == 0 ? 2 : 1;
		for (uint32_t i = 0; i < n; i++)
			s_access(&s, p, 0x1000 + i % pages, i < pages ? VL_OP_WRITE : VL_OP_READ,
				 i < pages);
		if (p % 7 != 0) /* every 7th stays alive */
			s_exit(&s, p);
	}
	for (size_t o = 0; o < 3; o++) {
		/* 20000/7 live processes of one to three pages (and their
		 * page tables, 4 each where they take frames): 65536 frames
		 * hold them */
		struct vl_engine *e = os_engine(oses[o], "memory.frames=65536", true);
		tu_feed_events(e, s.recs, s.evs, s.n, 8192, oses[o]);
		s_compare(&s, e, oses[o]);
		vl_engine_free(e);
	}
	s_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_keep_order),
		cmocka_unit_test(test_many_short_lived),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
