/* tests/unit/test_pfm.c - the counting layer (analysis/pfm.c) against the
 * kernel's own fault accounting.
 *
 * Expected counts come from the Linux fault rules (reference notes B.5,
 * B.6), not from this program: with THP off for the range (MADV_NOHUGEPAGE),
 * a write to each of N untouched anonymous pages is one fault per page; a
 * read maps the zero page (one fault per page) and a later write copies it
 * (one more per page).  The touch loops are kept out of the sanitizers'
 * instrumentation so their shadow memory adds no faults.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "analysis/pfm.h"
#include "tests/testutil.h"

#define NPAGES 300
#define NPAGES_STR "300" /* the same, for the child's command line */

__attribute__((no_sanitize("address", "undefined"), noinline)) static void
touch(volatile char *p, size_t pages, int write)
{
	for (size_t i = 0; i < pages; i++) {
		if (write)
			p[i * 4096] = 1;
		else
			(void)p[i * 4096];
	}
}

static char *fresh(size_t pages)
{
	char *p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(madvise(p, pages * 4096, MADV_NOHUGEPAGE), 0);
	return p;
}

static void open_faults(struct vl_pfm_set *s)
{
	struct vl_error err = { 0 };
	assert_int_equal(vl_pfm_parse(s, "perf::PAGE-FAULTS, perf::MINOR-FAULTS,perf::MAJOR-FAULTS",
				      &err),
			 0);
	assert_int_equal(s->n, 3);
	assert_string_equal(s->ev[1].name, "perf::MINOR-FAULTS");
	int n = vl_pfm_open(s, 0, false, &err);
	if (n != 3)
		fail_msg("software fault events did not open: %s / %s / %s", s->ev[0].why,
			 s->ev[1].why, s->ev[2].why);
}

static void test_write_touch_exact(void **state)
{
	(void)state;
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	open_faults(&s);
	char *p = fresh(NPAGES);
	vl_pfm_start(&s);
	touch(p, NPAGES, 1);
	vl_pfm_stop(&s);
	assert_int_equal(vl_pfm_read(&s, &err), 0);
	for (size_t i = 0; i < 3; i++)
		assert_true(s.ev[i].counted);
	assert_int_equal(s.ev[0].value, NPAGES);
	assert_int_equal(s.ev[1].value, NPAGES);
	assert_int_equal(s.ev[2].value, 0);
	/* second pass: resident, no faults */
	vl_pfm_start(&s);
	touch(p, NPAGES, 1);
	vl_pfm_stop(&s);
	assert_int_equal(vl_pfm_read(&s, &err), 0);
	assert_int_equal(s.ev[0].value, 0);
	munmap(p, NPAGES * 4096);
	vl_pfm_free(&s);
}

static void test_read_then_write_zero_page(void **state)
{
	(void)state;
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	open_faults(&s);
	char *p = fresh(NPAGES);
	vl_pfm_start(&s);
	touch(p, NPAGES, 0);
	vl_pfm_stop(&s);
	assert_int_equal(vl_pfm_read(&s, &err), 0);
	assert_int_equal(s.ev[1].value, NPAGES); /* zero page mapped */
	vl_pfm_start(&s);
	touch(p, NPAGES, 1);
	vl_pfm_stop(&s);
	assert_int_equal(vl_pfm_read(&s, &err), 0);
	assert_int_equal(s.ev[1].value, NPAGES); /* copy-on-write from the zero page */
	munmap(p, NPAGES * 4096);
	vl_pfm_free(&s);
}

/* A child process (this program re-executed in touch mode) that writes n
 * fresh pages, counted from exec to exit: loading the program and its
 * libraries faults too, so the check is on the difference between a child
 * that touches NPAGES pages and one that touches none - NPAGES, up to the
 * few faults by which start-up varies between runs. */
