/* policies/replacement/2q.c - 2Q, the full version.
 *
 * Johnson and Shasha, "2Q: A Low Overhead High Performance Buffer
 * Management Replacement Algorithm", VLDB 1994 (section 2.2, "Full 2Q").
 *
 *   A1in   FIFO of resident pages seen once (at most Kin = 25% of frames
 *          before it gives up a page)
 *   A1out  FIFO of identities of pages evicted from A1in (Kout = 50%)
 *   Am     LRU list of resident pages re-referenced after leaving A1in
 *
 *   hit in Am:   move to Am's head.   hit in A1in: nothing (correlated
 *   reference).  miss: if free frames exist take one, else reclaim: if
 *   |A1in| > Kin evict A1in's tail and remember it at A1out's head
 *   (dropping A1out's tail beyond Kout), else evict Am's tail (not
 *   remembered).  The page then goes to Am's head if it was in A1out
 *   (and leaves A1out), else to A1in's head.
 *
 * Variants (replacement.2q.variant):
 *   ring (default)  A1out is a ring of Kout slots; a page found there
 *                   leaves an empty slot that still counts until the ring
 *                   comes round, and the page is looked up in A1out only
 *                   after the reclaim (which may have pushed it out).
 *   paper           A1out is a FIFO of at most Kout live identities, and
 *                   whether the faulting page is in A1out is decided
 *                   before reclaimfor() runs, as the paper's pseudocode
 *                   does (if the reclaim pushes it out of A1out it still
 *                   goes to Am).  Equal, miss for miss, to a transcription
 *                   of the pseudocode (tests/paper/test_authors_code.c).
 *
 * When Am is empty and A1in is within Kin, A1in's tail is evicted anyway
 * (the paper's pseudocode assumes this cannot happen).  Am's order needs
 * every hit, so the policy hears every access; A1out is keyed by
 * (pid, vpn) in a ring and page map sized at init.
 */
#include <string.h>

#include "vmlab/policy.h"

#define A1IN 0u
#define AM 1u

struct twoq {
	struct vl_mlist q;  /* frames on A1in / Am */
	uint32_t kin, kout;
	struct vl_pmap map; /* A1out: (pid, vpn) -> ring slot */
	uint64_t *ovpn;
	uint32_t *opid;
	uint8_t *olive;
	uint32_t ohead, oused, ocount;
	/* variant paper: A1out as a list of live slots */
	struct vl_flist ol;   /* head = newest */
	uint32_t *ofree, nofree;
	bool hit_out;         /* the faulting page was in A1out before the reclaim */
	uint32_t hit_pid;
	uint64_t hit_vpn;
	bool paper;
};

static const struct vl_repl_ops twoq_paper_ops;

static const struct vl_key_def twoq_params[] = {
	{ "variant", VL_KT_ENUM, "ring",
	  "ring: A1out a ring of Kout slots, looked up after the reclaim; paper: A1out a FIFO of "
	  "Kout live entries, looked up before it, as the pseudocode",
	  "ring|paper", 0, 0, NULL },
	{ "kin_pct", VL_KT_U64, "25", "Kin: A1in's share of the frames, in percent", NULL, 0, 100,
	  NULL },
	{ "kout_pct", VL_KT_U64, "50", "Kout: A1out's entries as a percentage of the frames", NULL, 0,
	  1000, NULL },
};

static void twoq_free(struct twoq *s)
{
	vl_mlist_free(&s->q);
	vl_pmap_free(&s->map);
	free(s->ovpn);
	free(s->opid);
	free(s->olive);
	if (s->paper)
		vl_flist_free(&s->ol);
	free(s->ofree);
	free(s);
}

