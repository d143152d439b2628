/* analysis/validate.h - measured against simulated: the pieces of
 * `vmlab validate` that are not process plumbing.
 *
 * A captured trace here is valgrind lackey output in which the workload
 * (bench/validate/roi.h) printed its mappings and region markers as
 * "**PID** vmlab V ..." lines.  vl_validate_convert keeps those events and
 * the data accesses that fall inside announced mappings, in order, as an
 * `addr` trace; vl_validate_simulate replays a trace and returns what the
 * model counted between ROI_BEGIN and ROI_END, in the units of the Linux
 * perf events it is compared with.
 */
#ifndef VMLAB_ANALYSIS_VALIDATE_H
#define VMLAB_ANALYSIS_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmlab/vmlab.h"

struct vl_convert_stats {
	uint64_t lines;        /* lines read */
	uint64_t accesses;     /* data accesses seen (L/S/M) */
	uint64_t kept;         /* of which inside announced mappings: written */
	uint64_t events;       /* vmlab V lines written */
	uint64_t rois;         /* ROI_BEGIN markers */
};

/* Convert lackey log in_path to an addr trace at out_path.  Returns 0,
 * VL_ENOENT / VL_EIO for files, or VL_EFORMAT naming the line of a marker
 * that does not parse or when the log holds no ROI_BEGIN/ROI_END pair. */
int vl_validate_convert(const char *in_path, const char *out_path, struct vl_convert_stats *st,
			struct vl_error *err);

/* What the model counted inside the regions of interest (summed over all
 * ROI_BEGIN..ROI_END pairs), as Linux's events count:
 *   page_faults  = faults + access_violations + faults_guard (PAGE-FAULTS
 *                  is counted at exception entry)
 *   minor_faults = faults_demand_zero + faults_soft + faults_cow
 *   major_faults = faults_hard */
#define VL_ROI_MAX_COUNTERS 256

struct vl_roi_sim {
	uint64_t page_faults, minor_faults, major_faults;
	uint64_t accesses;
	uint64_t rois;
	/* every counter of the engine (vl_engine_counter_list), ROI deltas:
	 * configuration-dependent ones (TLB levels) included */
	size_t ncounters;
	char names[VL_ROI_MAX_COUNTERS][48]; /* copied: the engine owns its names */
	uint64_t delta[VL_ROI_MAX_COUNTERS];
};

/* Sum of the ROI deltas of the counters whose name matches pattern (one
 * '*' wildcard at most).  Returns false when no counter matches. */
bool vl_roi_sim_sum(const struct vl_roi_sim *s, const char *pattern, uint64_t *out);

/* Replay trace_path (any format) on an engine built from cfg. Returns 0 or
 * a negative code (unbalanced ROI markers are VL_EFORMAT). */
int vl_validate_simulate(const struct vl_config *cfg, const char *trace_path,
			 struct vl_roi_sim *out, struct vl_error *err);

/* Relative error (sim - meas) / max(meas, 1): signed, so an
 * overestimate is positive; a count of 0 divides by 1. */
double vl_validate_rel_error(uint64_t measured, uint64_t simulated);

#endif
