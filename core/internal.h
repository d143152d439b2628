/* core/internal.h - what core's files share and no other layer sees.
 *
 * Core is the bottom layer: errors, configuration and its INI loading,
 * counter names, the registry of policies and plug-in loading.  It
 * includes public headers only (vmlab/error.h, config.h, counters.h,
 * policy.h, version.h) and nothing from policies/, traces/, sim/ or
 * above; its one link to the policies layer is core/builtin.h.
 */
#ifndef VMLAB_CORE_INTERNAL_H
#define VMLAB_CORE_INTERNAL_H

#include <stddef.h>

#include "vmlab/config.h"
#include "vmlab/error.h"
#include "vmlab/policy.h"

/* ---- built-in presets (generated from configs/ at build time) ---- */

struct vl_preset {
	const char *kind, *name, *text;
};
extern const struct vl_preset vl_presets[];
extern const size_t vl_npresets;

/* ---- the registry (core/registry.c), one mechanism for every kind ---- */

enum reg_kind { REG_REPL, REG_TLB, REG_LP, REG_NKINDS };

/* The i-th ops table of kind k a descriptor lists, NULL at the end (i
 * must not pass it). */
const void *reg_listed(const struct vl_plugin *p, enum reg_kind k, size_t i);
/* Whether ops could be registered now: 0, or VL_EVERSION (api_version),
 * VL_EINVAL (no name, a required hook missing, name taken) or VL_ELIMIT
 * (no room), with err.  Registers nothing. */
int reg_check(enum reg_kind k, const void *ops, struct vl_error *err);
/* reg_check, then register; the registry is unchanged on failure. */
int reg_add(enum reg_kind k, const void *ops, struct vl_error *err);

#endif
