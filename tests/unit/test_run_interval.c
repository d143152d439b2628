/* tests/unit/test_run_interval.c - vl_run_ex's timeline observer.
 *
 * A trace of accesses with address-space events between them (addr format
 * `V ...` lines) is replayed with stats.interval = 7.  Expected: the
 * observer runs after accesses 7, 14, 21, ... and once at the end for the
 * rest; at each call the engine has replayed exactly that many accesses
 * (events do not count); the counters at the end equal a run without the
 * observer; an observer's error stops the run with its code.
 */
#include <sys/stat.h>

#include "tests/testutil.h"

#define NACC 100
#define IVAL 7

static const char *write_trace(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/vmlab-ival-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	uint64_t s = 3;
	for (int i = 0; i < NACC; i++) {
		if (i % 5 == 0)
			fprintf(f, "V ROI_BEGIN\n"); /* an event record between accesses */
		fprintf(f, "%c 0x%llx\n", i % 3 ? 'R' : 'W',
			(unsigned long long)(0x400000 + (vl_rand_below(&s, 40) << 12)));
	}
	assert_int_equal(fclose(f), 0);
	return path;
}

struct seen {
	uint64_t at[64];
	uint64_t accesses[64]; /* the engine's accesses counter at each call */
	uint64_t events[64];   /* and its events counter */
	int n;
	int fail_at;           /* return an error at this call (0 = never) */
};

static int observe(void *ctx, struct vl_engine *e, uint64_t done, struct vl_error *err)
{
	struct seen *s = ctx;
	assert_true(s->n < 64);
	s->at[s->n] = done;
	s->accesses[s->n] = vl_engine_counters(e)->accesses;
	s->events[s->n] = vl_engine_counters(e)->events;
	s->n++;
	if (s->fail_at && s->n == s->fail_at)
		return vl_err(err, VL_ELIMIT, "observer stops here");
	return 0;
}

static struct vl_engine *engine(const char *interval)
{
	return tu_engine("memory.frames=8", "replacement.policy=lru", interval, NULL);
}

static void test_boundaries(void **state)
{
	const char *path = write_trace();
	struct vl_error err = { 0 };
	struct vl_trace *t;
	struct vl_run_stats st = { .size = sizeof(st) };

	struct vl_engine *plain = engine("stats.interval=0");
	assert_int_equal(vl_trace_open(&t, path, "addr", &err), 0);
	assert_int_equal(vl_run(plain, t, NULL, NULL, &st, &err), 0);
	vl_trace_close(t);

	struct seen s = { 0 };
	struct vl_engine *e = engine("stats.interval=7");
	struct vl_run_opts o = { .size = sizeof(o), .on_interval = observe, .interval_ctx = &s };
	assert_int_equal(vl_trace_open(&t, path, "addr", &err), 0);
	assert_int_equal(vl_run_ex(e, t, &o, &st, &err), 0);
	vl_trace_close(t);

	int want = (NACC + IVAL - 1) / IVAL;
	assert_int_equal(s.n, want);
	for (int i = 0; i < s.n; i++) {
		uint64_t exp = i + 1 < want ? (uint64_t)(i + 1) * IVAL : NACC;
		assert_int_equal(s.at[i], exp);
		assert_int_equal(s.accesses[i], exp);
	}
	assert_int_equal(st.records, NACC + NACC / 5); /* events are records */
	const struct vl_counters *a = vl_engine_counters(plain), *b = vl_engine_counters(e);
	assert_int_equal(a->accesses, b->accesses);
	assert_int_equal(a->faults, b->faults);
	assert_int_equal(a->evictions, b->evictions);
	assert_int_equal(a->writebacks, b->writebacks);
	assert_int_equal(a->events, b->events);
	assert_true(b->events > 0);
	vl_engine_free(plain);
	vl_engine_free(e);

	/* interval 0: the observer is never called */
	struct seen none = { 0 };
	e = engine("stats.interval=0");
	o.interval_ctx = &none;
	assert_int_equal(vl_trace_open(&t, path, "addr", &err), 0);
	assert_int_equal(vl_run_ex(e, t, &o, &st, &err), 0);
	vl_trace_close(t);
	assert_int_equal(none.n, 0);
	vl_engine_free(e);

	/* an observer's error stops the run with its code and message */
	struct seen stop = { .fail_at = 3 };
	e = engine("stats.interval=7");
	o.interval_ctx = &stop;
	assert_int_equal(vl_trace_open(&t, path, "addr", &err), 0);
	assert_int_equal(vl_run_ex(e, t, &o, &st, &err), VL_ELIMIT);
	assert_string_equal(err.msg, "observer stops here");
	assert_int_equal(stop.n, 3);
	vl_trace_close(t);
	vl_engine_free(e);

	/* how far the reader got, for progress bars */
	uint64_t done, total;
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(vl_trace_open(&t, path, "addr", &err), 0);
	assert_int_equal(vl_trace_bytes(t, &done, &total), 0);
	assert_int_equal(total, (uint64_t)sb.st_size);
	assert_true(done <= total);
	vl_trace_close(t);
	unlink(path);
}

/* The row of a boundary holds the events between its last access and the
 * next access: 14 accesses (two intervals of 7), an event after the 7th and
 * a V EXIT after the 14th.  Two calls; the first sees 1 event, the second
 * both (before, the second came right after the 14th access, before the
 * EXIT, and the timeline's last row showed the process still alive). */
static void test_events_after_boundary(void **state)
{
	(void)state;
	char path[] = "/tmp/vmlab-ival-ev-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	for (int i = 0; i < 14; i++) {
		fprintf(f, "W 0x%x\n", 0x400000 + (i << 12));
		if (i == 6)
			fprintf(f, "V ROI_BEGIN\n");
	}
	fprintf(f, "V EXIT\n");
	assert_int_equal(fclose(f), 0);
	struct vl_error err = { 0 };
	struct vl_trace *t;
	struct vl_run_stats st = { .size = sizeof(st) };
	struct seen s = { 0 };
	struct vl_engine *e = engine("stats.interval=7");
	struct vl_run_opts o = { .size = sizeof(o), .on_interval = observe, .interval_ctx = &s };
	assert_int_equal(vl_trace_open(&t, path, "addr", &err), 0);
	assert_int_equal(vl_run_ex(e, t, &o, &st, &err), 0);
	vl_trace_close(t);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.at[0], 7);
	assert_int_equal(s.events[0], 1);
	assert_int_equal(s.at[1], 14);
	assert_int_equal(s.events[1], 2);
	vl_engine_free(e);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_events_after_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
