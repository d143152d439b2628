/* analysis/validate_programs.h - validation of unmodified programs: the
 * pieces of `vmlab validate -- PROGRAM` (without roi.h) and
 * `vmlab validate --programs` that are not process plumbing.
 *
 * A whole program is measured natively from its exec to its exit, children
 * included (perf software events, as `perf stat` counts them), captured with
 * the qemu back end (every process, its address space, the kernel's copies
 * into its buffers), and replayed whole under the linux personality:
 * vl_validate_replay returns the model's counts per process and in total, in
 * the units of Linux's events (docs/validation.md, "Unmodified programs").
 */
#ifndef VMLAB_ANALYSIS_VALIDATE_PROGRAMS_H
#define VMLAB_ANALYSIS_VALIDATE_PROGRAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmlab/vmlab.h"

#define VL_PROG_MAX_PROCS 64

struct vl_prog_proc {
	uint32_t pid;
	char name[64];                       /* from the trace's process table */
	uint64_t page_faults, minor_faults, major_faults;
};

struct vl_prog_sim {
	uint64_t page_faults, minor_faults, major_faults; /* all processes */
	uint64_t accesses, file_reads;
	uint64_t rois;                       /* regions counted (VL_REPLAY_ROI) */
	size_t nprocs;                       /* processes (images) replayed */
	struct vl_prog_proc procs[VL_PROG_MAX_PROCS]; /* the first VL_PROG_MAX_PROCS */
};

/* Replay trace_path whole on an engine built from cfg, once per phase of
 * the fault-around window (file.fault_around_phase = 0 .. file.fault_around
 * - 1, at most 16: ASLR's random placement, docs/validation.md), giving
 * each count's mean over the phases, rounded.  The counts follow
 * vl_roi_sim's rules: page_faults = faults + access_violations +
 * faults_guard; minor = demand-zero + soft + copy-on-write; major = hard.
 * With VL_REPLAY_ROI in flags the totals are what was counted between
 * each ROI_BEGIN and ROI_END marker (summed; every process replayed, so a
 * child forked inside a region is counted in it, as roi.h's inherited
 * counters count it natively); the trace must then hold at least one
 * balanced pair (VL_EFORMAT otherwise).  The per-process counts are always
 * over the whole replay.  Where cfg sets memory.limit (validate --limit)
 * every phase replays every access in that limit (pages are evicted and
 * fault again); otherwise the phases run without repeated accesses in
 * 1 GiB, and one that evicts is an error.  Returns 0 or a negative code. */
#define VL_REPLAY_ROI 1u
/* Replay once, at phase 0 (file.fault_around_phase as cfg sets it): for
 * long traces whose fault-around phase moves a few faults among
 * thousands. */
#define VL_REPLAY_ONE_PHASE 2u

int vl_validate_replay(const struct vl_config *cfg, const char *trace_path, unsigned flags,
		       struct vl_prog_sim *out, struct vl_error *err);

/* Whether the executable at path was built with bench/validate/roi.h (it
 * names VMLAB_ROI_EVENTS): such a program is validated over its region of
 * interest, any other whole. */
bool vl_program_has_roi(const char *path);

/* The files of a captured trace's file table (header lines
 * file.ID=DEV:INODE SIZE PATH): calls fn for each (id, path).  Returns the
 * number of files, or a negative code. */
int vl_trace_files(const char *trace_path,
		   void (*fn)(unsigned long long id, const char *path, void *arg), void *arg,
		   struct vl_error *err);

/* The processes of a captured trace (its header's process.PID lines), or a
 * negative code. */
int vl_trace_nprocs(const char *trace_path, struct vl_error *err);

/* Which pages of the file at path the page cache holds now (mincore(2)),
 * as a pagecache.resident line for file id: "ID PAGES\n" (docs/config.md).
 * Returns 0, or -1 when the file cannot be read (nothing written). */
int vl_pagecache_line(FILE *out, unsigned long long id, const char *path);

/* The read-ahead of the block device holding path, in pages
 * (/sys/dev/block/MAJ:MIN[/..]/queue/read_ahead_kb / 4), or 0 when unknown. */
unsigned vl_readahead_pages(const char *path);

/* The programs of `vmlab validate --programs`: unmodified Debian programs
 * and the inputs they work on, made by setup (a sh script run in an empty
 * directory, which becomes the program's working directory). */
struct vl_program {
	const char *name;      /* row name */
	const char *desc;      /* what it does */
	const char *need;      /* the programs it needs ("sqlite3"): skipped without them */
	const char *setup;     /* sh script that makes the inputs */
	const char *argv[8];   /* the command (argv[0] searched in /usr/bin, then PATH) */
};

extern const struct vl_program vl_programs[];
extern const size_t vl_nprograms;

#endif
