/* sim/tlb.c - building, filling and invalidating the TLB hierarchy and
 * the page-walk caches; the page walk itself.
 *
 * Lookup order for an access of kind k (data or instruction):
 *
 *   level 1 structures serving k  ─hit─▶ done (engine.c, inline)
 *      │ miss (every level-1 structure misses)
 *   level 2, 3 ...                 ─hit─▶ fill the levels above, done
 *      │ miss
 *   walk: PDE cache ─hit─▶ 1 reference (the PTE)
 *         PDPTE cache ─hit─▶ 2 (PDE, PTE)   PML4E cache ─hit─▶ 3   cold: 4
 *         (one fewer per level for 2 MiB pages, two fewer for 1 GiB)
 *      │ present leaf: set A (and D for a store), fill the walk caches with
 *      │ the upper entries read and every level holding this page size
 *      └ not present: fault; the engine resolves it and retries the access,
 *        so the walk that completes is counted and the aborted one is not
 *        (its cost is part of cost.fault).
 *
 * A walk cache holds only non-leaf entries: a PDE cache entry names a page
 * table, never a 2 MiB page.  The hierarchy is non-inclusive: a fill from
 * a lower level does not touch the level it came from.
 *
 * Replacement: invalid ways (tag 0, or a flush generation not current) are
 * filled first; otherwise the structure's policy picks the victim.  Hits
 * only stamp the way; the stamps are turned into touch() calls, oldest
 * first, just before the set's next fill (see include/vmlab/policy.h).
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"
#include "sim/tlb_inline.h"

static const uint8_t sz_shift[XL_NSIZES] = { 12, 21, 30 };

/* ---- one structure ---- */

/* Every list in way order from the tail: way 0 is the first victim, as
 * the stamp scan picks the first invalid way. */
static void tlb_lru_reset(struct tlb *t)
{
	for (uint32_t set = 0; set < t->sets; set++) {
		uint32_t base = set * t->ways;
		for (uint32_t w = 0; w < t->ways; w++) {
			t->lru_prev[base + w] = w + 1 < t->ways ? base + w + 1 : XL_LRU_END;
			t->lru_next[base + w] = w > 0 ? base + w - 1 : XL_LRU_END;
		}
		t->lru_head[set] = base + t->ways - 1;
		t->lru_tail[set] = base;
	}
}

/* Invalidate every entry (a full flush). */
static void tlb_clear(struct tlb *t)
{
	memset(t->tag, 0, (size_t)t->sets * t->ways * sizeof(*t->tag));
	if (t->hint)
		memset(t->hint, 0xff, ((size_t)t->sets << t->hint_bits) * sizeof(*t->hint));
	if (t->lru_next)
		tlb_lru_reset(t);
	if (t->live)
		memset(t->live, 0, (size_t)t->sets * sizeof(*t->live));
}

/* Invalidate global way g holding page vpn (INVLPG). */
static void tlb_inval(struct tlb *t, uint64_t vpn, uint32_t g)
{
	if (t->hint)
		tlb_chain_del(t, g);
	if (t->cnt && t->tag[g])
		t->cnt[xl_bucket(t->tag[g])]--;
	t->tag[g] = 0;
	if (t->lru_next)
		tlb_lru_back(t, tlb_set(t, vpn), g);
	if (t->live)
		t->live[g / t->ways] &= ~(1ull << (g % t->ways));
}

/* A bad value of TLB name's key (or of key2 when key is at its default):
 * the message names where the value was set ("FILE line N: tlb.l1d: ..."),
 * VL_EFORMAT when that is a file, VL_EINVAL when it is the command line. */
static int tlb_bad(const struct vl_config *cfg, const char *pfx, const char *name,
		   const char *key, const char *key2, struct vl_error *err, const char *fmt, ...)
	VL_PRINTF(7, 8);
