/* core/registry.c - every policy vmlab knows by name, of each kind.
 *
 * Three kinds (page replacement, TLB in-set replacement, large pages) share
 * one mechanism: the built-ins, then up to a fixed number of registered
 * ones (plug-ins, tests), looked up by name in that order.  The built-ins
 * come from one descriptor, vl_builtin_policies (core/builtin.h), which the
 * policies layer defines; core names no policy.  Registration checks the
 * API version and the required hooks and refuses a taken name, so a
 * registered policy is complete; contract tests iterate the *_at()
 * functions, so a policy is tested the moment it is listed.
 *
 * Registered policies are never removed (a plug-in stays loaded), so the
 * pointers handed out stay valid.  Registration is not thread-safe: it
 * happens at start-up, before engines are built.
 */
#include <string.h>

#include "core/builtin.h"
#include "core/internal.h"

struct kind {
	const char *what, *plural;
	size_t max;                   /* registered ones, beyond the built-ins */
	const void *extra[64];
	size_t nextra;
};

static struct kind kinds[REG_NKINDS] = {
	[REG_REPL] = { "policy", "policies", 64, { 0 }, 0 },
	[REG_TLB] = { "TLB policy", "TLB policies", 16, { 0 }, 0 },
	[REG_LP] = { "large-page policy", "large-page policies", 16, { 0 }, 0 },
};

static const char *reg_name(enum reg_kind k, const void *ops)
{
	switch (k) {
	case REG_REPL: return ((const struct vl_repl_ops *)ops)->name;
	case REG_TLB: return ((const struct vl_tlb_repl_ops *)ops)->name;
	default: return ((const struct vl_lp_ops *)ops)->name;
	}
}

static unsigned reg_version(enum reg_kind k, const void *ops)
{
	switch (k) {
	case REG_REPL: return ((const struct vl_repl_ops *)ops)->api_version;
	case REG_TLB: return ((const struct vl_tlb_repl_ops *)ops)->api_version;
	default: return ((const struct vl_lp_ops *)ops)->api_version;
	}
}

/* Every hook the engine calls without checking for NULL is there. */
static bool complete(enum reg_kind k, const void *ops)
{
	switch (k) {
	case REG_REPL: {
		const struct vl_repl_ops *o = ops;
		return o->init && o->on_map && o->on_unmap && o->select_victims &&
		       (!(o->flags & VL_REPL_WANTS_ACCESS) || o->on_access) &&
		       (!(o->flags & VL_REPL_HINT_FAULT) || o->will_fault);
	}
	case REG_TLB: {
		const struct vl_tlb_repl_ops *o = ops;
		return o->init && o->insert && o->victim;
	}
	default:
		return ((const struct vl_lp_ops *)ops)->fault_size != NULL;
	}
}

const void *reg_listed(const struct vl_plugin *p, enum reg_kind k, size_t i)
{
	switch (k) {
	case REG_REPL: return p->repl ? p->repl[i] : NULL;
	case REG_TLB: return p->tlb ? p->tlb[i] : NULL;
	default: return p->lp ? p->lp[i] : NULL;
	}
}

static const void *reg_at(enum reg_kind k, size_t i)
{
	size_t n = 0;
	for (const void *o; (o = reg_listed(&vl_builtin_policies, k, n)); n++)
		if (n == i)
			return o;
	i -= n;
	return i < kinds[k].nextra ? kinds[k].extra[i] : NULL;
}

static const void *reg_find(enum reg_kind k, const char *name)
{
	const void *o;
	for (size_t i = 0; (o = reg_at(k, i)); i++)
		if (!strcmp(reg_name(k, o), name))
			return o;
	return NULL;
}

int reg_check(enum reg_kind k, const void *ops, struct vl_error *err)
{
	const struct kind *kd = &kinds[k];
	const char *name = reg_name(k, ops);
	if (reg_version(k, ops) < VL_POLICY_API_MIN || reg_version(k, ops) > VL_POLICY_API_VERSION)
		return vl_err(err, VL_EVERSION,
			      "%s '%s' was built for policy API version %u; this vmlab has %u: "
			      "rebuild it against this vmlab's headers",
			      kd->what, name ? name : "?", reg_version(k, ops), VL_POLICY_API_VERSION);
	if (!name || !complete(k, ops))
		return vl_err(err, VL_EINVAL, "%s '%s' lacks a required hook", kd->what,
			      name ? name : "?");
	if (reg_find(k, name))
		return vl_err(err, VL_EINVAL, "a %s named '%s' is already registered", kd->what, name);
	if (kd->nextra == kd->max)
		return vl_err(err, VL_ELIMIT, "too many plug-in %s (at most %zu)", kd->plural, kd->max);
	return 0;
}

int reg_add(enum reg_kind k, const void *ops, struct vl_error *err)
{
	VL_TRY(reg_check(k, ops, err));
	kinds[k].extra[kinds[k].nextra++] = ops;
	return 0;
}

/* ---- the public, typed faces ----
 *
 * vl_repl_register/find/at, vl_tlb_repl_register/find/at and
 * vl_lp_register/find/at (vmlab/policy.h), one line each over the above. */

#define TYPED_FACES(pre, type, kind)                                               \
	int pre##_register(const type *ops, struct vl_error *err)                  \
	{                                                                          \
		return reg_add(kind, ops, err);                                    \
	}                                                                          \
	const type *pre##_find(const char *name) { return reg_find(kind, name); } \
	const type *pre##_at(size_t i) { return reg_at(kind, i); }

TYPED_FACES(vl_repl, struct vl_repl_ops, REG_REPL)
TYPED_FACES(vl_tlb_repl, struct vl_tlb_repl_ops, REG_TLB)
TYPED_FACES(vl_lp, struct vl_lp_ops, REG_LP)
