/* tests/unit/test_runset.c - the runs of a results file as one table
 * (analysis/runset.c): replicate statistics against values worked out by
 * hand, and selection and the grouping rule on a file of four runs written
 * here through the results writer.
 */
#include <math.h>

#include "analysis/runset.h"
#include "tests/testutil.h"

/* Student's t, 97.5% quantile: 4.303 for 2 degrees of freedom, 12.706 for
 * 1 (standard tables). */
static void test_stats(void **state)
{
	(void)state;
	struct rs_stat st;
	double a[] = { 3, 1, 2 }; /* mean 2, sd 1 */
	rs_stats(a, 3, &st);
	assert_int_equal(st.n, 3);
	assert_true(fabs(st.mean - 2) < 1e-12);
	assert_true(fabs(st.lo - (2 - 4.303 / sqrt(3))) < 1e-9);
	assert_true(fabs(st.hi - (2 + 4.303 / sqrt(3))) < 1e-9);
	assert_true(st.min == 1 && st.median == 2 && st.max == 3);
	double b[] = { 14, 10 }; /* mean 12, sd sqrt(8), half 12.706 * sqrt(8) / sqrt(2) = 25.412 */
	rs_stats(b, 2, &st);
	assert_true(fabs(st.lo - (12 - 25.412)) < 1e-9 && fabs(st.hi - (12 + 25.412)) < 1e-9);
	assert_true(st.median == 12);
	double c[] = { 5 }; /* one run: no interval */
	rs_stats(c, 1, &st);
	assert_true(st.lo == 5 && st.hi == 5 && st.median == 5);
}

static char dir[] = "/tmp/vmlab-test-runset-XXXXXX";
static char path[128], ta[128], tb[128];

/* Four curves: (a, lru, seed 1), (a, lru, seed 2), (a, fifo, seed 1),
 * (b, lru, seed 1). */
static void write_file(void)
{
	struct vl_error err = { 0 };
	struct vl_h5 *h;
	static const struct {
		const char *trace, *policy;
		int seed;
	} runs[] = { { ta, "lru", 1 }, { ta, "lru", 2 }, { ta, "fifo", 1 }, { tb, "lru", 1 } };
	if (vl_h5_open(&h, path, &err) < 0)
		fail_msg("open: %s", err.msg);
	for (int i = 0; i < 4; i++) {
		char id[VL_RUN_ID_MAX], config[256];
		struct vl_h5_run *run;
		if (vl_h5_run_id(h, NULL, id, &err) < 0 ||
		    vl_h5_run_begin(h, id, "mrc", NULL, &run, &err) < 0)
			fail_msg("run: %s", err.msg);
		snprintf(config, sizeof(config), "[replacement]\npolicy = %s\n\n[run]\nseed = %d\n",
			 runs[i].policy, runs[i].seed);
		struct vl_h5_provenance pv = { .size = sizeof(pv), .trace_path = runs[i].trace,
					       .trace_format = "vmt", .config_text = config,
					       .os = "textbook", .policy = runs[i].policy,
					       .seed = (uint64_t)runs[i].seed };
		struct vl_mrc_point pts[2] = { { 8, 50, 0.5 }, { 16, 10 + (uint64_t)i, 0.1 } };
		if (vl_h5_run_end_mrc(run, &pv, "exact", 1, 100, pts, 2, &err) < 0)
			fail_msg("end: %s", err.msg);
	}
	if (vl_h5_commit(h, &err) < 0)
		fail_msg("commit: %s", err.msg);
}

static void test_select_and_group(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.h5", dir);
	snprintf(ta, sizeof(ta), "%s/a.vmt", dir); /* the writer hashes the traces' bytes */
	snprintf(tb, sizeof(tb), "%s/b.vmt", dir);
	for (int k = 0; k < 2; k++) {
		FILE *f = fopen(k ? tb : ta, "w");
		assert_non_null(f);
		fputs(k ? "b" : "a", f);
		fclose(f);
	}
	write_file();
	struct vl_error err = { 0 };
	struct vl_results *r;
	struct rs s;
	if (vl_results_open(&r, path, &err) < 0 || rs_load(&s, r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(s.nruns, 4);
	long cp = rs_find(&s, "policy"), ct = rs_find(&s, "trace"), cs = rs_find(&s, "seed");
	assert_true(cp >= 0 && ct >= 0 && cs >= 0);
	assert_string_equal(s.cols[cp].name, "replacement.policy");
	assert_string_equal(s.cols[cs].name, "run.seed");
	assert_int_equal(s.cols[cp].role, RS_PARAM);
	assert_string_equal(rs_val(&s, 2, cp), "fifo");
	assert_true(s.cols[cs].numeric && !s.cols[cp].numeric);

	/* by policy only: the traces differ inside the lru group */
	long named[1] = { cp };
	assert_int_equal(rs_check(&s, s.sel, named, 1, &err), VL_EUSAGE);
	assert_non_null(strstr(err.msg, "trace (2 values: a, b)"));
	assert_null(strstr(err.msg, "run.seed"));         /* seeds are replicates */
	assert_null(strstr(err.msg, "replacement.policy")); /* named */
	/* nothing named: policy and trace both listed */
	assert_int_equal(rs_check(&s, s.sel, NULL, 0, &err), VL_EUSAGE);
	assert_non_null(strstr(err.msg, "replacement.policy (2 values: lru, fifo)"));
	/* trace and policy named: fine, two runs differ only in the seed */
	long both[2] = { cp, ct };
	assert_int_equal(rs_check(&s, s.sel, both, 2, &err), 0);

	/* --where: by file name without extension, by path, several values */
	assert_int_equal(rs_where(&s, "trace=a", &err), 0);
	assert_true(s.sel[0] && s.sel[1] && s.sel[2] && !s.sel[3]);
	assert_int_equal(rs_check(&s, s.sel, named, 1, &err), 0);
	assert_int_equal(rs_where(&s, "policy=lru,fifo", &err), 0);
	assert_int_equal(rs_where(&s, "seed=1", &err), 0);
	assert_true(s.sel[0] && !s.sel[1] && s.sel[2]);
	assert_int_equal(rs_where(&s, "trace=zzz", &err), VL_EUSAGE);
	assert_non_null(strstr(err.msg, "values: a"));
	assert_int_equal(rs_where(&s, "no.such.key=1", &err), VL_EUSAGE);
	assert_non_null(strstr(err.msg, "no.such.key"));
	assert_int_equal(rs_where(&s, "policy", &err), VL_EUSAGE);

	char buf[64];
	rs_show(&s, rs_find(&s, "frames"), "256", buf, sizeof(buf));
	assert_string_equal(buf, "1 MiB");
	rs_show(&s, ct, ta, buf, sizeof(buf));
	assert_string_equal(buf, "a");
	rs_free(&s);
	vl_results_close(r);
	unlink(path);
	unlink(ta);
	unlink(tb);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_select_and_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
