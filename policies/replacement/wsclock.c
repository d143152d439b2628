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
 *
 * The circle is a circular doubly linked list over frames with the hand
 * on one page: passing a page moves the hand to the page before it
 * (nothing is relinked), and a page that becomes resident is inserted
 * just after the hand, so that the hand reaches it last.
 */
#include "vmlab/policy.h"

static const struct vl_key_def wsclock_params[] = {
	{ "tau", VL_KT_U64, "0", "working-set window in accesses (0 = frames)", NULL, 0, 0, NULL },
	{ "scan", VL_KT_U64, "256", "most pages the hand passes per fault (0 = a full lap)", NULL, 0, 0,
	  NULL },
};

#define NIL UINT32_MAX

struct wsc {
	uint32_t *next, *prev; /* the circle: the hand goes from a page to its prev */
	uint32_t hand, len;    /* hand: NIL when no page is resident */
	uint32_t ahead, adist; /* the next page to announce (vl_repl_prefetch)
				* and how far before the hand it is; NIL: start
				* again (topped up to VL_REPL_PREFETCH_AHEAD) */
	uint64_t *last;
	uint8_t *sched;    /* per frame: write-back scheduled */
	uint64_t tau, now, scan;
};

static int wsc_init(struct vl_repl *r, struct vl_error *err)
{
	struct wsc *s = calloc(1, sizeof(*s));
	if (s) {
		s->last = malloc(((size_t)r->nframes + 1) * sizeof(*s->last));
		s->sched = calloc((size_t)r->nframes + 1, 1);
		s->next = malloc(((size_t)r->nframes + 1) * sizeof(*s->next));
		s->prev = malloc(((size_t)r->nframes + 1) * sizeof(*s->prev));
	}
	if (!s || !s->last || !s->sched || !s->next || !s->prev) {
		if (s) {
			free(s->last);
			free(s->sched);
			free(s->next);
			free(s->prev);
		}
		free(s);
		return vl_err(err, VL_ENOMEM, "wsclock: out of memory for %u frames", r->nframes);
	}
	s->hand = s->ahead = NIL;
	s->len = 0;
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
	free(s->next);
	free(s->prev);
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
	uint32_t h = s->hand;
	if (h == NIL) {
		s->next[f] = s->prev[f] = f;
		s->hand = f;
	} else { /* between the hand and the page after it: reached last */
		uint32_t n = s->next[h];
		s->next[f] = n;
		s->prev[f] = h;
		s->prev[n] = f;
		s->next[h] = f;
	}
	s->len++;
}

static void wsc_unmap(struct vl_repl *r, uint32_t f)
{
	struct wsc *s = r->priv;
	if (f == s->ahead)
		s->ahead = NIL;
	if (--s->len == 0) {
		s->hand = s->ahead = NIL;
		return;
	}
	if (s->hand == f && s->adist)
		s->adist--; /* the hand moves on below: nearer to ahead */
	uint32_t n = s->next[f], p = s->prev[f];
	s->next[p] = n;
	s->prev[n] = p;
	if (s->hand == f)
		s->hand = p;
}

static size_t wsc_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct wsc *s = r->priv;
	(void)want;
	if (s->len == 0)
		return 0;
	if (ctx && ctx->cause)
		s->now = ctx->cause->time;
	uint32_t scheduled = VL_FLIST_OUT, clean = VL_FLIST_OUT;
	uint64_t n = s->scan && s->scan < s->len ? s->scan : s->len;
	if (s->ahead == NIL) {
		s->ahead = s->hand;
		s->adist = 0;
	}
	for (; s->adist < VL_REPL_PREFETCH_AHEAD; s->adist++) {
		vl_repl_prefetch(r, s->ahead);
		s->ahead = s->prev[s->ahead];
	}
	for (uint64_t i = 0; i < n; i++) {
		uint32_t f = s->hand;
		s->hand = s->prev[f];
		vl_repl_prefetch(r, s->ahead);
		s->ahead = s->prev[s->ahead];
		if (vl_repl_referenced(r, f, true)) {
			s->last[f] = s->now;
			s->sched[f] = 0;
			continue;
		}
		/* dirty and not yet scheduled; asked only where it decides
		 * something (the engine's answer has no effect it needs) */
		if (s->now - s->last[f] > s->tau) {
			if (s->sched[f] || !vl_repl_dirty(r, f)) {
				out[0] = f;
				return 1;
			}
			s->sched[f] = 1;
			if (scheduled == VL_FLIST_OUT)
				scheduled = f;
		} else if (clean == VL_FLIST_OUT && (s->sched[f] || !vl_repl_dirty(r, f))) {
			clean = f;
		}
	}
	out[0] = scheduled != VL_FLIST_OUT ? scheduled : clean != VL_FLIST_OUT ? clean : s->hand;
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
