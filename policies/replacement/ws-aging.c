/* policies/replacement/ws-aging.c - Windows working-set trimming order.
 *
 * After the Windows working-set manager's aging and trimming (Russinovich,
 * Solomon and Ionescu, "Windows Internals", 6th ed., ch. 10 "Working
 * Sets"; Microsoft's "Windows Kernel Internals: Advanced Virtual Memory"
 * slides; summarised in shared/reference/windows-mm-and-linux-faults.md,
 * section A.7).  Each resident page has an age (the WSLE Age field, 3 bits
 * from Vista on: 0..7).  An aging pass visits every page: accessed bit
 * set: clear it, age := 0; clear: age := min(age + 1, max_age).  Trimming
 * removes the pages of the highest age first; a page found with its
 * accessed bit set at trim time is spared (bit cleared, age 0), as in the
 * simplified second-chance form.  A new page has age 0.
 *
 * Under the windows personality this policy is the working-set manager's
 * own aging and clock hand, per working set (sim/rsm_ws.c); this file is
 * its form for the global managers (textbook, linux).
 *
 * Simplifications: one global working set (textbook pool); no minimum or
 * maximum working-set sizes, no standby/modified lists (the trimmed page
 * is simply evicted); the aging pass (Windows runs it from the balance-set
 * manager, once a second) runs every `interval` accesses (0 = as many as
 * there are frames), lazily when a victim is chosen; within one age the
 * page that reached it first goes first.  The policy hears no hits.
 */
#include "vmlab/policy.h"

static const struct vl_key_def wsaging_params[] = {
	{ "max_age", VL_KT_U64, "7", "largest age (7: 3-bit WSLE Age, Vista on; 3 for XP)", NULL, 1,
	  63, NULL },
	{ "interval", VL_KT_U64, "0", "accesses between aging passes (0 = frames)", NULL, 0, 0, NULL },
};

struct wsa {
	struct vl_mlist age; /* list a holds pages of age a; head = most recent arrival */
	uint32_t max_age;
	uint64_t interval, last_pass;
	struct vl_lookahead ahead; /* along the pages trimming will look at */
};

static int wsa_init(struct vl_repl *r, struct vl_error *err)
{
	struct wsa *s = calloc(1, sizeof(*s));
	uint32_t max_age = (uint32_t)vl_config_u64(r->cfg, "replacement.ws-aging.max_age");
	if (!s || vl_mlist_init(&s->age, r->nframes, max_age + 1) < 0) {
		free(s);
		return vl_err(err, VL_ENOMEM, "ws-aging: out of memory for %u frames", r->nframes);
	}
	s->max_age = max_age;
	s->ahead = (struct vl_lookahead)VL_LOOKAHEAD_INIT;
	s->interval = vl_config_u64(r->cfg, "replacement.ws-aging.interval");
	if (s->interval == 0)
		s->interval = r->nframes;
	r->priv = s;
	return 0;
}

static void wsa_fini(struct vl_repl *r)
{
	struct wsa *s = r->priv;
	vl_mlist_free(&s->age);
	free(s);
}

static void wsa_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct wsa *s = r->priv;
	(void)a;
	vl_mlist_push_head(&s->age, 0, f);
}

static void wsa_unmap(struct vl_repl *r, uint32_t f)
{
	struct wsa *s = r->priv;
	vl_mlist_del(&s->age, f);
}

/* One aging pass over every resident page.  Lists are visited from the
 * oldest age down, each from its tail, only the pages it held when the
 * pass began: a page moves to age a + 1 (already visited) or 0 (where it
 * lands at the head, ahead of the unvisited ones). */
static void pass(struct vl_repl *r, struct wsa *s)
{
	struct vl_mlist *l = &s->age;
	uint32_t orig[64];
	for (uint32_t a = 0; a <= s->max_age; a++)
		orig[a] = l->len[a];
	struct vl_lookahead ahead = VL_LOOKAHEAD_INIT;
	for (uint32_t a = s->max_age + 1; a-- > 0;) {
		for (uint32_t n = orig[a]; n-- > 0;) {
			vl_lookahead_mlist(r, &ahead, l, a);
			uint32_t f = l->tail[a];
			uint32_t to = vl_repl_referenced(r, f, true) ? 0
				      : a < s->max_age		    ? a + 1
								    : a;
			vl_mlist_del(l, f);
			vl_mlist_push_head(l, to, f);
		}
	}
	vl_lookahead_reset(&s->ahead); /* the lists were reordered */
}

static size_t wsa_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct wsa *s = r->priv;
	(void)want;
	if (ctx && ctx->cause && ctx->cause->time - s->last_pass >= s->interval) {
		pass(r, s);
		s->last_pass = ctx->cause->time;
	}
	/* A spared page drops to age 0 with its bit clear, so this ends. */
	for (;;) {
		uint32_t a = s->max_age + 1;
		while (a-- > 0 && s->age.len[a] == 0)
			;
		if (a > s->max_age)
			return 0;
		uint32_t f = s->age.tail[a];
		vl_lookahead_mlist(r, &s->ahead, &s->age, a);
		if (!vl_repl_referenced(r, f, true)) {
			out[0] = f;
			return 1;
		}
		vl_mlist_del(&s->age, f);
		vl_mlist_push_head(&s->age, 0, f);
	}
}

const struct vl_repl_ops vl_repl_ws_aging = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "ws-aging",
	.help = "Windows working-set trimming: age by accessed-bit passes, trim the oldest first",
	.params = wsaging_params,
	.nparams = sizeof(wsaging_params) / sizeof(wsaging_params[0]),
	.init = wsa_init,
	.fini = wsa_fini,
	.on_map = wsa_map,
	.on_unmap = wsa_unmap,
	.select_victims = wsa_victims,
};
