/* policies/replacement/s3fifo.c - S3-FIFO.
 *
 * Yang, Zhang, Qiu, Yue and Vinayak, "FIFO queues are all you need for
 * cache eviction", SOSP 2023 (Algorithm 1), following the authors'
 * reference implementation of the paper (libCacheSim S3FIFOv0) where the
 * pseudocode leaves a choice open.
 *
 * Three FIFO queues: a small queue S (10% of the frames), a main queue M
 * (the rest) and a ghost queue G of page identities (90% of the frames,
 * entries only).  Each resident page has a frequency, 0 at insertion,
 * incremented by every hit (read as capped at 3).
 *
 *   miss:   if the page is in G, remove it there and insert it at M's
 *           head; otherwise insert it at S's head.  Frequency 0.
 *   evict:  if |M| > its share, or S is empty, evict from M; else from S.
 *   from S: take S's tail; with frequency >= move_to_main (2: "t.freq > 1"
 *           in the paper's pseudocode) move it to M's head with frequency
 *           0 and look at the next tail of S; otherwise it is the victim
 *           and its identity enters G (G drops its oldest entry when full).
 *           If S empties without a victim, evict from M.
 *   from M: take M's tail; with frequency f > 0 reinsert it at M's head
 *           with min(f, 3) - 1 (a 2-bit CLOCK); otherwise it is the victim.
 *
 * Hits must be counted exactly, so the policy hears every access
 * (VL_REPL_WANTS_ACCESS): one byte increment per hit.  Ghosts are keyed by
 * (pid, vpn) in a fixed-size page map.
 *
 * Variants (replacement.s3fifo.variant), which differ only in G:
 *   ring         (default) G is a ring of ghost_pct% slots; a ghost that
 *                is hit leaves its slot empty until the ring comes round,
 *                so G holds fewer live entries after ghost hits.
 *   libcachesim  the authors' implementation in libCacheSim
 *                (libCacheSim/cache/eviction/S3FIFO.c, commit aa0fc40 of
 *                2024-10-07, unchanged there since 4d47e20 of 2024-01-03):
 *                G is a FIFO cache of ghost_pct% entries; a ghost hit
 *                removes its entry, freeing room, and G drops its oldest
 *                entry only when that many are live.  Equal to it miss for
 *                miss (on the LIRS traces, 50 to 2000 frames) when S holds
 *                at least 2 pages: libCacheSim admits nothing to a small
 *                queue of 1 object (S3FIFO_insert: obj_size >= size).
 */
#include <string.h>

#include "vmlab/policy.h"

enum { IN_NONE, IN_S, IN_M };

struct s3 {
	struct vl_flist s, m;  /* frames; head = newest */
	uint8_t *freq;         /* per frame */
	uint8_t *where;        /* per frame: IN_S / IN_M */
	uint32_t s_max, m_max; /* shares of the frames */
	uint32_t threshold;
	/* ghost FIFO: ring of slots holding (pid, vpn); the map gives the
	 * slot so that a hit removes it.  Removed slots are marked dead and
	 * skipped when the ring wraps. */
	struct vl_pmap gmap;
	struct { uint64_t vpn; uint32_t pid, live; } *g; /* the ring */
	uint32_t gcap, ghead, gcount; /* ring of gcap slots; gcount live */
	uint32_t gused;               /* slots between the oldest and ghead */
	/* variant libcachesim: G as a list of live entries over the slots */
	bool exact;
	struct vl_flist gl;           /* head = newest */
	uint32_t *gfree, nfree;
	bool hit_ghost;               /* the faulting page's entry already left G */
	uint32_t hit_pid;
	uint64_t hit_vpn;
};

static const struct vl_repl_ops s3fifo_libcachesim_ops;

static const struct vl_key_def s3fifo_params[] = {
	{ "variant", VL_KT_ENUM, "ring",
	  "ring: G a ring of slots, hit ghosts keep theirs until it wraps; libcachesim: G a FIFO of "
	  "live entries (libCacheSim's S3FIFO.c)",
	  "ring|libcachesim", 0, 0, NULL },
	{ "small_pct", VL_KT_U64, "10", "small queue S as a percentage of the frames", NULL, 0, 100,
	  NULL },
	{ "ghost_pct", VL_KT_U64, "90", "ghost queue G entries as a percentage of the frames", NULL,
	  0, 1000, NULL },
	{ "move_to_main", VL_KT_U64, "2",
	  "hits a page needs while in S to move to M (2 = the paper's freq > 1)", NULL, 1, 3, NULL },
};

