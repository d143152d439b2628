/* analysis/mrc.c - one-pass LRU stack distances with a Fenwick tree.
 *
 * Every access gets a "slot", the next integer.  A bitmap over slots holds
 * a 1 at the slot of each page's most recent access, so the stack distance
 * of an access to a page last seen at slot s is
 *
 *     1 + (marks at slots > s) = 1 + live - prefix(s)
 *
 * where live is the number of distinct pages seen.  The access then moves
 * the page's mark from s to the new slot.  prefix() is a Fenwick (binary
 * indexed) tree over 64-slot blocks of the bitmap plus a popcount inside
 * the block: O(log C) steps, and the tree is 1/64 of the slots, so it stays
 * in cache where a per-slot tree would miss on every level.
 *
 * Invariants: set bits == pages in the table; for a set bit, owner[slot]
 * names the page whose latest access is that slot.  When the slots run out
 * the live ones are renumbered 0..live-1 in order (distances only depend on
 * order) and the tree is rebuilt; the capacity doubles when more than half
 * would be live, so compaction costs O(1) amortised per access.
 *
 * A page accessed twice in a row has distance 1 and keeps its slot (no page
 * came between), which skips the tree for the commonest case.
 *
 * Pages live in an open-addressing table keyed by (pid, vpn) holding the
 * page's current slot.
 *
 * Sampling (SHARDS).  Only pages whose hash falls below the rate are
 * tracked; distances are counted among them, so a sampled distance d
 * stands for d / R.  Turning the sample's misses into a miss ratio is the
 * estimator's job (enum vl_mrc_estimator; vl_mrc_result below).  The
 * default needs, per sampled page, its references in each size bucket:
 * pcount, one row of nsizes + 1 counters per table entry, moved with its
 * entry when the table grows.  It exists only when sampling with sizes
 * given, so the exact curve's per-access work is unchanged.
 *
 * The hot set (VL_MRC_SHARDS_HOT, the default when sampling with sizes).
 * On skewed traces the sampled curve's error is the luck of which very
 * hot pages the hash keeps: at 1% a page with 0.05% of the references
 * moves the estimate by 0.05 when kept.  So the most frequent pages are
 * tracked exactly whatever their hash, and the sample stands only for the
 * others (a stratified sample: the heavy stratum counted whole, the rest
 * at rate R).  They are found in the same pass by a space-saving counter
 * (Metwally, Agrawal, El Abbadi, ICDT 2005) fed one access in HOT_EVERY to
 * pages not yet hot: a page joins when its guaranteed count reaches
 * HOT_FMIN * R of the accesses counted (a page of frequency f kept by the
 * hash moves the estimate by about f / R) and at least HOT_MINC.  From
 * then on each of its accesses is counted (as in sample and hold, Estan
 * and Varghese, SIGCOMM 2002); before, it was one of the sampled or
 * unsampled pages like any other, so the estimate stays unbiased by the
 * choice.  A page that joins without being sampled enters the stack at the
 * access that made it join.  Memory stays bounded: HOT_COUNTERS counters
 * and at most HOT_COUNTERS / 4 hot pages besides the sample.
 *
 * Distances then have two parts: the hot pages touched since the page's
 * previous access, exactly (a second bitmap over the same slots marks the
 * hot pages' latest accesses), and the others, c sampled ones standing for
 * c / R: distance 1 + hot + c / R.  A third bitmap marks the hot pages the
 * hash does not keep, so SHARDS's own distances (the sampled pages only)
 * and the other estimators are exactly what they are without a hot set;
 * one Fenwick tree over the words holds both class counts packed.  Misses at size C: the hot pages' accesses at a
 * distance over C, exactly, plus the sampled other accesses' misses
 * scaled to the others' references, with the regression split for the
 * sample's shortfall or excess (split_weight's first case, over the sampled
 * pages not hot).  The cost: hot pages' accesses take the whole per-access
 * path, so on Zipf(0.9) about 40% of all accesses do (docs/benchmarks.md).
 * Choosing another estimator before the first access skips all of it.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmlab/mrc.h"

#define NIL UINT32_MAX
#define SHARDS_P (1u << 24)
#define VA_BITS 48
#define PREFETCH 12 /* records ahead */

struct page {
	uint64_t vpn;
	uint32_t pid;
	uint32_t slot; /* NIL = empty entry */
};

struct vl_mrc {
	double rate;
	enum vl_mrc_estimator est; /* how a sampled curve is estimated */
	uint32_t threshold;       /* sample if hash mod P < threshold */
	struct page *tab;
	uint64_t tab_mask, npages;
	uint64_t *bits;           /* cap / 64 words: slot holds a page's latest access */
	uint32_t *tree;           /* Fenwick tree over bitmap words, 1-based */
	uint32_t *owner;          /* slot -> page index in tab (valid where the bit is set) */
	uint64_t cap, next;       /* slots allocated, next slot */
	uint64_t *hist;           /* hist[d]: accesses at distance d (d >= 1), no sizes */
	uint64_t hist_len;
	uint64_t *size, *lim;     /* sizes given at creation, their distance limits */
	uint64_t *bucket;         /* bucket[k]: lim[k-1] < d <= lim[k]; [nsizes]: beyond */
	size_t nsizes;
	uint64_t cold;            /* first accesses (sampled) */
	uint64_t accesses, sampled, events;
	uint64_t last_vpn;
	uint32_t last_pid;
	int have_last;
	uint64_t last_idx;        /* table index of the last page */
	/* sampled with sizes: per table entry, its accesses in each bucket
	 * (nsizes + 1 counters, the last one for misses at every size, cold
	 * misses included), for the regression estimator; NULL otherwise */
	uint32_t *pcount;
	/* the hot set (VL_MRC_SHARDS_HOT; sampled with sizes only, else
	 * hot == NULL): pages found frequent by a space-saving counter are
	 * tracked exactly whatever their hash.  flags[] per table entry
	 * (F_HOT, F_UNS: hot and not kept by the hash); class bitmaps and
	 * one Fenwick tree over the same slots: hbits the hot pages' marks,
	 * ubits the hot unsampled ones', ctree both counts packed (hot in
	 * the low 16 bits, unsampled in the high 16: at most HOT_COUNTERS / 4
	 * of each) */
	struct hotset *hot;
	uint8_t *flags;
	uint64_t *hbits, *ubits;
	uint32_t *ctree;
	uint64_t nhot, nuns;      /* live hot marks, live hot-unsampled marks */
	uint64_t *hbucket;        /* hot accesses by size bucket ([nsizes]: misses) */
	uint64_t *cbucket;        /* sampled accesses to pages not hot, by bucket */
	uint64_t hot_refs, cold_refs; /* accesses counted in hbucket, cbucket */
	uint64_t promoted;        /* pages made hot */
	double inv_rate;
};

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint64_t page_hash(uint32_t pid, uint64_t vpn)
{
	return mix(vpn * 0x9e3779b97f4a7c15ull ^ ((uint64_t)pid << 40 | pid));
}

