/* policies/replacement/car.c - CAR, CLOCK with adaptive replacement.
 *
 * Bansal and Modha, "CAR: Clock with Adaptive Replacement", FAST 2004
 * (Figure 2).  c = frames.
 *
 *   T1, T2  two clocks of resident pages (T1: seen once recently, T2: more)
 *   B1, B2  LRU lists of identities of pages evicted from T1 / T2
 *   p       target size of T1
 *
 *   hit:  set the page's reference bit (the hardware does: the PTE's A).
 *   miss: if memory is full, replace():
 *           repeat: if |T1| >= max(1, p): the page under T1's hand with
 *             bit 0 is evicted to B1's MRU end, with bit 1 it moves to
 *             T2's tail with bit 0; else the same on T2's hand, survivors
 *             staying in T2 (tail, bit 0), the victim going to B2.
 *         and, if x is in neither B1 nor B2: if |T1|+|B1| = c drop B1's
 *         LRU, else if |T1|+|T2|+|B1|+|B2| = 2c drop B2's LRU.
 *         x new: to T1's tail.  x in B1: p = min(p + max(1, |B2|/|B1|), c),
 *         x to T2's tail.  x in B2: p = max(p - max(1, |B1|/|B2|), 0),
 *         x to T2's tail.  Bit 0 in every case.
 *
 * Reference bits are the accessed bits, read and cleared through the
 * engine: the policy hears no hits.  The faulting access sets A, so
 * on_map clears it (CAR inserts with the bit clear).  |B2|/|B1| is an
 * integer division (variant = whole, the default; p in whole pages) or
 * real as Figure 2 writes it (variant = paper; p a double; equal, miss for
 * miss, to an exact-rational transcription of Figure 2 on the LIRS traces,
 * tests/paper/test_authors_code.c).  The directory trims run when the page maps, after
 * the victim became a ghost, which is where the paper runs them.  Ghosts
 * are keyed by (pid, vpn); at most c of them.
 */
#include <string.h>

#include "policies/replacement/gmap.h"
#include "vmlab/policy.h"

static const struct vl_key_def car_params[] = {
	{ "variant", VL_KT_ENUM, "whole",
	  "whole: p in whole pages (|B2|/|B1| an integer division); paper: real-valued as in "
	  "Figure 2",
	  "whole|paper", 0, 0, NULL },
};

#define T1 0u
#define T2 1u
#define B1 0u
#define B2 1u

struct car {
	struct vl_mlist t; /* clocks: head = tail of the paper's clock, tail = hand */
	struct vl_mlist b; /* ghosts: head = MRU */
	struct gmap map;   /* (pid, vpn) -> ghost id */
	struct gkey *gk;   /* per ghost id: its page */
	uint32_t *gfree, nfree;
	uint32_t c;
	double p;   /* whole pages unless real */
	bool real;  /* variant = paper */
	struct vl_lookahead ahead[2]; /* along each clock's hand (T1, T2) */
};

static void car_free(struct car *s)
{
	vl_mlist_free(&s->t);
	vl_mlist_free(&s->b);
	gmap_free(&s->map);
	free(s->gk);
	free(s->gfree);
	free(s);
}

static int car_init(struct vl_repl *r, struct vl_error *err)
{
	struct car *s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	uint32_t n = r->nframes, g = n + 1;
	int rc = vl_mlist_init(&s->t, n, 2);
	rc |= vl_mlist_init(&s->b, g, 2);
	rc |= gmap_init(&s->map, g);
	s->gk = vl_alloc_big((size_t)g * sizeof(*s->gk));
	s->gfree = malloc((size_t)g * sizeof(*s->gfree));
	if (rc || !s->gk || !s->gfree) {
		car_free(s);
		goto oom;
	}
	for (uint32_t i = 0; i < g; i++)
		s->gfree[i] = g - 1 - i;
	s->nfree = g;
	s->c = n;
	s->real = !strcmp(vl_config_str(r->cfg, "replacement.car.variant"), "paper");
	s->ahead[0] = s->ahead[1] = (struct vl_lookahead)VL_LOOKAHEAD_INIT;
	r->priv = s;
	return 0;
oom:
	return vl_err(err, VL_ENOMEM, "car: out of memory for %u frames", r->nframes);
}

static void car_fini(struct vl_repl *r)
{
	car_free(r->priv);
}

static void ghost_del(struct car *s, uint32_t g)
{
	gmap_del(&s->map, s->gk[g].pid, s->gk[g].vpn, g);
	vl_mlist_del(&s->b, g);
	s->gfree[s->nfree++] = g;
}