static int tlb_bad(const struct vl_config *cfg, const char *pfx, const char *name,
		   const char *key, const char *key2, struct vl_error *err, const char *fmt, ...)
{
	char k[96], msg[VL_ERRMSG_MAX], both[VL_ERRMSG_MAX / 2];
	snprintf(k, sizeof(k), "%s.%s.%s", pfx, name, key);
	const char *o = vl_config_origin(cfg, k), *o2 = NULL;
	if (key2) {
		snprintf(k, sizeof(k), "%s.%s.%s", pfx, name, key2);
		o2 = vl_config_origin(cfg, k);
	}
	/* the two keys set in different places: a preset's value is not the
	 * one to blame; else both places are named */
	if (!o || (o2 && !strncmp(o, "configs/", 8) && strncmp(o2, "configs/", 8)))
		o = o2;
	else if (o2 && strcmp(o, o2) && strncmp(o2, "configs/", 8)) {
		snprintf(both, sizeof(both), "%s (%s), %s (%s)", o, key, o2, key2);
		o = both;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bool file = o && !strstr(o, "-s"); /* "-s" anywhere: a command-line value */
	/* a message starting ".KEY: " continues the key's name */
	return vl_err(err, file ? VL_EFORMAT : VL_EINVAL, "%s%s%s.%s%s%s", o ? o : "", o ? ": " : "",
		      pfx, name, msg[0] == '.' ? "" : ": ", msg);
}

static int tlb_alloc(struct tlb *t, const char *name, uint64_t entries, uint64_t ways,
		     const char *repl, uint64_t seed, const char *pfx, const struct vl_config *cfg,
		     struct vl_error *err)
{
	snprintf(t->name, sizeof(t->name), "%s", name);
	char what[64];
	snprintf(what, sizeof(what), "%s.%s", pfx, name);
	if (ways == 0 || ways > entries || entries % ways)
		return tlb_bad(cfg, pfx, name, "ways", "entries", err,
			       "%llu ways do not divide %llu entries (expected ways from 1 to entries, "
			       "dividing it)",
			       (unsigned long long)ways, (unsigned long long)entries);
	uint64_t sets = entries / ways;
	if (sets >= UINT32_MAX)
		return vl_err(err, VL_EINVAL, "%s: %llu sets are more than this model holds", what,
			      (unsigned long long)sets);
	t->ops = vl_tlb_repl_find(repl);
	if (!t->ops) {
		char list[200];
		POLICY_NAMES(list, vl_tlb_repl_at);
		return tlb_bad(cfg, pfx, name, "replacement", NULL, err,
			       "unknown TLB replacement '%s' (known: %s)", repl, list);
	}
	/* a power of two indexes by mask; any other count by modulo (real
	 * cores have them: Zen 4's 3072-entry L2 DTLB) */
	t->sets = (uint32_t)sets;
	t->set_mask = (sets & (sets - 1)) ? UINT32_MAX : (uint32_t)sets - 1;
	t->ways = (uint32_t)ways;
	t->tag = calloc(entries, sizeof(*t->tag));
	t->ref = calloc(entries, sizeof(*t->ref));
	t->used = calloc(entries, sizeof(*t->used));
	t->synced = calloc(sets, sizeof(*t->synced));
	if (!t->tag || !t->ref || !t->used || !t->synced)
		return vl_err(err, VL_ENOMEM, "out of memory for TLB %s", name);
	if (ways > 8) {
		/* hint slots per set: about twice the ways, at most 4096; a
		 * fully associative structure (a walk cache: one set) eight
		 * times, so a probe that misses rarely finds a chain to follow
		 * and a victim is nearly always first on its chain (each an
		 * unpredictable branch otherwise) */
		unsigned hb = 0;
		while ((1ull << hb) < (sets == 1 ? 8 : 2) * ways && hb < 12)
			hb++;
		unsigned sb = 0;
		while ((1ull << sb) < sets)
			sb++;
		t->hint_bits = (uint8_t)hb;
		t->hint_mask = (1u << hb) - 1;
		t->set_bits = (uint8_t)sb;
		t->hint = malloc(((size_t)sets << hb) * sizeof(*t->hint));
		t->hnext = malloc(entries * sizeof(*t->hnext));
		if (!t->hint || !t->hnext)
			return vl_err(err, VL_ENOMEM, "out of memory for TLB %s", name);
		memset(t->hint, 0xff, ((size_t)sets << hb) * sizeof(*t->hint)); /* empty chains */
	} else {
		t->live = calloc(sets, sizeof(*t->live));
		t->fp = calloc(entries + 8, 1);
		if (!t->live || !t->fp)
			return vl_err(err, VL_ENOMEM, "out of memory for TLB %s", name);
		t->full = (uint32_t)((1ull << ways) - 1);
		t->fpmask = 0x8080808080808080ull >> (8 * (8 - ways));
	}
	uint64_t h = seed;
	for (const char *c = name; *c; c++)
		h = h * 131 + (unsigned char)*c;
	t->repl = (struct vl_tlb_repl){ .ops = t->ops, .sets = (uint32_t)sets, .ways = t->ways,
					.seed = h };
	int rc = t->ops->init(&t->repl, err);
	if (rc < 0) {
		char msg[VL_ERRMSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		return vl_err(err, rc, "%s: %s", what, msg);
	}
	t->repl_live = true;
	t->native_lru = (t->ops->flags & VL_TLB_REPL_LRU) != 0;
	t->narrow_lru = t->native_lru && t->live;
	if (t->native_lru && ways > 8) {
		t->lru_prev = malloc(entries * sizeof(*t->lru_prev));
		t->lru_next = malloc(entries * sizeof(*t->lru_next));
		t->lru_head = malloc(sets * sizeof(*t->lru_head));
		t->lru_tail = malloc(sets * sizeof(*t->lru_tail));
		if (!t->lru_prev || !t->lru_next || !t->lru_head || !t->lru_tail)
			return vl_err(err, VL_ENOMEM, "out of memory for TLB %s", name);
		tlb_lru_reset(t);
		/* fill_fa: one set; the caller clears it where a filter count is kept */
		t->fa_lru = sets == 1;
	}
	return 0;
}

static void tlb_free(struct tlb *t)
{
	if (t->repl_live && t->ops->fini)
		t->ops->fini(&t->repl);
	free(t->tag);
	free(t->ref);
	free(t->used);
	free(t->synced);
	free(t->hint);
	free(t->hnext);
	free(t->lru_prev);
	free(t->lru_next);
	free(t->lru_head);
	free(t->lru_tail);
	free(t->live);
	free(t->fp);
	free(t->ord);
	memset(t, 0, sizeof(*t));
}

/* Tell the policy about the hits in set since its last fill, oldest first. */
static void tlb_sync(struct tlb *t, uint32_t set, uint64_t now)
{
	if (t->ops->touch) {
		uint32_t base = set * t->ways, order[64], n = 0;
		const uint64_t since = t->synced[set];
		if (t->ways <= 64) {
			for (uint32_t w = 0; w < t->ways; w++) {
				uint64_t u = t->used[base + w];
				if (u <= since)
					continue;
				uint32_t j = n++;
				while (j > 0 && t->used[base + order[j - 1]] > u) {
					order[j] = order[j - 1];
					j--;
				}
				order[j] = w;
			}
			for (uint32_t j = 0; j < n; j++)
				t->ops->touch(&t->repl, set, order[j]);
		} else {
			/* wide sets: repeated minimum search, O(ways^2) but only on fills */
			uint64_t floor = since;
			for (;;) {
				uint32_t best = UINT32_MAX;
				for (uint32_t w = 0; w < t->ways; w++) {
					uint64_t u = t->used[base + w];
					if (u > floor && (best == UINT32_MAX || u < t->used[base + best]))
						best = w;
				}
				if (best == UINT32_MAX)
					break;
				floor = t->used[base + best];
				t->ops->touch(&t->repl, set, best);
			}
		}
	}
	t->synced[set] = now;
}

/* Write key/ref into t (vpn picks the set).  The way must not hold key.
 * used[] is stamped with the fill time too, so for t->native_lru the
 * stamps alone order the ways by last use (fill or hit): the victim is the
 * oldest stamp, with no policy call at all.  This is exactly what
 * policies/tlb/lru.c computes from insert/touch calls (no two events of
 * one structure share a time: an access fills or hits a structure at most
 * once), so it is a speed-up, not a second definition; tests run both. */
/* Is a way with this tag free: invalid, or holding another address
 * space's entry (stale after a flush without PCIDs)?  free_way: the
 * first free way of the set at base, UINT32_MAX when every way is live. */
static inline bool way_free(const struct vl_xlat *xl, uint64_t tag)
{
	const uint64_t stale_mask = ~(XL_VALID | ((1ull << XL_ASID_SHIFT) - 1));
	return tag == 0 || (!xl->pcid && (tag & stale_mask) != xl->asid);
}

static uint32_t free_way(const struct vl_xlat *xl, const struct tlb *t, uint32_t base)
{
	for (uint32_t w = 0; w < t->ways; w++)
		if (way_free(xl, t->tag[base + w]))
			return w;
	return UINT32_MAX;
}

/* The way of a full narrow native-lru set to replace: the oldest stamp
 * (the first one of equal stamps, as the scan it replaces). */
static inline __attribute__((always_inline)) uint32_t oldest_of(const uint64_t *u, uint32_t ways)
{
	uint32_t v = 0;
	uint64_t m = u[0];
	for (uint32_t w = 1; w < ways; w++) {
		bool lt = u[w] < m;
		m = lt ? u[w] : m;
		v = lt ? w : v;
	}
	return v;
}

static inline uint32_t oldest_way(const uint64_t *u, uint32_t ways)
{
	switch (ways) {
	case 4: return oldest_pairs(u, 4);
	case 8: return oldest_pairs(u, 8);
	default: return oldest_of(u, ways);
	}
}

/* tlb_fill for every structure but the narrow lru ones (fill_one). */
static __attribute__((noinline)) void tlb_fill(struct vl_xlat *xl, struct tlb *t, uint64_t key,
					      uint64_t vpn, uint32_t ref, uint64_t now)
{
	uint32_t set = tlb_set(t, vpn), base = set * t->ways, way = UINT32_MAX;
	if (t->live) {
		/* a narrow set: its live mask says which ways are free (the
		 * first free one, as free_way would find it) */
		uint64_t s = t->live[set];
		uint32_t m = (uint32_t)(s >> 32) == xl->gen ? (uint32_t)s : 0;
		if (!t->native_lru)
			tlb_sync(t, set, now);
		if (m != t->full)
			way = (uint32_t)__builtin_ctz(~m);
		else if (t->native_lru)
			way = oldest_way(t->used + base, t->ways);
		else
			way = t->ops->victim(&t->repl, set);
		if (!t->native_lru)
			t->ops->insert(&t->repl, set, way);
		t->live[set] = (uint64_t)xl->gen << 32 | m | 1u << way;
		t->fp[base + way] = (uint8_t)xl_fp(key);
		xl_cnt_swap(t, t->tag[base + way], key);
		t->tag[base + way] = key;
		t->ref[base + way] = ref;
		t->used[base + way] = now;
		t->last = base + way;
		return;
	}
	if (t->lru_next) {
		/* a wide lru set: the tail of its recency list */
		way = t->lru_tail[set] - base;
		tlb_lru_front(t, set, base + way);
	} else {
		tlb_sync(t, set, now);
		way = free_way(xl, t, base);
		if (way == UINT32_MAX)
			way = t->ops->victim(&t->repl, set);
		t->ops->insert(&t->repl, set, way);
	}
	tlb_chain_del(t, base + way);
	xl_cnt_swap(t, t->tag[base + way], key);
	t->tag[base + way] = key;
	t->ref[base + way] = ref;
	t->used[base + way] = now;
	t->last = base + way;
	tlb_chain_add(t, base + way, vpn);
}

/* tlb_fill of a fully associative wide lru structure without the INVLPG
 * filter (t->fa_lru: the walk caches of more than 8 entries): the tail of
 * its recency list is the victim and moves to the front (ways >= 2, so it
 * is not the head), its old tag leaves its chain (the chain of page
 * number vpn is hint[vpn & hint_mask]: one set), the new one joins.  The
 * same steps, in the same order, as tlb_fill's. */
static inline __attribute__((always_inline)) void fill_fa(struct tlb *t, uint64_t key,
							  uint64_t vpn, uint32_t ref, uint64_t now)
{
	uint32_t *prev = t->lru_prev, *next = t->lru_next, *hn = t->hnext, *hint = t->hint;
	uint32_t g = t->lru_tail[0], p = prev[g], h = t->lru_head[0];
	next[p] = XL_LRU_END;
	t->lru_tail[0] = p;
	prev[g] = XL_LRU_END;
	next[g] = h;
	prev[h] = g;
	t->lru_head[0] = g;
	uint64_t old = t->tag[g];
	if (old) {
		uint32_t *pp = &hint[(old >> 3) & t->hint_mask];
		while (*pp != g)
			pp = &hn[*pp];
		*pp = hn[g];
	}
	t->tag[g] = key;
	t->ref[g] = ref;
	t->used[g] = now;
	t->last = g;
	uint32_t *hs = &hint[vpn & t->hint_mask];
	hn[g] = *hs;
	*hs = g;
}

/* Fill t with key (fingerprint bfp, xl_fp(key)): inline for a narrow lru
 * set (the first free way, else the oldest stamp), tlb_fill otherwise. */
static inline __attribute__((always_inline)) void fill_one(struct vl_xlat *xl, struct tlb *t,
							   uint64_t key, uint64_t bfp, uint64_t vpn,
							   uint32_t ref, uint64_t now)
{
	if (!t->narrow_lru) {
		if (t->fa_lru)
			fill_fa(t, key, vpn, ref, now);
		else
			tlb_fill(xl, t, key, vpn, ref, now);
		return;
	}
	uint32_t set = tlb_set(t, vpn), base = set * t->ways;
	uint64_t s = t->live[set];
	uint32_t m = (uint32_t)(s >> 32) == xl->gen ? (uint32_t)s : 0;
	uint32_t way;
	if (t->ord) {
		uint32_t o = t->ord[set];
		if (m != t->full) {
			way = (uint32_t)__builtin_ctz(~m);
			o = xl_ord_front(o, way, t->ways);
		} else {
			way = o & 15;
			o = o >> 4 | way << (4 * (t->ways - 1));
		}
		t->ord[set] = o;
	} else {
		way = m != t->full ? (uint32_t)__builtin_ctz(~m) : oldest_way(t->used + base, t->ways);
	}
	t->live[set] = (uint64_t)xl->gen << 32 | m | 1u << way;
	t->fp[base + way] = (uint8_t)bfp;
	xl_cnt_swap(t, t->tag[base + way], key);
	t->tag[base + way] = key;
	t->ref[base + way] = ref;
	t->used[base + way] = now;
	t->last = base + way;
}

/* ---- building from the configuration ---- */

static int parse_sizes(const char *s, uint8_t *mask)
{
	*mask = 0;
	while (*s) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, ", ");
		if (n == 2 && !strncasecmp(s, "4k", 2))
			*mask |= 1;
		else if (n == 2 && !strncasecmp(s, "2m", 2))
			*mask |= 2;
		else if (n == 2 && !strncasecmp(s, "1g", 2))
			*mask |= 4;
		else
			return VL_EINVAL;
		s += n;
		while (*s == ' ')
			s++;
		if (*s == ',')
			s++;
	}
	return *mask ? 0 : VL_EINVAL;
}

