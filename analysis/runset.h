/* analysis/runset.h - the runs of a results file as one table: what
 * produced each run and what it measured (vmlab plot and vmlab report).
 *
 * Each run is a row; each column has a name and a role:
 *   RS_ID       identity, never a parameter: run_id, cell, cell_key
 *   RS_PARAM    what produced the run: kind, trace, every key of the
 *               run's resolved configuration (its `config` attribute) and a
 *               sweep's [vary] columns
 *   RS_ALIAS    /summary's copies of parameters (os, policy, frames, seed,
 *               stats_interval)
 *   RS_MEASURE  what the run measured: /summary's numbers and every
 *               counter of /runs/<id>/counters (TLB counters included)
 * Values are text exactly as a table prints them (integers without a
 * fraction); NULL where a run lacks the column.
 *
 * Grouping rule (docs/results.md "Selecting and grouping runs"): runs that
 * share the values of the named keys are one point of a figure, and they
 * may differ only in run.seed (replicates, aggregated); any other
 * parameter that differs inside a group is refused by rs_check, which
 * lists the parameters that vary.
 */
#ifndef VMLAB_ANALYSIS_RUNSET_H
#define VMLAB_ANALYSIS_RUNSET_H

#include <stdbool.h>
#include <stddef.h>

#include "vmlab/results.h"

enum rs_role { RS_ID, RS_PARAM, RS_ALIAS, RS_MEASURE };

struct rs_col {
	char *name;
	enum rs_role role;
	bool numeric;   /* every present value is a number */
	char **v;       /* nruns values; NULL where absent */
};

struct rs {
	struct vl_results *r;
	size_t nruns, ncols, cap;
	struct rs_col *cols;
	long *hash;     /* open addressing over cols by name, -1 empty */
	size_t hcap;
	bool *sel;      /* runs kept by rs_where */
	size_t nsummary; /* columns 0..nsummary-1 are /summary's, in its order */
};

/* Read /summary, every run's config attribute and counters.  Returns 0,
 * VL_ENOMEM or the reader's error. */
int rs_load(struct rs *s, struct vl_results *r, struct vl_error *err);
void rs_free(struct rs *s);

/* Column index of a key as a user names it: "policy", "os", "seed", "run",
 * "frames" (= memory.frames: memory in 4 KiB frames as the run used it),
 * "trace", any configuration key, /summary column or counter; -1 if none. */
long rs_find(const struct rs *s, const char *name);

/* Value of column c for run i, or "" when absent. */
const char *rs_val(const struct rs *s, size_t i, long c);

/* Keep only runs matching "KEY=V1,V2" (any value; a trace matches by
 * path, file name or file name without extension).  Several calls AND.
 * Returns 0, VL_EUSAGE naming an unknown key or a value no run has (with
 * the values there are). */
int rs_where(struct rs *s, const char *expr, struct vl_error *err);

/* Whether runs i and j belong to the same group given the named columns. */
bool rs_same(const struct rs *s, size_t i, size_t j, const long *named, size_t nnamed);

/* Check that the selected runs with ok[i] set, grouped by the named
 * columns, differ inside a group in no parameter but run.seed.  Returns 0,
 * or VL_EUSAGE with a message listing the parameters that vary ("trace
 * (2 values: a, b), memory.frames (3 values)") and what to do. */
int rs_check(const struct rs *s, const bool *ok, const long *named, size_t nnamed,
	     struct vl_error *err);

/* For each column, whether it is a parameter that varies among the
 * selected runs or whose value differs from the built-in default of
 * `vmlab config` in some selected run (out: ncols flags).  Returns 0 or
 * VL_ENOMEM. */
int rs_interesting(const struct rs *s, bool *out, struct vl_error *err);

/* Text for a value of column c in a legend or tick: memory in frames as
 * KiB/MiB/GiB, traces by file name without extension, others as stored. */
void rs_show(const struct rs *s, long c, const char *v, char *buf, size_t len);

/* Short name of a column for legend titles ("policy", "memory", "seed"). */
const char *rs_short(const struct rs *s, long c);

/* Statistics of n replicate values (n >= 1). */
struct rs_stat {
	size_t n;
	double mean, lo, hi;   /* lo/hi: 95% confidence interval of the mean (t) */
	double min, median, max;
};
void rs_stats(double *v, size_t n, struct rs_stat *st); /* sorts v */

/* Human size of a byte count: "64 KiB", "1.5 MiB". */
void rs_bytes(double bytes, char *buf, size_t len);

#endif