static void car_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct car *s = r->priv;
	uint32_t g = gmap_get(&s->map, a->pid, a->vpn, gkey_same, s->gk);
	vl_repl_referenced(r, f, true); /* inserted with the bit clear */
	if (g == VL_PMAP_NONE) {
		uint32_t t1 = s->t.len[T1], t2 = s->t.len[T2], b1 = s->b.len[B1], b2 = s->b.len[B2];
		/* only when memory was full: f's frame was just freed by replace() */
		if (t1 + t2 + 1 >= s->c) {
			if (t1 + b1 >= s->c) {
				if (b1)
					ghost_del(s, s->b.tail[B1]);
			} else if (t1 + t2 + b1 + b2 >= 2 * s->c && b2) {
				ghost_del(s, s->b.tail[B2]);
			}
		}
		vl_mlist_push_head(&s->t, T1, f);
		return;
	}
	uint32_t b1 = s->b.len[B1], b2 = s->b.len[B2];
	if (vl_mlist_which(&s->b, g) == B1) {
		double d = b2 > b1 ? (s->real ? (double)b2 / b1 : (double)(b2 / b1)) : 1;
		s->p = s->p + d < s->c ? s->p + d : s->c;
	} else {
		double d = b1 > b2 ? (s->real ? (double)b1 / b2 : (double)(b1 / b2)) : 1;
		s->p = s->p > d ? s->p - d : 0;
	}
	ghost_del(s, g);
	vl_mlist_push_head(&s->t, T2, f);
}

static void car_unmap(struct vl_repl *r, uint32_t f)
{
	struct car *s = r->priv;
	uint32_t list = vl_mlist_which(&s->t, f) == T1 ? B1 : B2;
	vl_mlist_del(&s->t, f);
	if (s->nfree == 0) /* |B1|+|B2| <= c keeps this from happening */
		ghost_del(s, s->b.len[B1] ? s->b.tail[B1] : s->b.tail[B2]);
	uint32_t g = s->gfree[--s->nfree];
	struct gkey *k = &s->gk[g];
	k->pid = vl_repl_owner(r, f, &k->vpn);
	gmap_put(&s->map, k->pid, k->vpn, g, gkey_same, s->gk);
	vl_mlist_push_head(&s->b, list, g);
}

static size_t car_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			  size_t want)
{
	struct car *s = r->priv;
	(void)ctx;
	(void)want;
	if (s->t.len[T1] + s->t.len[T2] == 0)
		return 0;
	/* Each page's bit is cleared when passed, so this ends. */
	for (;;) {
		uint32_t t1 = s->t.len[T1];
		if (t1 >= (s->p > 1 ? s->p : 1) || s->t.len[T2] == 0) {
			uint32_t f = s->t.tail[T1];
			vl_lookahead_mlist(r, &s->ahead[0], &s->t, T1);
			if (!vl_repl_referenced(r, f, true)) {
				out[0] = f;
				return 1;
			}
			vl_mlist_del(&s->t, f);
			vl_mlist_push_head(&s->t, T2, f);
		} else {
			uint32_t f = s->t.tail[T2];
			vl_lookahead_mlist(r, &s->ahead[1], &s->t, T2);
			if (!vl_repl_referenced(r, f, true)) {
				out[0] = f;
				return 1;
			}
			vl_mlist_del(&s->t, f);
			vl_mlist_push_head(&s->t, T2, f);
		}
	}
}

/* A fault of (pid, vpn) is coming (a hint only): the ghost-map slot
 * where car_map's lookup of it begins, and those of the pages whose
 * ghosts are now the tails of B1 and B2 (a fault of a new page may drop
 * one of them). */
static void car_will_fault(struct vl_repl *r, uint32_t pid, uint64_t vpn)
{
	const struct car *s = r->priv;
	gmap_prefetch(&s->map, pid, vpn);
	for (uint32_t k = B1; k <= B2; k++) {
		if (s->b.len[k]) {
			const struct gkey *x = &s->gk[s->b.tail[k]];
			gmap_prefetch(&s->map, x->pid, x->vpn);
		}
	}
}

const struct vl_repl_ops vl_repl_car = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "car",
	.flags = VL_REPL_HINT_FAULT,
	.help = "CAR (FAST'04): ARC's adaptation over two CLOCKs of accessed bits",
	.params = car_params,
	.nparams = sizeof(car_params) / sizeof(car_params[0]),
	.init = car_init,
	.fini = car_fini,
	.on_map = car_map,
	.on_unmap = car_unmap,
	.select_victims = car_victims,
	.will_fault = car_will_fault,
};
