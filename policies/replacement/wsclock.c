/* policies/replacement/wsclock.c - WSClock.
 *
 * Carr and Hennessy, "WSCLOCK - A Simple and Effective Algorithm for
 * Virtual Memory Management", SOSP 1981; as described in Tanenbaum,
 * "Modern Operating Systems" (section 3.4.9).  Resident pages sit on a
 * circle with their time of last use; a page whose age exceeds the
 * working-set window tau is outside the working set.  The hand:
 *   R = 1: clear R, last use := now, move on;
 *   R = 0, age > tau, clean: the victim;
 *   R = 0, age > tau, dirty: schedule its write-back and move on;
 *   R = 0, age <= tau: in the working set, move on.
 * After a full lap without a victim: the first page whose write was
 * scheduled (its write has completed by now), else the first clean page
 * seen, else the page under the hand.
 *
 * The hand's travel per fault is bounded by `scan` pages (default 256;
 * 0 = a full lap): when every page is in the working set (the working
 * set exceeds memory, where WSClock would need load control) a full lap
 * per fault makes a run O(frames) per fault; past the bound the after-lap
 * rule above picks the victim among the pages seen.
 *
 * Simplifications: time is the global access count (the paper uses each
 * process's virtual time; textbook runs have one pool).  A scheduled
 * write completes by the time the hand comes back: a page whose write was
 * scheduled counts as clean on the hand's next visit (if it was not
 * referenced meanwhile), and the engine counts its write-back when it is
 * evicted (the textbook engine writes back at eviction).
 * R is the accessed bit, read and cleared through the engine; the policy
 * hears no hits.  tau = 0 means "as many accesses as there are frames".
 */
#include "vmlab/policy.h"

static const struct vl_key_def wsclock_params[] = {
	{ "tau", VL_KT_U64, "0", "working-set window in accesses (0 = frames)", NULL, 0, 0, NULL },
	{ "scan", VL_KT_U64, "256", "most pages the hand passes per fault (0 = a full lap)", NULL, 0, 0,
	  NULL },
};

struct wsc {
	struct vl_flist l; /* the hand is the tail; passing a page moves it to the head */
	uint64_t *last;
	uint8_t *sched;    /* per frame: write-back scheduled */
	uint64_t tau, now, scan;
};

static int wsc_init(struct vl_repl *r, struct vl_error *err)
{
	struct wsc *s = malloc(sizeof(*s));
	if (s) {
		s->last = malloc((size_t)r->nframes * sizeof(*s->last));
		s->sched = calloc(r->nframes, 1);
		if (!s->last || !s->sched) {
			free(s->last);
			free(s->sched);
			free(s);
			s = NULL;
		}
	}
	if (!s || vl_flist_init(&s->l, r->nframes) < 0) {
		if (s) {
			free(s->last);
			free(s->sched);
		}
		free(s);
		return vl_err(err, VL_ENOMEM, "wsclock: out of memory for %u frames", r->nframes);
	}
	s->tau = vl_config_u64(r->cfg, "replacement.wsclock.tau");
	if (s->tau == 0)
		s->tau = r->nframes;
	s->now = 0;
	s->scan = vl_config_u64(r->cfg, "replacement.wsclock.scan");
	r->priv = s;
	return 0;
}

static void wsc_fini(struct vl_repl *r)
{
	struct wsc *s = r->priv;
	vl_flist_free(&s->l);
	free(s->last);
	free(s->sched);
	free(s);
}

static void wsc_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct wsc *s = r->priv;
	s->last[f] = a->time;
	s->sched[f] = 0;
	s->now = a->time;
	vl_flist_push_head(&s->l, f);
}

static void wsc_unmap(struct vl_repl *r, uint32_t f)
{
	struct wsc *s = r->priv;
	vl_flist_del(&s->l, f);
}

static size_t wsc_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct wsc *s = r->priv;
	(void)want;
	if (s->l.len == 0)
		return 0;
	if (ctx && ctx->cause)
		s->now = ctx->cause->time;
	uint32_t scheduled = VL_FLIST_OUT, clean = VL_FLIST_OUT;
	uint64_t n = s->scan && s->scan < s->l.len ? s->scan : s->l.len;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t f = s->l.tail;
		vl_flist_move_head(&s->l, f);
		if (vl_repl_referenced(r, f, true)) {
			s->last[f] = s->now;
			s->sched[f] = 0;
			continue;
		}
		bool dirty = vl_repl_dirty(r, f) && !s->sched[f];
		if (s->now - s->last[f] > s->tau) {
			if (!dirty) {
				out[0] = f;
				return 1;
			}
			s->sched[f] = 1;
			if (scheduled == VL_FLIST_OUT)
				scheduled = f;
		} else if (!dirty && clean == VL_FLIST_OUT) {
			clean = f;
		}
	}
	out[0] = scheduled != VL_FLIST_OUT ? scheduled : clean != VL_FLIST_OUT ? clean : s->l.tail;
	return 1;
}

const struct vl_repl_ops vl_repl_wsclock = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "wsclock",
	.help = "WSClock (SOSP'81): CLOCK over last-use times with a working-set window tau",
	.params = wsclock_params,
	.nparams = sizeof(wsclock_params) / sizeof(wsclock_params[0]),
	.init = wsc_init,
	.fini = wsc_fini,
	.on_map = wsc_map,
	.on_unmap = wsc_unmap,
	.select_victims = wsc_victims,
};
