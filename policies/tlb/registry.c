/* policies/tlb/registry.c - TLB in-set replacement policies by name.
 * Adding one is its own file plus one line in builtin[]. */
#include <string.h>

#include "vmlab/policy.h"

extern const struct vl_tlb_repl_ops vl_tlb_lru, vl_tlb_plru, vl_tlb_random, vl_tlb_fifo,
	vl_tlb_srrip;

static const struct vl_tlb_repl_ops *const builtin[] = {
	&vl_tlb_lru, &vl_tlb_plru, &vl_tlb_random, &vl_tlb_fifo, &vl_tlb_srrip,
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))
#define MAX_EXTRA 16

static const struct vl_tlb_repl_ops *extra[MAX_EXTRA];
static size_t nextra;

const struct vl_tlb_repl_ops *vl_tlb_repl_at(size_t i)
{
	if (i < NBUILTIN)
		return builtin[i];
	i -= NBUILTIN;
	return i < nextra ? extra[i] : NULL;
}

const struct vl_tlb_repl_ops *vl_tlb_repl_find(const char *name)
{
	for (size_t i = 0; vl_tlb_repl_at(i); i++)
		if (!strcmp(vl_tlb_repl_at(i)->name, name))
			return vl_tlb_repl_at(i);
	return NULL;
}

int vl_tlb_repl_register(const struct vl_tlb_repl_ops *ops, struct vl_error *err)
{
	if (ops->api_version != VL_POLICY_API_VERSION)
		return vl_err(err, VL_EVERSION, "TLB policy '%s' was built for policy API %u, not %u",
			      ops->name ? ops->name : "?", ops->api_version, VL_POLICY_API_VERSION);
	if (!ops->name || !ops->init || !ops->insert || !ops->victim)
		return vl_err(err, VL_EINVAL, "TLB policy '%s' lacks a required hook",
			      ops->name ? ops->name : "?");
	if (vl_tlb_repl_find(ops->name))
		return vl_err(err, VL_EINVAL, "a TLB policy named '%s' is already registered", ops->name);
	if (nextra == MAX_EXTRA)
		return vl_err(err, VL_ELIMIT, "too many plug-in TLB policies (at most %d)", MAX_EXTRA);
	extra[nextra++] = ops;
	return 0;
}
