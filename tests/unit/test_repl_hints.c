/* tests/unit/test_repl_hints.c - the prefetch hints of policy API 5
 * (include/vmlab/policy.h: will_fault with VL_REPL_HINT_FAULT, and
 * vl_repl.hit_hint).
 *
 * A test policy "hintest" is a FIFO that hears every access and keeps
 * which pages are resident (from on_map's access and on_unmap's frame).
 * With run.seed 2 its init also sets hit_hint (its list's links) and
 * switches to a table with VL_REPL_HINT_FAULT and will_fault.  On a
 * trace of one process (no machine: the walk loop that reads ahead), the
 * hint contract is checked against the trace itself:
 *   - every hinted page is not resident when hinted (the engine saw its
 *     leaf entry not present) and is the page of one of the next eight
 *     accesses (the loop's look-ahead window), with the caller's pid;
 *   - most faults are hinted (the trace's pages all live in one page
 *     table, so only the first records of the run are not looked at);
 *   - the counters and the victims are the same with and without hints
 *     (hints change nothing).
 */
#include "tests/testutil.h"

#define NPAGE 16
#define NACC 400
#define NFRAME 6

static uint64_t trace_vpn[NACC];
static unsigned long hints, bad_resident, bad_window, bad_pid, maps;
static uint64_t last_time; /* of the last access heard; UINT64_MAX: none */
static uint64_t victims_hash;

struct ht {
	struct vl_flist l;
	uint64_t *vpn_of; /* per frame */
	bool resident[NPAGE + 1];
};

static const struct vl_repl_ops ht_hinted;

static int ht_init(struct vl_repl *r, struct vl_error *err)
{
	struct ht *s = calloc(1, sizeof(*s));
	if (!s || vl_flist_init(&s->l, r->nframes) < 0 ||
	    !(s->vpn_of = calloc(r->nframes, sizeof(uint64_t)))) {
		free(s);
		return vl_err(err, VL_ENOMEM, "hintest: out of memory");
	}
	r->priv = s;
	if (r->seed == 2) {
		r->ops = &ht_hinted;
		r->hit_hint = s->l.next;
		r->hit_hint_stride = sizeof(uint32_t);
	}
	return 0;
}

static void ht_fini(struct vl_repl *r)
{
	struct ht *s = r->priv;
	vl_flist_free(&s->l);
	free(s->vpn_of);
	free(s);
}

static void ht_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct ht *s = r->priv;
	vl_flist_push_head(&s->l, f);
	s->vpn_of[f] = a->vpn;
	if (a->vpn <= NPAGE)
		s->resident[a->vpn] = true;
	last_time = a->time;
	maps++;
}

static void ht_unmap(struct vl_repl *r, uint32_t f)
{
	struct ht *s = r->priv;
	vl_flist_del(&s->l, f);
	if (s->vpn_of[f] <= NPAGE)
		s->resident[s->vpn_of[f]] = false;
}

static void ht_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	(void)r, (void)f;
	last_time = a->time;
}

static size_t ht_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			 size_t want)
{
	struct ht *s = r->priv;
	(void)ctx, (void)want;
	if (!s->l.len)
		return 0;
	out[0] = s->l.tail;
	victims_hash = victims_hash * 31 + s->vpn_of[out[0]];
	return 1;
}

static void ht_will_fault(struct vl_repl *r, uint32_t pid, uint64_t vpn)
{
	struct ht *s = r->priv;
	hints++;
	if (pid != 1)
		bad_pid++;
	if (vpn <= NPAGE && s->resident[vpn])
		bad_resident++;
	/* the page of one of the next eight accesses after the last heard */
	uint64_t next = last_time == UINT64_MAX ? 0 : last_time + 1;
	bool in = false;
	for (uint64_t t = next; t < next + 8 && t < NACC; t++)
		in = in || trace_vpn[t] == vpn;
	if (!in)
		bad_window++;
}

#define HT_TABLE(fl, wf)                                                                        \
	{ .api_version = VL_POLICY_API_VERSION, .name = "hintest", .help = "test",              \
	  .flags = VL_REPL_WANTS_ACCESS | (fl), .init = ht_init, .fini = ht_fini, .on_map = ht_map, \
	  .on_unmap = ht_unmap, .on_access = ht_access, .select_victims = ht_victims,           \
	  .will_fault = wf }

