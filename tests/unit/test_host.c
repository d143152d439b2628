/* tests/unit/test_host.c - CPUID TLB decoders and the host INI.
 *
 * Register values are decoded by hand from the AMD APM vol. 3 appendix E
 * and the Intel SDM leaf 02H/18H tables, independently of the decoder:
 *   Fn8000_0005 EBX 0xff48ff40: [31:24] 0xff fully assoc, [23:16] 0x48 = 72
 *     L1 DTLB 4K entries, [15:8] 0xff, [7:0] 0x40 = 64 L1 ITLB entries;
 *   Fn8000_0006 EBX 0x6c004200: [31:28] 6 = 8 ways, [27:16] 0xc00 = 3072
 *     L2 DTLB entries, [15:12] 4 = 4 ways, [11:0] 0x200 = 512 L2 ITLB;
 *   Fn8000_0006 EAX 0x5c002200: 2M entries, code 5 = 6 ways, 3072; code 2 =
 *     2 ways, 512.  (These are the values of this project's Zen 4 CI host.)
 */
#include "analysis/host.h"
#include "tests/testutil.h"

static const struct vl_host_tlb *find(const struct vl_host *h, const char *name)
{
	for (unsigned i = 0; i < h->ntlb; i++)
		if (!strcmp(h->tlb[i].name, name))
			return &h->tlb[i];
	fail_msg("no TLB named %s", name);
	return NULL;
}

