/* sim/heap_segment.c - the Windows 10 segment heap (heap.model = segment),
 * 64-bit.
 *
 * Source: Mark Vincent Yason, "Windows 10 Segment Heap Internals", Black
 * Hat USA 2016 (docs/heap.md, "## segment", lists what is taken from it and
 * what is approximated).  Four components, chosen by the request size:
 *
 *   size <= 16368, bucket active   LFH: headerless fixed-size slots in LFH
 *                                  subsegments taken from the back end
 *   size <= 128 KiB                VS: 16-byte chunk header, best fit in VS
 *                                  subsegments taken from the back end,
 *                                  split and coalesced; whole free pages
 *                                  inside a free chunk decommitted
 *   size <= 508 KiB (0x7F000)      back end: whole pages of a 1 MiB segment
 *                                  (its first 2 pages are the segment's
 *                                  header and page range descriptors)
 *   larger                         large block: its own VirtualAlloc
 *
 * An LFH bucket becomes active when, after an allocation of its size, 17
 * blocks of it are live or 2040 have been requested.
 *
 * Invariants: back-end free page ranges (`bfree`) never touch (merge), and
 * never cross a segment (each segment starts with its 2 header pages);
 * a page is committed iff it is a header page, a page of a live back-end
 * block or LFH subsegment, or a page of a VS subsegment overlapping its
 * header or a live VS chunk.  VS free chunks (`vfree`) merge and stay in
 * their subsegment (its 0x30-byte header separates them from a neighbour).
 */
#include <stdlib.h>

#include "heap_util.h"

#define SG_SEGMENT 0x100000u      /* back-end segment, 1 MiB */
#define SG_SEG_HDR 0x2000u        /* header + 256 page range descriptors */
#define SG_LFH_MAX 16368u
#define SG_VS_MAX 0x20000u
#define SG_BACK_MAX 0x7f000u
#define SG_VS_HDR 16u             /* _HEAP_VS_CHUNK_HEADER */
#define SG_VS_MIN 32u
#define SG_VS_SUB_HDR 0x30u       /* _HEAP_VS_SUBSEGMENT, rounded */
#define SG_VS_SUB 0x10000u        /* a VS subsegment, 64 KiB (approximation) */
#define SG_LFH_SUB_HDR 0x40u      /* _HEAP_LFH_SUBSEGMENT (approximation) */
#define SG_LFH_SUB_MAX 0x10000u
#define SG_LFH_ACTIVE 17u
#define SG_LFH_REQUESTS 2040u
#define SG_NBUCKETS 128

enum { K_LFH = 1, K_VS = 2, K_BACK = 3, K_LARGE = 4 };
#define KIND(w) ((unsigned)((w) >> 56))
#define BUCKET(w) ((int)(((w) >> 48) & 0xff) - 1)
#define LEN(w) ((w) & ((1ull << 48) - 1))
#define PACK(k, b, len) ((uint64_t)(k) << 56 | (uint64_t)((b) + 1) << 48 | (len))

struct sg_sub {
	uint64_t base, len, first; /* pages from the back end; slot 0 */
	uint32_t stride, nslots, nfree, bucket;
	uint64_t bits[];
};

struct sg {
	struct vl_heap_os os;
	uint64_t gran; /* reservation granularity: os.granularity, 64 KiB if unset */
	struct vl_hmap live;    /* user address -> v: chunk / sub / base, w: PACK */
	struct vl_hranges bfree; /* back-end free pages, sized */
	struct vl_hranges com;   /* committed pages of the segments */
	struct vl_hranges vfree; /* free VS chunks, sized */
	struct vl_hmap vsubs;   /* VS subsegment base -> v: length, w: live chunks */
	struct vl_hmap subs;    /* LFH subsegment base -> sub */
	uint32_t active[SG_NBUCKETS], requests[SG_NBUCKETS], nsub[SG_NBUCKETS];
	uint8_t on[SG_NBUCKETS];
	struct vl_hmap open[SG_NBUCKETS]; /* LFH subsegments with a free slot */
};