static int cmp_tlb(const void *a, const void *b)
{
	const struct tlb *x = a, *y = b;
	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	return strcmp(x->name, y->name);
}

int xl_init(struct vl_engine *e, struct vl_error *err)
{
	struct vl_xlat *xl = &e->xl;
	const struct vl_config *cfg = e->cfg;
	char names[64][40];
	uint32_t n = 0;
	/* TLB names: every set tlb.NAME.KEY */
	const char *k;
	for (size_t i = 0; (k = vl_config_value_key(cfg, i)); i++) {
		if (strncmp(k, "tlb.", 4))
			continue;
		const char *dot = strchr(k + 4, '.');
		if (!dot || strchr(dot + 1, '.'))
			continue;
		size_t len = (size_t)(dot - (k + 4));
		if (len >= sizeof(names[0]))
			return vl_err(err, VL_EINVAL, "tlb.%.*s: name too long (at most 39 characters)",
				      (int)len, k + 4);
		bool seen = false;
		for (uint32_t j = 0; j < n && !seen; j++)
			seen = strlen(names[j]) == len && !strncmp(names[j], k + 4, len);
		if (seen)
			continue;
		if (n == 64)
			return vl_err(err, VL_EINVAL, "more than 64 TLB structures configured");
		memcpy(names[n], k + 4, len);
		names[n][len] = '\0';
		n++;
	}
	xl->pcid = vl_config_bool(cfg, "tlb.pcid");
	xl->gen = 1;
	xl->asid = (uint64_t)1 << XL_ASID_SHIFT;
	xl->cur_proc = VL_NIL;
	xl->t = calloc(n ? n : 1, sizeof(*xl->t));
	if (!xl->t)
		return vl_err(err, VL_ENOMEM, "out of memory for TLBs");
	for (uint32_t i = 0; i < n; i++)
		xl->t[i].dlevel[0] = xl->t[i].dlevel[1] = 0xff;
	uint64_t seed = vl_config_u64(cfg, "run.seed");
	for (uint32_t i = 0; i < n; i++) {
		struct tlb *t = &xl->t[i];
		char key[96], what[64];
		snprintf(what, sizeof(what), "tlb.%s", names[i]);
#define GET(field) (snprintf(key, sizeof(key), "tlb.%s.%s", names[i], field), key)
		t->level = (uint8_t)vl_config_u64(cfg, GET("level"));
		const char *kind = vl_config_str(cfg, GET("kind"));
		t->kinds = !strcmp(kind, "data") ? 1 : !strcmp(kind, "instr") ? 2 : 3;
		if (parse_sizes(vl_config_str(cfg, GET("page_sizes")), &t->sizes) < 0)
			return tlb_bad(cfg, "tlb", names[i], "page_sizes", NULL, err,
				       ".page_sizes: '%s': expected a comma list of 4k, 2m, 1g",
				       vl_config_str(cfg, key));
		uint64_t entries = vl_config_u64(cfg, GET("entries"));
		uint64_t ways = vl_config_u64(cfg, GET("ways"));
		const char *repl = vl_config_str(cfg, GET("replacement"));
#undef GET
		xl->nt = i + 1; /* so xl_fini frees what was allocated */
		VL_TRY(tlb_alloc(t, names[i], entries, ways, repl, seed, "tlb", cfg, err));
		snprintf(t->cname[0], sizeof(t->cname[0]), "tlb_%s_hits", names[i]);
		snprintf(t->cname[1], sizeof(t->cname[1]), "tlb_%s_misses", names[i]);
		char sz[16] = "";
		static const char *const szn[XL_NSIZES] = { "4k", "2m", "1g" };
		for (unsigned b = 0; b < XL_NSIZES; b++)
			if (t->sizes & (1u << b))
				snprintf(sz + strlen(sz), sizeof(sz) - strlen(sz), "%s%s", *sz ? "," : "",
					 szn[b]);
		char geo[64];
		snprintf(geo, sizeof(geo), "%s, %llu entries, %llu-way, %s", kind,
			 (unsigned long long)entries, (unsigned long long)ways, sz);
		snprintf(t->chelp[0], sizeof(t->chelp[0]), "lookups hitting level-%u TLB %s (%s)",
			 t->level, names[i], geo);
		snprintf(t->chelp[1], sizeof(t->chelp[1]),
			 "lookups missing level %u as a whole, counted at %s", t->level, names[i]);
	}
	xl->nt = n;
	/* order by (level, name); realloc'd arrays inside move with the struct */
	qsort(xl->t, n, sizeof(*xl->t), cmp_tlb);
	for (uint32_t i = 0; i < n; i++)
		xl->t[i].repl.ops = xl->t[i].ops;

	/* probes per kind, by level, 4K first within a level */
	for (unsigned kd = 0; kd < 2; kd++) {
		xl->probe[kd] = calloc((size_t)n * XL_NSIZES + 1, sizeof(struct xl_probe));
		xl->ltab[kd] = calloc((size_t)n + 1, sizeof(struct tlb *));
		if (!xl->probe[kd] || !xl->ltab[kd])
			return vl_err(err, VL_ENOMEM, "out of memory for TLBs");
		uint32_t np = 0, nlt = 0, d = 0;
		for (uint32_t i = 0; i < n;) {
			uint8_t level = xl->t[i].level;
			if (d == 9)
				return vl_err(err, VL_EINVAL, "more than 9 TLB levels");
			xl->lvl[kd][d] = np;
			xl->lt[kd][d] = nlt;
			uint32_t j = i;
			for (unsigned sz = 0; sz < XL_NSIZES; sz++)
				for (j = i; j < n && xl->t[j].level == level; j++) {
					struct tlb *t = &xl->t[j];
					if (!(t->kinds & (1u << kd)) || !(t->sizes & (1u << sz)))
						continue;
					xl->probe[kd][np++] = (struct xl_probe){
						.t = t, .sz = (uint8_t)sz, .shift = sz_shift[sz],
						.vmask = (1ull << (48 - sz_shift[sz])) - 1,
						.keysz = XL_VALID | ((uint64_t)sz << 1) };
				}
			for (j = i; j < n && xl->t[j].level == level; j++)
				if (xl->t[j].kinds & (1u << kd))
				{
					xl->ltab[kd][nlt++] = &xl->t[j];
					xl->t[j].dlevel[kd] = (uint8_t)d;
				}
			if (xl->lt[kd][d] != nlt)
				d++; /* a level with nothing of this kind is skipped */
			i = j;
		}
		xl->lvl[kd][d] = np;
		xl->lt[kd][d] = nlt;
		xl->nlvl[kd] = d;
		/* the fill lists: the probes of each size, level by level */
		for (unsigned sz = 0; sz < XL_NSIZES; sz++) {
			xl->fill[kd][sz] = calloc((size_t)n + 1, sizeof(struct tlb *));
			if (!xl->fill[kd][sz])
				return vl_err(err, VL_ENOMEM, "out of memory for TLBs");
			uint32_t nf = 0;
			for (uint32_t dd = 0; dd < d; dd++) {
				xl->fend[kd][sz][dd] = nf;
				for (uint32_t p = xl->lvl[kd][dd]; p < xl->lvl[kd][dd + 1]; p++)
					if (xl->probe[kd][p].sz == sz)
						xl->fill[kd][sz][nf++] = xl->probe[kd][p].t;
			}
			xl->fend[kd][sz][d] = nf;
		}
	}
	/* recency words for the narrow lru structures no kind probes first */
	for (uint32_t i = 0; i < n; i++) {
		struct tlb *t = &xl->t[i];
		if (!t->narrow_lru || t->dlevel[0] == 0 || t->dlevel[1] == 0)
			continue;
		t->ord = malloc((size_t)t->sets * sizeof(*t->ord));
		if (!t->ord)
			return vl_err(err, VL_ENOMEM, "out of memory for TLBs");
		uint32_t o = 0;
		for (uint32_t w = 0; w < t->ways; w++)
			o |= w << (4 * w);
		for (uint32_t set = 0; set < t->sets; set++)
			t->ord[set] = o;
	}
	/* the two-level shape of a kind (miss_two): one 4 KiB structure per
	 * level, both narrow lru with a power-of-two set count */
	for (unsigned kd = 0; kd < 2; kd++) {
		struct tlb *const *f = xl->fill[kd][0];
		xl->two[kd] = 0;
		if (xl->nlvl[kd] != 2 || xl->fend[kd][0][1] != 1 || xl->fend[kd][0][2] != 2)
			continue;
		if (!f[0]->narrow_lru || !f[1]->narrow_lru || f[0]->set_mask == UINT32_MAX ||
		    f[1]->set_mask == UINT32_MAX)
			continue;
		if (f[0]->ways == 4 && f[1]->ways == 8)
			xl->two[kd] = XL_TWO_48;
	}
	for (unsigned sz = 0; sz < XL_NSIZES; sz++) {
		xl->inv[sz] = calloc((size_t)n + 1, sizeof(struct tlb *));
		if (!xl->inv[sz])
			return vl_err(err, VL_ENOMEM, "out of memory for TLBs");
		for (uint32_t i = 0; i < n; i++)
			if (xl->t[i].sizes & (1u << sz))
				xl->inv[sz][xl->ninv[sz]++] = &xl->t[i];
	}
	/* the INVLPG filter, where no bucket can overflow */
	uint64_t held = 0;
	for (uint32_t i = 0; i < n; i++)
		held += (uint64_t)xl->t[i].sets * xl->t[i].ways;
	if (xl->ninv[0] && held < UINT16_MAX) {
		xl->inv_cnt = calloc(XL_BUCKETS, sizeof(*xl->inv_cnt));
		if (!xl->inv_cnt)
			return vl_err(err, VL_ENOMEM, "out of memory for TLBs");
		for (uint32_t i = 0; i < n; i++) {
			xl->t[i].cnt = xl->inv_cnt;
			xl->t[i].fa_lru = false; /* fill_fa keeps no filter count */
		}
	}

	static const char *const psc_key[3] = { "pml4e", "pdpte", "pde" };
	for (unsigned c = 0; c < 3; c++) {
		char ke[64], kw[64];
		snprintf(ke, sizeof(ke), "psc.%s.entries", psc_key[c]);
		snprintf(kw, sizeof(kw), "psc.%s.ways", psc_key[c]);
		uint64_t entries = vl_config_u64(cfg, ke), ways = vl_config_u64(cfg, kw);
		if (!entries)
			continue;
		VL_TRY(tlb_alloc(&xl->psc[c], psc_key[c], entries, ways ? ways : entries, "lru", seed,
				 "psc", cfg, err));
		xl->psc_on[c] = xl->any_psc = true;
	}
	xl->on = n > 0 || xl->any_psc;
	/* the default machine's walk caches (walk_std): one set each, the
	 * PML4E cache of 2 ways and the PDPTE cache of 4 narrow lru, the PDE
	 * cache wide lru (fill_fa) */
	xl->psc_std = xl->psc_on[0] && xl->psc_on[1] && xl->psc_on[2] &&
		      xl->psc[0].narrow_lru && xl->psc[0].sets == 1 && xl->psc[0].ways == 2 &&
		      xl->psc[1].narrow_lru && xl->psc[1].sets == 1 && xl->psc[1].ways == 4 &&
		      xl->psc[2].fa_lru;
	for (unsigned kd = 0; kd < 2; kd++)
		if (xl->two[kd] == XL_TWO_48 && xl->psc_std)
			xl->two[kd] = XL_TWO_48S;

	xl->cost_tlb_hit = vl_config_double(cfg, "cost.tlb_hit");
	xl->cost_tlb_miss = vl_config_double(cfg, "cost.tlb_miss");
	xl->cost_walk_ref = vl_config_double(cfg, "cost.walk_ref");
	xl->cost_dirty = vl_config_double(cfg, "cost.dirty_update");
	xl->cost_flush = vl_config_double(cfg, "cost.tlb_flush");
	xl->cost_fault = vl_config_double(cfg, "cost.fault");
	xl->cost_zero = vl_config_double(cfg, "cost.page_zero");
	xl->cost_copy = vl_config_double(cfg, "cost.page_copy");
	xl->cost_pf_read = vl_config_double(cfg, "cost.pagefile_read");
	xl->cost_pf_write = vl_config_double(cfg, "cost.pagefile_write");
	return 0;
}

