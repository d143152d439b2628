/* policies/replacement/arc.c - ARC, adaptive replacement cache.
 *
 * Megiddo and Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache",
 * FAST 2003 (Figure 4, the algorithm as printed there).  c = frames.
 *
 *   T1  resident pages seen once recently       (LRU list)
 *   T2  resident pages seen at least twice      (LRU list)
 *   B1  ghosts of pages evicted from T1         (LRU list of identities)
 *   B2  ghosts of pages evicted from T2
 *   p   target size of T1, adapted on ghost hits
 *
 *   hit in T1 or T2: move to T2's MRU end.
 *   miss, x in B1:  p = min(c, p + max(1, |B2|/|B1|)); REPLACE; x to T2 MRU.
 *   miss, x in B2:  p = max(0, p - max(1, |B1|/|B2|)); REPLACE; x to T2 MRU.
 *   miss, x new:    if |T1|+|B1| = c: if |T1| < c drop B1's LRU and REPLACE,
 *                   else evict T1's LRU (no ghost); otherwise, when the
 *                   directory holds 2c pages, drop B2's LRU, and REPLACE
 *                   when memory is full.  x to T1 MRU.
 *   REPLACE: if |T1| >= 1 and (|T1| > p or (x in B2 and |T1| = p)) evict
 *            T1's LRU into B1's MRU, else T2's LRU into B2's MRU.
 *
 * Variants (replacement.arc.variant): whole (default) takes the ratios
 * |B2|/|B1| as integer divisions (p a whole number of pages); paper keeps
 * them real, as Figure 4 writes them (p a double: exact for these sums on
 * every trace checked against libCacheSim's ARC.c and an exact-rational
 * transcription of Figure 4: tests/paper/test_authors_code.c).  The engine,
 * not ARC, decides when memory is full: the
 * "REPLACE" steps run in select_victims, which the engine calls only then;
 * the new p computed there for a ghost hit is applied when the page maps.
 *
 * Hits reorder T1/T2 exactly, so the policy hears every access.  Ghosts
 * are keyed by (pid, vpn); at most c ghosts exist (|B1|+|B2| <= c), in a
 * pool of records (links and page together) and a page map sized at init.
 */
#include <string.h>

#include "policies/replacement/gmap.h"
#include "vmlab/policy.h"

static const struct vl_key_def arc_params[] = {
	{ "variant", VL_KT_ENUM, "whole",
	  "whole: p in whole pages (|B2|/|B1| an integer division); paper: real-valued as in "
	  "Figure 4",
	  "whole|paper", 0, 0, NULL },
};

#define T1 0u
#define T2 1u
#define B1 0u
#define B2 1u

/* Two lists over ids sharing one array of records that begin with their
 * links (T1/T2: the links only; B1/B2: struct ghost): vl_mlist's links
 * with the heads, tails and lengths held in the struct (no load of a
 * pointer to them on every move). */
struct arc_lists {
	void *link; /* n + 1 records of esz bytes, each starting with a vl_mlink */
	uint32_t head[2], tail[2], len[2];
};

/* A ghost's record: its links on B1 / B2 and the page it remembers, side
 * by side (one cache line for a ghost touched). */
struct ghost {
	struct vl_mlink l;
	uint32_t pid;
	uint64_t vpn;
};

#define TS sizeof(struct vl_mlink) /* T1 / T2: links only */
#define GS sizeof(struct ghost)    /* B1 / B2 */

/* Record i's links (esz: TS or GS, a constant at every call). */
static inline struct vl_mlink *lk(const struct arc_lists *l, size_t esz, uint32_t i)
{
	return (struct vl_mlink *)((char *)l->link + (size_t)i * esz);
}

static int lists_init(struct arc_lists *l, size_t esz, uint32_t n)
{
	l->link = vl_alloc_big(((size_t)n + 1) * esz);
	if (!l->link)
		return VL_ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		lk(l, esz, i)->which = VL_FLIST_OUT;
	for (int k = 0; k < 2; k++) {
		l->head[k] = l->tail[k] = VL_FLIST_OUT;
		l->len[k] = 0;
	}
	return 0;
}

