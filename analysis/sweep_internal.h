/* analysis/sweep_internal.h - what the analysis/sweep_*.c files share (the
 * file map is in analysis/sweep.h).  Not part of any public API; unit tests
 * include it to reach the seams between the files.
 */
#ifndef VMLAB_ANALYSIS_SWEEP_INTERNAL_H
#define VMLAB_ANALYSIS_SWEEP_INTERNAL_H

#include "analysis/sweep.h"
#include "analysis/util.h"

#define SWEEP_MAX_CELLS 100000u  /* cells of one experiment at most */
#define SWEEP_MAX_VALUES 10000u  /* values of one range at most */

/* sweep_exp.c */

/* Expand a [vary] value list: comma-separated items, each a value or a
 * range "A..B", "A..B step S" or "A..B *F" (ends and steps may carry
 * binary suffixes: 4K, 2M; both ends included when the steps land on B).
 * Appends the values to out in order, ranges as decimal numbers.  origin
 * starts every error ("FILE line N: KEY").  Returns 0, VL_EFORMAT or
 * VL_ENOMEM (out then holds the values expanded before the error). */
int sweep_values(const char *text, struct au_strv *out, const char *origin,
		 struct vl_error *err);

/* Whether a [vary] key picks a preset ("os", "machine") rather than
 * setting a configuration key. */
bool sweep_preset_key(const char *key);

/* The key of a cell: XXH64 over its configuration text, trace hash, trace
 * format, "vmlab version/results format version" and, when the sweep loads
 * plug-ins, s->plugins_key, as 16 hex digits. */
void sweep_cell_key(const struct vl_sweep *s, const char *cfg_text, const char *trace_hash,
		    char out[VL_SWEEP_KEY_LEN]);

/* Load plug-in path (absolute), hash its file into p (path taken over on
 * success).  origin starts errors.  Returns 0 or a negative code. */
int sweep_plugin_load(struct vl_sweep_plugin *p, char *path, const char *origin,
		      struct vl_error *err);

/* Set s->plugins_key from the plug-ins' hashes ("" when there are none). */
void sweep_plugins_key(struct vl_sweep *s);

/* Free n key/value pairs and the array (NULL allowed). */
void sweep_kv_free(struct vl_kv *kv, size_t n);

/* sweep_plan.c */

/* The text of DIR/plan for s (malloc'd); NULL when out of memory. */
char *sweep_plan_text(const struct vl_sweep *s);

/* sweep_cell.c */

/* The cells to run, in index order (malloc'd, *ntodo of them): those not
 * complete in dir, and of several cells with one key only the first (they
 * share a results file).  *ndone (optional) gets the number of complete
 * cells.  NULL when out of memory. */
size_t *sweep_todo(const struct vl_sweep *s, const char *dir, size_t *ntodo, size_t *ndone);

#endif