void xl_fini(struct vl_xlat *xl)
{
	for (uint32_t i = 0; i < xl->nt; i++)
		tlb_free(&xl->t[i]);
	for (unsigned c = 0; c < 3; c++)
		tlb_free(&xl->psc[c]);
	free(xl->t);
	for (unsigned kd = 0; kd < 2; kd++) {
		free(xl->probe[kd]);
		free(xl->ltab[kd]);
		for (unsigned sz = 0; sz < XL_NSIZES; sz++)
			free(xl->fill[kd][sz]);
	}
	for (unsigned sz = 0; sz < XL_NSIZES; sz++)
		free(xl->inv[sz]);
	free(xl->inv_cnt);
	memset(xl, 0, sizeof(*xl));
}

/* ---- the walk ---- */

/* The MMU's walk of va for the current process, through the page walker
 * (pt_descend) from the deepest walk-cache hit.  As the hardware
 * does, it sets A in every upper entry it reads and fills the walk cache
 * of each level it passed; at the leaf it checks the access (a store to a
 * read-only page or a fetch from a no-execute one faults like a missing
 * page) and sets A (and D for a store) unless this is the retry of a
 * faulted access, whose fault set them (a policy may have cleared A since:
 * a new page is "not yet used").  Returns 0 with the leaf's index and page
 * size, or 1 when the access faults; *stop is then the entry where the
 * walk stopped and *stop_level its level, where the fault path goes on. */
