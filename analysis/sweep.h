/* analysis/sweep.h - batch experiments: an experiment file expanded into
 * cells, each cell one run written to its own results file, merged into one.
 *
 * An experiment file (docs/sweeps.md) names traces (globs), a base
 * configuration (an OS preset, config files), fixed keys ([set]) and keys to
 * vary ([vary]: comma lists and ranges).  Its cartesian product - traces
 * outermost, then the [vary] keys in file order, the last varying fastest -
 * is the list of cells.
 *
 * A cell is keyed by XXH64 over its resolved configuration text
 * (vl_config_text) and the content hash of its trace, so a cell whose
 * inputs did not change keeps its key when the experiment file is edited,
 * and its finished results are reused.
 *
 * The output directory:
 *   DIR/plan             the expanded cells (written atomically); what
 *                        `vmlab sweep --cell I` and --collect read
 *   DIR/cells/KEY.h5     one results file per finished cell (run "cell"),
 *                        written through analysis/h5 (temporary + rename)
 *   DIR/cells/KEY.err    the error of a cell that failed (removed on success)
 *   DIR/all.h5           the merge, written only when every cell finished;
 *                        DIR/partial.h5 otherwise (and all.h5 removed)
 *
 * Library code: nothing here prints or exits.
 */
#ifndef VMLAB_ANALYSIS_SWEEP_H
#define VMLAB_ANALYSIS_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmlab/vmlab.h"

#define VL_SWEEP_KEY_LEN 17 /* 16 hex digits + NUL */

/* One assignment "key = value". */
struct vl_kv {
	char *key, *value;
};

/* One cell of a sweep. */
struct vl_sweep_cell {
	size_t index;
	char key[VL_SWEEP_KEY_LEN];    /* hash of config text + trace hash */
	char *trace;                   /* absolute path */
	char trace_hash[VL_SWEEP_KEY_LEN];
	struct vl_kv *vary;            /* this cell's value of each [vary] key */
};

/* An expanded experiment (a plan). */
struct vl_sweep {
	char *name;
	char *exp_path;                /* the experiment file, absolute ("" in a plan read back) */
	char *os;                      /* OS preset name or "" */
	char *machine;                 /* machine preset name or "" (then "generic" if it exists) */
	char *format;                  /* trace format, "auto" by default */
	char **configs;                /* base config files, absolute */
	size_t nconfigs;
	struct vl_kv *set;             /* [set], in file order */
	size_t nset;
	char **vary_keys;              /* [vary] keys, in file order */
	size_t nvary;
	struct vl_sweep_cell *cells;
	size_t ncells;
};

/* Parse and expand an experiment file: globs expanded, traces hashed, every
 * cell's configuration built and checked.  Errors name the file, the line
 * and what was expected (VL_EFORMAT, VL_EINVAL), or a trace that cannot be
 * read (VL_ENOENT, VL_EIO).  Returns 0 or a negative code. */
int vl_sweep_load(struct vl_sweep **out, const char *exp_path, struct vl_error *err);
void vl_sweep_free(struct vl_sweep *s);

/* Build cell i's configuration: defaults < machine preset < os preset <
 * config files < [set] < its [vary] values ([vary] keys "os" and "machine"
 * replace the presets).  *text (optional) gets vl_config_text (caller frees).
 * Returns 0 or a negative code. */
int vl_sweep_cell_config(const struct vl_sweep *s, size_t i, struct vl_config **cfg,
			 char **text, struct vl_error *err);

/* Write the plan to DIR/plan (creating DIR and DIR/cells); read it back. */
int vl_sweep_plan_write(const struct vl_sweep *s, const char *dir, struct vl_error *err);
int vl_sweep_plan_read(struct vl_sweep **out, const char *dir, struct vl_error *err);

/* Paths of a cell's files (malloc'd; caller frees). */
char *vl_sweep_cell_path(const char *dir, const struct vl_sweep_cell *c, const char *ext);

/* Whether cell i's results file exists and reads as complete. */
bool vl_sweep_cell_done(const struct vl_sweep *s, const char *dir, size_t i);

/* Run cell i and write DIR/cells/KEY.h5 (the same steps as `vmlab run -o`:
 * vl_h5_open, vl_h5_run_begin, vl_run_ex with the timeline observer,
 * vl_h5_run_end_engine, vl_h5_commit).  The configuration is rebuilt and
 * its hash checked against the plan's key (a base config file edited since
 * the plan was written is an error, not a silently different result).  On
 * failure the error is also stored in DIR/cells/KEY.err.  *tmp_path, when
 * not NULL, is set to the temporary results file while it is being written
 * (for a signal handler; a signal just before it is set or during the
 * commit can still leave a hidden temporary file, which the caller removes
 * when its workers are gone).  Returns 0 or a negative code. */
int vl_sweep_cell_run(const struct vl_sweep *s, const char *dir, size_t i,
		      const char *volatile *tmp_path, struct vl_error *err);

/* The stored error of cell i (malloc'd), or NULL when there is none. */
char *vl_sweep_cell_error(const struct vl_sweep *s, const char *dir, size_t i);

/* How a collect went. */
struct vl_sweep_status {
	size_t done, failed, missing;
	const char *written; /* "all.h5" or "partial.h5" (static) */
};

/* Merge the finished cells into DIR/all.h5 (every cell finished) or
 * DIR/partial.h5 (some did not; all.h5 is then removed, so no stale file
 * looks complete).  Each cell's run becomes /runs/cell-NNNN (its index);
 * /summary gets one row per finished cell with columns cell, cell_key and
 * one per [vary] key (numbers when all its values are numbers); /sweep
 * holds the experiment's name, the plan and the missing cells.  Written
 * atomically.  Returns 0 (also when cells are missing: see st) or a code. */
int vl_sweep_collect(const struct vl_sweep *s, const char *dir, struct vl_sweep_status *st,
		     struct vl_error *err);

#endif
