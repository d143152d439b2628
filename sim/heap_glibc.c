/* sim/heap_glibc.c - glibc malloc, ptmalloc2 as in glibc 2.36 (Debian 12),
 * main arena only, one thread, x86-64 (heap.model = glibc).
 *
 * Source: glibc 2.36 malloc/malloc.c: __libc_malloc, __libc_free,
 * __libc_realloc, _mid_memalign, _int_malloc, _int_free, _int_realloc,
 * _int_memalign, malloc_consolidate, sysmalloc, systrim, mremap_chunk;
 * the defaults of mallopt(3).  docs/heap.md, "## glibc", lists the rules
 * and the few approximations; tests/unit/test_heap_models.c runs random
 * sequences against the host's glibc 2.36 and requires the same addresses
 * and breaks.
 *
 * Chunks: 16-byte header (prev_size, size), the program's pointer is the
 * chunk + 16; a request of n bytes needs request2size(n) =
 * max(32, (n + 8 + 15) & ~15).  The arena lies on the program break:
 * [base, top) is covered by chunks in use (by the program, or held in the
 * tcache or a fastbin) and free chunks in the bins (unsorted, small,
 * large); the top chunk ends at the break.  As in glibc, chunks in the
 * tcache and the fastbins count as in use: nothing merges with them until
 * malloc_consolidate moves the fastbins' chunks to the unsorted bin.
 *
 * The bins are the lists glibc keeps, in glibc's order, with glibc's
 * insertion and removal ends (unsorted and small bins: in at the head,
 * out at the tail; large bins: sorted by size, a chunk of a size already
 * present in the second position, the first chunk of each size linked to
 * the next size as by fd_nextsize), so that which chunk a malloc gets is
 * glibc's choice, at glibc's cost.
 *
 * Invariants: binned chunks (`binned`, by address) never touch each other
 * nor the top; every binned chunk is in exactly one bin list; top +
 * top_size is the break.  Memory on the break is committed by the brk
 * callback itself; mmapped chunks are one reservation each, committed
 * whole.
 */
#include <stdlib.h>

#include "heap_util.h"

#define GL_SIZE_SZ 8u
#define GL_MINSIZE 32u
#define GL_HDR 16u                  /* user pointer = chunk + 2 * SIZE_SZ */
#define GL_TOP_PAD 0x20000u         /* DEFAULT_TOP_PAD, malloc-machine.h */
#define GL_MMAP_THRESHOLD 0x20000u  /* DEFAULT_MMAP_THRESHOLD_MIN */
#define GL_TRIM_THRESHOLD 0x20000u  /* DEFAULT_TRIM_THRESHOLD */
#define GL_MMAP_THRESHOLD_MAX 0x2000000u /* 4 MiB * sizeof(long) */
#define GL_CONSOLIDATE 0x10000u     /* FASTBIN_CONSOLIDATION_THRESHOLD */
#define GL_MMAP_MAX 65536u          /* DEFAULT_MMAP_MAX */
#define GL_TCACHE_CHUNK 0x290u      /* tcache_perthread_struct 0x280 + header */
#define GL_TCACHE_BINS 64u
#define GL_TCACHE_COUNT 7u
#define GL_MAX_FAST 0x80u           /* set_max_fast (DEFAULT_MXFAST 128) */
#define GL_NFASTBINS 10
#define GL_MIN_LARGE 0x400u         /* MIN_LARGE_SIZE */
#define GL_NBINS 128
#define GL_MAX_ITERS 10000
#define GL_IS_MMAPPED 2u

enum { K_ARENA = 1, K_MMAP = 2 };
#define KIND(w) ((unsigned)((w) >> 56))
#define LEN(w) ((w) & ((1ull << 56) - 1))
#define PACK(k, len) ((uint64_t)(k) << 56 | (len))

/* A chunk the program does not hold: in a bin, the tcache or a fastbin.
 * Bins link both ways through a sentinel; the tcache and fastbins are
 * singly linked through fd. */
struct fc {
	uint64_t addr, size;
	struct fc *fd, *bk;
	struct fc *fd_ns, *bk_ns; /* large bins: the first chunk of each size, by size */
};