/* LFH bucket of a request (Yason: 16-byte granularity to 1 KiB, then 64,
 * 128, 256, 512 to 16 KiB); *bsize receives the slot size. */
static int sg_bucket(uint64_t size, uint64_t *bsize)
{
	static const uint32_t lim[] = { 1024, 2048, 4096, 8192, 16384 };
	static const uint32_t gran[] = { 16, 64, 128, 256, 512 };
	uint64_t lo = 0, bs = size ? size : 1;
	int idx = 0;
	if (size > SG_LFH_MAX)
		return -1;
	for (int i = 0; i < 5; i++) {
		if (bs <= lim[i]) {
			*bsize = vl_hup(bs, gran[i]);
			return idx + (int)((*bsize - lo) / gran[i]) - 1;
		}
		idx += (int)((lim[i] - lo) / gran[i]);
		lo = lim[i];
	}
	return -1;
}

/* ---- back end ---- */

/* len bytes (a page multiple) of a segment, committed when commit; *a
 * receives them.  -1: refused. */
static int be_alloc(struct sg *h, uint64_t len, int commit, uint64_t *a)
{
	struct vl_hnode *f = vl_hranges_best(&h->bfree, len);
	if (!f) {
		uint64_t base;
		if (len > SG_SEGMENT - SG_SEG_HDR)
			return -1;
		if (h->os.reserve(h->os.ctx, SG_SEGMENT, &base) < 0)
			return -1;
		if (vl_hcommit(&h->os, &h->com, base, base + SG_SEG_HDR) < 0 ||
		    vl_hranges_add(&h->bfree, base + SG_SEG_HDR, SG_SEGMENT - SG_SEG_HDR, NULL, NULL) < 0) {
			vl_hdecommit(&h->os, &h->com, base, base + SG_SEG_HDR);
			h->os.release(h->os.ctx, base);
			return -1;
		}
		f = vl_hranges_best(&h->bfree, len);
	}
	uint64_t at = f->k2;
	if (commit && vl_hcommit(&h->os, &h->com, at, at + len) < 0)
		return -1;
	if (vl_hranges_take(&h->bfree, at, len) < 0) {
		if (commit)
			vl_hdecommit(&h->os, &h->com, at, at + len);
		return -1;
	}
	*a = at;
	return 0;
}

static void be_free(struct sg *h, uint64_t a, uint64_t len)
{
	vl_hdecommit(&h->os, &h->com, a, a + len);
	vl_hranges_add(&h->bfree, a, len, NULL, NULL);
}

/* ---- VS ---- */

static uint64_t vs_chunk(uint64_t size)
{
	uint64_t n = vl_hup(size, 16) + SG_VS_HDR;
	return n < SG_VS_MIN ? SG_VS_MIN : n;
}

/* A free VS range back (coalesced); whole pages inside the merged chunk
 * are decommitted. */
static void vs_release(struct sg *h, uint64_t c, uint64_t n)
{
	uint64_t a, l;
	if (vl_hranges_add(&h->vfree, c, n, &a, &l) < 0)
		return;
	uint64_t lo = vl_hup(a, VL_HEAP_PAGE), hi = vl_hdown(a + l, VL_HEAP_PAGE);
	if (hi > lo)
		vl_hdecommit(&h->os, &h->com, lo, hi);
}

static uint64_t vs_alloc(struct sg *h, uint64_t nb, uint64_t *chunk)
{
	struct vl_hnode *f = vl_hranges_best(&h->vfree, nb);
	if (!f) {
		uint64_t len = vl_hup(nb + SG_VS_SUB_HDR, VL_HEAP_PAGE), base;
		if (len < SG_VS_SUB)
			len = SG_VS_SUB;
		if (be_alloc(h, len, 0, &base) < 0)
			return 0;
		if (vl_hcommit(&h->os, &h->com, base, base + VL_HEAP_PAGE) < 0 ||
		    !vl_hmap_put(&h->vsubs, base, 0, len, 0)) {
			be_free(h, base, len);
			return 0;
		}
		if (vl_hranges_add(&h->vfree, base + SG_VS_SUB_HDR, len - SG_VS_SUB_HDR, NULL, NULL) < 0) {
			vl_hmap_del(&h->vsubs, base, 0);
			be_free(h, base, len);
			return 0;
		}
		f = vl_hranges_best(&h->vfree, nb);
	}
	uint64_t a = f->k2, take = f->k1 - nb >= SG_VS_MIN ? nb : f->k1;
	if (vl_hcommit(&h->os, &h->com, vl_hdown(a, VL_HEAP_PAGE), vl_hup(a + take, VL_HEAP_PAGE)) < 0)
		return 0;
	if (vl_hranges_take(&h->vfree, a, take) < 0)
		return 0;
	vl_hmap_floor(&h->vsubs, a, 0)->w++;
	*chunk = a;
	return take;
}

