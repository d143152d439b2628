/* policies/replacement/linux-lru.c - Linux's two-list LRU (active/inactive).
 *
 * After mm/vmscan.c before multi-generation LRU (Linux 2.6.28 .. 6.x with
 * MGLRU off), simplified: every resident page is on the inactive or the
 * active list; new pages enter the inactive list.  Reclaim scans the
 * inactive tail: a page whose accessed bit is set (test and clear) is
 * promoted to the active head, one whose bit is clear is the victim.  When
 * the active list grows longer than the inactive list, pages move from the
 * active tail to the inactive head with their bits cleared
 * (shrink_active_list).  Simplifications: Linux promotes a page on its
 * second reference seen by reclaim (PG_referenced) and keeps referenced
 * executable pages active; here one reference seen promotes, for every page.
 */
#include "vmlab/policy.h"

struct lists {
	struct vl_flist active, inactive;
};

static int linux_lru_init(struct vl_repl *r, struct vl_error *err)
{
	struct lists *l = calloc(1, sizeof(*l));
	if (!l || vl_flist_init(&l->active, r->nframes) < 0) {
		free(l);
		return vl_err(err, VL_ENOMEM, "linux-lru: out of memory for %u frames", r->nframes);
	}
	if (vl_flist_init(&l->inactive, r->nframes) < 0) {
		vl_flist_free(&l->active);
		free(l);
		return vl_err(err, VL_ENOMEM, "linux-lru: out of memory for %u frames", r->nframes);
	}
	r->priv = l;
	return 0;
}

static void linux_lru_fini(struct vl_repl *r)
{
	struct lists *l = r->priv;
	vl_flist_free(&l->active);
	vl_flist_free(&l->inactive);
	free(l);
}

static void linux_lru_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lists *l = r->priv;
	(void)a;
	vl_flist_push_head(&l->inactive, f);
}

static void linux_lru_unmap(struct vl_repl *r, uint32_t f)
{
	struct lists *l = r->priv;
	if (vl_flist_has(&l->active, f))
		vl_flist_del(&l->active, f);
	else
		vl_flist_del(&l->inactive, f);
}

static void balance(struct vl_repl *r, struct lists *l)
{
	while (l->active.len > l->inactive.len) {
		uint32_t f = l->active.tail;
		vl_flist_del(&l->active, f);
		vl_repl_referenced(r, f, true);
		vl_flist_push_head(&l->inactive, f);
	}
}

static size_t linux_lru_victims(struct vl_repl *r, const struct vl_evict_ctx *ctx, uint32_t *out,
				size_t want)
{
	struct lists *l = r->priv;
	size_t n = 0;
	(void)ctx;
	while (n < want && l->active.len + l->inactive.len > n) {
		balance(r, l);
		uint32_t f = l->inactive.tail;
		vl_flist_del(&l->inactive, f);
		if (vl_repl_referenced(r, f, true)) {
			vl_flist_push_head(&l->active, f);
			continue;
		}
		/* chosen: keep it listed (at the head) until the engine unmaps it */
		vl_flist_push_head(&l->inactive, f);
		bool dup = false;
		for (size_t i = 0; i < n && !dup; i++)
			dup = out[i] == f;
		if (!dup)
			out[n++] = f;
		if (l->inactive.len == n)
			break;
	}
	return n;
}

const struct vl_repl_ops vl_repl_linux_lru = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "linux-lru",
	.help = "Linux active/inactive lists with accessed-bit promotion (the linux preset)",
	.init = linux_lru_init,
	.fini = linux_lru_fini,
	.on_map = linux_lru_map,
	.on_unmap = linux_lru_unmap,
	.select_victims = linux_lru_victims,
};