struct gl {
	struct vl_heap_os os;
	struct vl_hmap live;   /* user address -> v: chunk (arena) or mapping base, w: PACK */
	struct vl_hmap binned; /* chunk address -> struct fc *, for chunks in the bins */
	struct fc bins[GL_NBINS]; /* sentinels; 1 unsorted, 2..63 small, 64..126 large */
	struct fc *fast[GL_NFASTBINS];
	struct fc *tc[GL_TCACHE_BINS];
	unsigned tcount[GL_TCACHE_BINS];
	uint64_t last_remainder; /* an address, compared as glibc compares its pointer */
	int have_fast, started, tcache_ready;
	uint64_t base, top, top_size; /* break = top + top_size */
	uint64_t mmap_threshold, trim_threshold, n_mmaps;
};

static uint64_t request2size(uint64_t n)
{
	uint64_t nb = (n + GL_SIZE_SZ + 15) & ~15ull;
	return nb < GL_MINSIZE ? GL_MINSIZE : nb;
}

static unsigned tidx(uint64_t nb) { return (unsigned)((nb - GL_MINSIZE + 15) / 16); }

static int largebin_index(uint64_t sz)
{
	if ((sz >> 6) <= 48)
		return 48 + (int)(sz >> 6);
	if ((sz >> 9) <= 20)
		return 91 + (int)(sz >> 9);
	if ((sz >> 12) <= 10)
		return 110 + (int)(sz >> 12);
	if ((sz >> 15) <= 4)
		return 119 + (int)(sz >> 15);
	if ((sz >> 18) <= 2)
		return 124 + (int)(sz >> 18);
	return 126;
}

static int bin_index(uint64_t sz) { return sz < GL_MIN_LARGE ? (int)(sz >> 4) : largebin_index(sz); }

/* ---- lists ---- */

static struct fc *fc_new(uint64_t addr, uint64_t size)
{
	struct fc *f = malloc(sizeof(*f));
	if (f)
		*f = (struct fc){ .addr = addr, .size = size };
	return f;
}

/* A bin's sentinel (size 0) counts as a chunk with nextsize links, as
 * glibc's bin header does (its fd_nextsize overlays the next bin). */
static int has_ns(const struct fc *f) { return f->size == 0 || f->fd_ns != NULL; }

/* into a bin list between bck and fwd, and into the address map */
static void link_between(struct gl *g, struct fc *f, struct fc *bck, struct fc *fwd)
{
	f->bk = bck;
	f->fd = fwd;
	bck->fd = f;
	fwd->bk = f;
	vl_hmap_put(&g->binned, f->addr, 0, (uintptr_t)f, 0);
}

static void unlink_chunk(struct gl *g, struct fc *f)
{
	struct fc *fd = f->fd;
	fd->bk = f->bk;
	f->bk->fd = fd;
	if (f->size >= GL_MIN_LARGE && f->fd_ns) {
		if (!has_ns(fd)) { /* the next of its size heads the size now */
			if (f->fd_ns == f) {
				fd->fd_ns = fd->bk_ns = fd;
			} else {
				fd->fd_ns = f->fd_ns;
				fd->bk_ns = f->bk_ns;
				f->fd_ns->bk_ns = fd;
				f->bk_ns->fd_ns = fd;
			}
		} else {
			f->fd_ns->bk_ns = f->bk_ns;
			f->bk_ns->fd_ns = f->fd_ns;
		}
	}
	f->fd_ns = f->bk_ns = NULL;
	vl_hmap_del(&g->binned, f->addr, 0);
}

static void unsorted_push(struct gl *g, struct fc *f)
{
	struct fc *u = &g->bins[1];
	f->fd_ns = f->bk_ns = NULL;
	link_between(g, f, u, u->fd);
}

