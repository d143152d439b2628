/* policies/largepage/registry.c - large-page policies by name.
 * Adding one is its own file plus one line in builtin[]. */
#include <string.h>

#include "vmlab/policy.h"

extern const struct vl_lp_ops vl_lp_none, vl_lp_always, vl_lp_madvise, vl_lp_promote,
	vl_lp_reservation;

static const struct vl_lp_ops *const builtin[] = {
	&vl_lp_none, &vl_lp_always, &vl_lp_madvise, &vl_lp_promote, &vl_lp_reservation,
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))
#define MAX_EXTRA 16

static const struct vl_lp_ops *extra[MAX_EXTRA];
static size_t nextra;

const struct vl_lp_ops *vl_lp_at(size_t i)
{
	if (i < NBUILTIN)
		return builtin[i];
	i -= NBUILTIN;
	return i < nextra ? extra[i] : NULL;
}

const struct vl_lp_ops *vl_lp_find(const char *name)
{
	for (size_t i = 0; vl_lp_at(i); i++)
		if (!strcmp(vl_lp_at(i)->name, name))
			return vl_lp_at(i);
	return NULL;
}

int vl_lp_register(const struct vl_lp_ops *ops, struct vl_error *err)
{
	if (ops->api_version != VL_POLICY_API_VERSION)
		return vl_err(err, VL_EVERSION, "large-page policy '%s' was built for policy API %u, not %u",
			      ops->name ? ops->name : "?", ops->api_version, VL_POLICY_API_VERSION);
	if (!ops->name || !ops->fault_size)
		return vl_err(err, VL_EINVAL, "large-page policy '%s' lacks a required hook",
			      ops->name ? ops->name : "?");
	if (vl_lp_find(ops->name))
		return vl_err(err, VL_EINVAL, "a large-page policy named '%s' is already registered", ops->name);
	if (nextra == MAX_EXTRA)
		return vl_err(err, VL_ELIMIT, "too many plug-in TLB policies (at most %d)", MAX_EXTRA);
	extra[nextra++] = ops;
	return 0;
}