static inline void lists_push_head(struct arc_lists *l, size_t esz, uint32_t k, uint32_t f)
{
	struct vl_mlink *x = lk(l, esz, f);
	uint32_t h = l->head[k];
	x->which = k;
	x->prev = VL_FLIST_OUT;
	x->next = h;
	if (h != VL_FLIST_OUT)
		lk(l, esz, h)->prev = f;
	else
		l->tail[k] = f;
	l->head[k] = f;
	l->len[k]++;
}

/* Remove f from whichever list holds it (no-op when on none). */
static inline void lists_del(struct arc_lists *l, size_t esz, uint32_t f)
{
	/* links read once: the stores below may alias them for the compiler */
	struct vl_mlink *x = lk(l, esz, f);
	uint32_t k = x->which, p = x->prev, n = x->next;
	if (k == VL_FLIST_OUT)
		return;
	if (p != VL_FLIST_OUT)
		lk(l, esz, p)->next = n;
	else
		l->head[k] = n;
	if (n != VL_FLIST_OUT)
		lk(l, esz, n)->prev = p;
	else
		l->tail[k] = p;
	x->which = VL_FLIST_OUT;
	l->len[k]--;
}

static inline uint32_t lists_which(const struct arc_lists *l, size_t esz, uint32_t f)
{
	return lk(l, esz, f)->which;
}

struct arc {
	struct arc_lists t; /* frames on T1 / T2 */
	struct arc_lists b; /* ghosts (struct ghost) on B1 / B2 */
	struct gmap map;    /* (pid, vpn) -> ghost id */
	uint32_t *gfree, nfree; /* free ghost ids (stack) */
	uint32_t c;
	double p;               /* whole pages unless real */
	bool real;              /* variant = paper: real-valued ratios */
	uint32_t noghost;       /* frame to evict without a ghost (case IV) */
	bool pend;              /* select_victims saw the access at ... */
	uint64_t pend_time;     /* ... the access at this time */
	double pend_p;          /* ... the p it computed, ... */
	uint32_t pend_g;        /* ... and its ghost id (or VL_PMAP_NONE) */
	struct vl_lookahead ahead[2]; /* per T list, from its tail (arc_ahead) */
};

static void arc_free(struct arc *s)
{
	free(s->t.link);
	free(s->b.link);
	gmap_free(&s->map);
	free(s->gfree);
	free(s);
}

static int arc_init(struct vl_repl *r, struct vl_error *err)
{
	struct arc *s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	uint32_t n = r->nframes, g = n + 1;
	if (lists_init(&s->t, TS, n) < 0) {
		free(s);
		goto oom;
	}
	if (lists_init(&s->b, GS, g) < 0) {
		free(s->t.link);
		free(s);
		goto oom;
	}
	int rc = gmap_init(&s->map, g);
	s->gfree = malloc((size_t)g * sizeof(*s->gfree));
	if (rc < 0 || !s->gfree) {
		arc_free(s);
		goto oom;
	}
	for (uint32_t i = 0; i < g; i++)
		s->gfree[i] = g - 1 - i;
	s->nfree = g;
	s->c = n;
	s->real = !strcmp(vl_config_str(r->cfg, "replacement.arc.variant"), "paper");
	s->noghost = VL_FLIST_OUT;
	s->ahead[T1] = s->ahead[T2] = (struct vl_lookahead)VL_LOOKAHEAD_INIT;
	r->priv = s;
	r->hit_hint = s->t.link; /* a hit's links (arc_access) */
	r->hit_hint_stride = TS;
	return 0;
oom:
	return vl_err(err, VL_ENOMEM, "arc: out of memory for %u frames", r->nframes);
}

static void arc_fini(struct vl_repl *r)
{
	arc_free(r->priv);
}

/* Is ghost g's page (pid, vpn)? (the ghost map's question) */
static inline bool ghost_is(const void *owner, uint32_t g, uint32_t pid, uint64_t vpn)
{
	const struct ghost *x = (const struct ghost *)lk(&((const struct arc *)owner)->b, GS, g);
	return x->vpn == vpn && x->pid == pid;
}

/* Ghost id of (pid, vpn), or VL_PMAP_NONE. */
static inline uint32_t ghost_get(const struct arc *s, uint32_t pid, uint64_t vpn)
{
	return gmap_get(&s->map, pid, vpn, ghost_is, s);
}

