/* policies/largepage/promote.c - map 4 KiB, collapse later (khugepaged).
 *
 * Faults map 4 KiB pages.  Every largepage.interval accesses the policy
 * scans every 2 MiB range mapped by 4 KiB pages and collapses those with at
 * least threshold x 512 resident pages and none paged out into one 2 MiB
 * page, as Linux's khugepaged does (its max_ptes_none is 512 x (1 -
 * threshold)): the resident pages are copied (large_page_copies), the
 * rest zero-filled.  A range is skipped when no free 2 MiB block exists.
 */
#include "vmlab/policy.h"

static const struct vl_key_def params[] = {
	{ "threshold", VL_KT_DOUBLE, "0.5",
	  "collapse a 2 MiB range once this fraction of its 4 KiB pages is resident", NULL,
	  0.001, 1.0, NULL },
};

struct promo {
	uint32_t need; /* resident pages needed */
	struct vl_lp *lp;
};

static int promo_init(struct vl_lp *lp, struct vl_error *err)
{
	struct promo *p = malloc(sizeof(*p));
	if (!p)
		return vl_err(err, VL_ENOMEM, "largepage promote: out of memory");
	double th = vl_config_double(lp->cfg, "largepage.promote.threshold");
	p->need = (uint32_t)(th * 512.0 + 0.999999);
	if (p->need < 1)
		p->need = 1;
	p->lp = lp;
	lp->priv = p;
	return 0;
}

static void promo_fini(struct vl_lp *lp)
{
	free(lp->priv);
}

static unsigned promo_size(struct vl_lp *lp, const struct vl_lp_fault *f)
{
	(void)lp;
	(void)f;
	return VL_LP_4K;
}

/* Ranges are visited during the scan; collapsing one changes only that
 * range's page table, which the visitor has finished with. */
static void visit(void *arg, uint32_t proc, uint64_t vpn, uint32_t resident, uint32_t paged_out)
{
	struct promo *p = arg;
	if (resident >= p->need && paged_out == 0)
		(void)p->lp->mm->collapse(p->lp->mm_ctx, proc, vpn);
}

static void promo_tick(struct vl_lp *lp)
{
	lp->mm->each_range(lp->mm_ctx, visit, lp->priv);
}

const struct vl_lp_ops vl_lp_promote = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "promote",
	.help = "4 KiB at fault; a periodic scan collapses well-populated 2 MiB ranges (khugepaged)",
	.params = params,
	.nparams = sizeof(params) / sizeof(params[0]),
	.init = promo_init,
	.fini = promo_fini,
	.fault_size = promo_size,
	.tick = promo_tick,
};
