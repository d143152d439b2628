/* vmlab/results.h - results in HDF5 (analysis/): the writer and the reader.
 *
 * One file holds any number of runs (docs/results.md is the schema):
 *
 *   /                  attrs format, format_version, vmlab_version, created,
 *                      modified, host, status ("writing" | "complete")
 *   /runs/<id>/        attrs kind, trace_path, trace_format, trace_hash,
 *                      trace_hash_algorithm, config, seed, wall_seconds, ...
 *   /runs/<id>/counters   one compound row, a uint64 field per counter
 *   /runs/<id>/timeline   one compound row per stats.interval accesses
 *   /runs/<id>/processes  one compound row per process
 *   /runs/<id>/mrc        memory size -> misses, miss ratio (vmlab mrc)
 *   /summary              one compound row per run
 *   /validation/<name>    measured vs simulated (written by validation)
 *
 * Writing is all-or-nothing: vl_h5_open works on a temporary file beside
 * the target (a copy of it when appending), marked status "writing" on
 * disk at once; vl_h5_commit marks it "complete", closes, fsyncs and
 * renames it over the target.  A process killed before that leaves the
 * target as it was and at most a hidden ".NAME.tmp-XXXXXX" file that reads
 * as "writing".  Readers refuse files whose status is not "complete".
 *
 * HDF5's automatic error printing is off; its failures come back as
 * VL_EIO / VL_EFORMAT with the file, the operation and HDF5's innermost
 * message.
 */
#ifndef VMLAB_RESULTS_H
#define VMLAB_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmlab/api.h"
#include "vmlab/engine.h"
#include "vmlab/error.h"
#include "vmlab/run.h"
#include "vmlab/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VL_RESULTS_FORMAT "vmlab-results"
#define VL_RESULTS_VERSION 1
#define VL_RUN_ID_MAX 64

/* ---- writing ---- */

struct vl_h5;
struct vl_h5_run;

/* Start writing results to path: a new file, or (when path exists and is a
 * complete vmlab results file) a copy of it to append runs to.  Returns 0,
 * VL_EFORMAT (path is not a complete results file), VL_EIO. */
VL_API int vl_h5_open(struct vl_h5 **out, const char *path, struct vl_error *err);

/* The temporary file being written (for a signal handler to unlink). */
VL_API const char *vl_h5_temp_path(const struct vl_h5 *h);

/* Mark complete, close, fsync and rename over the target; frees h (also on
 * failure, after removing the temporary file).  Returns 0 or VL_EIO. */
VL_API int vl_h5_commit(struct vl_h5 *h, struct vl_error *err);

/* Close and remove the temporary file; the target is untouched.  NULL ok. */
VL_API void vl_h5_abort(struct vl_h5 *h);

/* Check that id may name a new run (letters, digits, . _ -; not taken).
 * NULL or "" picks the next free "run-NNNN" into out (VL_RUN_ID_MAX bytes).
 * Returns 0 or VL_EINVAL naming the problem. */
VL_API int vl_h5_run_id(struct vl_h5 *h, const char *id, char *out, struct vl_error *err);

/* Start run id (checked with vl_h5_run_id) of kind "run" or "mrc".
 * With e non-NULL and stats.interval set, a timeline table is created for
 * vl_h5_timeline_row.  Returns 0, VL_EINVAL (id taken), VL_EIO. */
VL_API int vl_h5_run_begin(struct vl_h5 *h, const char *id, const char *kind, struct vl_engine *e,
			   struct vl_h5_run **out, struct vl_error *err);

/* Append one timeline row: the counters since the previous row and the
 * gauges now.  Has the shape of vl_interval_fn (ctx is the run). */
VL_API int vl_h5_timeline_row(void *run, struct vl_engine *e, uint64_t accesses_done,
			      struct vl_error *err);

/* What produced a run.  Set size first (see "Structs that grow" in
 * docs/design.md): struct vl_h5_provenance pv = { .size = sizeof pv, ... };
 * a field beyond size reads as zero. */
struct vl_h5_provenance {
	size_t size;             /* sizeof(struct vl_h5_provenance) as the caller knows it */
	const char *trace_path;  /* as given */
	const char *trace_format;
	const char *config_text; /* vl_config_text */
	const char *os, *policy; /* for /summary */
	uint64_t frames, seed;
	double wall_seconds;
	const struct vl_run_stats *stats; /* engine runs: records and timings; may be NULL */
};

/* Finish an engine run: attributes, counters, processes, timeline rest,
 * and a /summary row.  Returns 0, VL_EINVAL (pv->size not set) or VL_EIO.
 * Frees run either way. */
VL_API int vl_h5_run_end_engine(struct vl_h5_run *run, struct vl_engine *e,
				const struct vl_h5_provenance *pv, struct vl_error *err);

/* vl_h5_run_end_engine with the provenance every trace replay records
 * (analysis/h5run.c): the engine's resolved configuration text, OS
 * personality, policy, memory in frames and seed, the trace's path as given
 * and its format.  Used by `vmlab run -o` and by sweep cells alike.  Frees
 * run either way.  Returns 0, VL_ENOMEM or VL_EIO. */
