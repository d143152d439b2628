/* tests/golden/test_hit_path.c - the engine's TLB-hit fast path against its
 * general loop.
 *
 * vl_engine_feed hands runs of first-level TLB hits to a tight loop that
 * keeps the clock and the counts in registers (sim/engine.c, feed_hits).
 * It only runs on the records after a hit within the same batch, so a
 * trace fed one record per batch never enters it: that run is the
 * reference.  Every counter the engine lists (the fixed ones and the per
 * TLB level ones), every process's counters and the gauges must be equal
 * between batches of one record and batches of 4096, over workloads built
 * to cross every exit of the fast loop: process switches, stores through
 * clean entries, fetches from no-execute pages, protection changes,
 * misses, events, large pages (their probes are skipped until one is
 * mapped), periodic large-page scans, policies told of every access and
 * OPT's next-use times.
 */
#include "tests/testutil.h"

#define NRECS 60000u
#define HOT 0x20000000ull /* 2 MiB aligned */

/* Three processes in bursts over a small hot set (most accesses hit the
 * L1 TLB), with cold misses, loads/stores/fetches/read-modify-writes, and
 * protection changes that make stores and fetches fault or violate. */
static size_t gen_hot(uint64_t seed, struct vl_rec *recs, struct vl_event *evs, size_t *nev,
		      bool explicit_vm)
{
	uint64_t s = seed;
	size_t n = 0;
	*nev = 0;
	if (explicit_vm)
		for (uint32_t pid = 1; pid <= 3; pid++) {
			evs[*nev] = (struct vl_event){ .kind = VL_EV_RESERVE, .addr = HOT,
						       .len = 8u << 20 };
			recs[n++] = (struct vl_rec){ .addr = (*nev)++, .pid = pid, .op = VL_OP_EVENT };
			evs[*nev] = (struct vl_event){ .kind = VL_EV_COMMIT, .addr = HOT, .len = 8u << 20,
						       .prot = VL_PROT_EXECUTE_READWRITE };
			recs[n++] = (struct vl_rec){ .addr = (*nev)++, .pid = pid, .op = VL_OP_EVENT };
		}
	static const unsigned prots[] = { VL_PROT_READONLY, VL_PROT_READWRITE, VL_PROT_EXECUTE_READ,
					  VL_PROT_EXECUTE_READWRITE };
	while (n < NRECS) {
		uint64_t x = tu_rand(&s);
		uint32_t pid = 1 + (uint32_t)(x % 3);
		size_t burst = 1 + (size_t)((x >> 8) % 400);
		if (explicit_vm && (x >> 20) % 8 == 0 && n < NRECS) {
			/* change the protection of 64 KiB of the hot set */
			evs[*nev] = (struct vl_event){ .kind = VL_EV_PROTECT,
						       .addr = HOT + (((x >> 24) % 4) << 16),
						       .len = 0x10000, .prot = prots[(x >> 28) % 4] };
			recs[n++] = (struct vl_rec){ .addr = (*nev)++, .pid = pid, .op = VL_OP_EVENT };
		}
		for (size_t k = 0; k < burst && n < NRECS; k++) {
			uint64_t y = tu_rand(&s);
			uint64_t page = (y % 64) < 62 ? (y >> 8) % 40 : 40 + (y >> 8) % 1800;
			uint64_t addr = HOT + (page << 12) + ((y >> 20) & 0xff8);
			unsigned o = (unsigned)((y >> 40) % 20);
			uint8_t op = o < 12 ? VL_OP_READ : o < 16 ? VL_OP_WRITE : o < 18 ? VL_OP_IFETCH
											 : VL_OP_MODIFY;
			recs[n++] = (struct vl_rec){ .addr = addr, .pid = pid, .op = op };
		}
	}
	return n;
}

struct snap {
	size_t nc;
	const char *names[256];
	uint64_t values[256];
	size_t np;
	struct vl_proc_counters procs[8];
	struct vl_gauges g;
};

static void run(struct snap *out, const char **sets, const struct vl_rec *recs,
		const struct vl_event *evs, size_t n, size_t cap, const char *label)
{
	struct vl_engine *e = tu_engine_on("generic", sets);
	uint64_t *future = NULL;
	if (vl_engine_needs_future(e)) {
		/* next use per access record (events are not accesses) */
		struct vl_rec *acc = malloc(n * sizeof(*acc));
		assert_non_null(acc);
		size_t na = 0;
		for (size_t i = 0; i < n; i++)
			if (recs[i].op < VL_OP_NACCESS)
				acc[na++] = recs[i];
		future = tu_future(acc, na);
		free(acc);
		vl_engine_set_future(e, future, na);
	}
	tu_feed_events(e, recs, evs, n, cap, label);
	out->nc = vl_engine_counter_list(e, out->names, out->values, 256);
	assert_true(out->nc <= 256);
	out->np = vl_engine_nprocs(e);
	assert_true(out->np <= 8);
	for (size_t i = 0; i < out->np; i++) {
		out->procs[i].size = sizeof(out->procs[i]);
		assert_int_equal(vl_engine_proc_counters(e, i, &out->procs[i]), 0);
	}
	out->g.size = sizeof(out->g);
	vl_engine_gauges(e, &out->g);
	/* names live as long as the engine: keep what the comparison needs */
	for (size_t i = 0; i < out->nc; i++)
		out->names[i] = strdup(out->names[i]);
	vl_engine_free(e);
	free(future);
}

