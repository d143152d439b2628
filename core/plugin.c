/* policies/plugin.c - loading policy plug-ins (vmlab run --plugin X.so).
 *
 * A plug-in is a shared object exporting `const struct vl_plugin
 * vl_plugin` (include/vmlab/policy.h).  It links against nothing: engine
 * services reach it through struct vl_mm_services, and vl_err resolves
 * from the host (the vmlab binary exports its symbols).  The host checks
 * the descriptor's API version and every ops table's before registering
 * anything, so a refused plug-in leaves the registry as it was.  A loaded
 * plug-in is never unloaded: the registry points into it.
 */
#include <dlfcn.h>
#include <string.h>

#include "vmlab/policy.h"

int vl_plugin_load(const char *path, struct vl_error *err)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		return vl_err(err, VL_ENOENT, "plugin %s: cannot load: %s", path,
			      why ? why : "unknown error");
	}
	const struct vl_plugin *p = (const struct vl_plugin *)dlsym(h, VL_PLUGIN_SYMBOL);
	int rc;
	if (!p) {
		rc = vl_err(err, VL_EINVAL,
			    "plugin %s: exports no '%s' symbol (const struct vl_plugin; see "
			    "docs/writing-a-policy.md)",
			    path, VL_PLUGIN_SYMBOL);
		goto fail;
	}
	if (p->api_version != VL_POLICY_API_VERSION) {
		rc = vl_err(err, VL_EVERSION,
			    "plugin %s (%s) was built for policy API version %u; this vmlab has %u: "
			    "rebuild it against this vmlab's headers",
			    path, p->name ? p->name : "?", p->api_version, VL_POLICY_API_VERSION);
		goto fail;
	}
	size_t n = 0;
	for (; p->repl && p->repl[n]; n++) {
		const struct vl_repl_ops *o = p->repl[n];
		if (o->api_version != VL_POLICY_API_VERSION) {
			rc = vl_err(err, VL_EVERSION,
				    "plugin %s: policy '%s' was built for policy API version %u; this "
				    "vmlab has %u: rebuild it against this vmlab's headers",
				    path, o->name ? o->name : "?", o->api_version,
				    VL_POLICY_API_VERSION);
			goto fail;
		}
		if (!o->name || vl_repl_find(o->name)) {
			rc = vl_err(err, VL_EINVAL, "plugin %s: a policy named '%s' is already registered",
				    path, o->name ? o->name : "(null)");
			goto fail;
		}
	}
	size_t nt = 0, nl = 0;
	for (; p->tlb && p->tlb[nt]; nt++) {
		const struct vl_tlb_repl_ops *o = p->tlb[nt];
		if (o->api_version != VL_POLICY_API_VERSION) {
			rc = vl_err(err, VL_EVERSION,
				    "plugin %s: TLB policy '%s' was built for policy API version %u; "
				    "this vmlab has %u: rebuild it against this vmlab's headers",
				    path, o->name ? o->name : "?", o->api_version, VL_POLICY_API_VERSION);
			goto fail;
		}
		if (!o->name || vl_tlb_repl_find(o->name)) {
			rc = vl_err(err, VL_EINVAL,
				    "plugin %s: a TLB policy named '%s' is already registered", path,
				    o->name ? o->name : "(null)");
			goto fail;
		}
	}
	for (; p->lp && p->lp[nl]; nl++) {
		const struct vl_lp_ops *o = p->lp[nl];
		if (o->api_version != VL_POLICY_API_VERSION) {
			rc = vl_err(err, VL_EVERSION,
				    "plugin %s: large-page policy '%s' was built for policy API version "
				    "%u; this vmlab has %u: rebuild it against this vmlab's headers",
				    path, o->name ? o->name : "?", o->api_version, VL_POLICY_API_VERSION);
			goto fail;
		}
		if (!o->name || vl_lp_find(o->name)) {
			rc = vl_err(err, VL_EINVAL,
				    "plugin %s: a large-page policy named '%s' is already registered",
				    path, o->name ? o->name : "(null)");
			goto fail;
		}
	}
	if (n + nt + nl == 0) {
		rc = vl_err(err, VL_EINVAL, "plugin %s: lists no policies", path);
		goto fail;
	}
	for (size_t i = 0; i < n + nt + nl; i++) {
		struct vl_error e2 = { 0 };
		rc = i < n ? vl_repl_register(p->repl[i], &e2)
		     : i < n + nt ? vl_tlb_repl_register(p->tlb[i - n], &e2)
				  : vl_lp_register(p->lp[i - n - nt], &e2);
		if (rc < 0) {
			/* earlier ones of this plug-in stay registered; the
			 * object must stay loaded for them */
			return vl_err(err, rc, "plugin %s: %s", path, e2.msg);
		}
	}
	return 0;
fail:
	dlclose(h);
	return rc;
}
