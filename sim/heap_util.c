/* sim/heap_util.c - the map, range sets and commit bookkeeping the heap
 * models share (sim/heap_util.h).
 *
 * The map is a treap: a binary search tree on the key that is also a heap
 * on a priority.  The priority is a hash of the key, not a random draw, so
 * two runs build the same trees; the expected depth stays O(log n) for
 * any key order the models produce (addresses, lengths).
 */
#include <stdlib.h>

#include "heap_util.h"

static uint32_t prio_of(uint64_t k1, uint64_t k2)
{
	uint64_t x = k1 * 0x9E3779B97F4A7C15ull ^ (k2 + 0x632BE59BD9B4E019ull);
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	return (uint32_t)(x >> 32);
}

static int cmp(uint64_t a1, uint64_t a2, uint64_t b1, uint64_t b2)
{
	if (a1 != b1)
		return a1 < b1 ? -1 : 1;
	if (a2 != b2)
		return a2 < b2 ? -1 : 1;
	return 0;
}

/* keys < (k1, k2) into *l, the others into *r */
static void split(struct vl_hnode *t, uint64_t k1, uint64_t k2, struct vl_hnode **l,
		  struct vl_hnode **r)
{
	if (!t) {
		*l = *r = NULL;
	} else if (cmp(t->k1, t->k2, k1, k2) < 0) {
		split(t->r, k1, k2, &t->r, r);
		*l = t;
	} else {
		split(t->l, k1, k2, l, &t->l);
		*r = t;
	}
}

/* every key of a below every key of b */
static struct vl_hnode *merge(struct vl_hnode *a, struct vl_hnode *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (a->prio >= b->prio) {
		a->r = merge(a->r, b);
		return a;
	}
	b->l = merge(a, b->l);
	return b;
}

static struct vl_hnode *ins(struct vl_hnode *t, struct vl_hnode *n)
{
	if (!t)
		return n;
	if (n->prio > t->prio) {
		split(t, n->k1, n->k2, &n->l, &n->r);
		return n;
	}
	if (cmp(n->k1, n->k2, t->k1, t->k2) < 0)
		t->l = ins(t->l, n);
	else
		t->r = ins(t->r, n);
	return t;
}

struct vl_hnode *vl_hmap_put(struct vl_hmap *m, uint64_t k1, uint64_t k2, uint64_t v, uint64_t w)
{
	struct vl_hnode *n = malloc(sizeof(*n));
	if (!n)
		return NULL;
	*n = (struct vl_hnode){ .k1 = k1, .k2 = k2, .v = v, .w = w, .prio = prio_of(k1, k2) };
	m->root = ins(m->root, n);
	m->n++;
	return n;
}

struct vl_hnode *vl_hmap_get(const struct vl_hmap *m, uint64_t k1, uint64_t k2)
{
	struct vl_hnode *t = m->root;
	while (t) {
		int c = cmp(k1, k2, t->k1, t->k2);
		if (!c)
			return t;
		t = c < 0 ? t->l : t->r;
	}
	return NULL;
}

void vl_hmap_del(struct vl_hmap *m, uint64_t k1, uint64_t k2)
{
	struct vl_hnode **p = &m->root;
	while (*p) {
		int c = cmp(k1, k2, (*p)->k1, (*p)->k2);
		if (!c) {
			struct vl_hnode *d = *p;
			*p = merge(d->l, d->r);
			free(d);
			m->n--;
			return;
		}
		p = c < 0 ? &(*p)->l : &(*p)->r;
	}
}

struct vl_hnode *vl_hmap_ceil(const struct vl_hmap *m, uint64_t k1, uint64_t k2)
{
	struct vl_hnode *t = m->root, *best = NULL;
	while (t) {
		if (cmp(t->k1, t->k2, k1, k2) >= 0) {
			best = t;
			t = t->l;
		} else {
			t = t->r;
		}
	}
	return best;
}

struct vl_hnode *vl_hmap_floor(const struct vl_hmap *m, uint64_t k1, uint64_t k2)
{
	struct vl_hnode *t = m->root, *best = NULL;
	while (t) {
		if (cmp(t->k1, t->k2, k1, k2) <= 0) {
			best = t;
			t = t->r;
		} else {
			t = t->l;
		}
	}
	return best;
}

static void free_tree(struct vl_hnode *t)
{
	while (t) {
		free_tree(t->l);
		struct vl_hnode *r = t->r;
		free(t);
		t = r;
	}
}

void vl_hmap_clear(struct vl_hmap *m)
{
	free_tree(m->root);
	m->root = NULL;
	m->n = 0;
}

/* ---- range sets ---- */

static int rput(struct vl_hranges *s, uint64_t a, uint64_t len)
{
	if (!vl_hmap_put(&s->by_addr, a, 0, len, 0))
		return -1;
	if (s->sized && !vl_hmap_put(&s->by_len, len, a, 0, 0)) {
		vl_hmap_del(&s->by_addr, a, 0);
		return -1;
	}
	return 0;
}

static void rdel(struct vl_hranges *s, uint64_t a, uint64_t len)
{
	vl_hmap_del(&s->by_addr, a, 0);
	if (s->sized)
		vl_hmap_del(&s->by_len, len, a);
}

