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

static void run(const char *os, const char *frames, uint64_t seed)
{
	struct vl_rec *recs = malloc(NRECS * sizeof(*recs));
	struct vl_event *evs = malloc(NRECS * sizeof(*evs));
	size_t nev;
	assert_non_null(recs);
	assert_non_null(evs);
	gen(seed, recs, evs, &nev);
	char o[64];
	snprintf(o, sizeof(o), "os.personality=%s", os);
	struct vl_engine *e = tu_engine(o, frames, "run.check=on", "wsm.interval=500",
					"memory.pt_frames=on", "pagefile.size=64M",
					strcmp(os, "linux") ? "anon.zero_page=off" : "anon.zero_page=on",
					strcmp(os, "windows") ? "anon.dz_dirty=off" : "anon.dz_dirty=on",
					"ws.min_pages=8", "ws.max_pages=40", "wsm.available_pages=16",
					"mpw.threshold_pages=8", "file.read_cluster=4", "file.fault_around=4",
					NULL);
	/* feed in batches of 64 with the events each batch needs */
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
			fail_msg("%s %s seed %llu, record %zu: %s", os, frames, (unsigned long long)seed, i,
				 err.msg);
	}
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
		struct vl_proc_counters pc;
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
	vl_batch_free(&b);
	vl_engine_free(e);
	free(recs);
	free(evs);
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
		cmocka_unit_test(test_textbook),
	};
	return cmocka_run_group_tests_name("model stress", tests, NULL, NULL);
}
