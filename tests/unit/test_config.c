/* tests/unit/test_config.c - the configuration schema (core/config.c).
 *
 * Defaults, typed setting with good and bad values and the messages users
 * see, the memory.size / memory.frames pair, the parse helpers, INI text
 * and files, presets, the resolved text and duplication.
 */
#include <unistd.h>

#include "tests/testutil.h"

#define assert_contains(hay, needle)                                                   \
	do {                                                                           \
		const char *h_ = (hay), *n_ = (needle);                                \
		if (!strstr(h_, n_))                                                   \
			fail_msg("message '%s' does not contain '%s'", h_, n_);        \
	} while (0)

#define assert_lacks(hay, needle)                                                      \
	do {                                                                           \
		const char *h_ = (hay), *n_ = (needle);                                \
		if (strstr(h_, n_))                                                    \
			fail_msg("message '%s' should not contain '%s'", h_, n_);      \
	} while (0)

static struct vl_config *new_cfg(void)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg = NULL;
	if (vl_config_new(&cfg, &err) < 0)
		fail_msg("vl_config_new: %s", err.msg);
	assert_non_null(cfg);
	return cfg;
}

/* Set via "KEY=VALUE"; returns the code, err filled. */
static int set(struct vl_config *cfg, const char *arg, struct vl_error *err)
{
	vl_err_clear(err);
	return vl_config_set_arg(cfg, arg, err);
}

static void set_ok(struct vl_config *cfg, const char *arg)
{
	struct vl_error err = { 0 };
	if (vl_config_set_arg(cfg, arg, &err) < 0)
		fail_msg("%s: %s", arg, err.msg);
}

/* A temporary file holding text; returns its path in buf. */
static void write_tmp(char *buf, size_t len, const char *text)
{
	snprintf(buf, len, "/tmp/vmlab-cfg-XXXXXX");
	int fd = mkstemp(buf);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 16384);
	assert_true(vl_config_isset(cfg, "memory.frames"));
	assert_false(vl_config_isset(cfg, "memory.size"));
	assert_string_equal(vl_config_str(cfg, "replacement.policy"), "lru");
	assert_int_equal(vl_config_u64(cfg, "run.seed"), 1);
	assert_string_equal(vl_config_str(cfg, "os.personality"), "textbook");
	assert_false(vl_config_bool(cfg, "run.check"));
	assert_int_equal(vl_config_u64(cfg, "pagefile.size"), 0);
	/* the schema is iterable and holds the built-in keys */
	bool seen_frames = false, seen_policy = false;
	const struct vl_key_def *d;
	for (size_t i = 0; (d = vl_config_key(cfg, i)); i++) {
		seen_frames |= !strcmp(d->key, "memory.frames");
		seen_policy |= !strcmp(d->key, "replacement.policy");
	}
	assert_true(seen_frames);
	assert_true(seen_policy);
	vl_config_free(cfg);
}

/* ---- setting values ---- */

static void test_set_good(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	set_ok(cfg, "memory.frames=1024");
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 1024);
	set_ok(cfg, "memory.frames=0x800");
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 2048);
	set_ok(cfg, "memory.frames=1"); /* smallest sensible memory */
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 1);
	set_ok(cfg, "replacement.policy=clock");
	assert_string_equal(vl_config_str(cfg, "replacement.policy"), "clock");
	set_ok(cfg, "replacement.policy=fifo");
	assert_string_equal(vl_config_str(cfg, "replacement.policy"), "fifo");
	set_ok(cfg, "run.seed=123456789");
	assert_int_equal(vl_config_u64(cfg, "run.seed"), 123456789);
	set_ok(cfg, "run.check=on");
	assert_true(vl_config_bool(cfg, "run.check"));
	set_ok(cfg, "run.check=no");
	assert_false(vl_config_bool(cfg, "run.check"));
	set_ok(cfg, "os.personality=textbook");
	assert_string_equal(vl_config_str(cfg, "os.personality"), "textbook");
	set_ok(cfg, "pagefile.size=1G");
	assert_int_equal(vl_config_u64(cfg, "pagefile.size"), 1ull << 30);

	/* vl_config_set with an explicit origin */
	struct vl_error err = { 0 };
	assert_int_equal(vl_config_set(cfg, "memory.frames", "4096", "unit", &err), 0);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 4096);
	vl_config_free(cfg);
}