int vl_hranges_add(struct vl_hranges *s, uint64_t a, uint64_t len, uint64_t *ma, uint64_t *mlen)
{
	uint64_t na = a, nl = len;
	struct vl_hnode *p = a ? vl_hmap_floor(&s->by_addr, a - 1, 0) : NULL;
	struct vl_hnode *q = vl_hmap_get(&s->by_addr, a + len, 0);
	uint64_t pa = 0, pl = 0, ql = 0;
	if (p && p->k1 + p->v == a) {
		pa = p->k1;
		pl = p->v;
	} else {
		p = NULL;
	}
	if (q)
		ql = q->v;
	/* insert the merged range first so a failure leaves the set as it was */
	if (p) {
		na = pa;
		nl += pl;
	}
	if (q)
		nl += ql;
	if (p)
		rdel(s, pa, pl);
	if (q)
		rdel(s, a + len, ql);
	if (rput(s, na, nl) < 0) {
		/* restore: the pieces are back as they were (their nodes were
		 * just freed, so there is memory for them) */
		if (p)
			rput(s, pa, pl);
		if (q)
			rput(s, a + len, ql);
		return -1;
	}
	s->bytes += len;
	if (ma)
		*ma = na;
	if (mlen)
		*mlen = nl;
	return 0;
}

int vl_hranges_take(struct vl_hranges *s, uint64_t a, uint64_t len)
{
	struct vl_hnode *p = vl_hranges_at(s, a);
	if (!p || len == 0)
		return 0;
	uint64_t pa = p->k1, pl = p->v, pe = pa + pl;
	rdel(s, pa, pl);
	if (pa < a && rput(s, pa, a - pa) < 0)
		goto undo;
	if (a + len < pe && rput(s, a + len, pe - (a + len)) < 0) {
		if (pa < a)
			rdel(s, pa, a - pa);
		goto undo;
	}
	s->bytes -= len;
	return 0;
undo:
	rput(s, pa, pl);
	return -1;
}

struct vl_hnode *vl_hranges_at(const struct vl_hranges *s, uint64_t addr)
{
	struct vl_hnode *p = vl_hmap_floor(&s->by_addr, addr, 0);
	return p && addr < p->k1 + p->v ? p : NULL;
}

struct vl_hnode *vl_hranges_starting(const struct vl_hranges *s, uint64_t a)
{
	return vl_hmap_get(&s->by_addr, a, 0);
}

struct vl_hnode *vl_hranges_best(const struct vl_hranges *s, uint64_t len)
{
	return vl_hmap_ceil(&s->by_len, len, 0);
}

void vl_hranges_clear(struct vl_hranges *s)
{
	vl_hmap_clear(&s->by_addr);
	vl_hmap_clear(&s->by_len);
	s->bytes = 0;
}

/* ---- commit bookkeeping ---- */

int vl_hcommit(const struct vl_heap_os *os, struct vl_hranges *c, uint64_t lo, uint64_t hi)
{
	/* the gaps this call committed, to undo them exactly on a refusal */
	uint64_t small[16], *done = small;
	size_t n = 0, cap = 16;
	uint64_t cur = lo;
	int rc = 0;
	while (cur < hi) {
		struct vl_hnode *p = vl_hranges_at(c, cur);
		if (p) {
			cur = p->k1 + p->v;
			continue;
		}
		struct vl_hnode *q = vl_hmap_ceil(&c->by_addr, cur, 0);
		uint64_t end = q && q->k1 < hi ? q->k1 : hi;
		if (n + 2 > cap) {
			uint64_t *d = malloc(2 * cap * sizeof(*d));
			if (!d) {
				rc = -1;
				break;
			}
			for (size_t i = 0; i < n; i++)
				d[i] = done[i];
			if (done != small)
				free(done);
			done = d;
			cap *= 2;
		}
		if (os->commit(os->ctx, cur, end - cur) < 0) {
			rc = -1;
			break;
		}
		if (vl_hranges_add(c, cur, end - cur, NULL, NULL) < 0) {
			os->decommit(os->ctx, cur, end - cur);
			rc = -1;
			break;
		}
		done[n++] = cur;
		done[n++] = end;
		cur = end;
	}
	if (rc < 0)
		for (size_t i = 0; i < n; i += 2)
			vl_hdecommit(os, c, done[i], done[i + 1]);
	if (done != small)
		free(done);
	return rc;
}

void vl_hdecommit(const struct vl_heap_os *os, struct vl_hranges *c, uint64_t lo, uint64_t hi)
{
	uint64_t cur = lo;
	while (cur < hi) {
		struct vl_hnode *p = vl_hranges_at(c, cur);
		if (!p) {
			p = vl_hmap_ceil(&c->by_addr, cur, 0);
			if (!p || p->k1 >= hi)
				return;
			cur = p->k1;
		}
		uint64_t end = p->k1 + p->v < hi ? p->k1 + p->v : hi;
		if (os->decommit(os->ctx, cur, end - cur) == 0)
			vl_hranges_take(c, cur, end - cur);
		cur = end;
	}
}