/* the unsorted loop's placement of a chunk in its small or large bin */
static void place_in_bin(struct gl *g, struct fc *f)
{
	int i = bin_index(f->size);
	struct fc *bin = &g->bins[i], *fwd = bin->fd, *bck;
	f->fd_ns = f->bk_ns = NULL;
	if (f->size < GL_MIN_LARGE) {
		link_between(g, f, bin, fwd); /* small: at the head */
		return;
	}
	if (fwd == bin) {
		f->fd_ns = f->bk_ns = f;
		link_between(g, f, bin, fwd);
		return;
	}
	if (f->size < bin->bk->size) { /* smaller than all: at the tail */
		f->fd_ns = bin->fd;
		f->bk_ns = bin->fd->bk_ns;
		bin->fd->bk_ns = f;
		f->bk_ns->fd_ns = f;
		link_between(g, f, bin->bk, bin);
		return;
	}
	while (f->size < fwd->size)
		fwd = fwd->fd_ns;
	if (f->size == fwd->size) {
		fwd = fwd->fd; /* always insert in the second position */
	} else {
		f->fd_ns = fwd;
		f->bk_ns = fwd->bk_ns;
		fwd->bk_ns = f;
		f->bk_ns->fd_ns = f;
	}
	bck = fwd->bk;
	link_between(g, f, bck, fwd);
}

static void tcache_put(struct gl *g, struct fc *f)
{
	unsigned i = tidx(f->size);
	f->fd = g->tc[i];
	g->tc[i] = f;
	g->tcount[i]++;
}

/* hand a held chunk to the program: *c and *w receive it */
static void take(struct fc *f, uint64_t *c, uint64_t *w)
{
	*c = f->addr;
	*w = PACK(K_ARENA, f->size);
	free(f);
}

/* ---- the break ---- */

/* sysmalloc's brk path: grow the top so that it holds nb + MINSIZE */
static int grow_top(struct gl *g, uint64_t nb)
{
	uint64_t size = vl_hup(nb + GL_TOP_PAD + GL_MINSIZE - g->top_size, VL_HEAP_PAGE), base;
	uint64_t brk = g->top + g->top_size + size;
	if (g->os.brk(g->os.ctx, g->started ? brk - g->base : size, &base) < 0)
		return -1;
	if (!g->started) {
		g->base = g->top = base;
		g->started = 1;
	}
	g->top_size += size;
	return 0;
}

static void systrim(struct gl *g)
{
	uint64_t base;
	if (g->top_size < GL_MINSIZE + 1)
		return;
	uint64_t top_area = g->top_size - GL_MINSIZE - 1;
	if (top_area <= GL_TOP_PAD)
		return;
	uint64_t extra = vl_hdown(top_area - GL_TOP_PAD, VL_HEAP_PAGE);
	if (!extra)
		return;
	if (g->os.brk(g->os.ctx, g->top + g->top_size - extra - g->base, &base) == 0)
		g->top_size -= extra;
}

/* ---- free ---- */

/* merge [c, c + size) with a binned chunk before it and one after it (or
 * the top); into the unsorted bin at the head.  Returns the merged size
 * (the top's size when it went into the top). */
static uint64_t merge_chunk(struct gl *g, uint64_t c, uint64_t size)
{
	uint64_t next = c + size;
	struct vl_hnode *pn = c ? vl_hmap_floor(&g->binned, c - 1, 0) : NULL;
	if (pn) {
		struct fc *p = (struct fc *)(uintptr_t)pn->v;
		if (p->addr + p->size == c) {
			unlink_chunk(g, p);
			c = p->addr;
			size += p->size;
			free(p);
		}
	}
	if (next == g->top) {
		g->top = c;
		g->top_size += size;
		return g->top_size;
	}
	struct vl_hnode *nn = vl_hmap_get(&g->binned, next, 0);
	if (nn) {
		struct fc *n = (struct fc *)(uintptr_t)nn->v;
		unlink_chunk(g, n);
		size += n->size;
		free(n);
	}
	struct fc *f = fc_new(c, size);
	if (f)
		unsorted_push(g, f);
	return size;
}

static void consolidate(struct gl *g)
{
	g->have_fast = 0;
	for (int i = 0; i < GL_NFASTBINS; i++) {
		struct fc *p = g->fast[i];
		g->fast[i] = NULL;
		while (p) {
			struct fc *nextp = p->fd;
			uint64_t c = p->addr, size = p->size;
			free(p);
			merge_chunk(g, c, size);
			p = nextp;
		}
	}
}

