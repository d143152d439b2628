/* policies/replacement/lirs.c - LIRS, low inter-reference recency set.
 *
 * Jiang and Zhang, "LIRS: An Efficient Low Inter-reference Recency Set
 * Replacement Policy to Improve Buffer Cache Performance", SIGMETRICS 2002
 * (section 3.3, the three cases of a reference).
 *
 * Pages are LIR (low inter-reference recency; always resident, at most
 * L_lirs = frames - L_hirs of them) or HIR (L_hirs = 1% of the frames,
 * at least 2 (bounded: 1), resident; or non-resident, remembered).  Two lists:
 *
 *   S  the LIRS stack, most recent at the top: LIR pages and HIR pages
 *      (resident or not) more recent than the least recent LIR page.
 *      "Pruning" removes HIR entries from the bottom until an LIR page is
 *      there.
 *   Q  resident HIR pages, the victim at the front.
 *
 *   LIR hit:           move to S's top; prune if it was the bottom.
 *   HIR hit, in S:     it becomes LIR (leaves Q), moves to S's top; S's
 *                      bottom LIR page becomes HIR and goes to Q's end;
 *                      prune.
 *   HIR hit, not in S: move to S's top and to Q's end; stays HIR.
 *   miss:              evict Q's front (it stays in S as a non-resident
 *                      HIR entry if it was in S).  If the page is a
 *                      non-resident entry of S it becomes LIR as in the
 *                      HIR-hit-in-S case; otherwise it is resident HIR at
 *                      S's top and Q's end.  Until L_lirs pages are LIR,
 *                      every missed page becomes LIR (the paper's start).
 *
 * Two variants (replacement.lirs.variant):
 *   reference (default)  Song Jiang's lirs.c as distributed with the LIRS
 *                        traces (see the section at the end of this file),
 *                        equal to it miss for miss
 *                        (tests/paper/test_authors_code.c).
 *   bounded              L_hirs at least 1 page, and bounded memory (the
 *                        paper leaves S unbounded): at most ghost_pct% of
 *                        the frames non-resident entries are kept (default
 *                        200%, i.e. 2 x frames); beyond that the oldest
 *                        non-resident entry is dropped.  Entries
 * are keyed by (pid, vpn).  Hits reorder S, so the policy hears every
 * access.  When Q is empty (only LIR pages resident) S's bottom is the
 * victim.
 */
#include <string.h>

#include "vmlab/policy.h"

#define LIR 1
#define HIR 0

struct lirs {
	uint32_t c, ng;      /* frames; ghost entries (ids c .. c+ng-1) */
	uint32_t hir;        /* L_hirs */
	uint32_t nres;       /* resident frames */
	bool ref;            /* variant = reference */
	uint64_t s_max;      /* reference: most entries in S */
	uint32_t last_f;     /* reference: frame of the last access heard */
	uint64_t last_t;     /* and its time */
	uint32_t lir_max, nlir;
	struct vl_flist s;   /* over c + ng ids; head = top */
	struct vl_flist q;   /* over frames; head = end (newest), tail = front */
	struct vl_flist age; /* ghost indices in creation order; head = newest */
	uint8_t *status;     /* per frame: LIR / HIR */
	struct vl_pmap map;  /* (pid, vpn) -> ghost id */
	uint64_t *gvpn;
	uint32_t *gpid;
	uint32_t *gfree, nfree;
};

static const struct vl_key_def lirs_params[] = {
	{ "variant", VL_KT_ENUM, "reference",
	  "reference: Song Jiang's lirs.c (L_hirs >= 2, S up to 2500 x frames); bounded: "
	  "L_hirs >= 1, ghost_pct bounds S's non-resident entries",
	  "reference|bounded", 0, 0, NULL },
	{ "hir_pct", VL_KT_U64, "1",
	  "L_hirs: resident HIR share of the frames, in percent (>= 2 pages; bounded: >= 1)", NULL, 0,
	  100, NULL },
	{ "ghost_pct", VL_KT_U64, "200",
	  "bounded: non-resident entries kept in S, as a percentage of the frames", NULL, 0, 10000,
	  NULL },
};