static void test_set_bad_number(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	assert_int_equal(set(cfg, "memory.frames=abc", &err), VL_EINVAL);
	assert_contains(err.msg, "memory.frames");
	assert_contains(err.msg, "abc");
	/* the configuration is unchanged */
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 16384);

	assert_int_equal(set(cfg, "memory.frames=-5", &err), VL_EINVAL);
	assert_contains(err.msg, "memory.frames");
	assert_int_equal(set(cfg, "memory.frames=12k", &err), VL_EINVAL);
	assert_int_equal(set(cfg, "memory.frames=", &err), VL_EINVAL);
	assert_int_equal(set(cfg, "run.seed=1.5", &err), VL_EINVAL);
	assert_contains(err.msg, "run.seed");
	assert_int_equal(vl_config_u64(cfg, "run.seed"), 1);
	assert_int_equal(set(cfg, "run.check=maybe", &err), VL_EINVAL);
	assert_contains(err.msg, "run.check");
	assert_false(vl_config_bool(cfg, "run.check"));
	assert_int_equal(set(cfg, "pagefile.size=lots", &err), VL_EINVAL);
	assert_contains(err.msg, "pagefile.size");
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 16384);
	vl_config_free(cfg);
}

static void test_frames_range(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	/* no memory at all cannot be simulated */
	assert_int_equal(set(cfg, "memory.frames=0", &err), VL_EINVAL);
	assert_contains(err.msg, "memory.frames");
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 16384);
	/* more than 2^64 does not even parse */
	assert_int_equal(set(cfg, "memory.frames=18446744073709551616", &err), VL_EINVAL);
	assert_contains(err.msg, "memory.frames");
	/* frame numbers are 32-bit indices (VL_NIL reserved): 2^32 frames cannot be */
	assert_int_equal(set(cfg, "memory.frames=4294967296", &err), VL_EINVAL);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 16384);
	vl_config_free(cfg);
}

static void test_unknown_key(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	assert_true(set(cfg, "memory.framez=1", &err) < 0);
	assert_int_equal(err.code, VL_EINVAL);
	assert_contains(err.msg, "memory.framez");
	/* lists the keys of [memory] */
	assert_contains(err.msg, "frames");
	assert_contains(err.msg, "size");

	assert_true(set(cfg, "run.sede=3", &err) < 0);
	assert_contains(err.msg, "run.sede");
	assert_contains(err.msg, "seed");
	assert_contains(err.msg, "check");
	/* a key of another section is not offered */
	assert_lacks(err.msg, "frames");
	assert_int_equal(vl_config_u64(cfg, "run.seed"), 1);
	vl_config_free(cfg);
}

static void test_unknown_section(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	assert_true(set(cfg, "nosuch.thing=1", &err) < 0);
	assert_contains(err.msg, "nosuch.thing");
	/* tells which sections exist */
	assert_contains(err.msg, "memory");
	assert_contains(err.msg, "replacement");
	assert_contains(err.msg, "run");

	/* a key without any section */
	assert_true(set(cfg, "frames=1", &err) < 0);
	assert_contains(err.msg, "frames");
	vl_config_free(cfg);
}

/* NaN passes every range test and infinities overflow the cost model:
 * neither is a number a key may hold (issue 17, item 8: cost.fault=nan
 * made est_cycles 2^63). */
