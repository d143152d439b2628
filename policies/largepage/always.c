/* policies/largepage/always.c - Linux transparent huge pages, "always".
 *
 * A first touch in an aligned 2 MiB range that has no page table yet maps
 * a 2 MiB page when the buddy allocator has a free order-9 block; the
 * engine falls back to 4 KiB otherwise (large_page_fallbacks).  With
 * largepage.always.1g = on, an untouched aligned 1 GiB range gets a 1 GiB
 * page first (falling back to 2 MiB, then 4 KiB), as hugetlbfs 1G pages
 * would if they were transparent.
 */
#include "vmlab/policy.h"

static const struct vl_key_def params[] = {
	{ "1g", VL_KT_BOOL, "off", "also map 1 GiB pages in untouched aligned 1 GiB ranges",
	  NULL, 0, 0, NULL },
};

static unsigned always_size(struct vl_lp *lp, const struct vl_lp_fault *f)
{
	if (f->can_1g && vl_config_bool(lp->cfg, "largepage.always.1g"))
		return VL_LP_1G;
	return VL_LP_2M;
}

const struct vl_lp_ops vl_lp_always = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "always",
	.help = "a 2 MiB page at every first touch of an untouched 2 MiB range (THP always)",
	.params = params,
	.nparams = sizeof(params) / sizeof(params[0]),
	.fault_size = always_size,
};