/* Big arrays: ask for transparent huge pages, the tables are hit at random. */
static void *big_alloc(size_t bytes, bool zero)
{
	const size_t huge = 2u << 20;
	void *p;
	if (bytes < huge)
		return zero ? calloc(1, bytes) : malloc(bytes);
	bytes = (bytes + huge - 1) & ~(huge - 1);
	p = aligned_alloc(huge, bytes);
	if (!p)
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE);
	if (zero)
		memset(p, 0, bytes);
	return p;
}

/* ---- the hot set: a space-saving counter (Metwally, Agrawal, El Abbadi,
 * ICDT 2005) over the accesses to pages not yet hot ----
 *
 * cap counters, each (page, count, err): a monitored page's count grows by
 * one per access fed; an unmonitored page takes the counter with the
 * smallest count c, with count c + 1 and err c.  count - err is then a
 * lower bound of the page's accesses since it was last taken in, and
 * every page with more than fed / cap accesses is monitored.  A min-heap
 * on count finds the smallest; an open-addressing index finds a page. */
#define HOT_COUNTERS 16384 /* space-saving counters; at most a quarter join */
#define HOT_FMIN 0.005     /* a page joins at frequency >= HOT_FMIN * rate ... */
#define HOT_MINC 4         /* ... and at least HOT_MINC counted accesses */
#define HOT_EVERY 16       /* the counter hears one access in HOT_EVERY */
#define F_HOT 1 /* flags[]: the page is in the hot set */
#define F_UNS 2 /* ... and the hash does not keep it */
#define FILTER_BITS 16

struct ss_ent {
	uint64_t vpn, h;
	uint32_t pid, count, err, pos;
};

struct hotset {
	struct ss_ent *e;
	uint32_t *heap; /* entry indices, smallest count first */
	uint32_t *idx;  /* entry index or NIL */
	uint64_t idx_mask;
	uint32_t n, cap;
	uint64_t fed;
	uint32_t every, skip; /* feed one access in `every` */
	double fmin;          /* promote when count - err >= fmin * fed ... */
	uint32_t minc;        /* ... and >= minc */
	uint64_t max_hot;
	/* bit (h >> 16) mod 2^16 set for every hot page the hash does not
	 * keep: a quick "no" for the other unsampled accesses */
	uint64_t filter[(1u << FILTER_BITS) / 64];
};

static inline uint32_t ss_count(const struct hotset *s, uint32_t pos)
{
	return s->e[s->heap[pos]].count;
}

static inline void ss_swap(struct hotset *s, uint32_t a, uint32_t b)
{
	uint32_t x = s->heap[a], y = s->heap[b];
	s->heap[a] = y;
	s->heap[b] = x;
	s->e[y].pos = a;
	s->e[x].pos = b;
}

static void ss_down(struct hotset *s, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, k = i;
		if (l < s->n && ss_count(s, l) < ss_count(s, k))
			k = l;
		if (r < s->n && ss_count(s, r) < ss_count(s, k))
			k = r;
		if (k == i)
			return;
		ss_swap(s, i, k);
		i = k;
	}
}

