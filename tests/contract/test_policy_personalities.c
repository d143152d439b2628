/* tests/contract/test_policy_personalities.c - every registered policy
 * under every personality that consults it, with the model's address-space
 * activity, the invariant checker after every small batch.
 *
 * The linux and textbook personalities replace globally through the
 * policy; besides faults and evictions they unmap pages the policy did
 * not choose (decommit, release, unmap of file views, process exit) and
 * map shared file pages, so every policy's on_unmap of a frame it did not
 * pick, and its ghost history across such removals, is exercised.  Under
 * windows each working set has its own instance of the policy, which
 * chooses the pages trimmed from it and the page a working set at its
 * maximum gives up (sim/rsm_ws.c); that is run too.  The trace generator is the one of
 * tests/golden/test_model_stress.c (several processes reserving,
 * committing, protecting, mapping views, exiting), shorter.
 */
#include "tests/testutil.h"

#define NRECS 12000u

static void run(const char *policy, const char *os, const char *frames, uint64_t seed)
{
	struct vl_rec *recs = malloc(NRECS * sizeof(*recs));
	struct vl_event *evs = malloc(NRECS * sizeof(*evs));
	size_t nev;
	assert_non_null(recs);
	assert_non_null(evs);
	tu_gen_vm(seed, NRECS, recs, evs, &nev);
	char o[64], p[64];
	snprintf(o, sizeof(o), "os.personality=%s", os);
	snprintf(p, sizeof(p), "replacement.policy=%s", policy);
	struct vl_engine *e = tu_engine(o, p, frames, "run.check=on", "wsm.interval=500",
					"memory.pt_frames=on", "pagefile.size=64M",
					strcmp(os, "linux") ? "anon.zero_page=off" : "anon.zero_page=on",
					strcmp(os, "windows") ? "anon.dz_dirty=off" : "anon.dz_dirty=on",
					"ws.min_pages=8", "ws.max_pages=40", "wsm.available_pages=16",
					"mpw.threshold_pages=8", "file.read_cluster=4", "file.fault_around=4",
					NULL);
	char label[160];
	snprintf(label, sizeof(label), "%s %s %s seed %llu", policy, os, frames,
		 (unsigned long long)seed);
	tu_feed_events(e, recs, evs, NRECS, 64, label);
	const struct vl_counters *c = vl_engine_counters(e);
	assert_int_equal(c->faults, c->faults_demand_zero + c->faults_soft + c->faults_hard +
					    c->faults_cow);
	assert_true(c->resident_peak <= strtoull(strchr(frames, '=') + 1, NULL, 10));
	vl_engine_free(e);
	free(recs);
	free(evs);
}

static void each_policy(const char *os, const char *frames)
{
	for (size_t i = 0; vl_repl_at(i); i++) {
		const struct vl_repl_ops *o = vl_repl_at(i);
		if (o->flags & VL_REPL_NEEDS_FUTURE)
			continue; /* opt: needs the trace twice; covered by test_policies */
		run(o->name, os, frames, 1);
	}
}

static void test_linux(void **state)
{
	(void)state;
	each_policy("linux", "memory.frames=48");
	each_policy("linux", "memory.frames=400");
}

static void test_textbook(void **state)
{
	(void)state;
	each_policy("textbook", "memory.frames=48");
	each_policy("textbook", "memory.frames=400");
}

static void test_windows(void **state)
{
	(void)state;
	each_policy("windows", "memory.frames=48");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux),
		cmocka_unit_test(test_textbook),
		cmocka_unit_test(test_windows),
	};
	return cmocka_run_group_tests_name("policies under every personality", tests, NULL, NULL);
}