static void vs_free(struct sg *h, uint64_t c, uint64_t n)
{
	struct vl_hnode *s = vl_hmap_floor(&h->vsubs, c, 0);
	uint64_t base = s->k1, len = s->v;
	if (--s->w == 0) {
		/* the subsegment is empty: back to the back end whole */
		vl_hranges_add(&h->vfree, c, n, NULL, NULL);
		vl_hranges_take(&h->vfree, base + SG_VS_SUB_HDR, len - SG_VS_SUB_HDR);
		vl_hmap_del(&h->vsubs, base, 0);
		be_free(h, base, len);
		return;
	}
	vs_release(h, c, n);
}

/* ---- LFH ---- */

static struct sg_sub *lfh_alloc(struct sg *h, int b, uint64_t bs, uint64_t *user)
{
	struct vl_hnode *o = vl_hmap_ceil(&h->open[b], 0, 0);
	struct sg_sub *s;
	if (o) {
		s = (struct sg_sub *)(uintptr_t)o->v;
	} else {
		uint32_t k = h->nsub[b] < 6 ? h->nsub[b] : 6;
		uint64_t count = 16u << k, cap = (SG_LFH_SUB_MAX - SG_LFH_SUB_HDR) / bs, base;
		if (count > cap)
			count = cap;
		uint64_t len = vl_hup(SG_LFH_SUB_HDR + count * bs, VL_HEAP_PAGE);
		count = (len - SG_LFH_SUB_HDR) / bs; /* the slots fill the pages */
		s = calloc(1, sizeof(*s) + (count + 63) / 64 * sizeof(uint64_t));
		if (!s)
			return NULL;
		if (be_alloc(h, len, 1, &base) < 0) {
			free(s);
			return NULL;
		}
		*s = (struct sg_sub){ .base = base, .len = len, .first = base + SG_LFH_SUB_HDR,
				      .stride = (uint32_t)bs, .nslots = (uint32_t)count,
				      .nfree = (uint32_t)count, .bucket = (uint32_t)b };
		if (!vl_hmap_put(&h->subs, base, 0, (uintptr_t)s, 0)) {
			be_free(h, base, len);
			free(s);
			return NULL;
		}
		if (!vl_hmap_put(&h->open[b], base, 0, (uintptr_t)s, 0)) {
			vl_hmap_del(&h->subs, base, 0);
			be_free(h, base, len);
			free(s);
			return NULL;
		}
		h->nsub[b]++;
	}
	uint32_t i = 0;
	while (s->bits[i / 64] == ~0ull)
		i += 64;
	while (s->bits[i / 64] >> (i % 64) & 1)
		i++;
	s->bits[i / 64] |= 1ull << (i % 64);
	if (--s->nfree == 0)
		vl_hmap_del(&h->open[b], s->base, 0);
	*user = s->first + (uint64_t)i * s->stride;
	return s;
}

static void lfh_free(struct sg *h, struct sg_sub *s, uint64_t addr)
{
	uint32_t i = (uint32_t)((addr - s->first) / s->stride);
	s->bits[i / 64] &= ~(1ull << (i % 64));
	if (s->nfree++ == 0 && !vl_hmap_put(&h->open[s->bucket], s->base, 0, (uintptr_t)s, 0)) {
		s->bits[i / 64] |= 1ull << (i % 64);
		s->nfree--;
		return;
	}
	if (s->nfree == s->nslots) {
		vl_hmap_del(&h->open[s->bucket], s->base, 0);
		vl_hmap_del(&h->subs, s->base, 0);
		h->nsub[s->bucket]--;
		be_free(h, s->base, s->len);
		free(s);
	}
}