static inline __attribute__((always_inline)) int walk(struct vl_engine *e, uint64_t va, unsigned kd,
							bool write, bool retry, uint32_t *li,
							unsigned *sz)
{
	struct vl_xlat *xl = &e->xl;
	uint64_t *pt = e->pt.e;
	const uint64_t asid = xl->asid, now = e->time + 1;
	uint32_t node = e->procs[e->last_proc].root;
	unsigned level = 4;
	if (xl->any_psc) {
		/* deepest cache first: PDE (names a page table), PDPTE, PML4E
		 * (unrolled: each level's shifts become constants) */
#pragma GCC unroll 3
		for (unsigned c = 3; c-- > 0;) {
			if (!xl->psc_on[c])
				continue;
			struct tlb *t = &xl->psc[c];
			unsigned shift = 39 - 9 * c;
			uint64_t vpn = (va >> shift) & ((1ull << (48 - shift)) - 1);
			uint64_t key = XL_KEY(asid, vpn, 0);
			/* the way of this cache's last hit or fill first: walks in
			 * one region, and the retry of a faulted access, need no
			 * search (a key is in at most one way) */
			int64_t i = t->last;
			if (t->tag[i] != key) {
				if (t->fp) {
					i = tlb_find_narrow(t, key, vpn, xl_fp(key));
				} else if (t->fa_lru) {
					/* one set: the chain of hint[vpn & hint_mask] */
					uint32_t g = t->hint[vpn & t->hint_mask];
					while (g != XL_LRU_END && (t->tag[g] ^ key) >= 2)
						g = t->hnext[g];
					i = g == XL_LRU_END ? -1 : (int64_t)g;
				} else {
					i = tlb_find(t, key, vpn);
				}
			}
			if (i >= 0) {
				t->last = (uint32_t)i;
				tlb_touch(t, vpn, (uint32_t)i, now);
				node = PTE_FRAME(pt[t->ref[i]]);
				level = 3 - c;
				break;
			}
		}
	}
	uint32_t path[5];
	unsigned at;
	uint32_t idx = pt_descend(&e->pt, node, level, va, 1, 0, path, &at);
	/* the upper entries passed: accessed, and cached by their level's
	 * walk cache (a huge page's PDE is a leaf: not cached) */
	/* levels l = 4 - c from level down to at + 1 (unrolled, as above; the
	 * order of the fills does not matter: each is a different cache) */
#pragma GCC unroll 3
	for (unsigned c = 0; c < 3; c++) {
		unsigned l = 4 - c;
		if (l > level || l <= at)
			continue;
		pt[path[l]] |= PTE_A;
		if (xl->psc_on[c]) {
			unsigned shift = 39 - 9 * c;
			uint64_t vpn = (va >> shift) & ((1ull << (48 - shift)) - 1);
			uint64_t key = XL_KEY(asid, vpn, 0);
			fill_one(xl, &xl->psc[c], key, xl_fp(key), vpn, path[l], now);
		}
	}
	uint64_t ent = pt[idx];
	xl->stop = idx;
	xl->stop_level = at;
	if (!(ent & PTE_P))
		return 1;
	uint64_t need = PTE_A | (write ? PTE_D : 0);
	if ((write && !(ent & PTE_RW)) || (kd == XL_INSTR && (ent & PTE_NX)))
		return 1;
	if (!retry)
		pt[idx] = ent | need;
	*li = idx;
	*sz = at - 1;
	count_walk(e, level - at + 1);
	e->ctr.psc_hits += level < 4; /* the walk started below the root: a walk-cache hit */
	return 0;
}

/* ---- the walk with the default machine's walk caches (xl->psc_std) ---- */

/* fill_one of a walk cache of one set of W ways (a constant), narrow lru,
 * without a filter count: the same steps as fill_one's. */
static inline __attribute__((always_inline)) void fill_s1(const struct vl_xlat *xl, struct tlb *t,
							  uint64_t key, uint32_t ref, uint64_t now,
							  const unsigned W)
{
	const uint32_t full = (1u << W) - 1;
	uint64_t s = t->live[0];
	uint32_t m = (uint32_t)(s >> 32) == xl->gen ? (uint32_t)s : 0;
	uint32_t way = m != full ? (uint32_t)__builtin_ctz(~m)
				 : W == 2 ? (uint32_t)(t->used[1] < t->used[0]) : oldest_pairs(t->used, W);
	t->live[0] = (uint64_t)xl->gen << 32 | m | 1u << way;
	t->fp[way] = (uint8_t)xl_fp(key);
	t->tag[way] = key;
	t->ref[way] = ref;
	t->used[way] = now;
	t->last = way;
}

/* The way of a walk cache of one set of W ways (a constant) holding key,
 * or -1: every way compared, without a branch on which one matches (a key
 * is in at most one way, so this is the way tlb_find_narrow finds; a walk
 * cache's tags have no dirty bit). */
static inline __attribute__((always_inline)) int64_t find_s1(const struct tlb *t, uint64_t key,
							      const unsigned W)
{
	uint32_t m = 0;
#pragma GCC unroll 4
	for (unsigned q = 0; q < W; q++)
		m |= (uint32_t)(t->tag[q] == key) << q;
	return m ? (int64_t)__builtin_ctz(m) : -1;
}

/* The walk caches of the upper entries a walk passed: entry path[l] at
 * each level l with at < l <= level (as walk() fills them: accessed, and
 * cached by its level's walk cache). */
static inline __attribute__((always_inline)) void std_fills(struct vl_xlat *xl, uint64_t *pt,
							    uint64_t va, const uint32_t *path,
							    unsigned level, unsigned at, uint64_t now)
{
	const uint64_t asid = xl->asid;
	if (level >= 4 && at < 4) {
		pt[path[4]] |= PTE_A;
		fill_s1(xl, &xl->psc[0], XL_KEY(asid, (va >> 39) & ((1ull << 9) - 1), 0), path[4], now,
			2);
	}
	if (level >= 3 && at < 3) {
		pt[path[3]] |= PTE_A;
		fill_s1(xl, &xl->psc[1], XL_KEY(asid, (va >> 30) & ((1ull << 18) - 1), 0), path[3], now,
			4);
	}
	if (level >= 2 && at < 2) {
		uint64_t v2 = (va >> 21) & ((1ull << 27) - 1);
		pt[path[2]] |= PTE_A;
		fill_fa(&xl->psc[2], XL_KEY(asid, v2, 0), v2, path[2], now);
	}
}

/* The end of walk_std's walk at the leaf entry idx at level `at` (the
 * walk started at `level`): the walk caches' fills, the checks, the
 * counts.  Returns as walk() does. */
static inline __attribute__((always_inline)) int std_end(struct vl_engine *e, uint64_t va,
							 unsigned kd, bool write, bool retry,
							 uint32_t *li, unsigned *sz,
							 const uint32_t *path, uint32_t idx,
							 unsigned level, unsigned at)
{
	struct vl_xlat *xl = &e->xl;
	uint64_t *pt = e->pt.e;
	std_fills(xl, pt, va, path, level, at, e->time + 1);
	uint64_t ent = pt[idx];
	xl->stop = idx;
	xl->stop_level = at;
	if (!(ent & PTE_P))
		return 1;
	if ((write && !(ent & PTE_RW)) || (kd == XL_INSTR && (ent & PTE_NX)))
		return 1;
	if (!retry)
		pt[idx] = ent | PTE_A | (write ? PTE_D : 0);
	*li = idx;
	*sz = at - 1;
	count_walk(e, level - at + 1);
	e->ctr.psc_hits += level < 4;
	return 0;
}

/* std_end for a walk that stopped above the leaf level (an upper entry
 * not present, or a large page): out of line, rare. */
static __attribute__((noinline, cold)) int std_stop(struct vl_engine *e, uint64_t va, unsigned kd,
						     bool write, bool retry, uint32_t *li,
						     unsigned *sz, const uint32_t *path,
						     unsigned level, unsigned at)
{
	return std_end(e, va, kd, write, retry, li, sz, path, path[at], level, at);
}

/* walk_std's descent (pt_descend) from node at `level` (a constant: each
 * entry point gets its own code, its fills and counts known), to the
 * leaf. */
static inline __attribute__((always_inline)) int std_from(struct vl_engine *e, uint64_t va,
							  unsigned kd, bool write, bool retry,
							  uint32_t *li, unsigned *sz, uint32_t node,
							  const unsigned level)
{
	uint32_t path[5];
	unsigned at;
	uint32_t idx = pt_descend(&e->pt, node, level, va, 1, 0, path, &at);
	if (unlikely(at != 1))
		return std_stop(e, va, kd, write, retry, li, sz, path, level, at);
	return std_end(e, va, kd, write, retry, li, sz, path, idx, level, 1);
}

/* walk() where the walk caches are the default machine's shape
 * (xl->psc_std: a PML4E cache of one set of 2 ways and a PDPTE cache of
 * one set of 4, narrow lru, and a fully associative wide lru PDE cache,
 * fill_fa): the same steps in the same order, with the probes, the
 * descent from each starting level and the fills written out.  (A walk
 * cache's own hit and miss counts are reported nowhere and are not kept
 * here.) */