static void ghost_del(struct arc *s, uint32_t g)
{
	struct ghost *x = (struct ghost *)lk(&s->b, GS, g);
	gmap_del(&s->map, x->pid, x->vpn, g);
	lists_del(&s->b, GS, g);
	s->gfree[s->nfree++] = g;
}

static void ghost_add(struct arc *s, uint32_t list, uint32_t pid, uint64_t vpn)
{
	if (s->nfree == 0) /* cannot happen while |B1|+|B2| <= c; stay safe */
		ghost_del(s, s->b.len[B1] ? s->b.tail[B1] : s->b.tail[B2]);
	uint32_t g = s->gfree[--s->nfree];
	struct ghost *x = (struct ghost *)lk(&s->b, GS, g);
	x->pid = pid;
	x->vpn = vpn;
	gmap_put(&s->map, pid, vpn, g, ghost_is, s);
	lists_push_head(&s->b, GS, list, g);
}

/* p after a hit on ghost g (ARC cases II and III).  Whole pages (the
 * ratio an integer division) unless real; all values are exact in a
 * double then. */
static double adapted_p(const struct arc *s, uint32_t g)
{
	uint32_t b1 = s->b.len[B1], b2 = s->b.len[B2];
	if (lists_which(&s->b, GS, g) == B1) {
		double d = b1 >= b2 ? 1 : s->real ? (double)b2 / b1 : (double)(b2 / b1);
		return s->p + d < s->c ? s->p + d : s->c;
	}
	double d = b2 >= b1 ? 1 : s->real ? (double)b1 / b2 : (double)(b1 / b2);
	return s->p > d ? s->p - d : 0;
}

static void arc_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct arc *s = r->priv;
	bool pend = s->pend && s->pend_time == a->time; /* select_victims looked it up */
	uint32_t g = pend ? s->pend_g : ghost_get(s, a->pid, a->vpn);
	if (g != VL_PMAP_NONE) {
		s->p = pend ? s->pend_p : adapted_p(s, g);
		ghost_del(s, g);
		lists_push_head(&s->t, TS, T2, f);
	} else {
		lists_push_head(&s->t, TS, T1, f);
	}
	s->pend = false;
	/* Directory bounds: |T1|+|B1| <= c and |T1|+|T2|+|B1|+|B2| <= 2c.
	 * select_victims keeps them on the paper's path; this also covers
	 * frames unmapped without the policy choosing them. */
	while (s->t.len[T1] + s->b.len[B1] > s->c && s->b.len[B1])
		ghost_del(s, s->b.tail[B1]);
	while (s->t.len[T1] + s->t.len[T2] + s->b.len[B1] + s->b.len[B2] > 2 * s->c &&
	       s->b.len[B2])
		ghost_del(s, s->b.tail[B2]);
}

/* To T2's head: lists_del then lists_push_head, in one pass (the same
 * links after). */
static void arc_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct arc *s = r->priv;
	struct arc_lists *l = &s->t;
	(void)a;
	uint32_t h = l->head[T2];
	if (h == f)
		return;
	struct vl_mlink *link = l->link, *x = &link[f];
	uint32_t k = x->which, p = x->prev, n = x->next;
	if (k == VL_FLIST_OUT) { /* on neither list (not a frame ARC mapped) */
		lists_push_head(l, TS, T2, f);
		return;
	}
	/* f on T1 or T2 (k), and not T2's head */
	if (p != VL_FLIST_OUT)
		link[p].next = n;
	else
		l->head[k] = n; /* f was T1's head: k = T1 */
	if (n != VL_FLIST_OUT)
		link[n].prev = p;
	else
		l->tail[k] = p;
	/* T2's head is still h (f was not it); only h's next may have changed */
	x->which = T2;
	x->prev = VL_FLIST_OUT;
	x->next = h;
	if (h != VL_FLIST_OUT)
		link[h].prev = f;
	else
		l->tail[T2] = f;
	l->head[T2] = f;
	l->len[k]--;
	l->len[T2]++;
}

static void arc_unmap(struct vl_repl *r, uint32_t f)
{
	struct arc *s = r->priv;
	uint32_t list = lists_which(&s->t, TS, f);
	lists_del(&s->t, TS, f);
	if (f == s->noghost) {
		s->noghost = VL_FLIST_OUT;
		return;
	}
	uint64_t vpn;
	uint32_t pid = vl_repl_owner(r, f, &vpn);
	ghost_add(s, list == T1 ? B1 : B2, pid, vpn);
}

