/* core/plugin.c - loading policy plug-ins (vmlab run --plugin X.so).
 *
 * A plug-in is a shared object exporting `const struct vl_plugin
 * vl_plugin` (include/vmlab/policy.h).  It links against nothing: engine
 * services reach it through struct vl_mm_services, and vl_err resolves
 * from the host (the vmlab binary exports its VL_API symbols).  The host
 * checks the descriptor's API version and every ops table (version,
 * hooks, name) before registering anything, so a refused plug-in leaves
 * the registry as it was.  A loaded plug-in is never unloaded: the
 * registry points into it.
 *
 * Paths.  dlopen searches the library path for a name without a '/', so
 * `--plugin mine.so` would not find ./mine.so; a name without '/' that
 * names an existing file is loaded as "./NAME", as a user means it.
 * Loading an object already registered (the same file, by dlopen's
 * handle: a sweep names its plug-ins on the command line and in its plan)
 * is not an error and registers nothing again.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"

#define MAX_LOADED 64
static void *loaded[MAX_LOADED]; /* handles of the plug-ins registered */
static size_t nloaded;

int vl_plugin_load(const char *path, struct vl_error *err)
{
	char local[PATH_MAX];
	const char *open_path = path;
	if (!strchr(path, '/') && access(path, F_OK) == 0 &&
	    (size_t)snprintf(local, sizeof(local), "./%s", path) < sizeof(local))
		open_path = local;
	void *h = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
	for (size_t i = 0; h && i < nloaded; i++) {
		if (loaded[i] == h) {
			dlclose(h); /* the reference this call took */
			return 0;
		}
	}
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
	if (p->api_version < VL_POLICY_API_MIN || p->api_version > VL_POLICY_API_VERSION) {
		rc = vl_err(err, VL_EVERSION,
			    "plugin %s (%s) was built for policy API version %u; this vmlab has %u: "
			    "rebuild it against this vmlab's headers",
			    path, p->name ? p->name : "?", p->api_version, VL_POLICY_API_VERSION);
		goto fail;
	}
	/* check everything first: a refused plug-in registers nothing */
	size_t total = 0;
	for (enum reg_kind k = 0; k < REG_NKINDS; k++) {
		const void *o;
		for (size_t i = 0; (o = reg_listed(p, k, i)); i++, total++) {
			struct vl_error e2 = { 0 };
			if ((rc = reg_check(k, o, &e2)) < 0) {
				vl_err(err, rc, "plugin %s: %s", path, e2.msg);
				goto fail;
			}
		}
	}
	if (total == 0) {
		rc = vl_err(err, VL_EINVAL, "plugin %s: lists no policies", path);
		goto fail;
	}
	for (enum reg_kind k = 0; k < REG_NKINDS; k++) {
		const void *o;
		for (size_t i = 0; (o = reg_listed(p, k, i)); i++) {
			struct vl_error e2 = { 0 };
			if ((rc = reg_add(k, o, &e2)) < 0) {
				/* two tables of one plug-in with one name, or more
				 * tables than the registry has room left for: the
				 * earlier ones stay registered, so the object stays
				 * loaded */
				return vl_err(err, rc, "plugin %s: %s", path, e2.msg);
			}
		}
	}
	if (nloaded < MAX_LOADED)
		loaded[nloaded++] = h;
	return 0;
fail:
	dlclose(h);
	return rc;
}