static void int_free(struct gl *g, uint64_t c, uint64_t size)
{
	unsigned t = tidx(size);
	if (g->tcache_ready && t < GL_TCACHE_BINS && g->tcount[t] < GL_TCACHE_COUNT) {
		struct fc *f = fc_new(c, size);
		if (f)
			tcache_put(g, f);
		return;
	}
	if (size <= GL_MAX_FAST) {
		struct fc *f = fc_new(c, size);
		if (f) {
			unsigned i = (unsigned)(size >> 4) - 2;
			f->fd = g->fast[i];
			g->fast[i] = f;
			g->have_fast = 1;
		}
		return;
	}
	uint64_t merged = merge_chunk(g, c, size);
	if (merged >= GL_CONSOLIDATE) {
		if (g->have_fast)
			consolidate(g);
		if (g->top_size >= g->trim_threshold)
			systrim(g);
	}
}

/* ---- malloc ---- */

static int mmap_chunk(struct gl *g, uint64_t nb, uint64_t *c, uint64_t *len)
{
	*len = vl_hup(nb + GL_SIZE_SZ, VL_HEAP_PAGE);
	if (g->os.reserve(g->os.ctx, *len, c) < 0)
		return -1;
	if (g->os.commit(g->os.ctx, *c, *len) < 0) {
		g->os.release(g->os.ctx, *c);
		return -1;
	}
	g->n_mmaps++;
	return 0;
}

/* split f (unlinked) at nb: the remainder, if at least MINSIZE, goes to
 * the unsorted bin's head (and becomes the last remainder when asked) */
static void split(struct gl *g, struct fc *f, uint64_t nb, int remember, uint64_t *c, uint64_t *w)
{
	uint64_t rem = f->size - nb;
	if (rem < GL_MINSIZE) {
		take(f, c, w);
		return;
	}
	struct fc *r = fc_new(f->addr + nb, rem);
	if (!r) { /* out of host memory: the caller gets the whole chunk */
		take(f, c, w);
		return;
	}
	unsorted_push(g, r);
	if (remember)
		g->last_remainder = r->addr;
	*c = f->addr;
	*w = PACK(K_ARENA, nb);
	free(f);
}

