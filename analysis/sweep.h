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
 *   DIR/.lock            held by a local sweep while it runs
 *   DIR/slurm/           Slurm scripts, task list, job ids, logs
 *
 * One concern per file:
 *   analysis/sweep_exp.c      the experiment file and its expansion into
 *                             cells (reader, value lists and ranges, trace
 *                             globs, a cell's configuration and key)
 *   analysis/sweep_plan.c     DIR/plan: write and read back
 *   analysis/sweep_cell.c     one cell: its files, running it, its error;
 *                             which cells are still to run
 *   analysis/sweep_local.c    many cells in forked local workers
 *   analysis/sweep_slurm.c    many cells as a Slurm job array
 *   analysis/sweep_collect.c  the HDF5 merge
 * and analysis/sweep_internal.h for what they share.
 *
 * Library code: nothing here prints or exits; a local sweep reports its
 * progress through a callback.
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

/* A policy plug-in a sweep loads (--plugin, [experiment] plugins). */
struct vl_sweep_plugin {
	char *path;                    /* absolute */
	char hash[VL_SWEEP_KEY_LEN];   /* XXH64 of the file, 16 hex digits */
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
	struct vl_sweep_plugin *plugins; /* loaded before any configuration */
	size_t nplugins;
	char plugins_key[VL_SWEEP_KEY_LEN]; /* hash over their hashes; "" when none */
};

/* ---- the experiment file and its cells (analysis/sweep_exp.c) ---- */

/* Parse and expand an experiment file: globs expanded, traces hashed, every
 * cell's configuration built and checked.  Errors name the file, the line
 * and what was expected (VL_EFORMAT, VL_EINVAL), or a trace that cannot be
 * read (VL_ENOENT, VL_EIO).  Returns 0 or a negative code. */
int vl_sweep_load(struct vl_sweep **out, const char *exp_path, struct vl_error *err);
/* vl_sweep_load with policy plug-ins to load first (paths relative to the
 * working directory; `vmlab sweep --plugin`), before those the experiment
 * names ([experiment] plugins =, relative to its file).  Every plug-in is
 * loaded (vl_plugin_load) before a configuration is built, so its policies
 * can be [set] or varied like built-ins; the plan records them (path and
 * content hash) and a cell's key covers their hashes, so a rebuilt
 * plug-in re-runs the cells.  A plug-in that cannot be loaded is an error
 * naming it (and the experiment's line).  Returns 0 or a negative code. */
int vl_sweep_load_with(struct vl_sweep **out, const char *exp_path, const char *const *plugins,
		       size_t nplugins, struct vl_error *err);
/* Free s (a loaded experiment or a plan read back); NULL is allowed. */
void vl_sweep_free(struct vl_sweep *s);

/* Build cell i's configuration: defaults < machine preset < os preset <
 * config files < [set] < its [vary] values ([vary] keys "os" and "machine"
 * replace the presets).  *text (optional) gets vl_config_text (caller frees).
 * Returns 0 or a negative code. */
int vl_sweep_cell_config(const struct vl_sweep *s, size_t i, struct vl_config **cfg,
			 char **text, struct vl_error *err);

/* ---- the plan (analysis/sweep_plan.c) ---- */

/* Write the plan to DIR/plan atomically (creating DIR and DIR/cells);
 * read it back, checking its syntax (VL_EFORMAT naming the line) but not
 * that it still matches its experiment; reading loads the plan's plug-ins
 * and checks that their files still have the recorded hashes (VL_ESTATE
 * otherwise).  Return 0 or a negative code. */
int vl_sweep_plan_write(const struct vl_sweep *s, const char *dir, struct vl_error *err);
int vl_sweep_plan_read(struct vl_sweep **out, const char *dir, struct vl_error *err);

/* ---- one cell (analysis/sweep_cell.c) ---- */

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

/* vl_sweep_cell_run for a process whose job is running cells (a local
 * worker, a Slurm array task): while it runs, SIGINT, SIGTERM and SIGHUP
 * remove the temporary results file and then kill the process with the
 * same signal; the previous handlers are restored afterwards.  Returns 0
 * or a negative code (the error is also in DIR/cells/KEY.err). */
int vl_sweep_cell_run_guarded(const struct vl_sweep *s, const char *dir, size_t i,
			      struct vl_error *err);

/* One decode, many configurations: the cells cells[0..n), which must all
 * use one trace, replayed together (vl_run_multi: the trace is decoded
 * once, every cell's engine fed from the same batches on up to `threads`
 * threads), each written to its own results file exactly as
 * vl_sweep_cell_run would write it, bit-identical counters; a failed cell
 * has its DIR/cells/KEY.err and does not stop the others.  Returns 0 when
 * every cell succeeded, else the first failure's code. */
int vl_sweep_cells_run(const struct vl_sweep *s, const char *dir, const size_t *cells, size_t n,
		       unsigned threads, struct vl_error *err);
/* vl_sweep_cells_run with the signal handling of vl_sweep_cell_run_guarded
 * (every cell's temporary file is removed). */
int vl_sweep_cells_run_guarded(const struct vl_sweep *s, const char *dir, const size_t *cells,
			       size_t n, unsigned threads, struct vl_error *err);

/* The stored error of cell i (malloc'd), or NULL when there is none. */
char *vl_sweep_cell_error(const struct vl_sweep *s, const char *dir, size_t i);

/* ---- the merge (analysis/sweep_collect.c) ---- */

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

/* ---- many cells on this machine (analysis/sweep_local.c) ---- */

/* What a local sweep reports while it runs. */
enum vl_sweep_event {
	VL_SWEEP_EV_START,       /* cells, done (complete before), todo, jobs */
	VL_SWEEP_EV_PROGRESS,    /* done, running, failed, eta_s: at most once a
				  * second, after every failed cell, and when the
				  * last cell ends */
	VL_SWEEP_EV_CELL_FAILED, /* cell, msg: the error its worker stored */
	VL_SWEEP_EV_CELL_KILLED, /* cell, sig: its worker died of a signal the
				  * sweep did not send */
	VL_SWEEP_EV_NO_WORKER,   /* cell, errnum: fork failed; the cell counts
				  * as failed */
};

struct vl_sweep_progress {
	enum vl_sweep_event event;
	size_t cells;    /* in the sweep */
	size_t done;     /* complete: before the run plus finished since */
	size_t todo;     /* cells this run starts (START) */
	size_t running;  /* workers alive */
	size_t failed;   /* cells of this run that failed */
	long jobs;       /* worker processes at most */
	double eta_s;    /* PROGRESS: seconds left, estimated; < 0 unknown */
	size_t cell;     /* CELL_FAILED, CELL_KILLED, NO_WORKER */
	const char *msg; /* CELL_FAILED: valid during the call only */
	int sig;         /* CELL_KILLED */
	int errnum;      /* NO_WORKER */
};

/* Called in the sweep's own process, never in a worker. */
typedef void (*vl_sweep_progress_fn)(void *ctx, const struct vl_sweep_progress *p);

struct vl_sweep_local {
	long jobs;                     /* worker processes, >= 1 */
	vl_sweep_progress_fn progress; /* may be NULL */
	void *ctx;                     /* passed to progress */
};

/* How a local sweep ended. */
struct vl_sweep_local_result {
	int signal;                 /* SIGINT, SIGTERM or SIGHUP that stopped it, or 0 */
	size_t complete;            /* cells complete when it stopped (signal != 0) */
	struct vl_sweep_status st;  /* the merge (signal == 0) */
	double seconds;             /* from the first worker to the end of the merge */
};

/* Run the cells of s (whose plan is in dir) that are not complete, one
 * forked worker process per cell (vl_sweep_cell_run_guarded), at most
 * o->jobs at once; cells sharing a key run once.  Workers die with the
 * calling process (PR_SET_PDEATHSIG).  Holds a lock on DIR/.lock
 * throughout (a second sweep on dir is refused with VL_EIO) and removes
 * the temporary files a killed sweep left in DIR and DIR/cells.  A failed
 * cell does not stop the others.  Then merges (vl_sweep_collect) into
 * r->st.
 *
 * SIGINT, SIGTERM and SIGHUP are caught meanwhile: the workers get
 * SIGTERM (they remove their temporary files), the run waits for them,
 * removes leftovers and returns 0 with r->signal set and nothing merged;
 * the caller decides whether to die of the signal.  The previous handlers
 * are restored before returning.  Returns 0 (r filled; cells may have
 * failed: see r->st) or a negative code. */
int vl_sweep_run_local(const struct vl_sweep *s, const char *dir, const struct vl_sweep_local *o,
		       struct vl_sweep_local_result *r, struct vl_error *err);

/* ---- many cells on Slurm (analysis/sweep_slurm.c) ---- */

struct vl_sweep_slurm {
	const char *partition;   /* #SBATCH --partition, or NULL */
	const char *time;        /* #SBATCH --time per array task, or NULL */
	long max_parallel;       /* array tasks at once (--array=...%K); 0: no limit */
	long cells_per_task;     /* cells each array task runs, >= 1 */
	const char *vmlab;       /* binary the scripts run (absolute); NULL: this process's */
};

/* A written (and perhaps submitted) Slurm sweep. */
struct vl_sweep_slurm_job {
	char dir[4096];          /* DIR, absolute: what the scripts name */
	size_t todo;             /* cells to run; 0: nothing written */
	size_t tasks;            /* array tasks */
	char script[4096 + 64];  /* DIR/slurm/sweep.sbatch */
	char collect[4096 + 64]; /* DIR/slurm/collect.sbatch */
	char array_id[64];       /* job ids, after vl_sweep_slurm_submit */
	char collect_id[64];
};

/* Whether s can stand in an #SBATCH line as one word (no blanks, quotes or
 * line breaks). */
bool vl_sweep_slurm_word_ok(const char *s);

/* For the cells of s not yet complete in dir (whose plan is written):
 * DIR/slurm/tasks (line t: the cells array task t runs),
 * DIR/slurm/sweep.sbatch (an --array job; each task runs
 * `VMLAB sweep -o DIR --cell C --plugin P...` for its cells) and
 * DIR/slurm/collect.sbatch (`VMLAB sweep --collect DIR --plugin P...`),
 * creating DIR/slurm/logs/.  With no cell to
 * run, j->todo is 0 and only the directories are made.  Returns 0 or a
 * negative code. */
int vl_sweep_slurm_write(const struct vl_sweep *s, const char *dir, const struct vl_sweep_slurm *o,
			 struct vl_sweep_slurm_job *j, struct vl_error *err);

/* Submit a written job: `sbatch --parsable` the array, then the collect
 * job with --dependency=afterany:ARRAY; fills the ids and stores them in
 * DIR/slurm/jobs.  Returns 0, or VL_EIO when sbatch cannot run or fails
 * (the message says whether the array was submitted). */
int vl_sweep_slurm_submit(struct vl_sweep_slurm_job *j, struct vl_error *err);

#endif