static int twoq_init(struct vl_repl *r, struct vl_error *err)
{
	struct twoq *s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	uint32_t n = r->nframes;
	s->kin = (uint32_t)((uint64_t)n * vl_config_u64(r->cfg, "replacement.2q.kin_pct") / 100);
	s->kout = (uint32_t)((uint64_t)n * vl_config_u64(r->cfg, "replacement.2q.kout_pct") / 100);
	int rc = vl_mlist_init(&s->q, n, 2);
	rc |= vl_pmap_init(&s->map, s->kout + 1);
	s->ovpn = malloc(((size_t)s->kout + 1) * sizeof(*s->ovpn));
	s->opid = malloc(((size_t)s->kout + 1) * sizeof(*s->opid));
	s->olive = calloc((size_t)s->kout + 1, 1);
	s->paper = !strcmp(vl_config_str(r->cfg, "replacement.2q.variant"), "paper");
	if (s->paper) {
		/* Kout + 1 slots: the page just pushed out waits one step */
		rc |= vl_flist_init(&s->ol, s->kout + 1);
		s->ofree = malloc(((size_t)s->kout + 1) * sizeof(*s->ofree));
		if (s->ofree)
			for (uint32_t i = 0; i <= s->kout; i++)
				s->ofree[s->nofree++] = s->kout - i;
	}
	if (rc || !s->ovpn || !s->opid || !s->olive || (s->paper && !s->ofree)) {
		twoq_free(s);
		goto oom;
	}
	r->priv = s;
	if (s->paper)
		r->ops = &twoq_paper_ops;
	return 0;
oom:
	return vl_err(err, VL_ENOMEM, "2q: out of memory for %u frames", r->nframes);
}

static void twoq_fini(struct vl_repl *r)
{
	twoq_free(r->priv);
}

/* Store val for (pid, vpn) in one probe; the value it replaces, or
 * VL_PMAP_NONE when the key is new (the map has room: at most Kout + 1
 * keys, and A1out holds at most Kout). */
static uint32_t map_swap(struct vl_pmap *m, uint32_t pid, uint64_t vpn, uint32_t val)
{
	uint32_t i = vl_pmap_home(m, pid, vpn);
	for (; m->slot[i].val != VL_PMAP_NONE; i = (i + 1) & m->mask) {
		if (m->slot[i].vpn == vpn && m->slot[i].pid == pid) {
			uint32_t old = m->slot[i].val;
			m->slot[i].val = val;
			return old;
		}
	}
	if (m->n < m->max) { /* vl_pmap_put's insertion, at the empty slot found */
		m->slot[i].vpn = vpn;
		m->slot[i].pid = pid;
		m->slot[i].val = val;
		m->n++;
	}
	return VL_PMAP_NONE;
}

static void out_add(struct twoq *s, uint32_t pid, uint64_t vpn)
{
	if (s->kout == 0)
		return;
	if (s->oused == s->kout) { /* drop A1out's tail: the ring is full, it is at ohead */
		uint32_t old = s->ohead;
		if (s->olive[old]) {
			vl_pmap_del(&s->map, s->opid[old], s->ovpn[old]);
			s->olive[old] = 0;
			s->ocount--;
		}
		s->oused--;
	}
	uint32_t o = s->ohead;
	s->ohead = s->ohead + 1 == s->kout ? 0 : s->ohead + 1;
	s->oused++;
	s->opid[o] = pid;
	s->ovpn[o] = vpn;
	s->olive[o] = 1;
	s->ocount++;
	uint32_t dup = map_swap(&s->map, pid, vpn, o);
	if (dup != VL_PMAP_NONE) { /* it was there already: that entry is dead */
		s->olive[dup] = 0;
		s->ocount--;
	}
}

static void twoq_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct twoq *s = r->priv;
	uint32_t o = s->kout ? vl_pmap_del(&s->map, a->pid, a->vpn) : VL_PMAP_NONE;
	if (o != VL_PMAP_NONE) {
		s->olive[o] = 0;
		s->ocount--;
		vl_mlist_push_head(&s->q, AM, f);
	} else {
		vl_mlist_push_head(&s->q, A1IN, f);
	}
}

static void twoq_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct twoq *s = r->priv;
	(void)a;
	if (vl_mlist_which(&s->q, f) == AM && s->q.head[AM] != f) {
		vl_mlist_del(&s->q, f);
		vl_mlist_push_head(&s->q, AM, f);
	}
}