/* _int_malloc: *c, *w receive the chunk.  -1 when the OS refused. */
static int int_malloc(struct gl *g, uint64_t nb, uint64_t *c, uint64_t *w)
{
	unsigned t = tidx(nb);
	int tcache_nb = g->tcache_ready && t < GL_TCACHE_BINS, idx;
	if (nb <= GL_MAX_FAST) {
		unsigned i = (unsigned)(nb >> 4) - 2;
		struct fc *v = g->fast[i];
		if (v) {
			g->fast[i] = v->fd;
			while (tcache_nb && g->tcount[t] < GL_TCACHE_COUNT && g->fast[i]) {
				struct fc *s = g->fast[i];
				g->fast[i] = s->fd;
				tcache_put(g, s);
			}
			take(v, c, w);
			return 0;
		}
	}
	if (nb < GL_MIN_LARGE) {
		idx = (int)(nb >> 4);
		struct fc *bin = &g->bins[idx], *v = bin->bk;
		if (v != bin) {
			unlink_chunk(g, v);
			while (tcache_nb && g->tcount[t] < GL_TCACHE_COUNT && bin->bk != bin) {
				struct fc *s = bin->bk;
				unlink_chunk(g, s);
				tcache_put(g, s);
			}
			take(v, c, w);
			return 0;
		}
	} else {
		idx = largebin_index(nb);
		if (g->have_fast)
			consolidate(g);
	}
	for (;;) {
		int return_cached = 0, iters = 0;
		struct fc *u = &g->bins[1], *v;
		while ((v = u->bk) != u) {
			if (nb < GL_MIN_LARGE && v->bk == u && v->addr == g->last_remainder &&
			    v->size > nb + GL_MINSIZE) {
				unlink_chunk(g, v);
				split(g, v, nb, 1, c, w);
				return 0;
			}
			unlink_chunk(g, v);
			if (v->size == nb) {
				if (tcache_nb && g->tcount[t] < GL_TCACHE_COUNT) {
					tcache_put(g, v);
					return_cached = 1;
					continue;
				}
				take(v, c, w);
				return 0;
			}
			place_in_bin(g, v);
			if (++iters >= GL_MAX_ITERS)
				break;
		}
		if (return_cached) {
			v = g->tc[t];
			g->tc[t] = v->fd;
			g->tcount[t]--;
			take(v, c, w);
			return 0;
		}
		if (nb >= GL_MIN_LARGE) {
			struct fc *bin = &g->bins[idx];
			if (bin->fd != bin && bin->fd->size >= nb) {
				/* the smallest size >= nb; of several chunks of it, the
				 * second (glibc keeps the first for the skip list) */
				v = bin->fd->bk_ns;
				while (v->size < nb)
					v = v->bk_ns;
				if (v != bin->bk && v->fd->size == v->size)
					v = v->fd;
				unlink_chunk(g, v);
				split(g, v, nb, 0, c, w);
				return 0;
			}
		}
		for (int b = idx + 1; b < GL_NBINS; b++) {
			struct fc *bin = &g->bins[b];
			if (bin->bk == bin)
				continue;
			v = bin->bk;
			unlink_chunk(g, v);
			split(g, v, nb, nb < GL_MIN_LARGE, c, w);
			return 0;
		}
		if (g->top_size >= nb + GL_MINSIZE) {
			*c = g->top;
			*w = PACK(K_ARENA, nb);
			g->top += nb;
			g->top_size -= nb;
			return 0;
		}
		if (g->have_fast) {
			consolidate(g);
			idx = bin_index(nb);
			continue;
		}
		/* sysmalloc */
		if (nb >= g->mmap_threshold && g->n_mmaps < GL_MMAP_MAX) {
			uint64_t len;
			if (mmap_chunk(g, nb, c, &len) == 0) {
				*w = PACK(K_MMAP, len);
				return 0;
			}
		}
		if (grow_top(g, nb) < 0)
			return -1;
		*c = g->top;
		*w = PACK(K_ARENA, nb);
		g->top += nb;
		g->top_size -= nb;
		return 0;
	}
}

/* ---- the ops ---- */

static int gl_create(void **state, const struct vl_heap_os *os)
{
	if (!os->brk)
		return -1; /* the main arena lives on the break: linux only */
	struct gl *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	g->os = *os;
	for (int i = 0; i < GL_NBINS; i++)
		g->bins[i].fd = g->bins[i].bk = &g->bins[i];
	g->mmap_threshold = GL_MMAP_THRESHOLD;
	g->trim_threshold = GL_TRIM_THRESHOLD;
	*state = g;
	return 0;
}

static void free_list(struct fc *f)
{
	while (f) {
		struct fc *n = f->fd;
		free(f);
		f = n;
	}
}

static void gl_destroy(void *state)
{
	struct gl *g = state;
	for (int i = 0; i < GL_NBINS; i++)
		while (g->bins[i].fd != &g->bins[i]) {
			struct fc *f = g->bins[i].fd;
			g->bins[i].fd = f->fd;
			free(f);
		}
	for (int i = 0; i < GL_NFASTBINS; i++)
		free_list(g->fast[i]);
	for (unsigned i = 0; i < GL_TCACHE_BINS; i++)
		free_list(g->tc[i]);
	vl_hmap_clear(&g->binned);
	vl_hmap_clear(&g->live);
	free(g);
}

/* MAYBE_INIT_TCACHE: the first malloc takes the tcache's own chunk */
static int init(struct gl *g)
{
	uint64_t c, w;
	if (g->tcache_ready)
		return 0;
	if (int_malloc(g, GL_TCACHE_CHUNK, &c, &w) < 0)
		return -1;
	g->tcache_ready = 1;
	return 0;
}

static void release_mapping(struct gl *g, uint64_t base)
{
	g->os.release(g->os.ctx, base);
	g->n_mmaps--;
}