static inline __attribute__((always_inline)) int walk_std(struct vl_engine *e, uint64_t va,
							  unsigned kd, bool write, bool retry,
							  uint32_t *li, unsigned *sz)
{
	struct vl_xlat *xl = &e->xl;
	const uint64_t *pt = e->pt.e;
	const uint64_t asid = xl->asid, now = e->time + 1;
	const uint64_t v2 = (va >> 21) & ((1ull << 27) - 1), k2 = XL_KEY(asid, v2, 0);
	struct tlb *const pde = &xl->psc[2], *const pdpte = &xl->psc[1], *const pml4e = &xl->psc[0];
	/* the PDE cache: the way of its last hit or fill, else the chain */
	uint32_t g = pde->last;
	if (pde->tag[g] != k2) {
		g = pde->hint[v2 & pde->hint_mask];
		while (g != XL_LRU_END && (pde->tag[g] ^ k2) >= 2)
			g = pde->hnext[g];
	}
	if (g != XL_LRU_END) {
		pde->last = g;
		pde->used[g] = now;
		tlb_lru_front(pde, 0, g);
		return std_from(e, va, kd, write, retry, li, sz, PTE_FRAME(pt[pde->ref[g]]), 1);
	}
	const uint64_t v1 = (va >> 30) & ((1ull << 18) - 1), k1 = XL_KEY(asid, v1, 0);
	int64_t w = find_s1(pdpte, k1, 4);
	if (w >= 0) {
		pdpte->last = (uint32_t)w;
		pdpte->used[w] = now;
		return std_from(e, va, kd, write, retry, li, sz, PTE_FRAME(pt[pdpte->ref[w]]), 2);
	}
	const uint64_t v0 = (va >> 39) & ((1ull << 9) - 1), k0 = XL_KEY(asid, v0, 0);
	w = find_s1(pml4e, k0, 2);
	if (w >= 0) {
		pml4e->last = (uint32_t)w;
		pml4e->used[w] = now;
		return std_from(e, va, kd, write, retry, li, sz, PTE_FRAME(pt[pml4e->ref[w]]), 3);
	}
	return std_from(e, va, kd, write, retry, li, sz, e->procs[e->last_proc].root, 4);
}

/* Fill every structure of levels [0, upto) of kind kd holding size sz. */
static inline __attribute__((always_inline)) void fill_levels(struct vl_engine *e, unsigned kd,
							      unsigned upto, uint64_t va,
							      unsigned sz, uint32_t li, bool dirty)
{
	struct vl_xlat *xl = &e->xl;
	uint64_t vpn = (va >> sz_shift[sz]) & ((1ull << (48 - sz_shift[sz])) - 1);
	uint64_t key = XL_KEY(xl->asid, vpn, sz) | (dirty ? XL_DIRTY : 0), bfp = xl_fp(key);
	const uint64_t now = e->time + 1;
	struct tlb *const *f = xl->fill[kd][sz];
	for (uint32_t i = 0, n = xl->fend[kd][sz][upto]; i < n; i++)
		fill_one(xl, f[i], key, bfp, vpn, li, now);
}

/* Every structure of levels [0, d) of kind kd missed the lookup. */
static inline void count_misses(struct vl_xlat *xl, unsigned kd, unsigned d)
{
	xl->miss_upto[kd][d]++;
	xl->level_misses += d;
}

static inline __attribute__((always_inline)) uint64_t miss(struct vl_engine *e, uint64_t va,
							     unsigned kd, bool write, bool retry)
{
	struct vl_xlat *xl = &e->xl;
	unsigned nl = xl->nlvl[kd];
	uint32_t li;
	/* a retry after a fault: the lookup missed everywhere already.
	 * Level 0 was probed inline by the engine. */
	if (!retry) {
		for (unsigned d = 1; d < nl; d++) {
			const struct xl_probe *pr = &xl->probe[kd][xl->lvl[kd][d]];
			const struct xl_probe *pe = &xl->probe[kd][xl->lvl[kd][d + 1]];
			for (; pr < pe; pr++) {
				if (pr->sz && !xl->lp_live[pr->sz])
					continue;
				struct tlb *t = pr->t;
				uint64_t vpn = (va >> pr->shift) & pr->vmask;
				uint64_t key = xl->asid | pr->keysz | vpn << 3;
				/* the INVLPG filter: no TLB holds a 4 KiB tag of
				 * this bucket, so this probe would miss */
				if (!pr->sz && xl->inv_cnt && !xl->inv_cnt[xl_bucket(key)])
					continue;
				int64_t i = t->fp ? tlb_find_narrow(t, key, vpn, xl_fp(key))
						  : tlb_find(t, key, vpn);
				if (i < 0)
					continue;
				uint64_t pte = e->pt.e[t->ref[i]];
				if ((write && !(t->tag[i] & XL_DIRTY) && !(pte & PTE_RW)) ||
				    (kd == XL_INSTR && (pte & PTE_NX)))
					break; /* the walk will fault (copy-on-write, no-execute) */
				count_misses(xl, kd, d);
				t->hits++;
				tlb_touch(t, vpn, (uint32_t)i, e->time + 1);
				if (t->ord) {
					uint32_t set = (uint32_t)i / t->ways;
					t->ord[set] = xl_ord_front(t->ord[set], (uint32_t)i % t->ways, t->ways);
				}
				li = t->ref[i];
				if (write && !(t->tag[i] & XL_DIRTY)) {
					e->pt.e[li] |= PTE_D;
					t->tag[i] |= XL_DIRTY;
					e->ctr.dirty_updates++;
				}
				fill_levels(e, kd, d, va, pr->sz, li, (t->tag[i] & XL_DIRTY) != 0);
				return XL_TRANSLATION(li, pr->shift);
			}
		}
		count_misses(xl, kd, nl);
	}
	unsigned sz;
	if (walk(e, va, kd, write, retry, &li, &sz))
		return XL_FAULT;
	/* A TLB holds only translations whose accessed bit is set (hardware
	 * sets A before caching).  A retried access whose new page had its A
	 * cleared by the policy (on_map: "inserted unused") is not cached, so
	 * the next use walks and sets A, as without TLBs. */
	uint64_t ent = e->pt.e[li];
	if (nl && (ent & PTE_A))
		/* the cached dirty bit means "a store needs no more work":
		 * dirty and writable (a page made read-only keeps its D) */
		fill_levels(e, kd, nl, va, sz, li, (ent & (PTE_D | PTE_RW)) == (PTE_D | PTE_RW));
	return XL_TRANSLATION(li, sz_shift[sz]);
}

/* ---- the two-level shape (xl->two) ---- */

/* miss() where kind kd has two TLB levels, each with one structure
 * holding 4 KiB pages, narrow, lru, a power-of-two set count, of W1 and
 * W2 ways, and no large page is mapped (so every probe of a larger size
 * is skipped and every walk ends at a 4 KiB leaf): the same steps, in the
 * same order, as the general loops over the probe and fill lists. */
/* miss_two's probe of the second level (the INVLPG filter's bucket of
 * the page is not empty): on a hit that needs no walk, the hit and the
 * first level's fill, and the translation; else XL_FAULT (walk).  Out of
 * line: most misses do not get here, and the walk path keeps fewer
 * values live without it. */
static __attribute__((noinline)) uint64_t two_probe(struct vl_engine *e, unsigned kd, bool write,
						    uint64_t vpn, uint64_t key, const unsigned W1,
						    const unsigned W2)
{
	struct vl_xlat *xl = &e->xl;
	struct tlb *t1 = xl->fill[kd][0][0], *t2 = xl->fill[kd][0][1];
	uint32_t base = ((uint32_t)vpn & t2->set_mask) * W2;
	uint64_t bfp = xl_fp(key);
	int64_t i = -1;
	for (uint64_t m = tlb_fp_match(t2, base, bfp); m; m &= m - 1) {
		uint32_t g = base + (uint32_t)__builtin_ctzll(m) / 8;
		if ((t2->tag[g] ^ key) < 2) {
			i = g;
			break;
		}
	}
	if (i < 0)
		return XL_FAULT;
	uint64_t pte = e->pt.e[t2->ref[i]];
	if ((write && !(t2->tag[i] & XL_DIRTY) && !(pte & PTE_RW)) ||
	    (kd == XL_INSTR && (pte & PTE_NX)))
		return XL_FAULT; /* the walk will fault (copy-on-write, no-execute) */
	const uint64_t now = e->time + 1;
	count_misses(xl, kd, 1);
	t2->hits++;
	t2->used[i] = now;
	if (t2->ord) {
		uint32_t set = (uint32_t)vpn & t2->set_mask;
		t2->ord[set] = xl_ord_front(t2->ord[set], (uint32_t)i - set * W2, W2);
	}
	uint32_t li = t2->ref[i];
	if (write && !(t2->tag[i] & XL_DIRTY)) {
		e->pt.e[li] |= PTE_D;
		t2->tag[i] |= XL_DIRTY;
		e->ctr.dirty_updates++;
	}
	uint64_t k1 = key | (t2->tag[i] & XL_DIRTY);
	fill_w(xl, t1, k1, bfp, vpn, li, now, W1, true); /* xl_fp(k1) == bfp: D is not hashed */
	return XL_TRANSLATION(li, 12);
}