static void test_amd_zen4_registers(void **state)
{
	(void)state;
	struct vl_host h;
	memset(&h, 0, sizeof(h));
	uint32_t l5[2] = { 0xff48ff40, 0xff48ff40 }, l6[2] = { 0x5c002200, 0x6c004200 };
	uint32_t l19[2] = { 0, 0 };
	assert_int_equal(vl_host_tlb_amd(&h, l5, l6, l19), 6);
	const struct vl_host_tlb *t = find(&h, "l1d");
	assert_int_equal(t->entries, 72);
	assert_int_equal(t->ways, 72);
	assert_int_equal(t->page_sizes, VL_HOST_PS_4K | VL_HOST_PS_2M);
	t = find(&h, "l1i");
	assert_int_equal(t->entries, 64);
	t = find(&h, "l2d");
	assert_int_equal(t->entries, 3072);
	assert_int_equal(t->ways, 8);
	assert_int_equal(t->page_sizes, VL_HOST_PS_4K);
	t = find(&h, "l2d2m");
	assert_int_equal(t->ways, 6);
	assert_int_equal(t->page_sizes, VL_HOST_PS_2M);
	t = find(&h, "l2i");
	assert_int_equal(t->entries, 512);
	assert_int_equal(t->ways, 4);
	assert_int_equal(find(&h, "l2i2m")->ways, 2);
	/* 3072 / 8 = 384 and 3072 / 6 = 512 sets: the first is not a power of
	 * two, and the written configuration must still build an engine
	 * (the TLB model indexes such sets by modulo) with the TLBs as keys */
	h.page_size = 4096;
	h.mem_bytes = 64ull << 20;
	struct vl_config *schema, *cfg;
	struct vl_error err = { 0 };
	assert_int_equal(vl_config_new(&schema, &err), 0);
	char *ini = vl_host_ini(&h, schema);
	assert_non_null(ini);
	assert_non_null(strstr(ini, "[tlb.l2d]\nlevel = 2\nkind = data\nentries = 3072\nways = 8\n"));
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_int_equal(vl_config_load_preset(cfg, "os", "linux", &err), 0);
	if (vl_config_load_string(cfg, ini, "host.ini", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(vl_config_set(cfg, "memory.frames", "1024", "test", &err), 0);
	struct vl_engine *e = NULL;
	if (vl_engine_new(&e, cfg, &err) < 0)
		fail_msg("%s", err.msg);
	const char *names[512];
	size_t n = vl_engine_counter_list(e, names, NULL, 512);
	bool l2d = false;
	for (size_t i = 0; i < n && i < 512; i++)
		l2d |= !strcmp(names[i], "tlb_l2d_misses");
	assert_true(l2d);
	vl_engine_free(e);
	vl_config_free(cfg);
	vl_config_free(schema);
	free(ini);
}

/* Zen 3 as its optimisation guide describes it: 64-entry fully associative
 * L1 DTLB for every page size (1G reported through Fn8000_0019 EAX
 * 0xf040f040: code f = fully, 0x040 = 64), 2048-entry L2 DTLB. */
static void test_amd_shared_sizes_merge(void **state)
{
	(void)state;
	struct vl_host h;
	memset(&h, 0, sizeof(h));
	uint32_t l5[2] = { 0xff40ff40, 0xff40ff40 }, l6[2] = { 0x68002200, 0x68004200 };
	uint32_t l19[2] = { 0xf040f040, 0 };
	vl_host_tlb_amd(&h, l5, l6, l19);
	const struct vl_host_tlb *t = find(&h, "l1d");
	assert_int_equal(t->entries, 64);
	assert_int_equal(t->page_sizes, VL_HOST_PS_4K | VL_HOST_PS_2M | VL_HOST_PS_1G);
	t = find(&h, "l2d");
	assert_int_equal(t->entries, 2048);
	assert_int_equal(t->ways, 8);
	assert_int_equal(t->page_sizes, VL_HOST_PS_4K | VL_HOST_PS_2M);
}

static void test_intel_leaf18(void **state)
{
	(void)state;
	struct vl_host h;
	memset(&h, 0, sizeof(h));
	/* EDX: type 1 data, level 1 (bits 7:5), fully associative (bit 8);
	 * EBX: 4K (bit 0), 64 ways (31:16); ECX: 1 set */
	assert_int_equal(vl_host_tlb_intel18(&h, 0x00400001, 1, 0x121), 1);
	/* unified level 2, 4K+2M, 8 ways x 128 sets = 1024 */
	assert_int_equal(vl_host_tlb_intel18(&h, 0x00080003, 128, 0x43), 1);
	/* an invalid sub-leaf (type 0) adds nothing */
	assert_int_equal(vl_host_tlb_intel18(&h, 0, 0, 0), 0);
	assert_int_equal(h.ntlb, 2);
	assert_int_equal(find(&h, "l1d")->ways, 64);
	const struct vl_host_tlb *t = find(&h, "l2u");
	assert_int_equal(t->entries, 1024);
	assert_int_equal(t->ways, 8);
	assert_int_equal(t->page_sizes, VL_HOST_PS_4K | VL_HOST_PS_2M);
}

static void test_intel_leaf2(void **state)
{
	(void)state;
	struct vl_host h;
	memset(&h, 0, sizeof(h));
	/* SDM table 3-12: 63H data TLB 2M/4M 4-way 32 entries; C3H shared
	 * 2nd-level TLB 4K/2M 6-way 1536 entries; 2CH is an L1 cache */
	assert_int_equal(vl_host_tlb_intel2(&h, 0x63), 1);
	assert_int_equal(vl_host_tlb_intel2(&h, 0xc3), 1);
	assert_int_equal(vl_host_tlb_intel2(&h, 0x2c), 0);
	assert_int_equal(find(&h, "l1d2m")->entries, 32);
	assert_int_equal(find(&h, "l2u")->entries, 1536);
	assert_int_equal(find(&h, "l2u")->ways, 6);
}

static void test_ini_marks_undetected(void **state)
{
	(void)state;
	struct vl_host h;
	memset(&h, 0, sizeof(h));
	h.page_size = 4096;
	h.mem_bytes = (64ull << 20) + 100; /* rounded down to a page */
	snprintf(h.thp_enabled, sizeof(h.thp_enabled), "madvise");
	h.thp_zero_page = -1;
	snprintf(h.fault_around_why, sizeof(h.fault_around_why), "locked");
	char *ini = vl_host_ini(&h, NULL);
	assert_non_null(ini);
	assert_non_null(strstr(ini, "size = 67108864\n"));
	assert_non_null(strstr(ini, "enabled = madvise\n"));
	assert_non_null(strstr(ini, "; fault_around: not detected: locked"));
	assert_non_null(strstr(ini, "; use_zero_page: not detected"));
	assert_null(strstr(ini, "\nfault_around ="));
	/* the swap keys are core keys: written without a schema too (validate
	 * passes none, and took the linux preset's swap keys before 0.8.4) */
	assert_non_null(strstr(ini, "\n[swap]\n"));
	assert_non_null(strstr(ini, "\nsynchronous = off\n"));
	/* and the text loads as a configuration */
	struct vl_config *cfg;
	struct vl_error err = { 0 };
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	if (vl_config_load_string(cfg, ini, "host.ini", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(vl_config_u64(cfg, "memory.size"), 64ull << 20);
	assert_string_equal(vl_config_str(cfg, "thp.enabled"), "madvise");
	/* the schema of this build: memory keys yes, a made-up optional key no */
	assert_true(vl_config_declares(cfg, "memory.size"));
	assert_true(vl_config_declares(cfg, "replacement.lru.nosuch") == false);
	assert_false(vl_config_declares(cfg, "nosuch.key"));
	vl_config_free(cfg);
	free(ini);
}

/* The [swap] keys: written from what was read, marked when unknown, and
 * the text sets them (over the linux preset's). */
static void test_ini_swap(void **state)
{
	(void)state;
	struct vl_host h;
	memset(&h, 0, sizeof(h));
	h.page_size = 4096;
	h.thp_zero_page = -1;
	h.swap_page_cluster = 2;
	h.swap_vma_ra = 1;
	h.swap_rotational = 0;
	snprintf(h.swap_rot_from, sizeof(h.swap_rot_from), "the 1 active swap device");
	struct vl_config *schema;
	struct vl_error err = { 0 };
	assert_int_equal(vl_config_new(&schema, &err), 0);
	char *ini = vl_host_ini(&h, schema);
	assert_non_null(ini);
	assert_non_null(strstr(ini, "[swap]\npage_cluster = 2\nvma_readahead = on\n"
				    "; rotational: from the 1 active swap device\nrotational = off\n"));
	struct vl_config *cfg;
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_int_equal(vl_config_load_preset(cfg, "os", "linux", &err), 0);
	if (vl_config_load_string(cfg, ini, "host.ini", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(vl_config_u64(cfg, "swap.page_cluster"), 2);
	assert_false(vl_config_bool(cfg, "swap.rotational"));
	assert_true(vl_config_bool(cfg, "swap.cache")); /* the preset's, kept */
	vl_config_free(cfg);
	free(ini);
	h.swap_page_cluster = -1;
	h.swap_vma_ra = -1;
	h.swap_rotational = -1;
	snprintf(h.swap_rot_from, sizeof(h.swap_rot_from), "no swap active");
	ini = vl_host_ini(&h, schema);
	assert_non_null(strstr(ini, "; page_cluster: not detected"));
	assert_non_null(strstr(ini, "; vma_readahead: not detected"));
	assert_non_null(strstr(ini, "; rotational: not detected (no swap active)"));
	assert_null(strstr(ini, "\nrotational ="));
	/* no swap device: not synchronous, and said why */
	assert_non_null(strstr(ini, "; synchronous: no swap active"));
	assert_non_null(strstr(ini, "\nsynchronous = off\n"));
	free(ini);
	/* zram used first: synchronous, and the text turns it on */
	h.swap_sync = 1;
	snprintf(h.swap_sync_dev, sizeof(h.swap_sync_dev), "zram0");
	ini = vl_host_ini(&h, schema);
	assert_non_null(strstr(ini, "; synchronous: the swap device used first, zram0 (no readahead"));
	assert_non_null(strstr(ini, "\nsynchronous = on\n"));
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	assert_int_equal(vl_config_load_preset(cfg, "os", "linux", &err), 0);
	assert_false(vl_config_bool(cfg, "swap.synchronous")); /* the preset: a disk */
	if (vl_config_load_string(cfg, ini, "host.ini", &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(vl_config_bool(cfg, "swap.synchronous"));
	vl_config_free(cfg);
	free(ini);
	vl_config_free(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amd_zen4_registers),
		cmocka_unit_test(test_amd_shared_sizes_merge),
		cmocka_unit_test(test_intel_leaf18),
		cmocka_unit_test(test_intel_leaf2),
		cmocka_unit_test(test_ini_marks_undetected),
		cmocka_unit_test(test_ini_swap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
