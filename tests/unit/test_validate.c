/* tests/unit/test_validate.c - lackey-log conversion and ROI simulation.
 *
 * The log is written here by hand in valgrind lackey's line format with
 * the workload markers roi.h prints; what the converter must keep follows
 * from its rules (data accesses inside announced mappings, events in
 * order, straddling accesses split), and the simulated counts from the
 * linux personality's fault rules worked out per access in the comments.
 */
#include "analysis/validate.h"
#include "analysis/validate_programs.h"
#include "tests/testutil.h"

static char dir[] = "/tmp/vmlab-test-validate-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static const char *log_text =
	"==100== Lackey, an example Valgrind tool\n"
	"I  04001000,3\n"
	" S 1fff000500,8\n"                                   /* stack: dropped */
	"**100** vmlab V COMMIT 0x40000000 0x10000 readwrite\n" /* 16 pages */
	" S 40000000,1\n"                                     /* setup write p0 */
	"**100** vmlab V ROI_BEGIN\n"
	" L 40000000,1\n"                                     /* p0: hit */
	" L 40001000,1\n"                                     /* p1: zero page, 1 fault */
	" M 40001000,4\n"                                     /* p1: COW from zero, 1 fault */
	" S 40002ffe,4\n"                                     /* straddles p2|p3: 2 faults */
	" L 50000000,8\n"                                     /* outside: dropped */
	"I  04001003,5\n"
	"**100** vmlab V ROI_END\n"
	" S 40004000,1\n";                                    /* after the region */

