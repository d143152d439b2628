/* tests/golden/test_thp_stress.c - the linux THP rules under pressure.
 *
 * Random traces over 8 MiB per process with COMMIT / DECOMMIT / ADVISE
 * events, reads and writes, and memory too small to hold it all, so 2 MiB
 * pages are mapped, evicted page by page, decommitted and faulted again;
 * the invariant checker runs after every batch.  Then exact counts on a
 * fixed pattern, derived by hand:
 *   thp.enabled = always, 4 MiB committed at a 2 MiB boundary, one write
 *   per page: 2 faults (one per 2 MiB range), 1024 pages resident;
 *   the same with thp.enabled = never: 1024 faults;
 *   thp.enabled = always but ADVISE nohugepage: 1024 faults.
 */
#include "tests/testutil.h"

#define BASE 0x40000000ull
#define NRECS 12000

static void feed_one(struct vl_engine *e, struct vl_rec r, const struct vl_event *ev)
{
	struct vl_error err = { 0 };
	struct vl_batch b;
	if (vl_batch_init(&b, 4, &err) < 0)
		fail_msg("%s", err.msg);
	if (ev) {
		b.events[0] = *ev;
		r.addr = 0;
		b.n_events = 1;
	}
	b.recs[b.n++] = r;
	if (vl_engine_feed(e, &b, &err) < 0)
		fail_msg("feed: %s", err.msg);
	vl_batch_free(&b);
}

static void event(struct vl_engine *e, uint32_t pid, uint32_t kind, uint64_t addr, uint64_t len,
		  uint32_t prot)
{
	struct vl_event ev = { .kind = kind, .addr = addr, .len = len, .prot = prot };
	feed_one(e, (struct vl_rec){ .pid = pid, .op = VL_OP_EVENT }, &ev);
}

static void access1(struct vl_engine *e, uint32_t pid, uint64_t addr, uint8_t op)
{
	feed_one(e, (struct vl_rec){ .addr = addr, .pid = pid, .op = op }, NULL);
}

static void stress(const char *mode, const char *frames, uint64_t seed)
{
	char m[64];
	snprintf(m, sizeof(m), "thp.enabled=%s", mode);
	struct vl_engine *e = tu_engine("os.personality=linux", "anon.zero_page=on", m, frames,
					"memory.pt_frames=on", "pagefile.size=256M", "run.check=on",
					"replacement.policy=clock", NULL);
	uint64_t s = seed;
	for (uint32_t pid = 1; pid <= 2; pid++) {
		event(e, pid, VL_EV_COMMIT, BASE, 8u << 20, VL_PROT_READWRITE);
		event(e, pid, VL_EV_ADVISE, BASE, 8u << 20, VL_ADV_HUGEPAGE);
	}
	for (size_t i = 0; i < NRECS; i++) {
		uint64_t x = tu_rand(&s);
		uint32_t pid = 1 + (uint32_t)(x & 1);
		uint64_t page = (x >> 8) % 2048;
		unsigned k = (unsigned)((x >> 40) % 1000);
		if (k < 3) { /* decommit and recommit a 2 MiB range */
			uint64_t r = BASE + (((x >> 50) % 4) << 21);
			event(e, pid, VL_EV_DECOMMIT, r, 2u << 20, 0);
			event(e, pid, VL_EV_COMMIT, r, 2u << 20, VL_PROT_READWRITE);
			continue;
		}
		access1(e, pid, BASE + (page << 12), (x >> 30) % 3 ? VL_OP_READ : VL_OP_WRITE);
	}
	const struct vl_counters *c = vl_engine_counters(e);
	assert_int_equal(c->faults,
			 c->faults_demand_zero + c->faults_soft + c->faults_hard + c->faults_cow);
	assert_int_equal(c->access_violations, 0);
	print_message("  thp=%-7s %-18s faults %llu (dz %llu cow %llu hard %llu) evicted %llu\n",
		      mode, frames, (unsigned long long)c->faults,
		      (unsigned long long)c->faults_demand_zero, (unsigned long long)c->faults_cow,
		      (unsigned long long)c->faults_hard, (unsigned long long)c->evictions);
	vl_engine_free(e);
}

static void test_stress(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 2; seed++) {
		stress("madvise", "memory.frames=1500", seed);
		stress("always", "memory.frames=5000", seed);
	}
}

static uint64_t pass_faults(const char *mode, bool nohuge, uint64_t *resident)
{
	char m[64];
	snprintf(m, sizeof(m), "thp.enabled=%s", mode);
	struct vl_engine *e = tu_engine("os.personality=linux", "anon.zero_page=on", m,
					"memory.frames=4096", "run.check=on", NULL);
	event(e, 1, VL_EV_COMMIT, BASE, 4u << 20, VL_PROT_READWRITE);
	if (nohuge)
		event(e, 1, VL_EV_ADVISE, BASE, 4u << 20, VL_ADV_NOHUGEPAGE);
	for (uint64_t p = 0; p < 1024; p++)
		access1(e, 1, BASE + (p << 12), VL_OP_WRITE);
	const struct vl_counters *c = vl_engine_counters(e);
	uint64_t f = c->faults;
	*resident = c->resident_peak;
	vl_engine_free(e);
	return f;
}

static void test_exact(void **state)
{
	(void)state;
	uint64_t res;
	assert_int_equal(pass_faults("always", false, &res), 2);
	assert_int_equal(res, 1024);
	assert_int_equal(pass_faults("never", false, &res), 1024);
	assert_int_equal(pass_faults("always", true, &res), 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_stress),
	};
	return cmocka_run_group_tests_name("thp", tests, NULL, NULL);
}
