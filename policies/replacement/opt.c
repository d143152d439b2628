/* policies/replacement/opt.c - Belady's MIN (optimal replacement).
 *
 * Belady, "A study of replacement algorithms for a virtual-storage
 * computer", IBM Systems Journal 5(2), 1966; Mattson et al. 1970 prove it
 * optimal for fault count.  Evict the resident page whose next use lies
 * furthest in the future.  It needs the future: the engine runs a pre-pass
 * over the trace (VL_REPL_NEEDS_FUTURE) and hands each access its next-use
 * time.
 *
 * Ties: only pages never used again can tie (every access time belongs to
 * one page).  Among those, the page whose last use is oldest goes first
 * (LRU among the dead).  The fault count does not depend on this rule; the
 * write-back count does, so it is fixed and documented.
 *
 * State: a binary max-heap of resident frames keyed on (next_use, -last_use),
 * with each frame's heap position, so updates are O(log n).
 */
#include "vmlab/policy.h"

struct opt {
	uint32_t *heap;     /* frames */
	uint32_t *pos;      /* frame -> heap index */
	uint64_t *next;     /* frame -> next use */
	uint64_t *last;     /* frame -> last use */
	uint32_t n;
};

/* Does frame a make a better victim than frame b? */
static inline bool before(const struct opt *o, uint32_t a, uint32_t b)
{
	if (o->next[a] != o->next[b])
		return o->next[a] > o->next[b];
	return o->last[a] < o->last[b];
}

static inline void place(struct opt *o, uint32_t i, uint32_t f)
{
	o->heap[i] = f;
	o->pos[f] = i;
}

static void sift_up(struct opt *o, uint32_t i)
{
	uint32_t f = o->heap[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!before(o, f, o->heap[p]))
			break;
		place(o, i, o->heap[p]);
		i = p;
	}
	place(o, i, f);
}

static void sift_down(struct opt *o, uint32_t i)
{
	uint32_t f = o->heap[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= o->n)
			break;
		if (c + 1 < o->n && before(o, o->heap[c + 1], o->heap[c]))
			c++;
		if (!before(o, o->heap[c], f))
			break;
		place(o, i, o->heap[c]);
		i = c;
	}
	place(o, i, f);
}

static int opt_init(struct vl_repl *r, struct vl_error *err)
{
	struct opt *o = calloc(1, sizeof(*o));
	if (o) {
		o->heap = malloc((size_t)r->nframes * sizeof(*o->heap));
		o->pos = malloc((size_t)r->nframes * sizeof(*o->pos));
		o->next = malloc((size_t)r->nframes * sizeof(*o->next));
		o->last = malloc((size_t)r->nframes * sizeof(*o->last));
	}
	if (!o || !o->heap || !o->pos || !o->next || !o->last) {
		if (o) {
			free(o->heap);
			free(o->pos);
			free(o->next);
			free(o->last);
		}
		free(o);
		return vl_err(err, VL_ENOMEM, "opt: out of memory for %u frames", r->nframes);
	}
	r->priv = o;
	return 0;
}

static void opt_fini(struct vl_repl *r)
{
	struct opt *o = r->priv;
	free(o->heap);
	free(o->pos);
	free(o->next);
	free(o->last);
	free(o);
}

static void opt_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct opt *o = r->priv;
	o->next[f] = a->next_use;
	o->last[f] = a->time;
	o->heap[o->n] = f;
	o->pos[f] = o->n;
	o->n++;
	sift_up(o, o->n - 1);
}

static void opt_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct opt *o = r->priv;
	/* next use moves later (or to never) and last use moves later: the
	 * key only grows in "victim-ness" by next and shrinks by last, so fix
	 * both ways. */
	o->next[f] = a->next_use;
	o->last[f] = a->time;
	sift_up(o, o->pos[f]);
	sift_down(o, o->pos[f]);
}

static void opt_unmap(struct vl_repl *r, uint32_t f)
{
	struct opt *o = r->priv;
	uint32_t i = o->pos[f];
	o->n--;
	if (i == o->n)
		return;
	uint32_t g = o->heap[o->n];
	place(o, i, g);
	sift_up(o, i);
	sift_down(o, o->pos[g]);
}

static size_t opt_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct opt *o = r->priv;
	(void)ctx;
	if (o->n == 0)
		return 0;
	/* The best victim is the root; further victims are rarely asked for
	 * (textbook runs ask for one), so take the root only. */
	(void)want;
	out[0] = o->heap[0];
	return 1;
}

const struct vl_repl_ops vl_repl_opt = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "opt",
	.help = "Belady's MIN: evict the page used furthest in the future (pre-pass)",
	.flags = VL_REPL_WANTS_ACCESS | VL_REPL_NEEDS_FUTURE,
	.init = opt_init,
	.fini = opt_fini,
	.on_map = opt_map,
	.on_unmap = opt_unmap,
	.on_access = opt_access,
	.select_victims = opt_victims,
};
