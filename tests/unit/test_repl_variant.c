/* tests/unit/test_repl_variant.c - a policy's init may hand the engine a
 * variant's ops table (include/vmlab/policy.h, vl_repl_ops.init).
 *
 * A test policy "vtest" is a FIFO whose init picks, by run.seed, one of:
 *   1  no variant (its own table: no hits heard);
 *   2  a variant of the same name that hears hits and counts them;
 *   3  a table of another name: the engine must refuse it;
 *   4  a table that asks for hits without an on_access hook: refused.
 * Hits counted by the variant must equal the accesses minus the faults,
 * and the variant's fini must be the one called.
 */
#include "tests/testutil.h"

static unsigned long heard, fini_base, fini_variant;

struct vt {
	struct vl_flist l;
};

static const struct vl_repl_ops vt_variant, vt_other_name, vt_no_access;

static int vt_init(struct vl_repl *r, struct vl_error *err)
{
	struct vt *s = malloc(sizeof(*s));
	if (!s || vl_flist_init(&s->l, r->nframes) < 0) {
		free(s);
		return vl_err(err, VL_ENOMEM, "vtest: out of memory");
	}
	r->priv = s;
	if (r->seed == 2)
		r->ops = &vt_variant;
	else if (r->seed == 3)
		r->ops = &vt_other_name;
	else if (r->seed == 4)
		r->ops = &vt_no_access;
	return 0;
}

static void vt_free(struct vl_repl *r)
{
	struct vt *s = r->priv;
	vl_flist_free(&s->l);
	free(s);
}

static void vt_fini(struct vl_repl *r)
{
	fini_base++;
	vt_free(r);
}

static void vt_fini_variant(struct vl_repl *r)
{
	fini_variant++;
	vt_free(r);
}

static void vt_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)a;
	vl_flist_push_head(&((struct vt *)r->priv)->l, f);
}

static void vt_unmap(struct vl_repl *r, uint32_t f)
{
	vl_flist_del(&((struct vt *)r->priv)->l, f);
}

static void vt_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)r, (void)f, (void)a;
	heard++;
}

static size_t vt_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			 size_t want)
{
	struct vt *s = r->priv;
	(void)ctx, (void)want;
	if (!s->l.len)
		return 0;
	out[0] = s->l.tail;
	return 1;
}

#define VT_TABLE(nm, fl, acc, fin)                                                             \
	{ .api_version = VL_POLICY_API_VERSION, .name = nm, .help = "test", .flags = fl,          \
	  .init = vt_init, .fini = fin, .on_map = vt_map, .on_unmap = vt_unmap, .on_access = acc, \
	  .select_victims = vt_victims }

static const struct vl_repl_ops vt_base = VT_TABLE("vtest", 0, NULL, vt_fini);
static const struct vl_repl_ops vt_variant =
	VT_TABLE("vtest", VL_REPL_WANTS_ACCESS, vt_access, vt_fini_variant);
static const struct vl_repl_ops vt_other_name =
	VT_TABLE("vtest-other", VL_REPL_WANTS_ACCESS, vt_access, vt_fini_variant);
static const struct vl_repl_ops vt_no_access =
	VT_TABLE("vtest", VL_REPL_WANTS_ACCESS, NULL, vt_fini_variant);

static int setup(void **state)
{
	(void)state;
	struct vl_error err = { 0 };
	if (!vl_repl_find("vtest") && vl_repl_register(&vt_base, &err) < 0)
		fail_msg("register: %s", err.msg);
	return 0;
}

/* 1 2 3 1 2 4 1 2 ... over 4 pages in 3 frames, 40 accesses. */
static struct vl_engine *run_seed(unsigned seed, uint64_t *faults)
{
	char sd[32];
	snprintf(sd, sizeof(sd), "run.seed=%u", seed);
	struct vl_engine *e = tu_engine("os.personality=textbook", "memory.frames=3",
					"replacement.policy=vtest", sd, NULL);
	struct vl_rec recs[40];
	for (unsigned i = 0; i < 40; i++)
		recs[i] = (struct vl_rec){ .addr = (uint64_t)(1 + (i % 6 == 5 ? 3 : i % 3)) << 12,
					   .pid = 1, .op = VL_OP_READ };
	tu_feed(e, recs, 40);
	*faults = vl_engine_counters(e)->faults;
	return e;
}

static void test_no_variant(void **state)
{
	(void)state;
	heard = fini_base = fini_variant = 0;
	uint64_t faults;
	struct vl_engine *e = run_seed(1, &faults);
	vl_engine_free(e);
	assert_int_equal(heard, 0);
	assert_int_equal(fini_base, 1);
	assert_int_equal(fini_variant, 0);
}

static void test_variant_hooks(void **state)
{
	(void)state;
	heard = fini_base = fini_variant = 0;
	uint64_t faults;
	struct vl_engine *e = run_seed(2, &faults);
	vl_engine_free(e);
	assert_true(faults > 0 && faults < 40);
	assert_int_equal(heard, 40 - faults); /* every hit, through the variant's hook */
	assert_int_equal(fini_base, 0);
	assert_int_equal(fini_variant, 1);
}

static void refused(unsigned seed)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	assert_int_equal(vl_config_new(&cfg, &err), 0);
	char sd[32];
	snprintf(sd, sizeof(sd), "run.seed=%u", seed);
	assert_int_equal(vl_config_set_arg(cfg, "replacement.policy=vtest", &err), 0);
	assert_int_equal(vl_config_set_arg(cfg, sd, &err), 0);
	struct vl_engine *e = NULL;
	fini_variant = 0;
	assert_true(vl_engine_new(&e, cfg, &err) < 0);
	assert_null(e);
	assert_non_null(strstr(err.msg, "vtest"));
	assert_int_equal(fini_variant, 1); /* the engine freed what init made */
	vl_config_free(cfg);
}

static void test_bad_variants_refused(void **state)
{
	(void)state;
	refused(3);
	refused(4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_variant),
		cmocka_unit_test(test_variant_hooks),
		cmocka_unit_test(test_bad_variants_refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