static void test_convert(void **state)
{
	(void)state;
	char in[128], out[128];
	snprintf(in, sizeof(in), "%s/a.lackey", dir);
	snprintf(out, sizeof(out), "%s/a.addr", dir);
	write_file(in, log_text);
	struct vl_convert_stats st;
	struct vl_error err = { 0 };
	if (vl_validate_convert(in, out, &st, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(st.accesses, 8);
	assert_int_equal(st.kept, 7); /* 6 inside + 1 extra page of the straddle */
	assert_int_equal(st.events, 3);
	assert_int_equal(st.rois, 1);
	const char *t = slurp(out);
	assert_non_null(strstr(t, "V COMMIT 0x40000000 0x10000 readwrite\nW 0x40000000\n"
				  "V ROI_BEGIN\nR 0x40000000\nR 0x40001000\nW 0x40001000\n"
				  "W 0x40002ffe\nW 0x40003000\nV ROI_END\nW 0x40004000\n"));
	assert_null(strstr(t, "0x50000000"));
	assert_null(strstr(t, "1fff"));
}

static void test_simulate_roi(void **state)
{
	(void)state;
	char out[128];
	snprintf(out, sizeof(out), "%s/a.addr", dir);
	struct vl_config *cfg;
	struct vl_error err = { 0 };
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_int_equal(vl_config_load_preset(cfg, "os", "linux", &err), 0);
	assert_int_equal(vl_config_load_preset(cfg, "machines", "generic", &err), 0);
	struct vl_roi_sim sim;
	if (vl_validate_simulate(cfg, out, &sim, &err) < 0)
		fail_msg("%s", err.msg);
	/* region: p0 hit; p1 read zero page (dz), p1 write COW; p2, p3 written
	 * (dz each): 4 faults, all minor; the write to p4 after ROI_END and the
	 * setup write before ROI_BEGIN are not counted */
	assert_int_equal(sim.rois, 1);
	assert_int_equal(sim.page_faults, 4);
	assert_int_equal(sim.minor_faults, 4);
	assert_int_equal(sim.major_faults, 0);
	assert_int_equal(sim.accesses, 5);
	/* every counter's ROI delta by name: faults 4; faults_* = demand-zero 3
	 * + copy-on-write 1 (+ soft, hard, guard 0); no TLB counters here */
	uint64_t v;
	assert_true(vl_roi_sim_sum(&sim, "faults", &v));
	assert_int_equal(v, 4);
	assert_true(vl_roi_sim_sum(&sim, "faults_*", &v));
	assert_int_equal(v, 4);
	assert_true(vl_roi_sim_sum(&sim, "faults_demand_zero", &v));
	assert_int_equal(v, 3);
	assert_false(vl_roi_sim_sum(&sim, "no_such_counter", &v));
	/* configuration-dependent counters (the default machine's TLBs): their
	 * names belong to the engine, which is gone now - they were copied.
	 * p1, p2, p3 were never touched before the region, so each misses the
	 * first-level data TLB at least once; 5 accesses at most miss. */
	assert_true(vl_roi_sim_sum(&sim, "tlb_l1d_misses", &v));
	assert_true(v >= 3 && v <= 5);
	vl_config_free(cfg);
}

/* vl_validate_replay (whole programs, validate --programs and --limit) on
 * the converted trace: the 16 fault-around phases change nothing here (no
 * file mapping), so every phase counts what test_simulate_roi derives.
 * VL_REPLAY_ROI: the region's 4 minor faults.  Whole: those, the setup
 * write to p0 before the region (demand-zero) and the write to p4 after
 * it (demand-zero): 6.  With memory.limit (1 MiB: 256 frames, nothing
 * evicted) every phase replays every access and counts the same. */
static void test_replay_roi_and_limit(void **state)
{
	(void)state;
	char out[128], bare[128];
	snprintf(out, sizeof(out), "%s/a.addr", dir);
	snprintf(bare, sizeof(bare), "%s/bare.addr", dir);
	struct vl_config *cfg;
	struct vl_error err = { 0 };
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_int_equal(vl_config_load_preset(cfg, "os", "linux", &err), 0);
	assert_int_equal(vl_config_load_preset(cfg, "machines", "generic", &err), 0);
	static struct vl_prog_sim sim;
	for (int limited = 0; limited < 2; limited++) {
		if (limited)
			assert_int_equal(vl_config_set(cfg, "memory.limit", "1M", "test", &err), 0);
		if (vl_validate_replay(cfg, out, VL_REPLAY_ROI, &sim, &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(sim.rois, 1);
		assert_int_equal(sim.page_faults, 4);
		assert_int_equal(sim.minor_faults, 4);
		assert_int_equal(sim.major_faults, 0);
		if (vl_validate_replay(cfg, out, VL_REPLAY_ROI | VL_REPLAY_ONE_PHASE, &sim, &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(sim.page_faults, 4);
		if (vl_validate_replay(cfg, out, 0, &sim, &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(sim.rois, 0);
		assert_int_equal(sim.page_faults, 6);
		assert_int_equal(sim.minor_faults, 6);
	}
	/* no region marked: an error with VL_REPLAY_ROI, not zero counts */
	write_file(bare, "V COMMIT 0x40000000 0x10000 readwrite\nW 0x40000000\n");
	assert_int_equal(vl_validate_replay(cfg, bare, VL_REPLAY_ROI, &sim, &err), VL_EFORMAT);
	assert_non_null(strstr(err.msg, "no region of interest"));
	vl_config_free(cfg);
}

static void test_convert_errors(void **state)
{
	(void)state;
	char in[128], out[128];
	struct vl_error err = { 0 };
	snprintf(in, sizeof(in), "%s/b.lackey", dir);
	snprintf(out, sizeof(out), "%s/b.addr", dir);
	write_file(in, " S 40000000,1\n");
	assert_int_equal(vl_validate_convert(in, out, NULL, &err), VL_EFORMAT);
	assert_non_null(strstr(err.msg, "0 ROI_BEGIN"));
	write_file(in, "**1** vmlab V ROI_BEGIN\n**1** vmlab V UNMAP 0x1000\n");
	assert_int_equal(vl_validate_convert(in, out, NULL, &err), VL_EFORMAT);
	assert_non_null(strstr(err.msg, "line 2"));
	write_file(in, " S zz,1\n");
	assert_int_equal(vl_validate_convert(in, out, NULL, &err), VL_EFORMAT);
	assert_non_null(strstr(err.msg, "line 1"));
	assert_int_equal(vl_validate_convert("/nonexistent.lackey", out, NULL, &err), VL_ENOENT);
}

static void test_rel_error(void **state)
{
	(void)state;
	assert_true(vl_validate_rel_error(1000, 1010) > 0.0099 &&
		    vl_validate_rel_error(1000, 1010) < 0.0101);
	assert_true(vl_validate_rel_error(1000, 990) < -0.0099 &&
		    vl_validate_rel_error(1000, 990) > -0.0101);
	assert_true(vl_validate_rel_error(0, 0) == 0.0);
	assert_true(vl_validate_rel_error(0, 3) == 3.0);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convert),
		cmocka_unit_test(test_simulate_roi),
		cmocka_unit_test(test_replay_roi_and_limit),
		cmocka_unit_test(test_convert_errors),
		cmocka_unit_test(test_rel_error),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
