/* policies/registry.c - every replacement policy vmlab knows by name.
 *
 * Built-ins are listed in builtin[] below: adding a policy is its own file
 * plus one line here.  Plug-ins add more at run time through
 * vl_repl_register (vmlab run --plugin).  Contract tests iterate
 * vl_repl_at(), so a registered policy is tested the moment it is listed.
 */
#include <string.h>

#include "vmlab/policy.h"

extern const struct vl_repl_ops vl_repl_fifo, vl_repl_lru, vl_repl_clock, vl_repl_opt,
	vl_repl_random, vl_repl_linux_lru;
extern const struct vl_repl_ops vl_repl_lfu, vl_repl_nru, vl_repl_aging, vl_repl_wsclock,
	vl_repl_clock_pro, vl_repl_arc, vl_repl_car, vl_repl_2q, vl_repl_lirs, vl_repl_s3fifo,
	vl_repl_sieve, vl_repl_mglru, vl_repl_ws_aging;

static const struct vl_repl_ops *const builtin[] = {
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
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))
#define MAX_EXTRA 64

static const struct vl_repl_ops *extra[MAX_EXTRA];
static size_t nextra;

const struct vl_repl_ops *vl_repl_at(size_t i)
{
	if (i < NBUILTIN)
		return builtin[i];
	i -= NBUILTIN;
	return i < nextra ? extra[i] : NULL;
}

const struct vl_repl_ops *vl_repl_find(const char *name)
{
	for (size_t i = 0; vl_repl_at(i); i++)
		if (!strcmp(vl_repl_at(i)->name, name))
			return vl_repl_at(i);
	return NULL;
}

int vl_repl_register(const struct vl_repl_ops *ops, struct vl_error *err)
{
	if (ops->api_version != VL_POLICY_API_VERSION)
		return vl_err(err, VL_EVERSION,
			      "policy '%s' was built for policy API version %u; this vmlab has %u: "
			      "rebuild it against this vmlab's headers",
			      ops->name ? ops->name : "?", ops->api_version, VL_POLICY_API_VERSION);
	if (!ops->name || !ops->init || !ops->on_map || !ops->on_unmap || !ops->select_victims ||
	    ((ops->flags & VL_REPL_WANTS_ACCESS) && !ops->on_access))
		return vl_err(err, VL_EINVAL, "policy '%s' lacks a required hook",
			      ops->name ? ops->name : "?");
	if (vl_repl_find(ops->name))
		return vl_err(err, VL_EINVAL, "a policy named '%s' is already registered", ops->name);
	if (nextra == MAX_EXTRA)
		return vl_err(err, VL_ELIMIT, "too many plug-in policies (at most %d)", MAX_EXTRA);
	extra[nextra++] = ops;
	return 0;
}
