/* policies/builtin.c - the built-in policies of every kind.
 *
 * Adding a policy is its own file plus one line here.  The order of each
 * list is the order `vmlab policies` prints and the contract tests visit.
 * Core's registry sees this descriptor only (core/builtin.h), never the
 * policies by name; plug-ins export a descriptor of the same type.
 */
#include "core/builtin.h"

extern const struct vl_repl_ops vl_repl_fifo, vl_repl_lru, vl_repl_clock, vl_repl_opt,
	vl_repl_random, vl_repl_linux_lru;
extern const struct vl_repl_ops vl_repl_lfu, vl_repl_nru, vl_repl_aging, vl_repl_wsclock,
	vl_repl_clock_pro, vl_repl_arc, vl_repl_car, vl_repl_2q, vl_repl_lirs, vl_repl_s3fifo,
	vl_repl_sieve, vl_repl_mglru, vl_repl_ws_aging;
extern const struct vl_tlb_repl_ops vl_tlb_lru, vl_tlb_plru, vl_tlb_random, vl_tlb_fifo,
	vl_tlb_srrip;
extern const struct vl_lp_ops vl_lp_none, vl_lp_always, vl_lp_madvise, vl_lp_promote,
	vl_lp_reservation;

static const struct vl_repl_ops *const repl[] = {
	&vl_repl_fifo,
	&vl_repl_lru,
	&vl_repl_clock,
	&vl_repl_opt,
	&vl_repl_random,
	&vl_repl_linux_lru,
	&vl_repl_lfu,
	&vl_repl_nru,
	&vl_repl_aging,
	&vl_repl_wsclock,
	&vl_repl_clock_pro,
	&vl_repl_arc,
	&vl_repl_car,
	&vl_repl_2q,
	&vl_repl_lirs,
	&vl_repl_s3fifo,
	&vl_repl_sieve,
	&vl_repl_mglru,
	&vl_repl_ws_aging,
	NULL,
};

static const struct vl_tlb_repl_ops *const tlb[] = {
	&vl_tlb_lru, &vl_tlb_plru, &vl_tlb_random, &vl_tlb_fifo, &vl_tlb_srrip, NULL,
};

static const struct vl_lp_ops *const lp[] = {
	&vl_lp_none, &vl_lp_always, &vl_lp_madvise, &vl_lp_promote, &vl_lp_reservation, NULL,
};

const struct vl_plugin vl_builtin_policies = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "built-in",
	.repl = repl,
	.tlb = tlb,
	.lp = lp,
};