static void test_not_finite(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	const char *bad[] = { "cost.fault=nan", "cost.fault=NAN", "cost.fault=inf", "cost.fault=-inf",
			      "memory.fragmentation=nan", "cost.walk_ref=infinity" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vl_err_clear(&err);
		assert_int_equal(set(cfg, bad[i], &err), VL_EINVAL);
		assert_contains(err.msg, "not a finite number");
	}
	assert_int_equal(set(cfg, "cost.fault=2500.5", &err), 0);
	assert_true(vl_config_double(cfg, "cost.fault") == 2500.5);
	assert_true(vl_config_double(cfg, "memory.fragmentation") == 0);
	vl_config_free(cfg);
}

static void test_bad_enum(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	assert_int_equal(set(cfg, "os.personality=windows95", &err), VL_EINVAL);
	assert_contains(err.msg, "os.personality");
	assert_contains(err.msg, "windows95");
	assert_contains(err.msg, "textbook"); /* the allowed values */
	/* enum values are exact */
	assert_int_equal(set(cfg, "os.personality=textbookx", &err), VL_EINVAL);
	assert_int_equal(set(cfg, "os.personality=text", &err), VL_EINVAL);
	assert_string_equal(vl_config_str(cfg, "os.personality"), "textbook");
	vl_config_free(cfg);
}

static void test_unknown_policy(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	assert_true(set(cfg, "replacement.policy=nope", &err) < 0);
	assert_contains(err.msg, "replacement.policy");
	assert_contains(err.msg, "nope");
	static const char *const known[] = { "fifo", "lru", "clock", "opt", "random" };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_contains(err.msg, known[i]);
	assert_string_equal(vl_config_str(cfg, "replacement.policy"), "lru");
	/* every listed policy is accepted */
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char arg[64];
		snprintf(arg, sizeof(arg), "replacement.policy=%s", known[i]);
		set_ok(cfg, arg);
		assert_string_equal(vl_config_str(cfg, "replacement.policy"), known[i]);
	}
	vl_config_free(cfg);
}

static void test_malformed_arg(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	assert_true(set(cfg, "foo", &err) < 0);
	assert_contains(err.msg, "foo");
	assert_true(set(cfg, "=5", &err) < 0);
	assert_true(set(cfg, "", &err) < 0);
	/* the key ends at the first '=': the value "=5" is not a number */
	assert_true(set(cfg, "memory.frames==5", &err) < 0);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 16384);
	vl_config_free(cfg);
}

static void test_size_clears_frames(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	set_ok(cfg, "memory.size=64M");
	assert_true(vl_config_isset(cfg, "memory.size"));
	assert_false(vl_config_isset(cfg, "memory.frames"));
	assert_int_equal(vl_config_u64(cfg, "memory.size"), 64ull << 20);

	/* a refused memory.size leaves both as they were: less than one page */
	assert_int_equal(set(cfg, "memory.frames=100", &err), 0);
	assert_true(vl_config_isset(cfg, "memory.frames"));
	assert_false(vl_config_isset(cfg, "memory.size"));
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 100);
	assert_true(set(cfg, "memory.size=1K", &err) < 0);
	assert_contains(err.msg, "memory.size");
	assert_true(vl_config_isset(cfg, "memory.frames"));
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 100);
	assert_true(set(cfg, "memory.size=64Q", &err) < 0);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 100);

	/* and back again */
	set_ok(cfg, "memory.size=2G");
	assert_int_equal(vl_config_u64(cfg, "memory.size"), 2ull << 30);
	assert_false(vl_config_isset(cfg, "memory.frames"));
	vl_config_free(cfg);
}

/* ---- parse helpers ---- */

static void test_parse_size(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 },
		{ "4096", 4096 },
		{ "64K", 64ull << 10 },
		{ "64k", 64ull << 10 },
		{ "64M", 64ull << 20 },
		{ "2G", 2ull << 30 },
		{ "1GiB", 1ull << 30 },
		{ "3T", 3ull << 40 },
		{ "16777215T", 16777215ull << 40 }, /* largest whole-T value below 2^64 */
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 12345;
		if (vl_parse_size(good[i].s, &v) != 0)
			fail_msg("vl_parse_size(\"%s\") refused", good[i].s);
		if (v != good[i].v)
			fail_msg("vl_parse_size(\"%s\") = %llu, want %llu", good[i].s,
				 (unsigned long long)v, (unsigned long long)good[i].v);
	}
	static const char *const bad[] = {
		"12X", "", "K", "-1", " 64M", "64 M", "1.5G", "64MM", "0x100",
		"99999999999999999999",  /* more than 2^64 bytes as a plain number */
		"17179869184G",          /* 2^34 GiB = 2^64 bytes */
		"16777216T",             /* 2^24 TiB = 2^64 bytes */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v;
		if (vl_parse_size(bad[i], &v) != VL_EINVAL)
			fail_msg("vl_parse_size(\"%s\") accepted", bad[i]);
	}
}