VL_API int vl_h5_run_end_trace(struct vl_h5_run *run, struct vl_engine *e, const struct vl_trace *t,
			       const char *trace_path, const struct vl_run_stats *st,
			       struct vl_error *err);

/* One point of a miss-ratio curve (arrays of them cross the API: the
 * layout is fixed for the soname). */
struct vl_mrc_point {
	uint64_t frames;
	uint64_t misses;
	double miss_ratio;
};

/* Finish an MRC run: attributes, /runs/<id>/mrc (method "exact", "shards"
 * or "engine"; sample_rate 1 unless shards) and a /summary row.  Frees run
 * either way.  Returns 0, VL_EINVAL (pv->size not set) or VL_EIO. */
VL_API int vl_h5_run_end_mrc(struct vl_h5_run *run, const struct vl_h5_provenance *pv,
			     const char *method, double sample_rate, uint64_t accesses,
			     const struct vl_mrc_point *pts, size_t n, struct vl_error *err);

/* Free a run without finishing it (the file is then aborted anyway). */
VL_API void vl_h5_run_free(struct vl_h5_run *run);

/* One row of /validation/<name>: measured against simulated for an event
 * (docs/results.md).  NaN marks a side that is missing; why says why.
 * Passed as an array: the layout is fixed for the soname. */
struct vl_h5_validation_row {
	const char *event;
	double simulated, measured, rel_error;
	const char *why; /* "" or NULL when nothing is missing */
};

/* Write /validation/<name> (replacing a dataset of that name) with n rows
 * and the attributes workload (what it does), run_id (""), host, created.
 * Returns 0, VL_EINVAL (name not letters, digits, . _ -), VL_EIO. */
VL_API int vl_h5_validation(struct vl_h5 *h, const char *name, const char *workload,
			    const struct vl_h5_validation_row *rows, size_t n,
			    struct vl_error *err);

/* ---- reading ---- */

struct vl_results;

/* Open a complete results file read-only.  Returns 0, VL_ENOENT,
 * VL_EFORMAT (not HDF5, not a vmlab results file, or not complete). */
VL_API int vl_results_open(struct vl_results **out, const char *path, struct vl_error *err);
VL_API void vl_results_close(struct vl_results *r);

/* One /summary row (an array of them crosses the API: the layout is fixed
 * for the soname). */
struct vl_summary_row {
	char run_id[VL_RUN_ID_MAX];
	char kind[8];
	char trace[256];
	char os[16];
	char policy[32];
	uint64_t frames;
	uint64_t seed;
	uint64_t stats_interval;
	uint64_t accesses, faults, faults_demand_zero, faults_soft, faults_hard;
	uint64_t evictions, writebacks;
	double fault_ratio;
	double wall_seconds;
};

/* All /summary rows (malloc'd array, caller frees).  Returns 0 or a code. */
VL_API int vl_results_summary(struct vl_results *r, struct vl_summary_row **rows, size_t *n,
			      struct vl_error *err);

/* A table of named columns read from a dataset: numeric fields converted
 * to double in v (exact for integers below 2^53), string fields in strs (v
 * is NaN there, strs NULL for numbers); rows * ncols cells, row-major.
 * Attributes of the dataset as text in attrs_k/attrs_v.  The caller
 * allocates it and sets size: struct vl_table t = { .size = sizeof t }. */
struct vl_table {
	size_t size;             /* sizeof(struct vl_table) as the caller knows it */
	size_t nrows, ncols;
	char **names;
	double *v;
	char **strs;
	char **attrs_k, **attrs_v;
	size_t nattrs;
};
VL_API void vl_table_free(struct vl_table *t);
/* Index of a column by name, or -1. */
VL_API long vl_table_col(const struct vl_table *t, const char *name);
/* Value of a dataset attribute as text, or NULL. */
VL_API const char *vl_table_attr(const struct vl_table *t, const char *name);

/* Read dataset path (e.g. "/runs/run-0001/counters") as a table into out
 * (out->size set; the rest is overwritten).  Returns 0, VL_EINVAL (size not
 * set), VL_ENOENT (no such dataset) or VL_EFORMAT. */
VL_API int vl_results_table(struct vl_results *r, const char *dset, struct vl_table *out,
			    struct vl_error *err);

/* A string attribute of a group or dataset into a malloc'd string
 * (caller frees).  Returns 0, VL_ENOENT or VL_EFORMAT. */
VL_API int vl_results_attr(struct vl_results *r, const char *obj, const char *name, char **out,
			   struct vl_error *err);

/* Names of the members of a group (malloc'd array of malloc'd strings;
 * vl_results_names_free frees).  A missing group gives VL_ENOENT. */
VL_API int vl_results_names(struct vl_results *r, const char *group, char ***names, size_t *n,
			    struct vl_error *err);
VL_API void vl_results_names_free(char **names, size_t n);

VL_API const char *vl_results_path(const struct vl_results *r);

/* XXH64 (seed 0) of a file's bytes as stored on disk.  A regular file
 * this process hashed before and that is unchanged since (same device,
 * inode, size, modification and change times) is not read again.  Thread
 * safe.  Returns 0, VL_ENOENT or VL_EIO. */
VL_API int vl_hash_file(const char *path, uint64_t *out, struct vl_error *err);

#ifdef __cplusplus
}
#endif

#endif