/* __libc_free of the block at user (chunk c, record v, w) */
static void libc_free(struct gl *g, uint64_t user, uint64_t v, uint64_t w)
{
	if (KIND(w) == K_MMAP) {
		/* the dynamic threshold; chunksize_nomask carries IS_MMAPPED */
		uint64_t len = LEN(w);
		if ((len | GL_IS_MMAPPED) > g->mmap_threshold &&
		    (len | GL_IS_MMAPPED) <= GL_MMAP_THRESHOLD_MAX) {
			g->mmap_threshold = len;
			g->trim_threshold = 2 * len;
		}
		release_mapping(g, v);
		return;
	}
	init(g); /* MAYBE_INIT_TCACHE (on failure, the tcache stays off) */
	int_free(g, user - GL_HDR, LEN(w));
}

/* _int_memalign: a chunk of nb + align + MINSIZE (asked as bytes, so
 * request2size adds its 16), an aligned chunk carved out of it, the
 * leading and trailing pieces freed. */
static int int_memalign(struct gl *g, uint64_t nb, uint64_t align, uint64_t *user, uint64_t *v,
			uint64_t *w)
{
	uint64_t c, cw;
	if (int_malloc(g, request2size(nb + align + GL_MINSIZE), &c, &cw) < 0)
		return -1;
	uint64_t size = LEN(cw), m = c + GL_HDR, p = c;
	if (m % align) {
		uint64_t brk = vl_hup(m, align) - GL_HDR;
		if (brk - p < GL_MINSIZE)
			brk += align;
		uint64_t lead = brk - p;
		size -= lead;
		if (KIND(cw) == K_MMAP) {
			*user = brk + GL_HDR;
			*v = c;
			*w = PACK(K_MMAP, size);
			return 0;
		}
		int_free(g, p, lead);
		p = brk;
	}
	if (KIND(cw) == K_MMAP) {
		*user = p + GL_HDR;
		*v = c;
		*w = cw;
		return 0;
	}
	if (size > nb + GL_MINSIZE) {
		int_free(g, p + nb, size - nb);
		size = nb;
	}
	*user = p + GL_HDR;
	*v = p;
	*w = PACK(K_ARENA, size);
	return 0;
}

static int gl_alloc(void *state, uint64_t size, uint64_t align, uint64_t *addr)
{
	struct gl *g = state;
	uint64_t nb, user, v, w;
	if (size > VL_HEAP_MAX_REQUEST || align > VL_HEAP_MAX_REQUEST)
		return -1;
	nb = request2size(size);
	if (align > 16) {
		/* _mid_memalign: at least MINSIZE, a power of two */
		uint64_t a = align < GL_MINSIZE ? GL_MINSIZE : align;
		if (a & (a - 1))
			a = 1ull << (64 - __builtin_clzll(a));
		if (int_memalign(g, nb, a, &user, &v, &w) < 0)
			return -1;
	} else {
		if (init(g) < 0)
			return -1;
		unsigned t = tidx(nb);
		if (t < GL_TCACHE_BINS && g->tcount[t] > 0) {
			struct fc *f = g->tc[t];
			g->tc[t] = f->fd;
			g->tcount[t]--;
			take(f, &v, &w);
		} else if (int_malloc(g, nb, &v, &w) < 0) {
			return -1;
		}
		user = v + GL_HDR;
	}
	if (!vl_hmap_put(&g->live, user, 0, v, w)) {
		libc_free(g, user, v, w);
		return -1;
	}
	*addr = user;
	return 0;
}

static void gl_free(void *state, uint64_t addr)
{
	struct gl *g = state;
	struct vl_hnode *n = vl_hmap_get(&g->live, addr, 0);
	if (!n)
		return;
	uint64_t v = n->v, w = n->w;
	vl_hmap_del(&g->live, addr, 0);
	libc_free(g, addr, v, w);
}

/* mremap_chunk: the same pages, fewer (the tail decommitted: the
 * reservation keeps its length until munmap), or more (a new mapping, the
 * old one released: modelled as always moving). */
