/* tests/contract/test_policy_personalities.c - every registered policy
 * under every personality that consults it, with the model's address-space
 * activity, the invariant checker after every small batch.
 *
 * The linux and textbook personalities replace globally through the
 * policy; besides faults and evictions they unmap pages the policy did
 * not choose (decommit, release, unmap of file views, process exit) and
 * map shared file pages, so every policy's on_unmap of a frame it did not
 * pick, and its ghost history across such removals, is exercised.  Under
 * windows, working-set trimming decides and the policy is only created
 * and destroyed; that is run too.  The trace generator is the one of
 * tests/golden/test_model_stress.c (several processes reserving,
 * committing, protecting, mapping views, exiting), shorter.
 */
#include "tests/testutil.h"

#define NRECS 12000u
#define NPROC 4
#define REGION 0x10000000ull /* each process works in [REGION, REGION + 64 MiB) */

static const unsigned prots[] = { VL_PROT_READONLY, VL_PROT_READWRITE, VL_PROT_EXECUTE_READ,
				  VL_PROT_EXECUTE_READWRITE, VL_PROT_NOACCESS,
				  VL_PROT_READWRITE | VL_PROT_GUARD };

static void gen(uint64_t seed, struct vl_rec *recs, struct vl_event *evs, size_t *nev)
{
	uint64_t s = seed;
	*nev = 0;
	for (size_t i = 0; i < NRECS; i++) {
		uint64_t x = tu_rand(&s);
		uint32_t pid = 1 + (uint32_t)(x % NPROC);
		uint64_t page = (x >> 8) % 256;             /* 1 MiB of pages per process */
		uint64_t addr = REGION + (page << 12) + ((x >> 20) & 0xff8);
		unsigned k = (unsigned)((x >> 40) % 100);
		if (k < 8) {
			struct vl_event ev = { 0 };
			uint64_t base = REGION + (((x >> 48) % 16) << 16); /* 64 KiB slots */
			uint64_t len = (1 + (x >> 52) % 16) << 12;
			switch ((x >> 56) % 8) {
			case 0: ev.kind = VL_EV_RESERVE; ev.addr = base; ev.len = 0x10000; break;
			case 1:
			case 2: ev.kind = VL_EV_COMMIT; ev.addr = base; ev.len = len;
				ev.prot = prots[(x >> 60) % 6]; break;
			case 3: ev.kind = VL_EV_DECOMMIT; ev.addr = base; ev.len = len; break;
			case 4: ev.kind = VL_EV_RELEASE; ev.addr = base; break;
			case 5: ev.kind = VL_EV_PROTECT; ev.addr = base; ev.len = len;
				ev.prot = prots[(x >> 60) % 6]; break;
			case 6: ev.kind = VL_EV_MAP; ev.addr = REGION + 0x1000000 + (((x >> 48) % 4) << 20);
				ev.len = 0x40000; ev.file_id = (x >> 50) % 3; ev.offset = ((x >> 52) % 4) << 12;
				ev.prot = (x >> 62) & 1 ? VL_PROT_WRITECOPY : VL_PROT_READWRITE; break;
			default:
				if ((x >> 59) % 8 == 0) {
					ev.kind = VL_EV_EXIT;
				} else {
					ev.kind = VL_EV_UNMAP;
					ev.addr = REGION + 0x1000000 + (((x >> 48) % 4) << 20);
				}
				break;
			}
			evs[*nev] = ev;
			recs[i] = (struct vl_rec){ .addr = *nev, .pid = pid, .op = VL_OP_EVENT };
			(*nev)++;
			continue;
		}
		if (k < 40) /* the mapped views */
			addr = REGION + 0x1000000 + (((x >> 48) % 4) << 20) + (((x >> 8) % 64) << 12);
		uint8_t op = (x >> 30) % 10 < 6 ? VL_OP_READ : (x >> 30) % 10 < 9 ? VL_OP_WRITE : VL_OP_IFETCH;
		recs[i] = (struct vl_rec){ .addr = addr, .pid = pid, .op = op };
	}
}

static void run(const char *policy, const char *os, const char *frames, uint64_t seed)
{
	struct vl_rec *recs = malloc(NRECS * sizeof(*recs));
	struct vl_event *evs = malloc(NRECS * sizeof(*evs));
	size_t nev;
	assert_non_null(recs);
	assert_non_null(evs);
	gen(seed, recs, evs, &nev);
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
	struct vl_batch b;
	struct vl_error err = { 0 };
	assert_int_equal(vl_batch_init(&b, 64, &err), 0);
	for (size_t i = 0; i < NRECS;) {
		vl_batch_reset(&b);
		while (i < NRECS && b.n < 64 && b.n_events < b.ev_cap) {
			struct vl_rec r = recs[i++];
			if (r.op == VL_OP_EVENT) {
				b.events[b.n_events] = evs[r.addr];
				r.addr = b.n_events++;
			}
			b.recs[b.n++] = r;
		}
		if (vl_engine_feed(e, &b, &err) < 0)
			fail_msg("%s %s %s seed %llu, record %zu: %s", policy, os, frames,
				 (unsigned long long)seed, i, err.msg);
	}
	const struct vl_counters *c = vl_engine_counters(e);
	assert_int_equal(c->faults, c->faults_demand_zero + c->faults_soft + c->faults_hard +
					    c->faults_cow);
	assert_true(c->resident_peak <= strtoull(strchr(frames, '=') + 1, NULL, 10));
	vl_batch_free(&b);
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
