/* policies/largepage/none.c - 4 KiB pages only. */
#include "vmlab/policy.h"

static unsigned none_size(struct vl_lp *lp, const struct vl_lp_fault *f)
{
	(void)lp;
	(void)f;
	return VL_LP_4K;
}

const struct vl_lp_ops vl_lp_none = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "none",
	.help = "4 KiB pages only",
	.fault_size = none_size,
};