/* ---- the ops ---- */

static int sg_create(void **state, const struct vl_heap_os *os)
{
	struct sg *h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	h->os = *os;
	h->gran = os->granularity ? os->granularity : 0x10000;
	h->bfree.sized = 1;
	h->vfree.sized = 1;
	*state = h;
	return 0;
}

static void sg_destroy(void *state)
{
	struct sg *h = state;
	while (h->subs.root) {
		struct vl_hnode *n = h->subs.root;
		free((void *)(uintptr_t)n->v);
		vl_hmap_del(&h->subs, n->k1, n->k2);
	}
	for (int b = 0; b < SG_NBUCKETS; b++)
		vl_hmap_clear(&h->open[b]);
	vl_hmap_clear(&h->live);
	vl_hmap_clear(&h->vsubs);
	vl_hranges_clear(&h->bfree);
	vl_hranges_clear(&h->com);
	vl_hranges_clear(&h->vfree);
	free(h);
}

static void drop(struct sg *h, uint64_t addr, uint64_t v, uint64_t w)
{
	switch (KIND(w)) {
	case K_LARGE:
		h->os.release(h->os.ctx, v);
		break;
	case K_BACK:
		be_free(h, v, LEN(w));
		break;
	case K_LFH: {
		struct sg_sub *s = (struct sg_sub *)(uintptr_t)v;
		lfh_free(h, s, addr);
		break;
	}
	default:
		if (BUCKET(w) >= 0)
			h->active[BUCKET(w)]--;
		vs_free(h, v, LEN(w));
	}
}

static int sg_alloc(void *state, uint64_t size, uint64_t align, uint64_t *addr)
{
	struct sg *h = state;
	if (size > VL_HEAP_MAX_REQUEST || align > VL_HEAP_MAX_REQUEST)
		return -1;
	uint64_t req = align > 16 ? size + align : size, user, v, w;
	if (req > SG_BACK_MAX) {
		uint64_t clen = vl_hup(req, VL_HEAP_PAGE);
		if (h->os.reserve(h->os.ctx, vl_hup(req, h->gran), &v) < 0)
			return -1;
		if (h->os.commit(h->os.ctx, v, clen) < 0) {
			h->os.release(h->os.ctx, v);
			return -1;
		}
		user = v;
		w = PACK(K_LARGE, -1, clen);
	} else if (req > SG_VS_MAX) {
		uint64_t len = vl_hup(req, VL_HEAP_PAGE);
		if (be_alloc(h, len, 1, &v) < 0)
			return -1;
		user = v;
		w = PACK(K_BACK, -1, len);
	} else {
		uint64_t bs = 0;
		int b = sg_bucket(req, &bs);
		if (b >= 0 && h->on[b]) {
			struct sg_sub *s = lfh_alloc(h, b, bs, &user);
			if (!s)
				return -1;
			v = (uintptr_t)s;
			w = PACK(K_LFH, b, 0);
		} else {
			uint64_t c, n = vs_alloc(h, vs_chunk(req), &c);
			if (!n)
				return -1;
			if (b >= 0) {
				h->active[b]++;
				h->requests[b]++;
				if (h->active[b] >= SG_LFH_ACTIVE || h->requests[b] >= SG_LFH_REQUESTS)
					h->on[b] = 1;
			}
			user = c + SG_VS_HDR;
			v = c;
			w = PACK(K_VS, b, n);
		}
	}
	if (align > 16)
		user = vl_hup(user, align);
	if (!vl_hmap_put(&h->live, user, 0, v, w)) {
		drop(h, user, v, w);
		return -1;
	}
	*addr = user;
	return 0;
}

static void sg_free(void *state, uint64_t addr)
{
	struct sg *h = state;
	struct vl_hnode *n = vl_hmap_get(&h->live, addr, 0);
	if (!n)
		return;
	uint64_t v = n->v, w = n->w;
	vl_hmap_del(&h->live, addr, 0);
	drop(h, addr, v, w);
}