static void test_parse_u64(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 },
		{ "42", 42 },
		{ "0x10", 16 },
		{ "0XfF", 255 },
		{ "0x0", 0 },
		{ "18446744073709551615", UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 12345;
		if (vl_parse_u64(good[i].s, &v) != 0)
			fail_msg("vl_parse_u64(\"%s\") refused", good[i].s);
		if (v != good[i].v)
			fail_msg("vl_parse_u64(\"%s\") = %llu, want %llu", good[i].s,
				 (unsigned long long)v, (unsigned long long)good[i].v);
	}
	static const char *const bad[] = {
		"-1", "-0", "+5", "", " 5", "5 ", "12abc", "0x", "0xg", "x10", "1e3",
		"18446744073709551616",   /* 2^64 */
		"0x10000000000000000",    /* 2^64 */
		"99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v;
		if (vl_parse_u64(bad[i], &v) != VL_EINVAL)
			fail_msg("vl_parse_u64(\"%s\") accepted", bad[i]);
	}
}

/* "0x" is a prefix, once: "0x0x5" is not a number. */
static void test_parse_u64_double_prefix(void **state)
{
	(void)state;
	uint64_t v = 0;
	int rc = vl_parse_u64("0x0x5", &v);
	if (rc != VL_EINVAL)
		fail_msg("vl_parse_u64(\"0x0x5\") accepted as %llu", (unsigned long long)v);
}

static void test_parse_bool(void **state)
{
	(void)state;
	static const char *const yes[] = { "on", "ON", "true", "True", "yes", "YES", "1" };
	static const char *const no[] = { "off", "Off", "false", "FALSE", "no", "No", "0" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		bool b = false;
		if (vl_parse_bool(yes[i], &b) != 0 || !b)
			fail_msg("vl_parse_bool(\"%s\") is not true", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		bool b = true;
		if (vl_parse_bool(no[i], &b) != 0 || b)
			fail_msg("vl_parse_bool(\"%s\") is not false", no[i]);
	}
	static const char *const bad[] = { "", "maybe", "2", "onn", "yess", " on", "of" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool b;
		if (vl_parse_bool(bad[i], &b) != VL_EINVAL)
			fail_msg("vl_parse_bool(\"%s\") accepted", bad[i]);
	}
}

/* ---- INI text and files ---- */

static void test_load_string(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	const char *text = "; an experiment\n"
			   "[memory]\n"
			   "frames = 2048\n"
			   "\n"
			   "[replacement]\n"
			   "policy = fifo\n"
			   "[run]\n"
			   "seed = 0x2a\n"
			   "check = yes\n";
	assert_int_equal(vl_config_load_string(cfg, text, "exp.ini", &err), 0);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 2048);
	assert_string_equal(vl_config_str(cfg, "replacement.policy"), "fifo");
	assert_int_equal(vl_config_u64(cfg, "run.seed"), 42);
	assert_true(vl_config_bool(cfg, "run.check"));
	/* untouched keys keep their defaults */
	assert_string_equal(vl_config_str(cfg, "os.personality"), "textbook");

	/* a later layer wins; size replaces frames */
	assert_int_equal(vl_config_load_string(cfg, "[memory]\nsize = 8M\n", "b.ini", &err), 0);
	assert_false(vl_config_isset(cfg, "memory.frames"));
	assert_int_equal(vl_config_u64(cfg, "memory.size"), 8ull << 20);
	/* -s after a file wins over it */
	set_ok(cfg, "replacement.policy=clock");
	assert_string_equal(vl_config_str(cfg, "replacement.policy"), "clock");
	vl_config_free(cfg);
}