static const struct vl_repl_ops ht_base = HT_TABLE(0, NULL);
static const struct vl_repl_ops ht_hinted = HT_TABLE(VL_REPL_HINT_FAULT, ht_will_fault);
/* the flag without the hook: refused when registered ("lacks a required
 * hook"), as VL_REPL_WANTS_ACCESS without on_access is */
static const struct vl_repl_ops ht_flag_only = {
	.api_version = VL_POLICY_API_VERSION, .name = "hintest-nohook", .help = "test",
	.flags = VL_REPL_HINT_FAULT, .init = ht_init, .fini = ht_fini, .on_map = ht_map,
	.on_unmap = ht_unmap, .select_victims = ht_victims,
};

static int setup(void **state)
{
	(void)state;
	struct vl_error err = { 0 };
	if (!vl_repl_find("hintest") && vl_repl_register(&ht_base, &err) < 0)
		fail_msg("register: %s", err.msg);
	/* pages 1..16 of one 2 MiB region (one leaf table), a skewed
	 * pseudo-random order (an LCG's high bits, squared) */
	uint64_t x = 12345;
	for (unsigned i = 0; i < NACC; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t u = (x >> 33) % 1024; /* u^2 / 2^16 in [0, 16) */
		trace_vpn[i] = 1 + (u * u >> 16);
	}
	return 0;
}

struct outcome {
	uint64_t faults, evictions, victims;
};

static struct outcome run_seed(unsigned seed)
{
	char sd[32], fr[32];
	snprintf(sd, sizeof(sd), "run.seed=%u", seed);
	snprintf(fr, sizeof(fr), "memory.frames=%u", NFRAME);
	hints = bad_resident = bad_window = bad_pid = maps = 0;
	last_time = UINT64_MAX;
	victims_hash = 0;
	struct vl_engine *e =
		tu_engine("os.personality=textbook", fr, "replacement.policy=hintest", sd, NULL);
	struct vl_rec recs[NACC];
	for (unsigned i = 0; i < NACC; i++)
		recs[i] = (struct vl_rec){ .addr = trace_vpn[i] << 12, .pid = 1, .op = VL_OP_READ };
	tu_feed(e, recs, NACC);
	const struct vl_counters *c = vl_engine_counters(e);
	struct outcome o = { c->faults, c->evictions, victims_hash };
	vl_engine_free(e);
	return o;
}

static void test_no_hints_without_the_flag(void **state)
{
	(void)state;
	struct outcome o = run_seed(1);
	assert_int_equal(hints, 0);
	/* 16 pages in 6 frames: some faults, and hits too */
	assert_true(o.faults > NPAGE && o.faults < NACC);
}

static void test_hints_name_coming_faults(void **state)
{
	(void)state;
	struct outcome o = run_seed(2);
	assert_int_equal(bad_pid, 0);
	assert_int_equal(bad_resident, 0);
	assert_int_equal(bad_window, 0);
	/* the faults after the first eight accesses of the run are looked
	 * at; allow for a page faulting twice within one window */
	assert_true(hints >= o.faults / 2);
	assert_true(hints <= NACC);
}

static void test_hints_change_nothing(void **state)
{
	(void)state;
	struct outcome a = run_seed(1), b = run_seed(2);
	assert_int_equal(a.faults, b.faults);
	assert_int_equal(a.evictions, b.evictions);
	assert_int_equal(a.victims, b.victims);
}

static void test_flag_without_hook_refused(void **state)
{
	(void)state;
	struct vl_error err = { 0 };
	assert_true(vl_repl_register(&ht_flag_only, &err) < 0);
	assert_non_null(strstr(err.msg, "lacks a required hook"));
	assert_null(vl_repl_find("hintest-nohook"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_hints_without_the_flag),
		cmocka_unit_test(test_hints_name_coming_faults),
		cmocka_unit_test(test_hints_change_nothing),
		cmocka_unit_test(test_flag_without_hook_refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
