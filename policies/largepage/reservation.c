/* policies/largepage/reservation.c - reservation-based superpages.
 *
 * Navarro, Iyer, Druschel and Cox, "Practical, transparent operating system
 * support for superpages", OSDI 2002 (FreeBSD's superpage reservations): a
 * first touch in an untouched aligned 2 MiB range reserves a free 2 MiB
 * block and maps the touched 4 KiB page at its place inside it; later
 * touches of the range use their places in the block; once all 512 pages
 * are mapped the range is promoted in place (no copy).  When a 4 KiB frame
 * is needed and none is free, the engine breaks reservations (returning
 * their unmapped frames to the buddy allocator) before evicting pages.
 * Without a free 2 MiB block the touch falls back to a plain 4 KiB page.
 */
#include "vmlab/policy.h"

static unsigned resv_size(struct vl_lp *lp, const struct vl_lp_fault *f)
{
	(void)lp;
	(void)f;
	return VL_LP_2M | VL_LP_RESERVE;
}

const struct vl_lp_ops vl_lp_reservation = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "reservation",
	.help = "reserve a 2 MiB block at first touch, promote in place when full (Navarro 2002)",
	.fault_size = resv_size,
};