/* The authors' bound on S (lirs.h, MAX_S_LEN): 2500 times the memory. */
#define REF_S_FACTOR 2500u
/* reference: ghost entries allocated at the start (the table doubles when
 * full, up to the bound on S) */
#define REF_GHOSTS_START 1024u

static const struct vl_repl_ops lirs_reference_ops;

static void lirs_free(struct lirs *s)
{
	vl_flist_free(&s->s);
	vl_flist_free(&s->q);
	vl_flist_free(&s->age);
	vl_pmap_free(&s->map);
	free(s->status);
	free(s->gvpn);
	free(s->gpid);
	free(s->gfree);
	free(s);
}

static int lirs_init(struct vl_repl *r, struct vl_error *err)
{
	struct lirs *s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	uint32_t c = r->nframes;
	s->ref = !strcmp(vl_config_str(r->cfg, "replacement.lirs.variant"), "reference");
	uint64_t hir = (uint64_t)c * vl_config_u64(r->cfg, "replacement.lirs.hir_pct") / 100;
	uint64_t ng = (uint64_t)c * vl_config_u64(r->cfg, "replacement.lirs.ghost_pct") / 100;
	/* lirs.c: HIR_block_portion_limit = HIR_RATE% of the memory, at least
	 * LOWEST_HG_NUM = 2 */
	if (hir < (s->ref ? 2u : 1u))
		hir = s->ref ? 2 : 1;
	if (hir > c)
		hir = c;
	s->s_max = (uint64_t)REF_S_FACTOR * c;
	if (s->ref)
		ng = s->s_max < REF_GHOSTS_START ? s->s_max : REF_GHOSTS_START;
	if (ng < 1)
		ng = 1;
	if (ng > 0x7fffffffu - c)
		ng = 0x7fffffffu - c;
	s->c = c;
	s->ng = (uint32_t)ng;
	s->hir = (uint32_t)hir;
	s->lir_max = c - (uint32_t)hir;
	s->last_f = UINT32_MAX;
	int rc = vl_flist_init(&s->s, c + s->ng);
	rc |= vl_flist_init(&s->q, c);
	rc |= vl_flist_init(&s->age, s->ng);
	rc |= vl_pmap_init(&s->map, s->ng);
	s->status = calloc(c, 1);
	s->gvpn = malloc((size_t)s->ng * sizeof(*s->gvpn));
	s->gpid = malloc((size_t)s->ng * sizeof(*s->gpid));
	s->gfree = malloc((size_t)s->ng * sizeof(*s->gfree));
	if (rc || !s->status || !s->gvpn || !s->gpid || !s->gfree) {
		lirs_free(s);
		goto oom;
	}
	for (uint32_t i = 0; i < s->ng; i++)
		s->gfree[i] = s->ng - 1 - i;
	s->nfree = s->ng;
	r->priv = s;
	if (s->ref)
		r->ops = &lirs_reference_ops;
	return 0;
oom:
	return vl_err(err, VL_ENOMEM, "lirs: out of memory for %u frames", r->nframes);
}

static void lirs_fini(struct vl_repl *r)
{
	lirs_free(r->priv);
}

/* Forget non-resident entry e (id >= c), which is on S. */
static void ghost_drop(struct lirs *s, uint32_t e)
{
	uint32_t gi = e - s->c;
	vl_flist_del(&s->s, e);
	vl_flist_del(&s->age, gi);
	vl_pmap_del(&s->map, s->gpid[gi], s->gvpn[gi]);
	s->gfree[s->nfree++] = gi;
}

/* reference: double the room for non-resident entries (at most the bound
 * on S; a table that cannot grow drops its oldest entry instead, as the
 * bounded variant does).  Ids and links are kept; the map is rebuilt. */
static int grow_ids(uint32_t **a, size_t n)
{
	uint32_t *p = realloc(*a, n * sizeof(**a));
	if (!p)
		return -1;
	*a = p;
	return 0;
}

