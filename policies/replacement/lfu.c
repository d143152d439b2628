/* policies/replacement/lfu.c - least frequently used.
 *
 * The classic frequency policy (e.g. Coffman and Denning, "Operating
 * Systems Theory", 1973, ch. 7; Tanenbaum, "Modern Operating Systems",
 * NFU/LFU).  Evict the resident page with the fewest references since it
 * was loaded ("in-cache" LFU: a page's count starts at 1 when it is loaded
 * and is forgotten when it leaves).  Ties go to the least recently used
 * page, so the order is total and the result does not depend on frame
 * numbers (pages mapped by one access, as a large page's frames are, tie
 * on both: the one mapped first goes first).
 *
 * Counting needs every hit (VL_REPL_WANTS_ACCESS).  State: frequency
 * buckets in O(1) per event (Shah, Mitra and Matani, "An O(1) algorithm
 * for implementing the LFU cache eviction scheme", 2010).  One bucket per
 * count that some resident page has, in a list ordered by count (lowest
 * first); each bucket holds its pages in a list ordered by last use (head
 * = most recent).  Invariants: a page's bucket's count is the page's
 * count; buckets are non-empty; a page enters a bucket only at its last
 * use (load or hit), at the head, so every bucket's list is in last-use
 * order.  The victim is the lowest bucket's tail.  A hit moves a page from
 * its bucket (count c) to the head of the bucket of count c + 1, made
 * right above when missing; a page alone in its bucket with no bucket of
 * c + 1 above just raises the bucket's count.  Per frame 12 bytes (links
 * and bucket) and a bucket of 24 bytes: at most one bucket per resident
 * page is live, plus the one a hit makes before it empties another, so
 * the pool (frames + 1 buckets, allocated at init) never runs out; it is
 * handed out from the bottom, so only the buckets ever live at once are
 * touched.
 */
#include "vmlab/policy.h"

#define NIL UINT32_MAX

struct lfu_frame {
	uint32_t next, prev; /* in the bucket: next toward the tail (less recent) */
	uint32_t b;          /* bucket */
};

struct lfu_bucket {
	uint64_t count;
	uint32_t head, tail; /* frames: head most recent */
	uint32_t up, down;   /* buckets of higher / lower count; up links the free pool */
};

struct lfu {
	struct lfu_frame *fr;
	struct lfu_bucket *bk;
	uint32_t used;      /* buckets handed out so far (pool: frames + 1) */
	uint32_t free;      /* free buckets, linked by up */
	uint32_t low;       /* bucket of the lowest count, NIL when none */
	uint32_t n;         /* resident pages */
};

static int lfu_init(struct vl_repl *r, struct vl_error *err)
{
	struct lfu *s = calloc(1, sizeof(*s));
	if (s) {
		s->fr = malloc(((size_t)r->nframes + 1) * sizeof(*s->fr));
		s->bk = malloc(((size_t)r->nframes + 1) * sizeof(*s->bk));
	}
	if (!s || !s->fr || !s->bk) {
		if (s) {
			free(s->fr);
			free(s->bk);
		}
		free(s);
		return vl_err(err, VL_ENOMEM, "lfu: out of memory for %u frames", r->nframes);
	}
	s->free = s->low = NIL;
	r->priv = s;
	return 0;
}

static void lfu_fini(struct vl_repl *r)
{
	struct lfu *s = r->priv;
	free(s->fr);
	free(s->bk);
	free(s);
}

/* A new bucket of count c linked between buckets down and up (NIL at the
 * ends). */
static uint32_t bucket_new(struct lfu *s, uint64_t c, uint32_t down, uint32_t up)
{
	uint32_t b = s->free;
	if (b != NIL)
		s->free = s->bk[b].up;
	else
		b = s->used++; /* < frames + 1: see the header */
	struct lfu_bucket *x = &s->bk[b];
	x->count = c;
	x->head = x->tail = NIL;
	x->down = down;
	x->up = up;
	if (down != NIL)
		s->bk[down].up = b;
	else
		s->low = b;
	if (up != NIL)
		s->bk[up].down = b;
	return b;
}

/* Put frame f at the head of bucket b. */
static inline void push_head(struct lfu *s, uint32_t b, uint32_t f)
{
	struct lfu_bucket *x = &s->bk[b];
	struct lfu_frame *e = &s->fr[f];
	e->b = b;
	e->prev = NIL;
	e->next = x->head;
	if (x->head != NIL)
		s->fr[x->head].prev = f;
	else
		x->tail = f;
	x->head = f;
}

/* Take frame f out of its bucket; free the bucket when it empties. */
static inline void take(struct lfu *s, uint32_t f)
{
	struct lfu_frame *e = &s->fr[f];
	struct lfu_bucket *x = &s->bk[e->b];
	if (e->prev != NIL)
		s->fr[e->prev].next = e->next;
	else
		x->head = e->next;
	if (e->next != NIL)
		s->fr[e->next].prev = e->prev;
	else
		x->tail = e->prev;
	if (x->head == NIL) {
		if (x->down != NIL)
			s->bk[x->down].up = x->up;
		else
			s->low = x->up;
		if (x->up != NIL)
			s->bk[x->up].down = x->down;
		x->up = s->free;
		s->free = e->b;
	}
}

static void lfu_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lfu *s = r->priv;
	(void)a;
	uint32_t b = s->low;
	if (b == NIL || s->bk[b].count != 1)
		b = bucket_new(s, 1, NIL, b);
	push_head(s, b, f);
	s->n++;
}

static void lfu_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lfu *s = r->priv;
	(void)a;
	uint32_t b = s->fr[f].b;
	struct lfu_bucket *x = &s->bk[b];
	uint64_t c = x->count + 1;
	uint32_t up = x->up;
	bool next = up != NIL && s->bk[up].count == c;
	if (x->head == x->tail && !next) { /* alone, nothing at c + 1: raise */
		x->count = c;
		return;
	}
	if (!next)
		up = bucket_new(s, c, b, up);
	take(s, f);
	push_head(s, up, f);
}

static void lfu_unmap(struct vl_repl *r, uint32_t f)
{
	struct lfu *s = r->priv;
	take(s, f);
	s->n--;
}

static size_t lfu_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct lfu *s = r->priv;
	(void)ctx;
	(void)want;
	if (s->n == 0)
		return 0;
	out[0] = s->bk[s->low].tail;
	return 1;
}

const struct vl_repl_ops vl_repl_lfu = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "lfu",
	.help = "least frequently used since load, ties to the least recent (hears every access)",
	.flags = VL_REPL_WANTS_ACCESS,
	.init = lfu_init,
	.fini = lfu_fini,
	.on_map = lfu_map,
	.on_unmap = lfu_unmap,
	.on_access = lfu_access,
	.select_victims = lfu_victims,
};
