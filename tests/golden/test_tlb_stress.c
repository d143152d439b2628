/* tests/golden/test_tlb_stress.c - the model stress workload of
 * test_model_stress.c (address-space events, sharing, copy-on-write,
 * trimming, exits, in tiny memory) replayed with and without TLBs.
 *
 * With the generic machine's TLBs and walk caches (PCIDs off and on), the
 * invariant checker runs after every batch of 64 records; it checks every
 * cached translation and walk-cache entry against the page tables, so a
 * PTE change that forgot its INVLPG fails here.  And because translations
 * are dropped whenever the OS changes a PTE or clears an accessed bit, the
 * memory manager's decisions must not change: every fault, trim, eviction
 * and write counter equals the run without TLBs.
 */
#include "tests/testutil.h"

#define NRECS 40000u

static struct vl_counters run(const char *os, const char *frames, uint64_t seed, int tlb)
{
	struct vl_rec *recs = malloc(NRECS * sizeof(*recs));
	struct vl_event *evs = malloc(NRECS * sizeof(*evs));
	size_t nev;
	assert_non_null(recs);
	assert_non_null(evs);
	tu_gen_vm(seed, NRECS, recs, evs, &nev);
	char o[64];
	snprintf(o, sizeof(o), "os.personality=%s", os);
	const char *sets[] = { o, frames, "run.check=on", "wsm.interval=500", "memory.pt_frames=on",
			       "pagefile.size=64M",
			       strcmp(os, "linux") ? "anon.zero_page=off" : "anon.zero_page=on",
			       strcmp(os, "windows") ? "anon.dz_dirty=off" : "anon.dz_dirty=on",
			       "ws.min_pages=8", "ws.max_pages=40", "wsm.available_pages=16",
			       "mpw.threshold_pages=8", "file.read_cluster=4", "file.fault_around=4",
			       tlb == 2 ? "tlb.pcid=on" : "tlb.pcid=off", NULL };
	struct vl_engine *e = tu_engine_on(tlb ? "generic" : NULL, sets);
	char label[128];
	snprintf(label, sizeof(label), "%s %s seed %llu tlb %d", os, frames, (unsigned long long)seed,
		 tlb);
	tu_feed_events(e, recs, evs, NRECS, 64, label);
	struct vl_counters c = *vl_engine_counters(e);
	if (tlb)
		assert_true(c.walks < c.accesses / 2); /* the TLBs were used */
	vl_engine_free(e);
	free(recs);
	free(evs);
	return c;
}

static void same(const char *os, const char *frames, uint64_t seed)
{
	struct vl_counters c[3];
	for (int t = 0; t < 3; t++)
		c[t] = run(os, frames, seed, t);
	print_message("  %-8s %-18s seed %llu: faults %llu, walks %llu / %llu / %llu\n", os, frames,
		      (unsigned long long)seed, (unsigned long long)c[0].faults,
		      (unsigned long long)c[0].walks, (unsigned long long)c[1].walks,
		      (unsigned long long)c[2].walks);
	for (int t = 1; t < 3; t++) {
		assert_int_equal(c[t].faults, c[0].faults);
		assert_int_equal(c[t].faults_soft, c[0].faults_soft);
		assert_int_equal(c[t].faults_hard, c[0].faults_hard);
		assert_int_equal(c[t].faults_cow, c[0].faults_cow);
		assert_int_equal(c[t].access_violations, c[0].access_violations);
		assert_int_equal(c[t].pages_trimmed, c[0].pages_trimmed);
		assert_int_equal(c[t].standby_repurposed, c[0].standby_repurposed);
		assert_int_equal(c[t].modified_written, c[0].modified_written);
		assert_int_equal(c[t].evictions, c[0].evictions);
		assert_int_equal(c[t].writebacks, c[0].writebacks);
	}
}

static void test_windows(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 2; seed++) {
		same("windows", "memory.frames=48", seed);
		same("windows", "memory.frames=400", seed);
	}
}

static void test_linux(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 2; seed++) {
		same("linux", "memory.frames=48", seed);
		same("linux", "memory.frames=400", seed);
	}
}

static void test_textbook(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 2; seed++)
		same("textbook", "memory.frames=48", seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_linux),
		cmocka_unit_test(test_textbook),
	};
	return cmocka_run_group_tests_name("model stress with TLBs", tests, NULL, NULL);
}