static uint64_t value(const struct snap *s, const char *name)
{
	for (size_t i = 0; i < s->nc; i++)
		if (!strcmp(s->names[i], name))
			return s->values[i];
	fail_msg("no counter %s", name);
	return 0;
}

static void same(const char **sets, bool explicit_vm, uint64_t seed)
{
	struct vl_rec *recs = malloc(NRECS * sizeof(*recs));
	struct vl_event *evs = malloc(NRECS * sizeof(*evs));
	assert_non_null(recs);
	assert_non_null(evs);
	size_t nev, n = gen_hot(seed, recs, evs, &nev, explicit_vm);
	char label[256];
	int at = snprintf(label, sizeof(label), "seed %llu vm %d:", (unsigned long long)seed,
			  explicit_vm);
	for (size_t i = 0; sets[i] && at < (int)sizeof(label) - 1; i++)
		at += snprintf(label + at, sizeof(label) - (size_t)at, " %s", sets[i]);
	static struct snap one, many;
	run(&one, sets, recs, evs, n, 1, label);
	run(&many, sets, recs, evs, n, 4096, label);
	/* the workload exercised what it is for: mostly L1 hits, some misses */
	uint64_t acc = value(&one, "accesses");
	uint64_t hits = 0;
	for (size_t i = 0; i < one.nc; i++)
		if (!strncmp(one.names[i], "tlb_", 4) && strcmp(one.names[i], "tlb_l2_hits") &&
		    strlen(one.names[i]) > 5 && !strcmp(one.names[i] + strlen(one.names[i]) - 5, "_hits"))
			hits += one.values[i];
	print_message("  %-70s L1 hits %5.1f%%, faults %llu, violations %llu\n", label,
		      100.0 * (double)hits / (double)acc, (unsigned long long)value(&one, "faults"),
		      (unsigned long long)value(&one, "access_violations"));
	assert_true(hits > acc / 3);
	assert_true(value(&one, "tlb_l2_misses") > 0);
	assert_int_equal(many.nc, one.nc);
	for (size_t i = 0; i < one.nc; i++) {
		assert_string_equal(many.names[i], one.names[i]);
		if (many.values[i] != one.values[i])
			fail_msg("%s: counter %s is %llu in batches of 4096, %llu one by one", label,
				 one.names[i], (unsigned long long)many.values[i],
				 (unsigned long long)one.values[i]);
	}
	assert_int_equal(many.np, one.np);
	for (size_t i = 0; i < one.np; i++)
		assert_memory_equal(&many.procs[i], &one.procs[i], sizeof(one.procs[i]));
	assert_memory_equal(&many.g, &one.g, sizeof(one.g));
	for (size_t i = 0; i < one.nc; i++) {
		free((char *)one.names[i]);
		free((char *)many.names[i]);
	}
	free(recs);
	free(evs);
}

static void test_textbook_policies(void **state)
{
	(void)state;
	static const char *policies[] = { "fifo", "lru", "clock", "arc", "opt", "sieve" };
	for (size_t p = 0; p < sizeof(policies) / sizeof(*policies); p++) {
		char po[64];
		snprintf(po, sizeof(po), "replacement.policy=%s", policies[p]);
		const char *sets[] = { po, "memory.frames=256", NULL };
		same(sets, false, 1);
		same(sets, true, 2);
	}
}

static void test_pcid_and_small_memory(void **state)
{
	(void)state;
	const char *pcid[] = { "tlb.pcid=on", "memory.frames=256", NULL };
	same(pcid, true, 3);
	/* a unified first level beside the split ones, fully associative:
	 * fetches can hit entries that loads of no-execute pages filled */
	const char *unified[] = { "tlb.u1.level=1", "tlb.u1.kind=unified", "tlb.u1.entries=16",
				  "tlb.u1.ways=16", "memory.frames=256", NULL };
	same(unified, true, 11);
	const char *tiny[] = { "replacement.policy=lru", "memory.frames=24", NULL };
	same(tiny, false, 4);
}

static void test_large_pages(void **state)
{
	(void)state;
	const char *always[] = { "largepage.policy=always", "memory.frames=8192", NULL };
	same(always, false, 5);
	same(always, true, 6);
	const char *promote[] = { "largepage.policy=promote", "largepage.interval=5000",
				  "largepage.promote.threshold=0.01", "memory.frames=8192", NULL };
	same(promote, false, 7);
}

static void test_personalities(void **state)
{
	(void)state;
	const char *win[] = { "os.personality=windows", "memory.frames=256", "wsm.interval=2000",
			      NULL };
	same(win, true, 8);
	const char *lin[] = { "os.personality=linux", "memory.frames=256", "thp.enabled=always",
			      NULL };
	same(lin, true, 9);
	const char *lin_small[] = { "os.personality=linux", "memory.frames=64", NULL };
	same(lin_small, true, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_textbook_policies),
		cmocka_unit_test(test_pcid_and_small_memory),
		cmocka_unit_test(test_large_pages),
		cmocka_unit_test(test_personalities),
	};
	return cmocka_run_group_tests_name("TLB-hit fast path", tests, NULL, NULL);
}
