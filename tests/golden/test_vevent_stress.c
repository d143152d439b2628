/* tests/golden/test_vevent_stress.c - thousands of short random traces of
 * V events and accesses under every personality, the invariant checker
 * after every record.
 *
 * The records come from tests/fuzz/model_gen.h, the generator of the model
 * fuzzer (make fuzz), fed here by a seeded splitmix64 instead of libFuzzer:
 * three processes reserving, committing, decommitting, releasing,
 * protecting (guard pages and copy-on-write included), mapping and
 * unmapping file views, advising huge pages and exiting, between reads,
 * writes and fetches in and out of what they own, in 600 frames.  Each
 * trace is 16 to 255 records, replayed in batches of one under the four
 * configurations of model_gen.h (textbook with `always` large pages, linux
 * with THP and khugepaged, windows with working sets), so every record is
 * followed by vl_engine_check.  A broken invariant, a crash or (under
 * SAN=1) a sanitizer report fails the test with the trace's seed and the
 * record; running out of frames or page file (VL_ELIMIT) only ends that
 * trace.  After each trace the counters must partition: faults = demand
 * zero + soft + hard + copy-on-write, and the processes' faults add up to
 * the machine's.  STRESS_TRACES (environment) overrides the trace count
 * per configuration.
 */
#include "tests/testutil.h"
#include "tests/fuzz/model_gen.h"

#define TRACES_DEFAULT 1000

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static unsigned ntraces(void)
{
	const char *s = getenv("STRESS_TRACES");
	long n = s ? strtol(s, NULL, 10) : 0;
	return n > 0 ? (unsigned)n : TRACES_DEFAULT;
}

static void stress(size_t c)
{
	struct vl_batch b;
	struct vl_error err = { 0 };
	assert_int_equal(vl_batch_init(&b, 4, &err), 0);
	unsigned n = ntraces();
	uint64_t records = 0, limited = 0, faults = 0, events = 0, evictions = 0;
	for (unsigned t = 0; t < n; t++) {
		uint64_t seed = (uint64_t)c << 32 | t, s = seed;
		struct vl_engine *e = mg_engine(mg_configs[c], &err);
		if (!e)
			fail_msg("config %zu: %s", c, err.msg);
		size_t len = 16 + splitmix64(&s) % 240;
		for (size_t i = 0; i < len; i++) {
			int is_event;
			vl_batch_reset(&b);
			b.recs[0] = mg_record(splitmix64(&s), &b.events[0], &is_event);
			b.n = 1;
			b.n_events = is_event ? 1 : 0;
			events += (uint64_t)is_event;
			records++;
			if (vl_engine_feed(e, &b, &err) < 0) {
				if (err.code == VL_ELIMIT) {
					limited++;
					break;
				}
				fail_msg("config %zu (%s), trace %u (seed 0x%llx), record %zu: %s", c,
					 mg_configs[c][0], t, (unsigned long long)seed, i, err.msg);
			}
		}
		const struct vl_counters *k = vl_engine_counters(e);
		if (k->faults != k->faults_demand_zero + k->faults_soft + k->faults_hard + k->faults_cow)
			fail_msg("config %zu trace %u: faults %llu != dz + soft + hard + cow", c, t,
				 (unsigned long long)k->faults);
		uint64_t sum = 0;
		for (size_t p = 0; p < vl_engine_nprocs(e); p++) {
			struct vl_proc_counters pc = { .size = sizeof(pc) };
			assert_int_equal(vl_engine_proc_counters(e, p, &pc), 0);
			sum += pc.faults;
		}
		if (sum != k->faults)
			fail_msg("config %zu trace %u: processes' faults %llu != machine's %llu", c, t,
				 (unsigned long long)sum, (unsigned long long)k->faults);
		/* under memory.limit (128 KiB: 32 frames, page tables among
		 * them) the processes never hold more than the limit's
		 * frames, whatever they map */
		if (c == 4 && k->resident_peak > 32)
			fail_msg("config %zu trace %u: resident peak %llu over the limit's 32 frames", c,
				 t, (unsigned long long)k->resident_peak);
		faults += k->faults;
		evictions += k->evictions;
		vl_engine_free(e);
	}
	vl_batch_free(&b);
	print_message("  %-24s %-24s %u traces, %llu records (%llu events), %llu faults, %llu ended "
		      "out of memory\n", mg_configs[c][0], mg_configs[c][1], n, (unsigned long long)records,
		      (unsigned long long)events, (unsigned long long)faults,
		      (unsigned long long)limited);
	assert_true(faults > 0);
	assert_true(events > 0);
	if (c == 4) /* the limit is reached and reclaims */
		assert_true(evictions > 0);
}

static void test_textbook(void **state)
{
	(void)state;
	stress(0);
}

static void test_linux(void **state)
{
	(void)state;
	stress(1);
}

static void test_windows(void **state)
{
	(void)state;
	stress(2);
}

static void test_textbook_vad_commit(void **state)
{
	(void)state;
	stress(3);
}

static void test_linux_limit(void **state)
{
	(void)state;
	stress(4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_textbook),
		cmocka_unit_test(test_linux),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_textbook_vad_commit),
		cmocka_unit_test(test_linux_limit),
	};
	return cmocka_run_group_tests_name("V-event stress", tests, NULL, NULL);
}
