/* tests/golden/test_model_stress.c - random address-space activity under
 * every personality with the invariant checker after every small batch.
 *
 * Several processes reserve, commit, protect, decommit, release, map and
 * unmap file views, fork-like share copy-on-write views, exit and come back,
 * and touch memory (reads, writes, fetches, many outside what they own)
 * in a memory small enough that pages are trimmed, written, repurposed and
 * evicted all the time.  The checker (vl_engine_check) verifies every PTE
 * against the frame database, list lengths, share counts, commit charge and
 * working sets; any broken invariant fails the feed.  Then the counters
 * must partition: faults = demand-zero + soft + hard + copy-on-write, and
 * the per-process counters must add up to the machine's.
 */
#include "tests/testutil.h"

#define NRECS 40000u

/* extra, extra2: more keys (the linux swap cache and its readahead kinds) */
static void run_with(const char *os, const char *frames, uint64_t seed, const char *extra,
		     const char *extra2)
{
	struct vl_rec *recs = malloc(NRECS * sizeof(*recs));
	struct vl_event *evs = malloc(NRECS * sizeof(*evs));
	size_t nev;
	assert_non_null(recs);
	assert_non_null(evs);
	tu_gen_vm(seed, NRECS, recs, evs, &nev);
	char o[64];
	snprintf(o, sizeof(o), "os.personality=%s", os);
	struct vl_engine *e = tu_engine(o, frames, "run.check=on", extra, extra2, "wsm.interval=500",
					"memory.pt_frames=on", "pagefile.size=64M",
					strcmp(os, "linux") ? "anon.zero_page=off" : "anon.zero_page=on",
					strcmp(os, "windows") ? "anon.dz_dirty=off" : "anon.dz_dirty=on",
					"ws.min_pages=8", "ws.max_pages=40", "wsm.available_pages=16",
					"mpw.threshold_pages=8", "file.read_cluster=4", "file.fault_around=4",
					NULL);
	/* feed in batches of 64 with the events each batch needs */
	char label[128];
	snprintf(label, sizeof(label), "%s %s %s %s seed %llu", os, frames, extra, extra2,
		 (unsigned long long)seed);
	tu_feed_events(e, recs, evs, NRECS, 64, label);
	const struct vl_counters *c = vl_engine_counters(e);
	print_message("  %-8s %-22s faults %6llu (dz %llu soft %llu hard %llu cow %llu) av %llu "
		      "trimmed %llu repurposed %llu written %llu evicted %llu\n", os, frames,
		      (unsigned long long)c->faults, (unsigned long long)c->faults_demand_zero,
		      (unsigned long long)c->faults_soft, (unsigned long long)c->faults_hard,
		      (unsigned long long)c->faults_cow, (unsigned long long)c->access_violations,
		      (unsigned long long)c->pages_trimmed, (unsigned long long)c->standby_repurposed,
		      (unsigned long long)c->modified_written, (unsigned long long)c->evictions);
	assert_int_equal(c->faults, c->faults_demand_zero + c->faults_soft + c->faults_hard +
					    c->faults_cow);
	assert_true(c->faults > 0);
	/* per-process counters add up to the machine's (exited processes keep
	 * their records) */
	struct vl_proc_counters sum = { 0 };
	for (size_t i = 0; i < vl_engine_nprocs(e); i++) {
		struct vl_proc_counters pc = { .size = sizeof(pc) };
		assert_int_equal(vl_engine_proc_counters(e, i, &pc), 0);
		sum.faults += pc.faults;
		sum.faults_demand_zero += pc.faults_demand_zero;
		sum.faults_soft += pc.faults_soft;
		sum.faults_hard += pc.faults_hard;
		sum.faults_cow += pc.faults_cow;
		sum.access_violations += pc.access_violations;
		sum.commit_pages += pc.commit_pages;
	}
	assert_int_equal(sum.faults, c->faults);
	assert_int_equal(sum.faults_demand_zero, c->faults_demand_zero);
	assert_int_equal(sum.faults_soft, c->faults_soft);
	assert_int_equal(sum.faults_hard, c->faults_hard);
	assert_int_equal(sum.faults_cow, c->faults_cow);
	assert_int_equal(sum.access_violations, c->access_violations);
	assert_int_equal(sum.commit_pages, c->commit_charge);
	assert_true(c->access_violations > 0);
	assert_true(c->events == nev);
	vl_engine_free(e);
	free(recs);
	free(evs);
}

static void run(const char *os, const char *frames, uint64_t seed)
{
	run_with(os, frames, seed, "run.check=on", "run.check=on");
}

static void test_windows(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		run("windows", "memory.frames=48", seed);
		run("windows", "memory.frames=400", seed);
	}
}

static void test_linux(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		run("linux", "memory.frames=48", seed);
		run("linux", "memory.frames=400", seed);
	}
}

/* the swap cache, with cluster and VMA readahead: readahead pages come and
 * go under protection changes, decommits, releases, views and exits */
static void test_linux_swap_cache(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		run_with("linux", "memory.frames=48", seed, "swap.cache=on", "swap.rotational=off");
		run_with("linux", "memory.frames=400", seed, "swap.cache=on", "swap.rotational=off");
		run_with("linux", "memory.frames=48", seed, "swap.cache=on", "swap.rotational=on");
		run_with("linux", "memory.frames=400", seed, "swap.cache=on", "swap.rotational=on");
	}
}

static void test_textbook(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++)
		run("textbook", "memory.frames=48", seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_linux),
		cmocka_unit_test(test_linux_swap_cache),
		cmocka_unit_test(test_textbook),
	};
	return cmocka_run_group_tests_name("model stress", tests, NULL, NULL);
}