static inline __attribute__((always_inline)) uint64_t miss_two(struct vl_engine *e, uint64_t va,
							      unsigned kd, bool write, bool retry,
							      const unsigned W1, const unsigned W2,
							      const bool std)
{
	struct vl_xlat *xl = &e->xl;
	const uint64_t vpn = (va >> 12) & ((1ull << 36) - 1);
	uint32_t li;
	if (!retry) {
		uint64_t key = xl->asid | XL_VALID | vpn << 3;
		/* the INVLPG filter: an empty bucket, a miss */
		if (!xl->inv_cnt || xl->inv_cnt[xl_bucket(key)]) {
			uint64_t tr = two_probe(e, kd, write, vpn, key, W1, W2);
			if (tr != XL_FAULT)
				return tr;
		}
		count_misses(xl, kd, 2);
	}
	unsigned sz;
	if (std ? walk_std(e, va, kd, write, retry, &li, &sz) : walk(e, va, kd, write, retry, &li, &sz))
		return XL_FAULT;
	uint64_t ent = e->pt.e[li];
	if (ent & PTE_A) {
		if (unlikely(sz)) {
			fill_levels(e, kd, 2, va, sz, li, (ent & (PTE_D | PTE_RW)) == (PTE_D | PTE_RW));
		} else {
			struct tlb *t1 = xl->fill[kd][0][0], *t2 = xl->fill[kd][0][1];
			const uint64_t now = e->time + 1;
			uint64_t key = XL_KEY(xl->asid, vpn, 0) |
				       ((ent & (PTE_D | PTE_RW)) == (PTE_D | PTE_RW) ? XL_DIRTY : 0);
			fill_two(xl, t1, t2, key, vpn, li, now, W1, W2);
		}
	}
	return XL_TRANSLATION(li, sz_shift[sz]);
}

uint64_t xl_miss_48(struct vl_engine *e, uint64_t va, unsigned kd, bool write)
{
	return miss_two(e, va, kd, write, false, 4, 8, false);
}

uint64_t xl_miss_48_retry(struct vl_engine *e, uint64_t va, unsigned kd, bool write)
{
	return miss_two(e, va, kd, write, true, 4, 8, false);
}

uint64_t xl_miss_48s(struct vl_engine *e, uint64_t va, unsigned kd, bool write)
{
	return miss_two(e, va, kd, write, false, 4, 8, true);
}

uint64_t xl_miss_48s_retry(struct vl_engine *e, uint64_t va, unsigned kd, bool write)
{
	return miss_two(e, va, kd, write, true, 4, 8, true);
}

static __attribute__((noinline)) uint64_t miss_any(struct vl_engine *e, uint64_t va, unsigned kd,
						   bool write)
{
	return miss(e, va, kd, write, false);
}

static __attribute__((noinline)) uint64_t miss_any_retry(struct vl_engine *e, uint64_t va,
							 unsigned kd, bool write)
{
	return miss(e, va, kd, write, true);
}

/* The lookup and the retry compiled apart (each with less to keep in
 * registers), for the two-level shape and for any hierarchy. */
uint64_t xl_miss(struct vl_engine *e, uint64_t va, unsigned kd, bool write, bool retry)
{
	const struct vl_xlat *xl = &e->xl;
	if (xl->two[kd] && !(xl->lp_live[1] | xl->lp_live[2])) {
		if (xl->two[kd] == XL_TWO_48S)
			return retry ? xl_miss_48s_retry(e, va, kd, write) : xl_miss_48s(e, va, kd, write);
		return retry ? xl_miss_48_retry(e, va, kd, write) : xl_miss_48(e, va, kd, write);
	}
	return retry ? miss_any_retry(e, va, kd, write) : miss_any(e, va, kd, write);
}

/* ---- address spaces and invalidation ---- */

/* Invalidate every TLB and walk-cache entry. */
static void clear_all(struct vl_xlat *xl)
{
	for (uint32_t i = 0; i < xl->nt; i++)
		tlb_clear(&xl->t[i]);
	for (unsigned c = 0; c < 3; c++)
		if (xl->psc_on[c])
			tlb_clear(&xl->psc[c]);
	if (xl->inv_cnt)
		memset(xl->inv_cnt, 0, XL_BUCKETS * sizeof(*xl->inv_cnt));
}

void xl_switch(struct vl_engine *e, uint32_t proc)
{
	struct vl_xlat *xl = &e->xl;
	if (!xl->on || proc == xl->cur_proc)
		return;
	if (xl->pcid) {
		xl->asid = (uint64_t)(proc & XL_ASID_MASK) << XL_ASID_SHIFT;
	} else if (xl->cur_proc != VL_NIL) {
		/* CR3 write without PCID: every non-global entry and every walk-cache
		 * entry goes (user pages are never global here) */
		e->ctr.tlb_flushes++;
		if (++xl->gen > XL_ASID_MASK) {
			clear_all(xl);
			xl->gen = 1;
		}
		xl->asid = (uint64_t)xl->gen << XL_ASID_SHIFT;
	}
	xl->cur_proc = proc;
}

static uint64_t asid_of(const struct vl_xlat *xl, uint32_t proc, bool *cached)
{
	if (xl->pcid) {
		*cached = true;
		return (uint64_t)(proc & XL_ASID_MASK) << XL_ASID_SHIFT;
	}
	*cached = proc == xl->cur_proc;
	return xl->asid;
}

void xl_invlpg(struct vl_engine *e, uint32_t proc, uint64_t vpn)
{
	struct vl_xlat *xl = &e->xl;
	bool cached;
	if (!xl->nt)
		return;
	/* the common case first: no large page mapped, and no TLB holds a
	 * tag of this page's bucket */
	if (xl->inv_cnt && !xl->inv_cnt[xl_bucket(vpn << 3)] && !(xl->lp_live[1] | xl->lp_live[2]))
		return;
	uint64_t asid = asid_of(xl, proc, &cached);
	if (!cached)
		return;
	/* without large pages mapped only the 4 KiB entries can hold it */
	unsigned nsz = xl->lp_live[2] ? 3 : xl->lp_live[1] ? 2 : 1;
	for (unsigned sz = 0; sz < nsz; sz++) {
		if (sz && !xl->lp_live[sz])
			continue;
		/* no TLB holds a 4 KiB entry of a page of this bucket */
		if (!sz && xl->inv_cnt && !xl->inv_cnt[xl_bucket(vpn << 3)])
			continue;
		uint64_t v = (vpn >> (sz_shift[sz] - 12)) & ((1ull << (48 - sz_shift[sz])) - 1);
		uint64_t key = XL_KEY(asid, v, sz), bfp = xl_fp(key);
		struct tlb *const *l = xl->inv[sz];
		for (uint32_t i = 0, n = xl->ninv[sz]; i < n; i++) {
			struct tlb *t = l[i];
			int64_t w = t->fp ? tlb_find_narrow(t, key, v, bfp) : tlb_find(t, key, v);
			if (w >= 0)
				tlb_inval(t, v, (uint32_t)w);
		}
	}
}

void xl_invlpg_pte(struct vl_engine *e, uint32_t proc, uint32_t li)
{
	if (!e->xl.nt)
		return;
	/* the page number from the path of parents up to the root */
	uint64_t vpn = li % PT_ENTRIES;
	uint32_t node = li / PT_ENTRIES;
	for (unsigned shift = 9; shift <= 27; shift += 9) {
		uint32_t up = e->pt.parent[node];
		if (up == VL_NIL)
			return; /* not a leaf of a four-level tree */
		vpn |= (uint64_t)(up % PT_ENTRIES) << shift;
		node = up / PT_ENTRIES;
	}
	xl_invlpg(e, proc, vpn);
}

void xl_flush_all(struct vl_engine *e)
{
	struct vl_xlat *xl = &e->xl;
	clear_all(xl);
	xl->pt_frees = e->pt.frees;
}

void xl_inval_pde(struct vl_engine *e, uint32_t proc, uint64_t vpn)
{
	struct vl_xlat *xl = &e->xl;
	bool cached;
	if (!xl->psc_on[2])
		return;
	uint64_t asid = asid_of(xl, proc, &cached);
	if (!cached)
		return;
	uint64_t v = (vpn >> 9) & ((1ull << 27) - 1);
	int64_t w = tlb_find(&xl->psc[2], XL_KEY(asid, v, 0), v);
	if (w >= 0)
		tlb_inval(&xl->psc[2], v, (uint32_t)w);
}

/* Lookups that missed TLB t: those of each kind it serves that missed its
 * level and every level above it. */