static void test_load_string_errors(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };

	/* unknown key on line 3 */
	assert_true(vl_config_load_string(cfg, "[memory]\nframes = 100\nframez = 1\n", "exp.ini",
					  &err) < 0);
	assert_contains(err.msg, "exp.ini");
	assert_contains(err.msg, "line 3");
	assert_contains(err.msg, "framez");
	assert_lacks(err.msg, "line 2");

	/* bad value on line 3 */
	vl_err_clear(&err);
	assert_int_equal(vl_config_load_string(cfg, "[run]\n\nseed = xyz\n", "exp.ini", &err),
			 VL_EINVAL);
	assert_contains(err.msg, "line 3");
	assert_contains(err.msg, "run.seed");
	assert_contains(err.msg, "xyz");

	/* not INI at all on line 3 */
	vl_err_clear(&err);
	assert_true(vl_config_load_string(cfg, "[run]\nseed = 5\nthis is not ini\n", "exp.ini",
					  &err) < 0);
	assert_contains(err.msg, "exp.ini");
	assert_contains(err.msg, "line 3");

	/* a key before any section, line 1 */
	vl_err_clear(&err);
	assert_true(vl_config_load_string(cfg, "frames = 10\n", "exp.ini", &err) < 0);
	assert_contains(err.msg, "line 1");
	assert_contains(err.msg, "frames");

	/* unknown policy in a file names the file, line and known policies */
	vl_err_clear(&err);
	assert_true(vl_config_load_string(cfg, "# x\n[replacement]\npolicy = belady\n", "p.ini",
					  &err) < 0);
	assert_contains(err.msg, "p.ini");
	assert_contains(err.msg, "line 3");
	assert_contains(err.msg, "belady");
	assert_contains(err.msg, "lru");
	vl_config_free(cfg);
}

/* With two bad lines the report must describe one of them consistently:
 * the line number given is the line whose problem the message states. */
static void test_load_string_two_errors(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	/* line 2 is not INI; line 3 has a bad value */
	assert_true(vl_config_load_string(cfg, "[memory]\nnot a pair\nframes = abc\n", "two.ini",
					  &err) < 0);
	vl_config_free(cfg);
	bool says2 = strstr(err.msg, "line 2") != NULL;
	bool says3 = strstr(err.msg, "line 3") != NULL;
	bool about_abc = strstr(err.msg, "abc") != NULL;
	if (!((says2 && !about_abc) || (says3 && about_abc)))
		fail_msg("error report mixes lines: '%s'", err.msg);
}

static void test_load_file(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	char path[64];

	write_tmp(path, sizeof(path), "[memory]\nframes = 300\n[run]\nseed = 99\n");
	assert_int_equal(vl_config_load_file(cfg, path, &err), 0);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 300);
	assert_int_equal(vl_config_u64(cfg, "run.seed"), 99);
	unlink(path);

	/* error on line 2 names the file and the line */
	write_tmp(path, sizeof(path), "[memory]\nframez = 300\n");
	assert_true(vl_config_load_file(cfg, path, &err) < 0);
	assert_contains(err.msg, path);
	assert_contains(err.msg, "line 2");
	assert_contains(err.msg, "framez");
	unlink(path);

	/* a missing file */
	const char *missing = "/nonexistent-vmlab-dir/exp.ini";
	vl_err_clear(&err);
	assert_int_equal(vl_config_load_file(cfg, missing, &err), VL_ENOENT);
	assert_int_equal(err.code, VL_ENOENT);
	assert_contains(err.msg, missing);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 300);
	vl_config_free(cfg);
}

/* Lines of any length up to 64 KiB are one line (Debian's libinih, read
 * before, cut them at 199 characters and took the tail as the next line:
 * a long comment ending in "frames = 5" set a key); a longer one is an
 * error naming its file and real line. */