static void ss_up(struct hotset *s, uint32_t i)
{
	while (i && ss_count(s, i) < ss_count(s, (i - 1) / 2)) {
		ss_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

/* Remove index slot j (linear probing: move later entries of the run back). */
static void ss_idx_del(struct hotset *s, uint64_t j)
{
	uint64_t i = j, mask = s->idx_mask;
	for (;;) {
		i = (i + 1) & mask;
		if (s->idx[i] == NIL)
			break;
		uint64_t home = (s->e[s->idx[i]].h >> 8) & mask;
		/* the entry at i may move to j unless its home lies in (j, i] */
		bool stay = j < i ? home > j && home <= i : home > j || home <= i;
		if (!stay) {
			s->idx[j] = s->idx[i];
			j = i;
		}
	}
	s->idx[j] = NIL;
}

/* Count one access to (pid, vpn); the entry's index when the page is now
 * frequent enough for the hot set, else NIL. */
static uint32_t ss_add(struct hotset *s, uint32_t pid, uint64_t vpn, uint64_t h)
{
	uint64_t mask = s->idx_mask, j = (h >> 8) & mask;
	while (s->idx[j] != NIL) {
		const struct ss_ent *x = &s->e[s->idx[j]];
		if (x->h == h && x->vpn == vpn && x->pid == pid)
			break;
		j = (j + 1) & mask;
	}
	s->fed++;
	uint32_t k;
	if (s->idx[j] != NIL) {
		k = s->idx[j];
		s->e[k].count++;
		ss_down(s, s->e[k].pos);
	} else if (s->n < s->cap) {
		k = s->n++;
		s->e[k] = (struct ss_ent){ .vpn = vpn, .h = h, .pid = pid, .count = 1, .pos = k };
		s->heap[k] = k;
		s->idx[j] = k;
		ss_up(s, k);
	} else {
		k = s->heap[0];
		uint64_t o = (s->e[k].h >> 8) & mask;
		while (s->idx[o] != k)
			o = (o + 1) & mask;
		ss_idx_del(s, o);
		j = (h >> 8) & mask;
		while (s->idx[j] != NIL)
			j = (j + 1) & mask;
		s->idx[j] = k;
		uint32_t c = s->e[k].count;
		s->e[k] = (struct ss_ent){ .vpn = vpn, .h = h, .pid = pid, .count = c + 1, .err = c,
					   .pos = 0 };
		ss_down(s, 0);
	}
	uint32_t g = s->e[k].count - s->e[k].err;
	return g >= s->minc && (double)g >= s->fmin * (double)s->fed ? k : NIL;
}

/* A promoted page leaves the counter: count 0 makes it the next one taken. */
static void ss_forget(struct hotset *s, uint32_t k)
{
	s->e[k].count = 0;
	s->e[k].err = 0;
	ss_up(s, s->e[k].pos);
}

static void hotset_free(struct hotset *s)
{
	if (!s)
		return;
	free(s->e);
	free(s->heap);
	free(s->idx);
	free(s);
}

static struct hotset *hotset_new(double rate)
{
	struct hotset *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = HOT_COUNTERS;
	s->fmin = HOT_FMIN * rate;
	s->every = HOT_EVERY;
	s->minc = HOT_MINC;
	s->max_hot = HOT_COUNTERS / 4;
	s->skip = 1;
	uint64_t slots = 1;
	while (slots < 2ull * s->cap)
		slots *= 2;
	s->idx_mask = slots - 1;
	s->e = malloc(s->cap * sizeof(*s->e));
	s->heap = malloc(s->cap * sizeof(*s->heap));
	s->idx = malloc(slots * sizeof(*s->idx));
	if (!s->e || !s->heap || !s->idx) {
		hotset_free(s);
		return NULL;
	}
	memset(s->idx, 0xff, slots * sizeof(*s->idx));
	return s;
}

/* Largest (sampled) distance that hits with `frames` frames: a sampled
 * distance d stands for d / rate. */
static uint64_t dist_limit(const struct vl_mrc *m, uint64_t frames)
{
	return m->rate >= 1 ? frames : (uint64_t)floor((double)frames * m->rate);
}

int vl_mrc_new(struct vl_mrc **out, double sample_rate, const uint64_t *frames, size_t n,
	       struct vl_error *err)
{
	if (!(sample_rate > 0 && sample_rate <= 1))
		return vl_err(err, VL_EINVAL, "sample rate %g: expected a number in (0, 1]",
			      sample_rate);
	struct vl_mrc *m = calloc(1, sizeof(*m));
	if (!m)
		return vl_err(err, VL_ENOMEM, "out of memory");
	m->rate = sample_rate;
	m->threshold = sample_rate >= 1 ? SHARDS_P : (uint32_t)llround(sample_rate * SHARDS_P);
	if (m->threshold == 0)
		m->threshold = 1;
	m->tab_mask = 1023;
	m->cap = 1024;
	m->hist_len = 1024;
	m->tab = malloc((m->tab_mask + 1) * sizeof(*m->tab));
	m->bits = calloc(m->cap / 64, sizeof(*m->bits));
	m->tree = calloc(m->cap / 64 + 1, sizeof(*m->tree));
	m->owner = malloc(m->cap * sizeof(*m->owner));
	m->hist = calloc(m->hist_len, sizeof(*m->hist));
	if (!m->tab || !m->bits || !m->tree || !m->owner || !m->hist) {
		vl_mrc_free(m);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	for (uint64_t i = 0; i <= m->tab_mask; i++)
		m->tab[i].slot = NIL;
	if (frames && n) {
		m->nsizes = n;
		m->size = malloc(n * sizeof(*m->size));
		m->lim = malloc(n * sizeof(*m->lim));
		m->bucket = calloc(n + 1, sizeof(*m->bucket));
		if (!m->size || !m->lim || !m->bucket) {
			vl_mrc_free(m);
			return vl_err(err, VL_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			if (i && frames[i] <= frames[i - 1]) {
				vl_mrc_free(m);
				return vl_err(err, VL_EINVAL, "sizes must be increasing");
			}
			m->size[i] = frames[i];
			m->lim[i] = dist_limit(m, frames[i]);
		}
		if (m->rate < 1 &&
		    !(m->pcount = calloc((m->tab_mask + 1) * (n + 1), sizeof(*m->pcount)))) {
			vl_mrc_free(m);
			return vl_err(err, VL_ENOMEM, "out of memory");
		}
		if (m->rate < 1 &&
		    (!(m->hot = hotset_new((double)m->threshold / SHARDS_P)) ||
		     !(m->flags = calloc(m->tab_mask + 1, 1)) ||
		     !(m->hbits = calloc(m->cap / 64, sizeof(*m->hbits))) ||
		     !(m->ubits = calloc(m->cap / 64, sizeof(*m->ubits))) ||
		     !(m->ctree = calloc(m->cap / 64 + 1, sizeof(*m->ctree))) ||
		     !(m->hbucket = calloc(n + 1, sizeof(*m->hbucket))) ||
		     !(m->cbucket = calloc(n + 1, sizeof(*m->cbucket))))) {
			vl_mrc_free(m);
			return vl_err(err, VL_ENOMEM, "out of memory");
		}
	}
	m->inv_rate = SHARDS_P / (double)m->threshold;
	m->est = m->hot ? VL_MRC_SHARDS_HOT : VL_MRC_SHARDS_SPLIT;
	*out = m;
	return 0;
}

void vl_mrc_free(struct vl_mrc *m)
{
	if (!m)
		return;
	free(m->tab);
	free(m->bits);
	free(m->tree);
	free(m->owner);
	free(m->hist);
	free(m->size);
	free(m->lim);
	free(m->bucket);
	free(m->pcount);
	hotset_free(m->hot);
	free(m->flags);
	free(m->hbits);
	free(m->ubits);
	free(m->ctree);
	free(m->hbucket);
	free(m->cbucket);
	free(m);
}

void vl_mrc_set_estimator(struct vl_mrc *m, enum vl_mrc_estimator e)
{
	m->est = e;
}

/* Another estimator chosen before the first access: no hot set to keep. */
static void drop_hot(struct vl_mrc *m)
{
	hotset_free(m->hot);
	free(m->flags);
	free(m->hbits);
	free(m->ubits);
	free(m->ctree);
	m->hot = NULL;
	m->flags = NULL;
	m->hbits = m->ubits = NULL;
	m->ctree = NULL;
}

uint64_t vl_mrc_accesses(const struct vl_mrc *m)
{
	return m->accesses;
}

uint64_t vl_mrc_sampled(const struct vl_mrc *m)
{
	return m->sampled;
}

uint64_t vl_mrc_pages(const struct vl_mrc *m)
{
	return m->npages;
}

uint64_t vl_mrc_hot_pages(const struct vl_mrc *m)
{
	return m->promoted;
}

uint64_t vl_mrc_events(const struct vl_mrc *m)
{
	return m->events;
}

/* ---- the slot bitmap and the Fenwick tree over its words ---- */

static inline void fw_add(uint32_t *t, uint64_t n, uint64_t i, int32_t d)
{
	for (i++; i <= n; i += i & (~i + 1))
		t[i] += (uint32_t)d;
}

static inline uint64_t fw_before(const uint32_t *t, uint64_t i) /* words [0, i) */
{
	uint64_t s = 0;
	for (; i; i &= i - 1)
		s += t[i];
	return s;
}

/* Marks at slots [0, s]. */
static inline uint64_t marks_upto(const struct vl_mrc *m, uint64_t s)
{
	uint64_t w = s >> 6, b = s & 63;
	uint64_t mask = b == 63 ? ~0ull : (2ull << b) - 1;
	return fw_before(m->tree, w) + (uint64_t)__builtin_popcountll(m->bits[w] & mask);
}

static inline void mark(struct vl_mrc *m, uint64_t s)
{
	m->bits[s >> 6] |= 1ull << (s & 63);
	fw_add(m->tree, m->cap / 64, s >> 6, 1);
}

static inline void unmark(struct vl_mrc *m, uint64_t s)
{
	m->bits[s >> 6] &= ~(1ull << (s & 63));
	fw_add(m->tree, m->cap / 64, s >> 6, -1);
}

/* The class marks (hot, hot unsampled) at slots [0, s]: *hot, *uns. */
#define CLS_UNS 65536u /* the unsampled count's unit in ctree */

static inline void cls_upto(const struct vl_mrc *m, uint64_t s, uint64_t *hot, uint64_t *uns)
{
	uint64_t w = s >> 6, b = s & 63;
	uint64_t mask = b == 63 ? ~0ull : (2ull << b) - 1;
	uint64_t packed = fw_before(m->ctree, w);
	*hot = (packed & 0xffff) + (uint64_t)__builtin_popcountll(m->hbits[w] & mask);
	*uns = (packed >> 16) + (uint64_t)__builtin_popcountll(m->ubits[w] & mask);
}

/* Set (on) or clear the class marks of flags f at slot s. */
static inline void cls_set(struct vl_mrc *m, uint8_t f, uint64_t s, int on)
{
	uint64_t bit = 1ull << (s & 63);
	uint32_t d = 1;
	if (on)
		m->hbits[s >> 6] |= bit;
	else
		m->hbits[s >> 6] &= ~bit;
	if (f & F_UNS) {
		d += CLS_UNS;
		if (on)
			m->ubits[s >> 6] |= bit;
		else
			m->ubits[s >> 6] &= ~bit;
	}
	/* modulo 2^32 each packed count stays exact: none goes below 0 */
	fw_add(m->ctree, m->cap / 64, s >> 6, on ? (int32_t)d : -(int32_t)d);
}

/* Page at table index i moves its latest access from slot `from` to `to`. */
static inline __attribute__((always_inline)) void
move_mark(struct vl_mrc *m, uint64_t i, uint64_t from, uint64_t to, bool hot_set)
{
	unmark(m, from);
	mark(m, to);
	uint8_t f = hot_set ? m->flags[i] : 0;
	if (f & F_HOT) {
		cls_set(m, f, from, 0);
		cls_set(m, f, to, 1);
	}
}

/* tree over the words' popcounts (plus CLS_UNS times those of ubits) */
static void fw_build(uint32_t *tree, const uint64_t *bits, uint64_t nw, const uint64_t *ubits)
{
	for (uint64_t i = 1; i <= nw; i++) {
		tree[i] += (uint32_t)__builtin_popcountll(bits[i - 1]);
		if (ubits)
			tree[i] += CLS_UNS * (uint32_t)__builtin_popcountll(ubits[i - 1]);
		uint64_t j = i + (i & (~i + 1));
		if (j <= nw)
			tree[j] += tree[i];
	}
}

/* Renumber live slots 0..live-1 in order; grow when more than half live. */
static int compact(struct vl_mrc *m, struct vl_error *err)
{
	uint64_t live = m->npages;
	uint64_t ncap = m->cap;
	while (live * 2 > ncap)
		ncap *= 2;
	uint64_t nw = ncap / 64;
	uint32_t *owner = big_alloc(ncap * sizeof(*owner), false);
	uint64_t *bits = big_alloc(nw * sizeof(*bits), true);
	uint32_t *tree = calloc(nw + 1, sizeof(*tree));
	uint64_t *hb = NULL, *ub = NULL;
	uint32_t *ct = NULL;
	if (m->flags) {
		hb = big_alloc(nw * sizeof(*hb), true);
		ub = big_alloc(nw * sizeof(*ub), true);
		ct = calloc(nw + 1, sizeof(*ct));
	}
	if (!owner || !bits || !tree || (m->flags && (!hb || !ub || !ct))) {
		free(owner);
		free(bits);
		free(tree);
		free(hb);
		free(ub);
		free(ct);
		return vl_err(err, VL_ENOMEM, "out of memory for %llu pages",
			      (unsigned long long)live);
	}
	uint64_t k = 0;
	for (uint64_t w = 0; w < m->cap / 64; w++) {
		for (uint64_t x = m->bits[w]; x; x &= x - 1) {
			uint64_t s = w * 64 + (uint64_t)__builtin_ctzll(x);
			uint32_t p = m->owner[s];
			owner[k] = p;
			m->tab[p].slot = (uint32_t)k;
			bits[k >> 6] |= 1ull << (k & 63);
			if (m->flags && (m->flags[p] & F_HOT))
				hb[k >> 6] |= 1ull << (k & 63);
			if (m->flags && (m->flags[p] & F_UNS))
				ub[k >> 6] |= 1ull << (k & 63);
			k++;
		}
	}
	/* O(n) Fenwick builds from the word popcounts */
	fw_build(tree, bits, nw, NULL);
	if (m->flags) {
		fw_build(ct, hb, nw, ub);
		free(m->hbits);
		free(m->ubits);
		free(m->ctree);
		m->hbits = hb;
		m->ubits = ub;
		m->ctree = ct;
	}
	free(m->owner);
	free(m->bits);
	free(m->tree);
	m->owner = owner;
	m->bits = bits;
	m->tree = tree;
	m->cap = ncap;
	m->next = k;
	return 0;
}

static int tab_grow(struct vl_mrc *m, struct vl_error *err)
{
	uint64_t nmask = m->tab_mask * 2 + 1;
	struct page *nt = big_alloc((nmask + 1) * sizeof(*nt), false);
	if (!nt)
		return vl_err(err, VL_ENOMEM, "out of memory for %llu pages",
			      (unsigned long long)m->npages);
	for (uint64_t i = 0; i <= nmask; i++)
		nt[i].slot = NIL;
	size_t row = m->nsizes + 1;
	uint32_t *pc = NULL;
	if (m->pcount && !(pc = big_alloc((nmask + 1) * row * sizeof(*pc), true))) {
		free(nt);
		return vl_err(err, VL_ENOMEM, "out of memory for %llu pages",
			      (unsigned long long)m->npages);
	}
	uint8_t *fl = NULL;
	if (m->flags && !(fl = calloc(nmask + 1, 1))) {
		free(nt);
		free(pc);
		return vl_err(err, VL_ENOMEM, "out of memory for %llu pages",
			      (unsigned long long)m->npages);
	}
	/* owner[] holds table indices: rehash and fix them */
	for (uint64_t i = 0; i <= m->tab_mask; i++) {
		struct page *p = &m->tab[i];
		if (p->slot == NIL)
			continue;
		uint64_t h = page_hash(p->pid, p->vpn) & nmask;
		while (nt[h].slot != NIL)
			h = (h + 1) & nmask;
		nt[h] = *p;
		m->owner[p->slot] = (uint32_t)h;
		if (pc)
			memcpy(pc + h * row, m->pcount + i * row, row * sizeof(*pc));
		if (fl)
			fl[h] = m->flags[i];
		if (i == m->last_idx)
			m->last_idx = h;
	}
	if (pc) {
		free(m->pcount);
		m->pcount = pc;
	}
	if (fl) {
		free(m->flags);
		m->flags = fl;
	}
	free(m->tab);
	m->tab = nt;
	m->tab_mask = nmask;
	return 0;
}

static int hist_add(struct vl_mrc *m, uint64_t idx, uint64_t d, struct vl_error *err)
{
	if (m->nsizes) { /* first limit >= d: a binary search in a small array */
		size_t lo = 0, hi = m->nsizes;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (m->lim[mid] >= d)
				hi = mid;
			else
				lo = mid + 1;
		}
		m->bucket[lo]++;
		if (m->pcount)
			m->pcount[idx * (m->nsizes + 1) + lo]++;
		return 0;
	}
	if (d >= m->hist_len) {
		uint64_t n = m->hist_len;
		while (n <= d)
			n *= 2;
		uint64_t *h = realloc(m->hist, n * sizeof(*h));
		if (!h)
			return vl_err(err, VL_ENOMEM, "out of memory for the distance histogram");
		memset(h + m->hist_len, 0, (n - m->hist_len) * sizeof(*h));
		m->hist = h;
		m->hist_len = n;
	}
	m->hist[d]++;
	return 0;
}

/* The hot estimator's count of one access at (estimated) distance dist
 * (INFINITY: a first access) to the page at table index i: exact for a
 * hot page, one of the sample for the others. */
static void hot_count(struct vl_mrc *m, uint64_t i, double dist)
{
	size_t lo = 0, hi = m->nsizes;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((double)m->size[mid] >= dist)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (m->flags[i] & F_HOT) {
		m->hbucket[lo]++;
		m->hot_refs++;
	} else {
		m->cbucket[lo]++;
		m->cold_refs++;
	}
}

/* Feed the space-saving counter with an access to a page not hot (one in
 * `every`); the counter's entry when the page should join the hot set. */
static inline uint32_t hot_feed(struct vl_mrc *m, uint32_t pid, uint64_t vpn, uint64_t h)
{
	struct hotset *s = m->hot;
	if (--s->skip)
		return NIL;
	s->skip = s->every;
	if (m->nhot >= s->max_hot)
		return NIL;
	return ss_add(s, pid, vpn, h);
}

/* An access to a sampled page (samp: the hash keeps it) or, with a hot
 * set, to a hot page the hash does not keep (samp false, already tracked). */
static inline __attribute__((always_inline)) int
access_page(struct vl_mrc *m, uint32_t pid, uint64_t vpn, uint64_t h, bool samp, bool hot_set,
	    struct vl_error *err) /* inline, hot_set a constant (m->hot != NULL): no cost
				   * to the exact curve from the hot set's code */
{
	uint64_t i;
	if (samp)
		m->sampled++;
	if (m->have_last && vpn == m->last_vpn && pid == m->last_pid) {
		i = m->last_idx;
		if (samp)
			VL_TRY(hist_add(m, i, 1, err));
		if (hot_set)
			hot_count(m, i, 1);
		goto feed;
	}
	m->last_vpn = vpn;
	m->last_pid = pid;
	m->have_last = 1;
	if (m->next == m->cap)
		VL_TRY(compact(m, err));
	i = h & m->tab_mask;
	while (m->tab[i].slot != NIL && (m->tab[i].vpn != vpn || m->tab[i].pid != pid))
		i = (i + 1) & m->tab_mask;
	struct page *p = &m->tab[i];
	uint64_t now = m->next++;
	m->last_idx = i;
	if (p->slot == NIL) { /* only sampled pages come here new */
		m->cold++;
		if (m->pcount)
			m->pcount[i * (m->nsizes + 1) + m->nsizes]++;
		p->vpn = vpn;
		p->pid = pid;
		p->slot = (uint32_t)now;
		m->owner[now] = (uint32_t)i;
		mark(m, now);
		if (hot_set)
			hot_count(m, i, INFINITY);
		if (++m->npages * 2 > m->tab_mask + 1) {
			VL_TRY(tab_grow(m, err));
			i = m->last_idx;
		}
		goto feed;
	}
	uint64_t s = p->slot;
	uint64_t after = m->npages - marks_upto(m, s); /* tracked pages touched since */
	uint64_t uns = 0;
	if (hot_set) {
		/* hot pages touched since, exactly; the others through the sample */
		uint64_t hot, u;
		cls_upto(m, s, &hot, &u);
		hot = m->nhot - hot;
		uns = m->nuns - u;
		hot_count(m, i, 1 + (double)hot + (double)(after - hot) * m->inv_rate);
	}
	move_mark(m, i, s, now, hot_set);
	m->owner[now] = (uint32_t)i;
	p->slot = (uint32_t)now;
	if (samp) /* SHARDS: the sampled pages touched since */
		VL_TRY(hist_add(m, i, 1 + after - uns, err));
feed:
	if (hot_set && !(m->flags[i] & F_HOT)) {
		uint32_t k = hot_feed(m, pid, vpn, h);
		if (k != NIL) { /* a sampled page joins the hot set */
			ss_forget(m->hot, k);
			m->flags[i] |= F_HOT;
			cls_set(m, F_HOT, m->tab[i].slot, 1);
			m->nhot++;
			m->promoted++;
		}
	}
	return 0;
}

/* An access the hash does not keep, with a hot set: the page's access if
 * it is hot, else counted towards joining it.  A page that joins enters
 * the stack at this access (its previous ones are unknown); this access
 * itself stays one of those the sample stands for. */
static int other_page(struct vl_mrc *m, uint32_t pid, uint64_t vpn, uint64_t h,
		      struct vl_error *err)
{
	struct hotset *s = m->hot;
	uint64_t fb = (h >> 16) & ((1u << FILTER_BITS) - 1);
	if (s->filter[fb >> 6] >> (fb & 63) & 1) {
		uint64_t i = h & m->tab_mask;
		while (m->tab[i].slot != NIL && (m->tab[i].vpn != vpn || m->tab[i].pid != pid))
			i = (i + 1) & m->tab_mask;
		if (m->tab[i].slot != NIL)
			return access_page(m, pid, vpn, h, false, true, err);
	}
	uint32_t k = hot_feed(m, pid, vpn, h);
	if (k == NIL)
		return 0;
	ss_forget(s, k);
	if (m->next == m->cap)
		VL_TRY(compact(m, err));
	uint64_t i = h & m->tab_mask;
	while (m->tab[i].slot != NIL)
		i = (i + 1) & m->tab_mask;
	uint64_t now = m->next++;
	m->tab[i] = (struct page){ .vpn = vpn, .pid = pid, .slot = (uint32_t)now };
	m->flags[i] = F_HOT | F_UNS;
	m->owner[now] = (uint32_t)i;
	mark(m, now);
	cls_set(m, F_HOT | F_UNS, now, 1);
	m->nhot++;
	m->nuns++;
	m->promoted++;
	s->filter[fb >> 6] |= 1ull << (fb & 63);
	m->last_vpn = vpn;
	m->last_pid = pid;
	m->have_last = 1;
	m->last_idx = i;
	if (++m->npages * 2 > m->tab_mask + 1)
		VL_TRY(tab_grow(m, err));
	return 0;
}

/* The loop over a batch, made twice: with a hot set and without. */
static inline __attribute__((always_inline)) int feed(struct vl_mrc *m, const struct vl_batch *b,
						      bool hot_set, struct vl_error *err)
{
	for (size_t k = 0; k < b->n; k++) {
		const struct vl_rec *r = &b->recs[k];
		if (k + PREFETCH < b->n) { /* the table is hit at random: fetch ahead */
			const struct vl_rec *q = &b->recs[k + PREFETCH];
			uint64_t qv = (q->addr >> VL_PAGE_SHIFT) & ((1ull << (VA_BITS - VL_PAGE_SHIFT)) - 1);
			uint64_t qh = page_hash(q->pid, qv);
			if (m->threshold == SHARDS_P || ((qh >> 40) & (SHARDS_P - 1)) < m->threshold)
				__builtin_prefetch(&m->tab[qh & m->tab_mask]);
		}
		if (r->op >= VL_OP_NACCESS) {
			/* the events that can make the engine refuse accesses:
			 * not a process's exit (its pages are freed, nothing is
			 * refused), region-of-interest markers nor file reads */
			const struct vl_event *ev = r->op == VL_OP_EVENT && r->addr < b->n_events
							    ? &b->events[r->addr] : NULL;
			if (!ev || (ev->kind != VL_EV_EXIT && ev->kind != VL_EV_ROI_BEGIN &&
				    ev->kind != VL_EV_ROI_END && ev->kind != VL_EV_NONE &&
				    ev->kind != VL_EV_FREAD))
				m->events++;
			continue;
		}
		int64_t hi = (int64_t)r->addr >> (VA_BITS - 1);
		if (hi != 0 && hi != -1)
			continue; /* the engine refuses it: an access violation */
		m->accesses++;
		uint64_t vpn = (r->addr >> VL_PAGE_SHIFT) & ((1ull << (VA_BITS - VL_PAGE_SHIFT)) - 1);
		uint64_t h = page_hash(r->pid, vpn);
		if (m->threshold < SHARDS_P && ((h >> 40) & (SHARDS_P - 1)) >= m->threshold) {
			if (hot_set)
				VL_TRY(other_page(m, r->pid, vpn, h, err));
			continue;
		}
		VL_TRY(access_page(m, r->pid, vpn, h, true, hot_set, err));
	}
	return 0;
}

int vl_mrc_feed(struct vl_mrc *m, const struct vl_batch *b, struct vl_error *err)
{
	if (m->hot && m->est != VL_MRC_SHARDS_HOT && !m->accesses)
		drop_hot(m);
	return m->hot ? feed(m, b, true, err) : feed(m, b, false, err);
}

/* The bucket index of a size the builder was made for. */
static size_t k_of(const struct vl_mrc *m, uint64_t frames)
{
	size_t k = 0;
	while (k < m->nsizes && m->size[k] != frames)
		k++;
	return k;
}

/* The share of the references missing from the sample that miss at size k
 * (the split estimator).  SHARDS_adj counts them all as hits; fixed-rate
 * SHARDS gives them the sample's miss ratio.  Both go wrong where a few
 * hot pages carry many references: whether the hash keeps them decides
 * the sample's size, and whether their references hit depends on how hot
 * they are against the memory size.
 *
 * Too many references sampled (missing < 0): the excess belongs to the
 * hottest sampled pages, so it takes their miss ratio, each page weighted
 * by its references t_p (m_p of them misses at size k): sum m_p t_p /
 * sum t_p^2 (the slope of the sample's misses on its references over the
 * pages the hash could keep or drop).
 *
 * Too few (missing > 0): the pages that should have carried them are not
 * in the sample, so nothing in it says how they behave.  They are taken
 * as pages of frequency f = missing / accesses each (1/R of them) and
 * given the miss ratio exp(-f T_k) of Che's approximation (Che, Tung, Wang,
 * IEEE JSAC 2002): in an LRU memory of C pages a page of frequency f hits
 * when it comes back within the characteristic time T_C, the number of
 * references in which C distinct pages are touched:
 *     sum over pages of (1 - exp(-f_p T_C)) = C,
 * estimated from the sample (each sampled page stands for 1/R pages) plus
 * the missing ones, and solved by bisection.  Large memories give T_C
 * long and the missing references hit (SHARDS_adj); small memories, where
 * even hot pages come back too late, give them misses. */
struct tcount {
	uint32_t t;     /* references of a page */
	uint64_t pages; /* sampled pages with t references */
};

static int cmp_tc(const void *a, const void *b)
{
	uint32_t x = ((const struct tcount *)a)->t, y = ((const struct tcount *)b)->t;
	return x < y ? -1 : x > y;
}

/* sum m_p t_p / sum t_p^2 over the sampled pages (those in the hot set
 * left out when skip_hot) at size k. */
static double reg_weight(const struct vl_mrc *m, size_t k, bool skip_hot)
{
	size_t row = m->nsizes + 1;
	double smt = 0, stt = 0;
	for (uint64_t i = 0; i <= m->tab_mask; i++) {
		if (m->tab[i].slot == NIL || (m->flags && (m->flags[i] & (skip_hot ? F_HOT : F_UNS))))
			continue;
		const uint32_t *c = m->pcount + i * row;
		double t = 0, h = 0;
		for (size_t j = 0; j < row; j++) {
			t += c[j];
			if (j <= k)
				h += c[j];
		}
		smt += (t - h) * t;
		stt += t * t;
	}
	return stt > 0 ? smt / stt : 0;
}

static double split_weight(const struct vl_mrc *m, size_t k, double missing,
			   const struct tcount *tc, size_t ntc)
{
	size_t row = m->nsizes + 1;
	if (missing < 0) {
		double smt = 0, stt = 0;
		for (uint64_t i = 0; i <= m->tab_mask; i++) {
			if (m->tab[i].slot == NIL || (m->flags && (m->flags[i] & F_UNS)))
				continue;
			const uint32_t *c = m->pcount + i * row;
			double t = 0, h = 0;
			for (size_t j = 0; j < row; j++) {
				t += c[j];
				if (j <= k)
					h += c[j];
			}
			smt += (t - h) * t;
			stt += t * t;
		}
		return stt > 0 ? smt / stt : 0;
	}
	double n = (double)m->accesses, rate = (double)m->threshold / SHARDS_P;
	double fm = missing / n, cap = (double)m->size[k];
	/* pages touched in T references, expected: increasing in T */
	double lo = 0, hi = 1;
	for (int it = 0; it < 200; it++) {
		double touched = (1 - exp(-fm * hi)) / rate;
		for (size_t j = 0; j < ntc; j++)
			touched += (double)tc[j].pages / rate * -expm1(-(double)tc[j].t / n * hi);
		if (touched >= cap)
			break;
		lo = hi;
		hi *= 2;
		if (hi > 1e18)
			return 0; /* the memory holds everything: every reference hits */
	}
	for (int it = 0; it < 60; it++) {
		double mid = (lo + hi) / 2, touched = (1 - exp(-fm * mid)) / rate;
		for (size_t j = 0; j < ntc; j++)
			touched += (double)tc[j].pages / rate * -expm1(-(double)tc[j].t / n * mid);
		if (touched < cap)
			lo = mid;
		else
			hi = mid;
	}
	return exp(-fm * (lo + hi) / 2);
}

/* The sampled pages grouped by their number of references (for
 * split_weight's sums); NULL when out of memory. */
static struct tcount *tcounts(const struct vl_mrc *m, size_t *n)
{
	size_t row = m->nsizes + 1, k = 0;
	struct tcount *tc = malloc((m->npages ? m->npages : 1) * sizeof(*tc));
	if (!tc)
		return NULL;
	for (uint64_t i = 0; i <= m->tab_mask; i++) {
		if (m->tab[i].slot == NIL || (m->flags && (m->flags[i] & F_UNS)))
			continue;
		uint64_t t = 0;
		for (size_t j = 0; j < row; j++)
			t += m->pcount[i * row + j];
		tc[k++] = (struct tcount){ .t = (uint32_t)t, .pages = 1 };
	}
	qsort(tc, k, sizeof(*tc), cmp_tc);
	size_t u = 0;
	for (size_t i = 0; i < k; i++) {
		if (u && tc[u - 1].t == tc[i].t)
			tc[u - 1].pages++;
		else
			tc[u++] = tc[i];
	}
	*n = u;
	return tc;
}

int vl_mrc_result(const struct vl_mrc *m, const uint64_t *frames, size_t n,
		  struct vl_mrc_point *out, struct vl_error *err)
{
	struct tcount *tc = NULL;
	size_t ntc = 0;
	if (m->rate < 1 && (m->est == VL_MRC_SHARDS_SPLIT || (m->est == VL_MRC_SHARDS_HOT && !m->hot)) &&
	    m->pcount &&
	    !(tc = tcounts(m, &ntc)))
		return vl_err(err, VL_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		uint64_t hits = 0;
		if (m->nsizes) {
			size_t k = 0;
			while (k < m->nsizes && m->size[k] != frames[i])
				k++;
			if (k == m->nsizes) {
				free(tc);
				return vl_err(err, VL_EINVAL,
					      "%llu frames is not one of the sizes the curve was built for",
					      (unsigned long long)frames[i]);
			}
			for (size_t j = 0; j <= k; j++)
				hits += m->bucket[j];
		} else {
			uint64_t lim = dist_limit(m, frames[i]);
			for (uint64_t d = 1; d <= lim && d < m->hist_len; d++)
				hits += m->hist[d];
		}
		uint64_t smiss = m->sampled - hits;
		out[i].frames = frames[i];
		if (m->rate >= 1) {
			out[i].misses = smiss;
			out[i].miss_ratio = m->accesses ? (double)smiss / (double)m->accesses : 0;
		} else {
			/* Fixed-rate SHARDS: sampled misses over sampled
			 * references.  SHARDS_adj (Waldspurger et al., FAST'15,
			 * section 4.2): the sample should hold expected =
			 * rate * accesses references; the difference expected -
			 * sampled goes into the first histogram bucket (distance
			 * 0, a hit at every size), so the histogram's total is
			 * the expected count:
			 *   ratio = (sampled - hits - 0) / expected
			 *         = 1 - (hits + expected - sampled) / expected.
			 * Split: a share w of the difference counts as misses
			 * instead (split_weight); w = 0 is SHARDS_adj. */
			double expected = (double)m->threshold / SHARDS_P * (double)m->accesses;
			double r;
			if (m->est == VL_MRC_SHARDS_HOT && m->hot) {
				/* hot misses, exact, plus the others' from the
				 * sample: its misses plus the share reg_weight
				 * of its shortfall (missing < 0: excess), over
				 * the rate.  Tried and dropped (bench_mrc's mean
				 * |error|, one access in 4 counted): the sample's misses over the rate
				 * alone (Horvitz-Thompson: the shortfall counted
				 * as hits; mix 0.0095, Zipf 0.0021 on one draw
				 * of 10M and 5M accesses, this one 0.0007 and
				 * 0.0017) and the sample's miss ratio times the
				 * others' references (the shortfall counted as
				 * the sample's; average over 5 draws of 2M and
				 * 5M: mix 0.0065, Zipf 0.0032, this one 0.0043
				 * and 0.0035) */
				size_t k = k_of(m, frames[i]);
				uint64_t hh = 0, ch = 0;
				for (size_t j = 0; j <= k; j++) {
					hh += m->hbucket[j];
					ch += m->cbucket[j];
				}
				double cmiss = (double)(m->cold_refs - ch);
				double miss = (double)(m->accesses - m->hot_refs) / m->inv_rate -
					      (double)m->cold_refs;
				double cold = (cmiss + reg_weight(m, k, true) * miss) * m->inv_rate;
				r = m->accesses ? ((double)(m->hot_refs - hh) + cold) / (double)m->accesses
						: 0;
			} else if (m->est == VL_MRC_SHARDS_FIXED) {
				r = m->sampled ? (double)smiss / (double)m->sampled : 0;
			} else {
				double missing = expected - (double)m->sampled;
				double w = 0; /* the share of the missing references that miss */
				if (tc)
					w = split_weight(m, k_of(m, frames[i]), missing, tc, ntc);
				r = expected > 0 ? ((double)smiss + w * missing) / expected : 0;
			}
			if (r < 0)
				r = 0;
			if (r > 1)
				r = 1;
			out[i].miss_ratio = r;
			out[i].misses = (uint64_t)llround(r * (double)m->accesses);
		}
	}
	free(tc);
	return 0;
}

/* ---- size lists ---- */

static int parse_one(const char *tok, uint64_t *frames, struct vl_error *err)
{
	uint64_t v;
	if (vl_parse_u64(tok, &v) == 0) {
		if (v == 0)
			return vl_err(err, VL_EINVAL, "size '%s': expected at least 1 frame", tok);
		*frames = v;
		return 0;
	}
	if (vl_parse_size(tok, &v) < 0)
		return vl_err(err, VL_EINVAL,
			      "size '%s': expected a frame count (300) or a memory size (64M, 1G)", tok);
	if (v / VL_PAGE_SIZE == 0)
		return vl_err(err, VL_EINVAL, "size '%s': less than one 4 KiB frame", tok);
	*frames = v / VL_PAGE_SIZE;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int vl_mrc_parse_sizes(const char *text, unsigned points, uint64_t **frames, size_t *n,
		       struct vl_error *err)
{
	*frames = NULL;
	*n = 0;
	char *s = strdup(text ? text : "");
	if (!s)
		return vl_err(err, VL_ENOMEM, "out of memory");
	size_t cap = 16, cnt = 0;
	uint64_t *v = malloc(cap * sizeof(*v));
	int rc = v ? 0 : vl_err(err, VL_ENOMEM, "out of memory");
	char *colon = strchr(s, ':');
	if (rc == 0 && !*s)
		rc = vl_err(err, VL_EINVAL, "empty size list: expected 50,300,64M or LO:HI");
	if (rc == 0 && colon) {
		*colon = '\0';
		uint64_t lo, hi;
		if (strchr(colon + 1, ',') || strchr(colon + 1, ':'))
			rc = vl_err(err, VL_EINVAL, "size range '%s': expected LO:HI, e.g. 64:1G", text);
		else if ((rc = parse_one(s, &lo, err)) == 0 && (rc = parse_one(colon + 1, &hi, err)) == 0) {
			if (hi < lo)
				rc = vl_err(err, VL_EINVAL, "size range '%s': HI is smaller than LO", text);
			else if (points < 2)
				rc = vl_err(err, VL_EINVAL, "a size range needs at least 2 points");
		}
		if (rc == 0) {
			free(v);
			cap = points;
			v = malloc(cap * sizeof(*v));
			if (!v)
				rc = vl_err(err, VL_ENOMEM, "out of memory");
			double l = log((double)lo), r = log((double)hi);
			for (unsigned i = 0; rc == 0 && i < points; i++) {
				double x = exp(l + (r - l) * i / (points - 1));
				uint64_t f = i == 0 ? lo : i == points - 1 ? hi : (uint64_t)llround(x);
				v[cnt++] = f < 1 ? 1 : f;
			}
		}
	} else if (rc == 0) {
		char *save = NULL;
		for (char *tok = strtok_r(s, ",", &save); tok && rc == 0;
		     tok = strtok_r(NULL, ",", &save)) {
			if (cnt == cap) {
				uint64_t *nv = realloc(v, 2 * cap * sizeof(*v));
				if (!nv) {
					rc = vl_err(err, VL_ENOMEM, "out of memory");
					break;
				}
				v = nv;
				cap *= 2;
			}
			rc = parse_one(tok, &v[cnt], err);
			cnt++;
		}
		if (rc == 0 && (cnt == 0 || text[strlen(text) - 1] == ',' || text[0] == ',' ||
				strstr(text, ",,")))
			rc = vl_err(err, VL_EINVAL, "size list '%s': empty item", text);
	}
	free(s);
	if (rc < 0) {
		free(v);
		return rc;
	}
	qsort(v, cnt, sizeof(*v), cmp_u64);
	size_t k = 0;
	for (size_t i = 0; i < cnt; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	*frames = v;
	*n = k;
	return 0;
}
