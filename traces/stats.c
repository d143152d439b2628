/* traces/stats.c - one pass over a trace for `vmlab info`.
 *
 * Counts records by kind and event kind, processes, distinct pages (per
 * process), address ranges per stream, and the histogram of reuse
 * distance: for each access, the number of distinct pages (of any process)
 * touched since the previous access to the same page, the LRU stack
 * distance of Mattson et al. (1970).  A page reused with distance d hits in
 * an LRU memory of more than d frames.
 *
 * Algorithm (Bennett & Kruskal 1975, in the Fenwick-tree form): mark the
 * time of each page's latest access in a bit tree over time; the distance
 * of an access at time t to a page last seen at time s is the number of
 * marks in (s, t).  O(log n) per access; the tree doubles as the trace
 * grows (rebuilt from the mark array in O(n)).
 */
#include <stdlib.h>
#include <string.h>

#include "core/sized.h"
#include "traces/internal.h"

struct map {        /* open addressing: key (pid << 44 | vpn) + 1 -> last time */
	uint64_t *keys, *vals;
	size_t cap, n;
};

static uint64_t hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static int map_grow(struct map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1u << 16;
	uint64_t *k = calloc(cap, sizeof(*k)), *v = malloc(cap * sizeof(*v));
	if (!k || !v) {
		free(k);
		free(v);
		return VL_ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t s = hash64(m->keys[i]) & (cap - 1);
		while (k[s])
			s = (s + 1) & (cap - 1);
		k[s] = m->keys[i];
		v[s] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = k;
	m->vals = v;
	m->cap = cap;
	return 0;
}

/* Slot for key (inserted with value UINT64_MAX when new); NULL on ENOMEM. */
static uint64_t *map_get(struct map *m, uint64_t key, bool *fresh)
{
	if (m->n * 2 >= m->cap && map_grow(m) < 0)
		return NULL;
	key += 1;
	size_t s = hash64(key) & (m->cap - 1);
	while (m->keys[s] && m->keys[s] != key)
		s = (s + 1) & (m->cap - 1);
	*fresh = !m->keys[s];
	if (*fresh) {
		m->keys[s] = key;
		m->vals[s] = UINT64_MAX;
		m->n++;
	}
	return &m->vals[s];
}

struct fen {
	uint32_t *tree;  /* Fenwick tree over times 1..cap */
	uint8_t *mark;
	size_t cap;
};

static void fen_add(struct fen *f, size_t i, int d)
{
	for (i++; i <= f->cap; i += i & -i)
		f->tree[i - 1] += (uint32_t)d;
}

static uint64_t fen_prefix(const struct fen *f, size_t i) /* marks in [0, i) */
{
	uint64_t s = 0;
	for (; i > 0; i -= i & -i)
		s += f->tree[i - 1];
	return s;
}

static int fen_grow(struct fen *f)
{
	size_t cap = f->cap ? f->cap * 2 : 1u << 16;
	uint32_t *t = calloc(cap, sizeof(*t));
	uint8_t *m = calloc(cap, 1);
	if (!t || !m) {
		free(t);
		free(m);
		return VL_ENOMEM;
	}
	if (f->cap)
		memcpy(m, f->mark, f->cap);
	free(f->tree);
	free(f->mark);
	f->tree = t;
	f->mark = m;
	f->cap = cap;
	for (size_t i = 0; i < cap; i++) { /* O(n) build: children before parents */
		t[i] += m[i];
		size_t j = (i + 1) + ((i + 1) & -(i + 1));
		if (j <= cap)
			t[j - 1] += t[i];
	}
	return 0;
}

static int bucket_of(uint64_t d)
{
	return d == 0 ? 0 : 64 - __builtin_clzll(d); /* 0 | 1 | 2-3 | 4-7 | ... */
}

/* struct vl_trace_stats of the first release (core/sized.h) */
#define STATS_V1 (offsetof(struct vl_trace_stats, reuse) + sizeof(uint64_t) * VL_STATS_REUSE_BUCKETS)

int vl_trace_stats(struct vl_trace *t, struct vl_trace_stats *dst, struct vl_error *err)
{
	VL_TRY(sized_check(dst, STATS_V1, "struct vl_trace_stats", err));
	struct vl_trace_stats full = { .size = sizeof(full) }, *st = &full;
	st->imin = st->dmin = UINT64_MAX;
	struct map pages = { 0 }, pids = { 0 };
	struct fen fen = { 0 };
	struct vl_batch b;
	int rc = vl_batch_init(&b, 8192, err);
	if (rc < 0)
		return rc;
	uint64_t now = 0;
	ssize_t got;
	while ((got = vl_trace_read(t, &b, err)) > 0) {
		for (size_t i = 0; i < b.n; i++) {
			const struct vl_rec *r = &b.recs[i];
			bool fresh;
			uint64_t *pv = map_get(&pids, r->pid, &fresh);
			if (!pv) {
				rc = vl_err(err, VL_ENOMEM, "out of memory counting processes");
				goto out;
			}
			if (fresh)
				st->processes++;
			if (r->op == VL_OP_EVENT) {
				st->events++;
				uint32_t k = b.events[r->addr].kind;
				st->by_event[k < VL_STATS_EVENT_KINDS ? k : VL_STATS_EVENT_KINDS - 1]++;
				if (k >= VL_STATS_EVENT_KINDS - 1 && k - (VL_STATS_EVENT_KINDS - 1) < 16)
					st->by_event_more[k - (VL_STATS_EVENT_KINDS - 1)]++;
				continue;
			}
			st->by_op[r->op]++;
			st->accesses++;
			if (r->op == VL_OP_IFETCH) {
				st->imin = r->addr < st->imin ? r->addr : st->imin;
				st->imax = r->addr > st->imax ? r->addr : st->imax;
			} else {
				st->dmin = r->addr < st->dmin ? r->addr : st->dmin;
				st->dmax = r->addr > st->dmax ? r->addr : st->dmax;
			}
			uint64_t key = ((uint64_t)r->pid << 44) ^ (r->addr >> VL_PAGE_SHIFT);
			uint64_t *last = map_get(&pages, key, &fresh);
			if (!last) {
				rc = vl_err(err, VL_ENOMEM, "out of memory counting pages");
				goto out;
			}
			if (now == fen.cap && fen_grow(&fen) < 0) {
				rc = vl_err(err, VL_ENOMEM, "out of memory for reuse distances");
				goto out;
			}
			if (fresh) {
				st->pages++;
				st->reuse_cold++;
			} else {
				uint64_t d = fen_prefix(&fen, now) - fen_prefix(&fen, *last + 1);
				st->reuse[bucket_of(d)]++;
				fen_add(&fen, *last, -1);
				fen.mark[*last] = 0;
			}
			fen_add(&fen, now, 1);
			fen.mark[now] = 1;
			*last = now++;
		}
	}
	if (got < 0)
		rc = (int)got;
	st->records = st->accesses + st->events;
out:
	sized_out(dst, st, sizeof(*st));
	free(pages.keys);
	free(pages.vals);
	free(pids.keys);
	free(pids.vals);
	free(fen.tree);
	free(fen.mark);
	vl_batch_free(&b);
	return rc;
}