static int ghosts_grow(struct lirs *s)
{
	uint64_t want = (uint64_t)s->ng * 2;
	if (want > s->s_max)
		want = s->s_max;
	if (want > 0x7fffffffu - s->c)
		want = 0x7fffffffu - s->c;
	if (want <= s->ng)
		return -1;
	uint32_t old = s->ng, ng = (uint32_t)want;
	struct vl_pmap map;
	if (vl_pmap_init(&map, ng) < 0) {
		vl_pmap_free(&map);
		return -1;
	}
	uint64_t *gvpn = realloc(s->gvpn, (size_t)ng * sizeof(*gvpn));
	if (gvpn)
		s->gvpn = gvpn;
	uint32_t *gpid = realloc(s->gpid, (size_t)ng * sizeof(*gpid));
	if (gpid)
		s->gpid = gpid;
	if (!gvpn || !gpid || grow_ids(&s->gfree, ng) || grow_ids(&s->s.next, (size_t)s->c + ng) ||
	    grow_ids(&s->s.prev, (size_t)s->c + ng) || grow_ids(&s->age.next, ng) ||
	    grow_ids(&s->age.prev, ng)) {
		vl_pmap_free(&map);
		return -1;
	}
	for (uint32_t i = old; i < ng; i++) {
		s->s.next[s->c + i] = s->s.prev[s->c + i] = VL_FLIST_OUT - 1;
		s->age.next[i] = s->age.prev[i] = VL_FLIST_OUT - 1;
	}
	for (uint32_t gi = s->age.head; gi != VL_FLIST_OUT; gi = s->age.next[gi])
		vl_pmap_put(&map, s->gpid[gi], s->gvpn[gi], gi);
	vl_pmap_free(&s->map);
	s->map = map;
	for (uint32_t i = ng; i > old; i--)
		s->gfree[s->nfree++] = i - 1;
	s->ng = ng;
	return 0;
}

/* Remove HIR entries from S's bottom until an LIR page is there. */
static void prune(struct lirs *s)
{
	while (s->s.len) {
		uint32_t e = s->s.tail;
		if (e < s->c && s->status[e] == LIR)
			break;
		if (e >= s->c)
			ghost_drop(s, e);
		else
			vl_flist_del(&s->s, e); /* resident HIR: stays on Q */
	}
}

/* Make S's bottom LIR page HIR (to Q's end) while there are too many LIR. */
static void demote_bottom(struct lirs *s)
{
	while (s->nlir > s->lir_max) {
		prune(s); /* S holds an LIR page (nlir > 0), so its bottom is one now */
		uint32_t b = s->s.tail;
		s->status[b] = HIR;
		s->nlir--;
		vl_flist_del(&s->s, b);
		vl_flist_push_head(&s->q, b);
		prune(s);
	}
}

static void lirs_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lirs *s = r->priv;
	(void)a;
	if (s->status[f] == LIR) {
		if (s->s.head == f)
			return;
		bool bottom = s->s.tail == f;
		vl_flist_move_head(&s->s, f);
		if (bottom)
			prune(s);
	} else if (vl_flist_has(&s->s, f)) {
		vl_flist_move_head(&s->s, f);
		vl_flist_del(&s->q, f);
		s->status[f] = LIR;
		s->nlir++;
		demote_bottom(s);
	} else {
		vl_flist_push_head(&s->s, f);
		vl_flist_move_head(&s->q, f);
	}
}

static void lirs_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lirs *s = r->priv;
	uint32_t g = vl_pmap_get(&s->map, a->pid, a->vpn);
	/* The start: a page not in S is LIR while there are not yet L_lirs
	 * LIR pages (bounded), or while more than L_hirs frames are free
	 * before it (reference: lirs.c's test on free_mem_size; the same
	 * pages as long as nothing leaves memory before it fills). */
	bool start = s->ref ? s->c - s->nres > s->hir : s->nlir < s->lir_max;
	s->nres++;
	if (g != VL_PMAP_NONE)
		ghost_drop(s, s->c + g);
	if (g != VL_PMAP_NONE || start) {
		s->status[f] = LIR;
		s->nlir++;
		vl_flist_push_head(&s->s, f);
		demote_bottom(s);
	} else {
		s->status[f] = HIR;
		vl_flist_push_head(&s->s, f);
		vl_flist_push_head(&s->q, f);
	}
}