static void s3_free(struct s3 *s)
{
	vl_flist_free(&s->s);
	vl_flist_free(&s->m);
	vl_pmap_free(&s->gmap);
	if (s->exact)
		vl_flist_free(&s->gl);
	free(s->gfree);
	free(s->freq);
	free(s->where);
	free(s->g);
	free(s);
}

static int s3_init(struct vl_repl *r, struct vl_error *err)
{
	struct s3 *s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	uint32_t n = r->nframes;
	s->s_max = (uint32_t)((uint64_t)n * vl_config_u64(r->cfg, "replacement.s3fifo.small_pct") / 100);
	s->m_max = n - s->s_max;
	s->threshold = (uint32_t)vl_config_u64(r->cfg, "replacement.s3fifo.move_to_main");
	s->gcap = (uint32_t)((uint64_t)n * vl_config_u64(r->cfg, "replacement.s3fifo.ghost_pct") / 100);
	int rc = vl_flist_init(&s->s, n);
	rc |= vl_flist_init(&s->m, n);
	rc |= vl_pmap_init(&s->gmap, s->gcap ? s->gcap : 1);
	s->freq = calloc(n, 1);
	s->where = calloc(n, 1);
	s->g = calloc((size_t)s->gcap + 1, sizeof(*s->g));
	s->exact = !strcmp(vl_config_str(r->cfg, "replacement.s3fifo.variant"), "libcachesim");
	if (s->exact) {
		rc |= vl_flist_init(&s->gl, s->gcap + 1);
		s->gfree = malloc(((size_t)s->gcap + 1) * sizeof(*s->gfree));
		if (s->gfree)
			for (uint32_t i = 0; i < s->gcap; i++)
				s->gfree[s->nfree++] = s->gcap - 1 - i;
	}
	if (rc || !s->freq || !s->where || !s->g || (s->exact && !s->gfree)) {
		s3_free(s);
		goto oom;
	}
	r->priv = s;
	if (s->exact)
		r->ops = &s3fifo_libcachesim_ops;
	return 0;
oom:
	return vl_err(err, VL_ENOMEM, "s3fifo: out of memory for %u frames", r->nframes);
}

static void s3_fini(struct vl_repl *r)
{
	s3_free(r->priv);
}

/* Remember an evicted page in G, dropping G's oldest entry when full. */
static void ghost_add(struct s3 *s, uint32_t pid, uint64_t vpn)
{
	if (s->gcap == 0)
		return;
	while (s->gcount == s->gcap || s->gused == s->gcap) {
		/* the oldest slot: ghead - gused, modulo gcap (gused <= gcap) */
		uint32_t old = s->ghead >= s->gused ? s->ghead - s->gused
						    : s->ghead + s->gcap - s->gused;
		if (s->g[old].live) {
			vl_pmap_del(&s->gmap, s->g[old].pid, s->g[old].vpn);
			s->g[old].live = 0;
			s->gcount--;
		}
		s->gused--;
	}
	uint32_t g = s->ghead;
	s->ghead = s->ghead + 1 == s->gcap ? 0 : s->ghead + 1;
	s->gused++;
	s->g[g].vpn = vpn;
	s->g[g].pid = pid;
	s->g[g].live = 1;
	s->gcount++;
	/* not already in G: a page leaves G when it is mapped again */
	vl_pmap_put(&s->gmap, pid, vpn, g);
}

static void s3_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct s3 *s = r->priv;
	uint32_t g = s->gcap ? vl_pmap_del(&s->gmap, a->pid, a->vpn) : VL_PMAP_NONE;
	s->freq[f] = 0;
	if (g != VL_PMAP_NONE) {
		s->g[g].live = 0;
		s->gcount--;
		s->where[f] = IN_M;
		vl_flist_push_head(&s->m, f);
	} else {
		s->where[f] = IN_S;
		vl_flist_push_head(&s->s, f);
	}
}

/* libcachesim: G a FIFO of at most gcap live entries. */
static void ghost_add_exact(struct s3 *s, uint32_t pid, uint64_t vpn)
{
	if (s->gcap == 0)
		return;
	if (s->gl.len == s->gcap) {
		uint32_t old = s->gl.tail;
		vl_flist_del(&s->gl, old);
		vl_pmap_del(&s->gmap, s->g[old].pid, s->g[old].vpn);
		s->gfree[s->nfree++] = old;
	}
	uint32_t g = s->gfree[--s->nfree];
	s->g[g].vpn = vpn;
	s->g[g].pid = pid;
	vl_flist_push_head(&s->gl, g);
	vl_pmap_put(&s->gmap, pid, vpn, g);
}