static uint64_t tlb_misses(const struct vl_xlat *xl, const struct tlb *t)
{
	uint64_t n = 0;
	for (unsigned kd = 0; kd < 2; kd++)
		if (t->dlevel[kd] != 0xff)
			for (uint32_t d = t->dlevel[kd] + 1u; d <= xl->nlvl[kd]; d++)
				n += xl->miss_upto[kd][d];
	return n;
}

size_t xl_counters(const struct vl_xlat *xl, const char **names, uint64_t *values, size_t max)
{
	for (uint32_t i = 0; i < xl->nt; i++)
		for (unsigned j = 0; j < 2; j++) {
			if (2 * i + j >= max)
				continue;
			if (names)
				names[2 * i + j] = xl->t[i].cname[j];
			if (values)
				values[2 * i + j] = j ? tlb_misses(xl, &xl->t[i]) : xl->t[i].hits;
		}
	return 2 * (size_t)xl->nt;
}

const char *xl_counter_help(const struct vl_xlat *xl, size_t i)
{
	return i < 2 * (size_t)xl->nt ? xl->t[i / 2].chelp[i % 2] : NULL;
}

/* ---- invariants ---- */

/* A wide lru set's list holds each of its ways once, in recency order:
 * use stamps never increase from the head, invalid ways come last. */
static int check_lru(const struct tlb *t, struct vl_error *err)
{
	for (uint32_t set = 0; set < t->sets; set++) {
		uint32_t base = set * t->ways, n = 0, prev = XL_LRU_END;
		bool invalid_seen = false;
		uint64_t last = UINT64_MAX;
		for (uint32_t g = t->lru_head[set]; g != XL_LRU_END; g = t->lru_next[g]) {
			if (g < base || g >= base + t->ways || t->lru_prev[g] != prev || ++n > t->ways)
				return vl_err(err, VL_ESTATE, "TLB %s set %u: recency list broken at way %u",
					      t->name, set, g);
			if (t->tag[g] == 0) {
				invalid_seen = true;
			} else if (invalid_seen || t->used[g] > last) {
				return vl_err(err, VL_ESTATE,
					      "TLB %s set %u: way %u out of recency order in its list",
					      t->name, set, g - base);
			} else {
				last = t->used[g];
			}
			prev = g;
		}
		if (n != t->ways || t->lru_tail[set] != prev)
			return vl_err(err, VL_ESTATE, "TLB %s set %u: recency list holds %u of %u ways",
				      t->name, set, n, t->ways);
	}
	return 0;
}

static int check_one(struct vl_engine *e, const struct tlb *t, bool leaf, unsigned level_of_psc,
		     struct vl_error *err)
{
	const struct vl_xlat *xl = &e->xl;
	if (t->lru_next)
		VL_TRY(check_lru(t, err));
	uint64_t entries = (uint64_t)t->sets * t->ways;
	for (uint32_t set = 0; t->ord && set < t->sets; set++) {
		/* a permutation of the ways; the live ones in stamp order */
		uint32_t o = t->ord[set], seen = 0;
		uint64_t s = t->live[set], last = 0;
		uint32_t m = (uint32_t)(s >> 32) == xl->gen ? (uint32_t)s : 0;
		for (uint32_t r = 0; r < t->ways; r++) {
			uint32_t w = o >> (4 * r) & 15;
			if (w >= t->ways || (seen & 1u << w) || (t->ways < 8 && o >> (4 * t->ways)))
				return vl_err(err, VL_ESTATE, "TLB %s set %u: recency word 0x%08x is not a "
					      "permutation of its ways", t->name, set, o);
			seen |= 1u << w;
			if (!(m >> w & 1))
				continue;
			if (t->used[set * t->ways + w] <= last)
				return vl_err(err, VL_ESTATE, "TLB %s set %u: way %u out of recency order "
					      "in its recency word 0x%08x", t->name, set, w, o);
			last = t->used[set * t->ways + w];
		}
	}
	for (uint64_t i = 0; t->live && i < entries; i++) {
		uint64_t s = t->live[i / t->ways];
		bool live = (uint32_t)(s >> 32) == xl->gen && (s >> (i % t->ways) & 1);
		if (live == way_free(xl, t->tag[i]))
			return vl_err(err, VL_ESTATE, "%s %s way %llu is %s but its live mask says otherwise",
				      leaf ? "TLB" : "walk cache", t->name, (unsigned long long)i,
				      live ? "free" : "in use");
		if (t->tag[i] && t->fp[i] != (uint8_t)xl_fp(t->tag[i]))
			return vl_err(err, VL_ESTATE, "%s %s way %llu: fingerprint 0x%02x, its tag's is 0x%02x",
				      leaf ? "TLB" : "walk cache", t->name, (unsigned long long)i,
				      t->fp[i], (unsigned)(uint8_t)xl_fp(t->tag[i]));
	}
	for (uint64_t i = 0; i < entries; i++) {
		uint64_t tg = t->tag[i];
		if (!tg)
			continue;
		uint32_t asid = (uint32_t)(tg >> XL_ASID_SHIFT) & XL_ASID_MASK;
		uint32_t proc;
		if (xl->pcid)
			proc = asid;
		else if (asid == xl->gen && xl->cur_proc != VL_NIL)
			proc = xl->cur_proc;
		else
			continue; /* flushed */
		if (proc >= e->nslots || !e->procs[proc].root)
			return vl_err(err, VL_ESTATE, "TLB %s entry %llu names no process", t->name,
				      (unsigned long long)i);
		unsigned sz = (unsigned)(tg >> 1) & 3;
		uint64_t vpn = (tg >> 3) & ((1ull << 36) - 1);
		unsigned shift = leaf ? sz_shift[sz] : 39 - 9 * level_of_psc;
		uint64_t va = vpn << shift;
		if (va & (1ull << 47))
			va |= ~((1ull << 48) - 1);
		if (tlb_set(t, vpn) != i / t->ways)
			return vl_err(err, VL_ESTATE, "%s %s entry %llu sits in set %llu, its page in set %u",
				      leaf ? "TLB" : "walk cache", t->name, (unsigned long long)i,
				      (unsigned long long)(i / t->ways), tlb_set(t, vpn));
		unsigned level = leaf ? sz + 1 : 4 - level_of_psc;
		uint32_t want = pt_entry(&e->pt, e->procs[proc].root, va, level);
		uint64_t ent = want == VL_NIL ? 0 : e->pt.e[want];
		if (want != t->ref[i] || !(ent & PTE_P) ||
		    (leaf && sz && !(ent & PTE_PS)) || (!leaf && (ent & PTE_PS)) ||
		    (leaf && !(ent & PTE_A)) || (leaf && (tg & XL_DIRTY) && !(ent & PTE_D)))
			return vl_err(err, VL_ESTATE,
				      "%s %s caches va 0x%llx of pid %u (size %u), but the page tables "
				      "say otherwise (entry 0x%llx): a missing invalidation",
				      leaf ? "TLB" : "walk cache", t->name, (unsigned long long)va,
				      e->procs[proc].pid, sz, (unsigned long long)ent);
	}
	return 0;
}

/* The INVLPG filter's counts against a count of the tags. */
static int check_filter(const struct vl_xlat *xl, struct vl_error *err)
{
	if (!xl->inv_cnt)
		return 0;
	uint16_t *want = calloc(XL_BUCKETS, sizeof(*want));
	if (!want)
		return vl_err(err, VL_ENOMEM, "out of memory checking the TLBs");
	for (uint32_t i = 0; i < xl->nt; i++) {
		const struct tlb *t = &xl->t[i];
		for (uint64_t g = 0; g < (uint64_t)t->sets * t->ways; g++)
			if (t->tag[g])
				want[xl_bucket(t->tag[g])]++;
	}
	int rc = 0;
	for (uint32_t b = 0; b < XL_BUCKETS && !rc; b++)
		if (want[b] != xl->inv_cnt[b])
			rc = vl_err(err, VL_ESTATE,
				    "INVLPG filter bucket %u counts %u entries, the TLBs hold %u",
				    b, xl->inv_cnt[b], want[b]);
	free(want);
	return rc;
}

int xl_check(struct vl_engine *e, struct vl_error *err)
{
	const struct vl_xlat *xl = &e->xl;
	VL_TRY(check_filter(xl, err));
	for (uint32_t i = 0; i < xl->nt; i++)
		VL_TRY(check_one(e, &xl->t[i], true, 0, err));
	for (unsigned c = 0; c < 3; c++)
		if (xl->psc_on[c])
			VL_TRY(check_one(e, &xl->psc[c], false, c, err));
	return 0;
}