static void twoq_unmap(struct vl_repl *r, uint32_t f)
{
	struct twoq *s = r->priv;
	uint32_t list = vl_mlist_which(&s->q, f);
	vl_mlist_del(&s->q, f);
	if (list == A1IN) { /* every page leaving A1in is remembered in A1out */
		uint64_t vpn;
		uint32_t pid = vl_repl_owner(r, f, &vpn);
		out_add(s, pid, vpn);
	}
}

static size_t twoq_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			   size_t want)
{
	struct twoq *s = r->priv;
	(void)want;
	uint32_t in = s->q.len[A1IN], am = s->q.len[AM];
	if (in + am == 0)
		return 0;
	if (ctx && ctx->cause && s->kout) /* on_map will look it up in A1out */
		vl_pmap_prefetch(&s->map, ctx->cause->pid, ctx->cause->vpn);
	out[0] = in > s->kin || am == 0 ? s->q.tail[A1IN] : s->q.tail[AM];
	return 1;
}

const struct vl_repl_ops vl_repl_2q = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "2q",
	.help = "full 2Q (VLDB'94): FIFO A1in, ghost A1out, LRU Am",
	.flags = VL_REPL_WANTS_ACCESS,
	.params = twoq_params,
	.nparams = sizeof(twoq_params) / sizeof(twoq_params[0]),
	.init = twoq_init,
	.fini = twoq_fini,
	.on_map = twoq_map,
	.on_unmap = twoq_unmap,
	.on_access = twoq_access,
	.select_victims = twoq_victims,
};

/* ---- variant = paper ---- */

/* Take (pid, vpn) out of A1out; whether it was there. */
static bool out_take(struct twoq *s, uint32_t pid, uint64_t vpn)
{
	uint32_t o = vl_pmap_del(&s->map, pid, vpn);
	if (o == VL_PMAP_NONE)
		return false;
	vl_flist_del(&s->ol, o);
	s->ofree[s->nofree++] = o;
	return true;
}

/* Y's identity to A1out's head; beyond Kout, the tail leaves. */
static void out_add_paper(struct twoq *s, uint32_t pid, uint64_t vpn)
{
	if (s->kout == 0)
		return;
	uint32_t o = s->ofree[--s->nofree];
	s->opid[o] = pid;
	s->ovpn[o] = vpn;
	vl_flist_push_head(&s->ol, o);
	vl_pmap_put(&s->map, pid, vpn, o);
	if (s->ol.len > s->kout)
		out_take(s, s->opid[s->ol.tail], s->ovpn[s->ol.tail]);
}

static void twoq_unmap_paper(struct vl_repl *r, uint32_t f)
{
	struct twoq *s = r->priv;
	uint32_t list = vl_mlist_which(&s->q, f);
	vl_mlist_del(&s->q, f);
	if (list == A1IN) {
		uint64_t vpn;
		uint32_t pid = vl_repl_owner(r, f, &vpn);
		out_add_paper(s, pid, vpn);
	}
}

static size_t twoq_victims_paper(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
				 size_t want)
{
	struct twoq *s = r->priv;
	if (ctx && ctx->cause) {
		s->hit_out = vl_pmap_get(&s->map, ctx->cause->pid, ctx->cause->vpn) != VL_PMAP_NONE;
		s->hit_pid = ctx->cause->pid;
		s->hit_vpn = ctx->cause->vpn;
	}
	return twoq_victims(r, NULL, out, want);
}

static void twoq_map_paper(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct twoq *s = r->priv;
	bool decided = s->hit_out && s->hit_pid == a->pid && s->hit_vpn == a->vpn;
	s->hit_out = false;
	bool was_out = out_take(s, a->pid, a->vpn);
	vl_mlist_push_head(&s->q, was_out || decided ? AM : A1IN, f);
}

static const struct vl_repl_ops twoq_paper_ops = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "2q",
	.help = "full 2Q (VLDB'94) as its pseudocode",
	.flags = VL_REPL_WANTS_ACCESS,
	.params = twoq_params,
	.nparams = sizeof(twoq_params) / sizeof(twoq_params[0]),
	.init = twoq_init,
	.fini = twoq_fini,
	.on_map = twoq_map_paper,
	.on_unmap = twoq_unmap_paper,
	.on_access = twoq_access,
	.select_victims = twoq_victims_paper,
};