/* Take (pid, vpn) out of G; whether it was there. */
static bool ghost_take_exact(struct s3 *s, uint32_t pid, uint64_t vpn)
{
	uint32_t g = s->gcap ? vl_pmap_del(&s->gmap, pid, vpn) : VL_PMAP_NONE;
	if (g == VL_PMAP_NONE)
		return false;
	vl_flist_del(&s->gl, g);
	s->gfree[s->nfree++] = g;
	return true;
}

static void s3_map_exact(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct s3 *s = r->priv;
	bool ghost = s->hit_ghost && s->hit_pid == a->pid && s->hit_vpn == a->vpn;
	s->hit_ghost = false;
	if (!ghost)
		ghost = ghost_take_exact(s, a->pid, a->vpn);
	s->freq[f] = 0;
	if (ghost) {
		s->where[f] = IN_M;
		vl_flist_push_head(&s->m, f);
	} else {
		s->where[f] = IN_S;
		vl_flist_push_head(&s->s, f);
	}
}

static void s3_unmap_exact(struct vl_repl *r, uint32_t f)
{
	struct s3 *s = r->priv;
	if (s->where[f] == IN_S) {
		uint64_t vpn;
		uint32_t pid = vl_repl_owner(r, f, &vpn);
		vl_flist_del(&s->s, f);
		ghost_add_exact(s, pid, vpn);
	} else {
		vl_flist_del(&s->m, f);
	}
	s->where[f] = IN_NONE;
}

static void s3_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct s3 *s = r->priv;
	(void)a;
	if (s->freq[f] < 3)
		s->freq[f]++;
}

static void s3_unmap(struct vl_repl *r, uint32_t f)
{
	struct s3 *s = r->priv;
	if (s->where[f] == IN_S) {
		/* evicted from S: its identity goes to G */
		uint64_t vpn;
		uint32_t pid = vl_repl_owner(r, f, &vpn);
		vl_flist_del(&s->s, f);
		ghost_add(s, pid, vpn);
	} else {
		vl_flist_del(&s->m, f);
	}
	s->where[f] = IN_NONE;
}

static size_t s3_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			 size_t want)
{
	struct s3 *s = r->priv;
	(void)want;
	if (s->s.len + s->m.len == 0)
		return 0;
	if (ctx && ctx->cause && s->gcap) /* on_map will look it up in G */
		vl_pmap_prefetch(&s->gmap, ctx->cause->pid, ctx->cause->vpn);
	if (s->m.len <= s->m_max && s->s.len > 0) {
		while (s->s.len > 0) {
			uint32_t t = s->s.tail;
			if (s->freq[t] < s->threshold) {
				out[0] = t;
				return 1;
			}
			vl_flist_del(&s->s, t);
			vl_flist_push_head(&s->m, t);
			s->where[t] = IN_M;
			s->freq[t] = 0;
		}
	}
	/* Every lap lowers each frequency, so this ends within four laps. */
	for (;;) {
		uint32_t t = s->m.tail;
		if (s->freq[t] == 0) {
			out[0] = t;
			return 1;
		}
		s->freq[t]--;
		vl_flist_move_head(&s->m, t);
	}
}

const struct vl_repl_ops vl_repl_s3fifo = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "s3fifo",
	.help = "S3-FIFO (SOSP'23): small, main and ghost FIFO queues",
	.flags = VL_REPL_WANTS_ACCESS,
	.params = s3fifo_params,
	.nparams = sizeof(s3fifo_params) / sizeof(s3fifo_params[0]),
	.init = s3_init,
	.fini = s3_fini,
	.on_map = s3_map,
	.on_unmap = s3_unmap,
	.on_access = s3_access,
	.select_victims = s3_victims,
};

/* libCacheSim looks the missed page up in G (and takes it out) before it
 * evicts: the eviction then finds that entry's room free. */
static size_t s3_victims_exact(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
			       size_t want)
{
	struct s3 *s = r->priv;
	if (ctx && ctx->cause && !s->hit_ghost &&
	    ghost_take_exact(s, ctx->cause->pid, ctx->cause->vpn)) {
		s->hit_ghost = true;
		s->hit_pid = ctx->cause->pid;
		s->hit_vpn = ctx->cause->vpn;
	}
	return s3_victims(r, NULL, out, want);
}

static const struct vl_repl_ops s3fifo_libcachesim_ops = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "s3fifo",
	.help = "S3-FIFO (SOSP'23), as libCacheSim's S3FIFO.c",
	.flags = VL_REPL_WANTS_ACCESS,
	.params = s3fifo_params,
	.nparams = sizeof(s3fifo_params) / sizeof(s3fifo_params[0]),
	.init = s3_init,
	.fini = s3_fini,
	.on_map = s3_map_exact,
	.on_unmap = s3_unmap_exact,
	.on_access = s3_access,
	.select_victims = s3_victims_exact,
};