static void lirs_unmap(struct vl_repl *r, uint32_t f)
{
	struct lirs *s = r->priv;
	s->nres--;
	if (s->status[f] == LIR) { /* only when evicted without the policy */
		bool bottom = s->s.tail == f;
		vl_flist_del(&s->s, f);
		s->nlir--;
		if (bottom)
			prune(s);
		return;
	}
	vl_flist_del(&s->q, f);
	if (!vl_flist_has(&s->s, f))
		return;
	/* Keep the page in S as a non-resident entry, in f's place. */
	if (s->nfree == 0 && !(s->ref && ghosts_grow(s) == 0))
		ghost_drop(s, s->c + s->age.tail);
	uint32_t gi = s->gfree[--s->nfree], e = s->c + gi;
	s->gpid[gi] = vl_repl_owner(r, f, &s->gvpn[gi]);
	vl_pmap_put(&s->map, s->gpid[gi], s->gvpn[gi], gi);
	vl_flist_push_head(&s->age, gi);
	struct vl_flist *l = &s->s;
	uint32_t n = l->next[f], p = l->prev[f];
	l->next[e] = n;
	l->prev[e] = p;
	if (p != VL_FLIST_OUT)
		l->next[p] = e;
	else
		l->head = e;
	if (n != VL_FLIST_OUT)
		l->prev[n] = e;
	else
		l->tail = e;
	l->next[f] = l->prev[f] = VL_FLIST_OUT - 1;
}

static size_t lirs_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			   size_t want)
{
	struct lirs *s = r->priv;
	(void)ctx;
	(void)want;
	if (s->q.len) {
		out[0] = s->q.tail;
		return 1;
	}
	if (s->s.len && s->s.tail < s->c) {
		out[0] = s->s.tail;
		return 1;
	}
	return 0;
}

const struct vl_repl_ops vl_repl_lirs = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "lirs",
	.help = "LIRS (SIGMETRICS'02): inter-reference recency, LIR/HIR stack with ghosts",
	.flags = VL_REPL_WANTS_ACCESS,
	.params = lirs_params,
	.nparams = sizeof(lirs_params) / sizeof(lirs_params[0]),
	.init = lirs_init,
	.fini = lirs_fini,
	.on_map = lirs_map,
	.on_unmap = lirs_unmap,
	.on_access = lirs_access,
	.select_victims = lirs_victims,
};

/* ---- variant = reference: Song Jiang's lirs.c as distributed ----
 *
 * The same stack and list as above, with the authors' choices: L_hirs at
 * least 2 pages; S bounded only at 2500 x frames entries (lirs.h,
 * MAX_S_LEN; beyond it the HIR entry nearest S's bottom leaves S, as
 * prune_LIRS_stack does), its non-resident entries in a table that grows;
 * a reference to the page referenced just before is skipped (lirs.c reads
 * the trace and ignores a repeat of the previous block: no state changes,
 * and it cannot miss); the start as in lirs_map. */

/* After each reference: at most s_max entries in S. */
static void s_bound(struct lirs *s)
{
	if (s->s.len <= s->s_max)
		return;
	for (uint32_t e = s->s.tail; e != VL_FLIST_OUT; e = s->s.prev[e]) {
		if (e >= s->c) {
			ghost_drop(s, e);
			return;
		}
		if (s->status[e] == HIR) {
			vl_flist_del(&s->s, e); /* resident HIR: stays on Q */
			return;
		}
	}
}

static void lirs_ref_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lirs *s = r->priv;
	bool repeat = f == s->last_f && a->time == s->last_t + 1;
	s->last_f = f;
	s->last_t = a->time;
	if (repeat)
		return;
	lirs_access(r, f, a);
	s_bound(s);
}

static void lirs_ref_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lirs *s = r->priv;
	s->last_f = f;
	s->last_t = a->time;
	lirs_map(r, f, a);
	s_bound(s);
}

static const struct vl_repl_ops lirs_reference_ops = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "lirs",
	.help = "LIRS (SIGMETRICS'02), as the authors' lirs.c",
	.flags = VL_REPL_WANTS_ACCESS,
	.params = lirs_params,
	.nparams = sizeof(lirs_params) / sizeof(lirs_params[0]),
	.init = lirs_init,
	.fini = lirs_fini,
	.on_map = lirs_ref_map,
	.on_unmap = lirs_unmap,
	.on_access = lirs_ref_access,
	.select_victims = lirs_victims,
};