static void test_long_lines(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	char path[64];
	const size_t max = 65536;
	char *text = malloc(3 * max);
	assert_non_null(text);

	/* 215 characters of comment with "frames = 5" in what libinih cut off */
	snprintf(text, 3 * max, "[memory]\nsize = 1M\n; %0213d frames = 5\nframes = 9\n", 0);
	write_tmp(path, sizeof(path), text);
	assert_int_equal(vl_config_load_file(cfg, path, &err), 0);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 9);
	unlink(path);

	/* a value line of exactly 65536 characters: "frames = 300 ; " and a
	 * comment filling the rest, then a key on the next line */
	const char *head = "[memory]\n";
	size_t at = strlen(head);
	memcpy(text, head, at);
	const char *kv = "frames = 300 ; ";
	memcpy(text + at, kv, strlen(kv));
	memset(text + at + strlen(kv), 'x', max - strlen(kv));
	at += max;
	at += (size_t)sprintf(text + at, "\n[run]\nseed = 7\n");
	write_tmp(path, sizeof(path), text);
	assert_int_equal(vl_config_load_file(cfg, path, &err), 0);
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 300);
	assert_int_equal(vl_config_u64(cfg, "run.seed"), 7);
	unlink(path);
	assert_int_equal(vl_config_load_string(cfg, text, "s.ini", &err), 0);

	/* one character more on line 2: an error naming line 2, nothing set
	 * from its tail, and the value before it kept */
	assert_int_equal(vl_config_set(cfg, "memory.frames", "123", "-s", &err), 0);
	at = strlen(head);
	memcpy(text + at, "; ", 2);
	memset(text + at + 2, 'y', max - 1);
	at += max + 1;
	at += (size_t)sprintf(text + at, "\nframes = 5\n");
	write_tmp(path, sizeof(path), text);
	vl_err_clear(&err);
	assert_int_equal(vl_config_load_file(cfg, path, &err), VL_EFORMAT);
	assert_contains(err.msg, path);
	assert_contains(err.msg, "line 2:");
	assert_contains(err.msg, "65537 characters, longer than 65536");
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 123);
	unlink(path);
	vl_err_clear(&err);
	assert_int_equal(vl_config_load_string(cfg, text, "s.ini", &err), VL_EFORMAT);
	assert_contains(err.msg, "s.ini line 2:");
	assert_int_equal(vl_config_u64(cfg, "memory.frames"), 123);

	/* a bad value far down a file of long lines names its real line */
	snprintf(text, 3 * max, "[memory]\n; %0500d\n; %0500d\nframes = abc\n", 0, 0);
	vl_err_clear(&err);
	assert_int_equal(vl_config_load_string(cfg, text, "t.ini", &err), VL_EINVAL);
	assert_contains(err.msg, "t.ini line 4: memory.frames");
	free(text);
	vl_config_free(cfg);
}

/* A directory is not a configuration file: loading one must fail, not
 * silently load nothing. */
static void test_load_file_directory(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	char dir[] = "/tmp/vmlab-cfgdir-XXXXXX";
	assert_non_null(mkdtemp(dir));
	int rc = vl_config_load_file(cfg, dir, &err);
	rmdir(dir);
	vl_config_free(cfg);
	if (rc >= 0)
		fail_msg("vl_config_load_file(directory) returned %d", rc);
	assert_contains(err.msg, dir);
}

static void test_presets(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	struct vl_error err = { 0 };
	set_ok(cfg, "memory.frames=77");
	assert_int_equal(vl_config_load_preset(cfg, "os", "textbook", &err), 0);
	assert_string_equal(vl_config_str(cfg, "os.personality"), "textbook");
	assert_contains(vl_config_presets("os"), "textbook");

	vl_err_clear(&err);
	assert_int_equal(vl_config_load_preset(cfg, "os", "plan9", &err), VL_ENOENT);
	assert_contains(err.msg, "plan9");
	assert_contains(err.msg, "textbook"); /* lists the names */
	vl_err_clear(&err);
	assert_int_equal(vl_config_load_preset(cfg, "nosuchkind", "textbook", &err), VL_ENOENT);
	vl_config_free(cfg);
}