/* 1 resized in place, 0 must move, -1 refused */
static int resize(struct sg *h, struct vl_hnode *n, uint64_t addr, uint64_t size)
{
	uint64_t v = n->v, w = n->w, len = LEN(w);
	switch (KIND(w)) {
	case K_LARGE: {
		if (size <= SG_BACK_MAX)
			return 0;
		uint64_t need = vl_hup(addr + size - v, VL_HEAP_PAGE);
		if (need <= len)
			return 1;
		if (need > vl_hup(len, h->gran))
			return 0;
		if (h->os.commit(h->os.ctx, v + len, need - len) < 0)
			return -1;
		n->w = PACK(K_LARGE, -1, need);
		return 1;
	}
	case K_LFH: {
		struct sg_sub *s = (struct sg_sub *)(uintptr_t)v;
		uint64_t bs, slot = s->first + (addr - s->first) / s->stride * s->stride;
		return sg_bucket(size, &bs) == (int)s->bucket && addr + size <= slot + s->stride;
	}
	case K_BACK: {
		if (size <= SG_VS_MAX || size > SG_BACK_MAX)
			return 0;
		uint64_t need = vl_hup(addr + size - v, VL_HEAP_PAGE);
		if (need <= len) {
			if (need < len) {
				be_free(h, v + need, len - need);
				n->w = PACK(K_BACK, -1, need);
			}
			return 1;
		}
		struct vl_hnode *f = vl_hranges_starting(&h->bfree, v + len);
		if (!f || len + f->v < need)
			return 0;
		if (vl_hcommit(&h->os, &h->com, v + len, v + need) < 0)
			return -1;
		if (vl_hranges_take(&h->bfree, v + len, need - len) < 0)
			return -1;
		n->w = PACK(K_BACK, -1, need);
		return 1;
	}
	default: { /* VS */
		if (size > SG_VS_MAX)
			return 0;
		uint64_t c = v, need = vl_hup(addr + size, 16) - c;
		if (need < SG_VS_MIN)
			need = SG_VS_MIN;
		if (need <= len) {
			if (len - need >= SG_VS_MIN) {
				n->w = PACK(K_VS, BUCKET(w), need);
				vs_release(h, c + need, len - need);
			}
			return 1;
		}
		struct vl_hnode *f = vl_hranges_starting(&h->vfree, c + len);
		if (!f || len + f->v < need)
			return 0;
		uint64_t take = len + f->v - need >= SG_VS_MIN ? need - len : f->v;
		if (vl_hcommit(&h->os, &h->com, vl_hdown(c + len, VL_HEAP_PAGE),
			       vl_hup(c + len + take, VL_HEAP_PAGE)) < 0)
			return -1;
		if (vl_hranges_take(&h->vfree, c + len, take) < 0)
			return -1;
		n->w = PACK(K_VS, BUCKET(w), len + take);
		return 1;
	}
	}
}

static int sg_realloc(void *state, uint64_t addr, uint64_t size, uint64_t *new_addr)
{
	struct sg *h = state;
	struct vl_hnode *n = vl_hmap_get(&h->live, addr, 0);
	if (size > VL_HEAP_MAX_REQUEST)
		return -1;
	if (!n)
		return sg_alloc(h, size, 0, new_addr);
	int r = resize(h, n, addr, size);
	if (r < 0)
		return -1;
	if (r) {
		*new_addr = addr;
		return 0;
	}
	if (sg_alloc(h, size, 0, new_addr) < 0)
		return -1;
	sg_free(h, addr);
	return 0;
}

const struct vl_heap_model_ops vl_heap_segment = {
	.name = "segment",
	.summary = "Windows 10 segment heap: LFH, variable-size, back end (1 MiB segments), "
		   "large blocks above 508 KiB",
	.create = sg_create,
	.destroy = sg_destroy,
	.alloc = sg_alloc,
	.free = sg_free,
	.realloc = sg_realloc,
};
