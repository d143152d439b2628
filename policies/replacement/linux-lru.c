/* policies/replacement/linux-lru.c - Linux's two-list LRU (active/inactive).
 *
 * After mm/vmscan.c before multi-generation LRU (Linux 2.6.28 .. 6.x with
 * MGLRU off), simplified: every resident page is on the inactive or the
 * active list; new pages enter the inactive list.  Reclaim scans the
 * inactive tail and decides as folio_check_references does for an
 * anonymous page, from its accessed bit (test and clear: referenced_ptes)
 * and a referenced flag of its own (PG_referenced, test and clear):
 *   bit set, flag set      the page is activated (active head, flag set);
 *   bit set, flag clear    kept (FOLIOREF_KEEP): back to the inactive
 *                          head with the flag set, so a page is activated
 *                          on the second reference reclaim sees, and a page
 *                          touched once (its fault) gets one more trip;
 *   bit clear              the victim.
 * When the active list grows longer than the inactive list, pages move
 * from the active tail to the inactive head with their bits cleared and
 * their flags kept (shrink_active_list).  A page comes in with its flag
 * clear.  Simplification: Linux keeps referenced executable file pages
 * active; here every page is treated as anonymous.
 *
 * Refault detection (replacement.linux-lru.refault, the linux preset; after
 * mm/workingset.c): each eviction leaves a shadow entry, the value of a
 * clock of non-resident age that every eviction and every activation (a
 * refault's, and reclaim's on a second reference: move_folios_to_lru
 * ages it for each active folio it puts back) advances.  When the page comes back (on_map: a fault, or swap
 * readahead), its refault distance is the clock minus its shadow: the
 * evictions and activations since it left, which is how much longer the
 * inactive list would have had to be to keep it.  A distance no larger than
 * the active list (the workingset size of an anonymous refault with no
 * file pages: NR_ACTIVE_ANON) means the page could have stayed had it been
 * active: it enters the active list, and the clock advances.  Shadows are
 * kept by page (Linux keeps them in the page cache or the swap slot) in a
 * table of 4 x frames entries; evictions past that leave none.
 */
#include "vmlab/policy.h"

static const struct vl_key_def linux_lru_params[] = {
	{ "refault", VL_KT_BOOL, "off",
	  "shadow entries activate pages that refault within the active list's size "
	  "(mm/workingset.c; the linux preset sets on)", NULL, 0, 0, NULL },
};

struct lists {
	struct vl_flist active, inactive;
	uint8_t *referenced; /* PG_referenced, one byte a frame */
	bool refault;
	uint32_t age;          /* non-resident age (mod 2^31) */
	struct vl_pmap shadow; /* (pid, vpn) -> age at eviction */
	struct vl_lookahead ahead_active, ahead_inactive; /* along each list's tail */
};

static int linux_lru_init(struct vl_repl *r, struct vl_error *err)
{
	struct lists *l = calloc(1, sizeof(*l));
	if (!l || vl_flist_init(&l->active, r->nframes) < 0) {
		free(l);
		return vl_err(err, VL_ENOMEM, "linux-lru: out of memory for %u frames", r->nframes);
	}
	if (vl_flist_init(&l->inactive, r->nframes) < 0 ||
	    !(l->referenced = calloc(r->nframes ? r->nframes : 1, 1))) {
		vl_flist_free(&l->active);
		vl_flist_free(&l->inactive); /* safe after a failed init: nothing held */
		free(l);
		return vl_err(err, VL_ENOMEM, "linux-lru: out of memory for %u frames", r->nframes);
	}
	l->refault = vl_config_bool(r->cfg, "replacement.linux-lru.refault");
	uint64_t shadows = 4ull * r->nframes;
	if (l->refault &&
	    vl_pmap_init(&l->shadow, shadows > 1u << 30 ? 1u << 30 : (uint32_t)shadows) < 0) {
		vl_flist_free(&l->active);
		vl_flist_free(&l->inactive);
		free(l->referenced);
		free(l);
		return vl_err(err, VL_ENOMEM, "linux-lru: out of memory for shadow entries of %u frames",
			      r->nframes);
	}
	l->ahead_active = (struct vl_lookahead)VL_LOOKAHEAD_INIT;
	l->ahead_inactive = (struct vl_lookahead)VL_LOOKAHEAD_INIT;
	r->priv = l;
	return 0;
}

static void linux_lru_fini(struct vl_repl *r)
{
	struct lists *l = r->priv;
	vl_flist_free(&l->active);
	vl_flist_free(&l->inactive);
	if (l->refault)
		vl_pmap_free(&l->shadow);
	free(l->referenced);
	free(l);
}

static void linux_lru_map(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct lists *l = r->priv;
	l->referenced[f] = 0;
	if (l->refault && a && l->shadow.n) {
		uint32_t ev = vl_pmap_del(&l->shadow, a->pid, a->vpn);
		/* workingset_test_recent: (refault - eviction) <= workingset size */
		if (ev != VL_PMAP_NONE && ((l->age - ev) & 0x7fffffffu) <= l->active.len) {
			vl_flist_push_head(&l->active, f);
			l->age = (l->age + 1) & 0x7fffffffu;
			vl_repl_event(r, VL_REPL_EV_REFAULT_ACTIVATION);
			return;
		}
	}
	vl_flist_push_head(&l->inactive, f);
}

/* A victim leaves: its shadow records the non-resident age (workingset_eviction). */
static void shadow_evicted(struct vl_repl *r, struct lists *l, uint32_t f)
{
	uint64_t vpn;
	uint32_t pid = vl_repl_owner(r, f, &vpn);
	vl_pmap_put(&l->shadow, pid, vpn, l->age); /* full: no shadow, as if reclaimed */
	l->age = (l->age + 1) & 0x7fffffffu;
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
		vl_lookahead_flist(r, &l->ahead_active, &l->active);
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
		vl_lookahead_flist(r, &l->ahead_inactive, &l->inactive);
		vl_flist_del(&l->inactive, f);
		bool ref_folio = l->referenced[f];
		l->referenced[f] = 0;
		if (vl_repl_referenced(r, f, true)) {
			l->referenced[f] = 1;
			if (ref_folio) {
				vl_flist_push_head(&l->active, f); /* FOLIOREF_ACTIVATE */
				/* move_folios_to_lru: an activated folio ages the
				 * non-resident clock (workingset_age_nonresident) */
				l->age = (l->age + 1) & 0x7fffffffu;
			} else
				vl_flist_push_head(&l->inactive, f); /* FOLIOREF_KEEP */
			continue;
		}
		/* chosen: keep it listed (at the head) until the engine unmaps it */
		vl_flist_push_head(&l->inactive, f);
		bool dup = false;
		for (size_t i = 0; i < n && !dup; i++)
			dup = out[i] == f;
		if (!dup) {
			out[n++] = f;
			if (l->refault)
				shadow_evicted(r, l, f);
		}
		if (l->inactive.len == n)
			break;
	}
	return n;
}

const struct vl_repl_ops vl_repl_linux_lru = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "linux-lru",
	.help = "Linux active/inactive lists with accessed-bit promotion (the linux preset)",
	.params = linux_lru_params,
	.nparams = sizeof(linux_lru_params) / sizeof(linux_lru_params[0]),
	.init = linux_lru_init,
	.fini = linux_lru_fini,
	.on_map = linux_lru_map,
	.on_unmap = linux_lru_unmap,
	.select_victims = linux_lru_victims,
};