static uint64_t child_faults(const char *pages)
{
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	assert_int_equal(vl_pfm_parse(&s, "perf::PAGE-FAULTS,perf::MINOR-FAULTS", &err), 0);
	char *argv[] = { "/proc/self/exe", "--touch", (char *)pages, NULL };
	int status = -1;
	assert_int_equal(vl_pfm_run_child(&s, argv, &status, &err), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(s.ev[0].counted && s.ev[1].counted);
	assert_true(s.ev[1].value <= s.ev[0].value);
	uint64_t v = s.ev[0].value;
	vl_pfm_free(&s);
	return v;
}

static void test_child_touch(void **state)
{
	(void)state;
	uint64_t base = child_faults("0"), touched = child_faults(NPAGES_STR);
	print_message("child: %llu faults idle, %llu touching %d pages\n",
		      (unsigned long long)base, (unsigned long long)touched, NPAGES);
	assert_true(touched >= base + NPAGES - 16);
	assert_true(touched <= base + NPAGES + 16);
}

static void test_child_missing_program(void **state)
{
	(void)state;
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	assert_int_equal(vl_pfm_parse(&s, "perf::PAGE-FAULTS", &err), 0);
	char *argv[] = { "/nonexistent/program", NULL };
	int status;
	assert_int_equal(vl_pfm_run_child(&s, argv, &status, &err), VL_ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/program"));
	assert_false(s.ev[0].counted);
	vl_pfm_free(&s);
}

/* vl_pfm_run_child_hooked: started() hears the child's pid, then 0 after
 * the wait; pre_exec runs in the child (its chdir shows in the program's
 * exit status: sh tests it); a failing pre_exec runs nothing and is
 * VL_EIO with the errno's text. */
static pid_t seen[2];
static int nseen;
static void started(pid_t pid, void *arg)
{
	(void)arg;
	if (nseen < 2)
		seen[nseen] = pid;
	nseen++;
}
static int to_root(void *arg)
{
	(void)arg;
	return chdir("/") < 0 ? errno : 0;
}
static int refuse(void *arg)
{
	(void)arg;
	return EPERM;
}

static void test_child_hooks(void **state)
{
	(void)state;
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	assert_int_equal(vl_pfm_parse(&s, "perf::PAGE-FAULTS", &err), 0);
	char *argv[] = { "/bin/sh", "-c", "[ \"$(pwd)\" = / ]", NULL };
	int status = -1;
	nseen = 0;
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_true(chdir("/tmp") == 0); /* not / : the hook's chdir is what makes it / */
	assert_int_equal(vl_pfm_run_child_hooked(&s, argv, to_root, started, NULL, &status, &err), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0); /* it ran in / */
	assert_true(chdir(cwd) == 0);
	assert_int_equal(nseen, 2);
	assert_true(seen[0] > 0);
	assert_int_equal(seen[1], 0);
	assert_true(s.ev[0].counted && s.ev[0].value > 0);
	vl_pfm_free(&s);
	assert_int_equal(vl_pfm_parse(&s, "perf::PAGE-FAULTS", &err), 0);
	nseen = 0;
	assert_int_equal(vl_pfm_run_child_hooked(&s, argv, refuse, started, NULL, &status, &err),
			 VL_EIO);
	assert_non_null(strstr(err.msg, strerror(EPERM)));
	assert_false(s.ev[0].counted);
	assert_int_equal(nseen, 2);
	vl_pfm_free(&s);
}

static void test_unknown_event(void **state)
{
	(void)state;
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	assert_int_equal(vl_pfm_parse(&s, "perf::NO-SUCH-EVENT,perf::PAGE-FAULTS", &err), 0);
	assert_int_equal(vl_pfm_open(&s, 0, false, &err), 1);
	assert_int_equal(s.ev[0].state, VL_PFM_UNKNOWN);
	assert_int_equal(s.ev[0].fd, -1);
	assert_non_null(strstr(s.ev[0].why, "not found"));
	assert_int_equal(s.ev[1].state, VL_PFM_OPEN);
	vl_pfm_start(&s);
	vl_pfm_stop(&s);
	assert_int_equal(vl_pfm_read(&s, &err), 0);
	assert_false(s.ev[0].counted); /* never a zero it did not count */
	assert_true(s.ev[1].counted);
	vl_pfm_free(&s);
}

/* Hardware events: where the machine has no core PMU (this VM) they must be
 * reported as not supported with that reason; where it has one they open. */
static void test_hardware_event(void **state)
{
	(void)state;
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	assert_int_equal(vl_pfm_parse(&s, "perf::INSTRUCTIONS,perf::DTLB-LOAD-MISSES", &err), 0);
	int n = vl_pfm_open(&s, 0, false, &err);
	if (vl_pfm_have_core_pmu()) {
		print_message("core PMU present: hardware events must open\n");
		assert_int_equal(s.ev[0].state, VL_PFM_OPEN);
	} else {
		assert_int_equal(n, 0);
		for (size_t i = 0; i < 2; i++) {
			assert_int_equal(s.ev[i].state, VL_PFM_UNSUPPORTED);
			assert_non_null(strstr(s.ev[i].why, "no hardware PMU"));
			assert_false(s.ev[i].counted);
		}
	}
	vl_pfm_free(&s);
}

static void test_parse_errors(void **state)
{
	(void)state;
	struct vl_pfm_set s;
	struct vl_error err = { 0 };
	assert_int_equal(vl_pfm_parse(&s, "perf::PAGE-FAULTS,,perf::MINOR-FAULTS", &err), VL_EINVAL);
	assert_non_null(strstr(err.msg, "event 2 is empty"));
	assert_int_equal(vl_pfm_parse(&s, "", &err), VL_EINVAL);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--touch")) {
		size_t n = (size_t)atoi(argv[2]);
		char *p = fresh(NPAGES);
		touch(p, n, 1);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_touch_exact),
		cmocka_unit_test(test_read_then_write_zero_page),
		cmocka_unit_test(test_child_touch),
		cmocka_unit_test(test_child_missing_program),
		cmocka_unit_test(test_child_hooks),
		cmocka_unit_test(test_unknown_event),
		cmocka_unit_test(test_hardware_event),
		cmocka_unit_test(test_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