/* ---- resolved text, duplication ---- */

static void test_text(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	char *t = vl_config_text(cfg);
	assert_non_null(t);
	assert_contains(t, "[memory]\n");
	assert_contains(t, "\nframes = 16384\n");
	assert_contains(t, "[replacement]\n");
	assert_contains(t, "\npolicy = lru\n");
	assert_contains(t, "\nseed = 1\n");
	/* sections sorted */
	const char *m = strstr(t, "[memory]"), *o = strstr(t, "[os]"),
		   *r = strstr(t, "[replacement]"), *u = strstr(t, "[run]");
	assert_non_null(o);
	assert_non_null(u);
	assert_true(m < o && o < r && r < u);
	/* keys sorted within a section: check < seed in [run] */
	assert_true(strstr(u, "check = ") < strstr(u, "seed = "));
	free(t);

	set_ok(cfg, "memory.frames=4096");
	set_ok(cfg, "run.seed=7");
	t = vl_config_text(cfg);
	assert_non_null(t);
	assert_contains(t, "\nframes = 4096\n");
	assert_contains(t, "\nseed = 7\n");
	assert_lacks(t, "16384");
	free(t);
	vl_config_free(cfg);
}

static void test_dup(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	set_ok(cfg, "memory.size=32M");
	set_ok(cfg, "replacement.policy=random");
	set_ok(cfg, "run.seed=5");
	struct vl_config *copy = vl_config_dup(cfg);
	assert_non_null(copy);
	char *a = vl_config_text(cfg), *b = vl_config_text(copy);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_contains(b, "policy = random");
	free(b);

	/* the copy is independent: changing the original leaves it alone */
	set_ok(cfg, "run.seed=6");
	assert_int_equal(vl_config_u64(copy, "run.seed"), 5);
	vl_config_free(cfg);
	/* and usable after the original is gone */
	assert_int_equal(vl_config_u64(copy, "memory.size"), 32ull << 20);
	set_ok(copy, "memory.frames=10");
	assert_false(vl_config_isset(copy, "memory.size"));
	b = vl_config_text(copy);
	assert_non_null(b);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	vl_config_free(copy);
}

/* The resolved text is "what a result file records as its config": loading
 * it into a fresh configuration must give the same configuration back. */
static void test_text_roundtrip(void **state)
{
	(void)state;
	struct vl_config *cfg = new_cfg();
	set_ok(cfg, "memory.frames=512");
	set_ok(cfg, "replacement.policy=clock");
	char *t = vl_config_text(cfg);
	assert_non_null(t);
	struct vl_config *again = new_cfg();
	struct vl_error err = { 0 };
	int rc = vl_config_load_string(again, t, "result.ini", &err);
	if (rc < 0) {
		free(t);
		vl_config_free(again);
		vl_config_free(cfg);
		fail_msg("reloading the resolved text: %s", err.msg);
	}
	char *t2 = vl_config_text(again);
	assert_non_null(t2);
	char frames[64];
	snprintf(frames, sizeof(frames), "%s", vl_config_str(again, "memory.frames"));
	bool same = !strcmp(t, t2);
	free(t);
	free(t2);
	vl_config_free(again);
	vl_config_free(cfg);
	if (strcmp(frames, "512") || !same)
		fail_msg("reloaded config differs: memory.frames = '%s' (want 512)", frames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set_good),
		cmocka_unit_test(test_set_bad_number),
		cmocka_unit_test(test_frames_range),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_unknown_policy),
		cmocka_unit_test(test_malformed_arg),
		cmocka_unit_test(test_size_clears_frames),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_u64_double_prefix),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_load_string),
		cmocka_unit_test(test_load_string_errors),
		cmocka_unit_test(test_load_string_two_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_file_directory),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_text_roundtrip),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_not_finite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