static int realloc_mmapped(struct gl *g, struct vl_hnode *n, uint64_t addr, uint64_t nb,
			   uint64_t *new_addr)
{
	uint64_t base = n->v, c = addr - GL_HDR, offset = c - base, size = LEN(n->w);
	uint64_t total = offset + size, new_size = vl_hup(nb + offset + GL_SIZE_SZ, VL_HEAP_PAGE);
	if (new_size == total) {
		*new_addr = addr;
		return 0;
	}
	if (new_size < total) {
		if (g->os.decommit(g->os.ctx, base + new_size, total - new_size) < 0)
			return -1;
		n->w = PACK(K_MMAP, new_size - offset);
		*new_addr = addr;
		return 0;
	}
	uint64_t nbase;
	if (g->os.reserve(g->os.ctx, new_size, &nbase) < 0)
		return -1;
	if (g->os.commit(g->os.ctx, nbase, new_size) < 0) {
		g->os.release(g->os.ctx, nbase);
		return -1;
	}
	uint64_t user = nbase + offset + GL_HDR;
	if (!vl_hmap_put(&g->live, user, 0, nbase, PACK(K_MMAP, new_size - offset))) {
		g->os.release(g->os.ctx, nbase);
		return -1;
	}
	vl_hmap_del(&g->live, addr, 0);
	g->os.release(g->os.ctx, base); /* the mapping moved: no threshold update */
	*new_addr = user;
	return 0;
}

/* _int_realloc */
static int gl_realloc(void *state, uint64_t addr, uint64_t size, uint64_t *new_addr)
{
	struct gl *g = state;
	struct vl_hnode *n = vl_hmap_get(&g->live, addr, 0);
	if (size > VL_HEAP_MAX_REQUEST)
		return -1;
	if (!n)
		return gl_alloc(g, size, 0, new_addr);
	uint64_t nb = request2size(size);
	if (KIND(n->w) == K_MMAP)
		return realloc_mmapped(g, n, addr, nb, new_addr);
	uint64_t oldp = addr - GL_HDR, oldsize = LEN(n->w), next = oldp + oldsize;
	uint64_t newp = oldp, newsize = oldsize;
	if (oldsize < nb) {
		struct vl_hnode *nn = next == g->top ? NULL : vl_hmap_get(&g->binned, next, 0);
		if (next == g->top && oldsize + g->top_size >= nb + GL_MINSIZE) {
			g->top_size -= nb - oldsize;
			g->top = oldp + nb;
			n->w = PACK(K_ARENA, nb);
			*new_addr = addr;
			return 0;
		} else if (nn && oldsize + ((struct fc *)(uintptr_t)nn->v)->size >= nb) {
			struct fc *f = (struct fc *)(uintptr_t)nn->v;
			unlink_chunk(g, f);
			newsize = oldsize + f->size;
			free(f);
		} else {
			uint64_t c, w;
			if (int_malloc(g, nb, &c, &w) < 0)
				return -1;
			if (KIND(w) == K_ARENA && c == next) {
				newsize = oldsize + LEN(w);
			} else {
				uint64_t user = c + GL_HDR;
				if (!vl_hmap_put(&g->live, user, 0, c, w)) {
					libc_free(g, user, c, w);
					return -1;
				}
				vl_hmap_del(&g->live, addr, 0);
				int_free(g, oldp, oldsize);
				*new_addr = user;
				return 0;
			}
		}
	}
	/* free the spare room of the old or extended chunk */
	if (newsize - nb >= GL_MINSIZE) {
		n->w = PACK(K_ARENA, nb);
		int_free(g, newp + nb, newsize - nb);
	} else {
		n->w = PACK(K_ARENA, newsize);
	}
	*new_addr = addr;
	return 0;
}

const struct vl_heap_model_ops vl_heap_glibc = {
	.name = "glibc",
	.summary = "glibc 2.36 malloc: tcache, fastbins, bins, top chunk on brk, "
		   "mmap threshold 128 KiB (dynamic), trim threshold",
	.needs_brk = true,
	.create = gl_create,
	.destroy = gl_destroy,
	.alloc = gl_alloc,
	.free = gl_free,
	.realloc = gl_realloc,
};