/* A victim is taken from the tail of T_k: announce the frames that will
 * follow it, VL_REPL_PREFETCH_AHEAD ahead (their frame records and
 * page-table entries, which the eviction reads; a hint).
 * vl_lookahead_mlist's steps on arc's own lists (records of stride TS,
 * heads and tails in the struct): the place is kept while its frame is
 * still on T_k (a hit moves a page to T2's head), else the walk starts
 * again from the tail. */
static void arc_ahead(struct vl_repl *r, struct arc *s, uint32_t k)
{
	struct vl_lookahead *a = &s->ahead[k];
	uint32_t n = 1;
	if (a->list != k || (a->f != VL_FLIST_OUT ? lists_which(&s->t, TS, a->f) != k
						  : ++a->idle >= VL_REPL_PREFETCH_AHEAD)) {
		a->list = k;
		a->f = s->t.tail[k];
		a->idle = 0;
		n = VL_REPL_PREFETCH_AHEAD;
	}
	for (; n && a->f != VL_FLIST_OUT; n--) {
		vl_repl_prefetch(r, a->f);
		a->f = lk(&s->t, TS, a->f)->prev;
	}
	if (a->f != VL_FLIST_OUT)
		vl_prefetch(lk(&s->t, TS, a->f));
}

static size_t arc_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct arc *s = r->priv;
	(void)want;
	uint32_t t1 = s->t.len[T1], t2 = s->t.len[T2];
	if (t1 + t2 == 0)
		return 0;
	const struct vl_access *x = ctx ? ctx->cause : NULL;
	uint32_t g = x ? ghost_get(s, x->pid, x->vpn) : VL_PMAP_NONE;
	bool in_b2 = g != VL_PMAP_NONE && lists_which(&s->b, GS, g) == B2;
	double p = s->p;
	s->pend = x != NULL;
	if (x) {
		s->pend_time = x->time;
		s->pend_g = g;
	}
	if (g != VL_PMAP_NONE) {
		p = adapted_p(s, g);
		s->pend_p = p;
	} else if (x) {
		uint32_t b1 = s->b.len[B1], b2 = s->b.len[B2];
		if (t1 + b1 >= s->c) {
			if (t1 < s->c) {
				if (b1)
					ghost_del(s, s->b.tail[B1]);
			} else {
				out[0] = s->t.tail[T1];
				s->noghost = out[0];
				return 1;
			}
		} else if (t1 + t2 + b1 + b2 >= 2 * s->c && b2) {
			ghost_del(s, s->b.tail[B2]);
		}
	}
	uint32_t k = t1 >= 1 && (t1 > p || (in_b2 && t1 == p)) ? T1 : t2 ? T2 : T1;
	out[0] = s->t.tail[k];
	arc_ahead(r, s, k);
	return 1;
}

/* A fault of (pid, vpn) is coming (a hint only): the ghost-map slot
 * that arc_victims probes first for it, and those of the pages whose
 * ghosts are now the tails of B1 and B2 (the next fault of a new page
 * drops one of them and deletes it from the map; their records were
 * touched when the previous tails went). */
static void arc_will_fault(struct vl_repl *r, uint32_t pid, uint64_t vpn)
{
	const struct arc *s = r->priv;
	gmap_prefetch(&s->map, pid, vpn);
	for (uint32_t k = B1; k <= B2; k++) {
		if (s->b.len[k]) {
			const struct ghost *x = (const struct ghost *)lk(&s->b, GS, s->b.tail[k]);
			gmap_prefetch(&s->map, x->pid, x->vpn);
		}
	}
}

const struct vl_repl_ops vl_repl_arc = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "arc",
	.help = "ARC (FAST'03): adaptive split between recency and frequency, with ghosts",
	.params = arc_params,
	.nparams = sizeof(arc_params) / sizeof(arc_params[0]),
	.flags = VL_REPL_WANTS_ACCESS | VL_REPL_HINT_FAULT,
	.init = arc_init,
	.fini = arc_fini,
	.on_map = arc_map,
	.on_unmap = arc_unmap,
	.on_access = arc_access,
	.select_victims = arc_victims,
	.will_fault = arc_will_fault,
};
