/* vmlab/config.h - configuration: a schema of typed keys with defaults.
 *
 * A configuration is built in layers, later layers winning:
 *   built-in defaults < machine preset (--machine) < OS preset (--os)
 *   < files (-c) < -s KEY=VALUE.
 * An INI file or preset that sets any tlb.NAME.KEY replaces the whole TLB
 * hierarchy of the layers before it (their tlb.NAME.KEY values are dropped).
 * Every key is "section.name" (sections may be dotted: "replacement.lru.x").
 * Each key is declared once, with its type, default, help and allowed values;
 * setting an undeclared key or a value of the wrong shape is an error that
 * names the key, the origin (file and line, or "-s") and what is allowed.
 * Values are checked when set, so getters on a declared key cannot fail.
 */
#ifndef VMLAB_CONFIG_H
#define VMLAB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmlab/api.h"
#include "vmlab/error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vl_ktype {
	VL_KT_U64,    /* unsigned integer, decimal or 0x hex, within [min, max] */
	VL_KT_SIZE,   /* bytes: 4096, 64K, 256M, 2G (binary units) */
	VL_KT_BOOL,   /* on/off, true/false, yes/no, 1/0 */
	VL_KT_ENUM,   /* one of choices, "a|b|c" */
	VL_KT_STR,    /* free text */
	VL_KT_DOUBLE, /* floating point within [min, max] */
	VL_KT_POLICY, /* name of a registered replacement policy */
};

/* Declaration of one key.  A '*' segment matches any one name segment
 * ("tlb.*.entries").  clears: another key that setting this one unsets
 * (memory.size and memory.frames describe the same quantity). */
struct vl_key_def {
	const char *key;
	enum vl_ktype type;
	const char *def;      /* default value text; "" = unset */
	const char *help;     /* one line */
	const char *choices;  /* VL_KT_ENUM: "a|b|c" */
	double min, max;      /* VL_KT_U64 / VL_KT_DOUBLE bounds; both 0 = none */
	const char *clears;
};

struct vl_config;

/* New configuration holding every declared key at its default.
 * Returns 0 or VL_ENOMEM. */
VL_API int vl_config_new(struct vl_config **out, struct vl_error *err);
VL_API void vl_config_free(struct vl_config *cfg);

/* What the configuration holds that is likely a mistake, one line each
 * (no trailing text; "" when nothing): alternatives both set in one layer
 * (memory.frames and memory.size by two -s or in one file: the later
 * wins), and keys set outside a
 * preset that the chosen personality does not read (ws.*, wsm.*, mpw.*
 * outside windows; replacement.* under windows).  malloc'd; NULL when out
 * of memory. */
VL_API char *vl_config_warnings(const struct vl_config *cfg);

/* Deep copy.  Returns NULL when out of memory. */
VL_API struct vl_config *vl_config_dup(const struct vl_config *cfg);

/* Set one key from text.  origin names where the value came from, for
 * errors ("-s", "exp.ini line 4").  Returns 0, or VL_EINVAL with err naming
 * the key and the allowed values; the configuration is unchanged then. */
VL_API int vl_config_set(struct vl_config *cfg, const char *key, const char *value,
			 const char *origin, struct vl_error *err);

/* Parse "KEY=VALUE" and set it (origin "-s"). */
VL_API int vl_config_set_arg(struct vl_config *cfg, const char *arg, struct vl_error *err);

/* Load an INI file on top.  Returns 0, VL_ENOENT (unreadable file) or
 * VL_EINVAL/VL_EFORMAT naming file and line. */
VL_API int vl_config_load_file(struct vl_config *cfg, const char *path, struct vl_error *err);

/* Load INI text (origin names it in errors). */
VL_API int vl_config_load_string(struct vl_config *cfg, const char *text, const char *origin,
				 struct vl_error *err);

/* Load a built-in preset, kind "os" or "machines", by name.  Returns 0 or
 * VL_ENOENT listing the preset names. */
VL_API int vl_config_load_preset(struct vl_config *cfg, const char *kind, const char *name,
				 struct vl_error *err);

/* Names of built-in presets of a kind, ", "-separated, in a static buffer. */
VL_API const char *vl_config_presets(const char *kind);

/* Typed getters.  Keys must be declared; an undeclared key or one whose
 * value is unset returns the fallback.  Sizes are returned in bytes. */
VL_API uint64_t vl_config_u64(const struct vl_config *cfg, const char *key);
VL_API bool vl_config_bool(const struct vl_config *cfg, const char *key);
VL_API double vl_config_double(const struct vl_config *cfg, const char *key);
/* String value, "" when unset; valid until the key is set again. */
VL_API const char *vl_config_str(const struct vl_config *cfg, const char *key);
/* Whether the key holds a value (not unset). */
VL_API bool vl_config_isset(const struct vl_config *cfg, const char *key);
/* Where the key's value came from ("FILE line N", "-s", a preset's
 * "configs/KIND/NAME.ini line N"); NULL when it holds no value (its
 * default).  Valid until the key is set again. */
VL_API const char *vl_config_origin(const struct vl_config *cfg, const char *key);

/* The i-th key that a layer set (in the order first set), NULL past the
 * end; how the engine finds the names of wildcard sections ("tlb.l1d"). */
VL_API const char *vl_config_value_key(const struct vl_config *cfg, size_t i);

/* Declare more keys (policy parameters).  Re-declaring an identical key is
 * a no-op.  Returns 0 or VL_ENOMEM / VL_EINVAL (a conflicting declaration). */
VL_API int vl_config_declare(struct vl_config *cfg, const struct vl_key_def *defs, size_t n,
			     struct vl_error *err);

/* The resolved configuration as INI text, every key with its value, keys
 * sorted within sections; what a result file records as its config.
 * Returns a malloc'd string or NULL when out of memory. */
VL_API char *vl_config_text(const struct vl_config *cfg);

/* Iterate declared keys in order: returns the i-th definition or NULL. */
VL_API const struct vl_key_def *vl_config_key(const struct vl_config *cfg, size_t i);

/* Parse helpers shared with the CLI and readers.  Return 0 or VL_EINVAL. */
VL_API int vl_parse_u64(const char *s, uint64_t *out);
VL_API int vl_parse_size(const char *s, uint64_t *out_bytes);
VL_API int vl_parse_bool(const char *s, bool *out);

#ifdef __cplusplus
}
#endif

#endif
