/* vmlab/mrc.h - LRU miss-ratio curves in one pass (stack distances;
 * analysis/).
 *
 * Mattson et al. (1970): LRU has the inclusion property, so one pass that
 * measures each access's stack distance (the number of distinct pages
 * touched since the last access to the same page, plus one) gives the miss
 * count of every memory size at once: an access misses with C frames iff
 * its distance is greater than C, or it is the page's first access.  Pages
 * are (pid, vpn) pairs in one global pool, as in the textbook personality,
 * so misses at C frames equal the faults of `vmlab run --os textbook` with
 * replacement.policy=lru and memory.frames=C.  Accesses the engine refuses
 * (non-canonical addresses) are skipped, as the engine does; address-space
 * events are skipped too, so a trace with events, whose accesses the engine
 * may refuse as violations, matches only where none is refused (vmlab mrc
 * --engine replays such traces through the engine instead).
 *
 * With a sample rate R < 1 the curve is estimated by SHARDS (Waldspurger et
 * al., FAST 2015): only pages with hash(page) mod P < R*P are tracked, and
 * a sampled distance d stands for d / R; the miss ratio is estimated from
 * the sampled misses by one of enum vl_mrc_estimator (the default tracks
 * the most frequent pages exactly beside the sample; analysis/mrc.c
 * explains them).
 */
#ifndef VMLAB_MRC_H
#define VMLAB_MRC_H

#include <stddef.h>
#include <stdint.h>

#include "vmlab/api.h"
#include "vmlab/error.h"
#include "vmlab/results.h"
#include "vmlab/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vl_mrc;

/* How a sampled curve (rate < 1) is estimated from the sample. */
enum vl_mrc_estimator {
	/* SHARDS_adj with the missing references (expected
	 * rate * accesses minus sampled) split between hits and misses
	 * (analysis/mrc.c, split_weight: the hottest sampled pages' miss
	 * ratio for an excess, Che's approximation for a shortfall); needs
	 * the sizes at vl_mrc_new, else it is VL_MRC_SHARDS_ADJ */
	VL_MRC_SHARDS_SPLIT = 0,
	/* SHARDS_adj (Waldspurger et al., FAST'15): the missing references
	 * count as hits (distance 0): sampled misses / (rate * accesses) */
	VL_MRC_SHARDS_ADJ = 1,
	/* fixed-rate SHARDS: sampled misses / sampled references */
	VL_MRC_SHARDS_FIXED = 2,
	/* SHARDS with an exact hot set: pages a space-saving counter finds
	 * frequent are tracked exactly from then on, whatever their hash,
	 * and the sample stands only for the others (analysis/mrc.c).  The
	 * default of a sampled builder with sizes; choosing another
	 * estimator before the first access skips the hot set's work */
	VL_MRC_SHARDS_HOT = 3,
};

/* New curve builder.  sample_rate in (0, 1]; 1 is exact.  frames: the n
 * sizes (increasing) the curve will be asked for; it then keeps one counter
 * per size instead of a histogram of every distance (much faster on large
 * footprints).  frames NULL: any size may be asked for.  Returns 0,
 * VL_EINVAL (rate out of range, sizes not increasing) or VL_ENOMEM. */
VL_API int vl_mrc_new(struct vl_mrc **out, double sample_rate, const uint64_t *frames, size_t n,
		      struct vl_error *err);
VL_API void vl_mrc_free(struct vl_mrc *m);

/* Choose the estimator of a sampled curve (any time before vl_mrc_result;
 * no effect on an exact one).  A sampled builder with sizes starts with
 * VL_MRC_SHARDS_HOT and keeps the hot set, from which every estimator can
 * be read; choosing another one before the first vl_mrc_feed skips the hot
 * set (faster; VL_MRC_SHARDS_HOT then gives VL_MRC_SHARDS_SPLIT's curve). */
VL_API void vl_mrc_set_estimator(struct vl_mrc *m, enum vl_mrc_estimator e);

/* Account a batch of records.  Returns 0 or VL_ENOMEM. */
VL_API int vl_mrc_feed(struct vl_mrc *m, const struct vl_batch *b, struct vl_error *err);

/* Accesses seen (canonical ones, all of them, sampled or not) and sampled. */
VL_API uint64_t vl_mrc_accesses(const struct vl_mrc *m);
VL_API uint64_t vl_mrc_sampled(const struct vl_mrc *m);
/* Distinct pages tracked (all of them when exact; with a hot set, the
 * sampled ones and the hot ones the hash does not keep). */
VL_API uint64_t vl_mrc_pages(const struct vl_mrc *m);
/* Pages that joined the hot set (VL_MRC_SHARDS_HOT); 0 without one. */
VL_API uint64_t vl_mrc_hot_pages(const struct vl_mrc *m);
/* Address-space events seen (and ignored): with events the engine checks
 * accesses against VADs and may refuse some, which the curve cannot know.
 * Process exits and region-of-interest markers are not counted (they make
 * the engine refuse nothing). */
VL_API uint64_t vl_mrc_events(const struct vl_mrc *m);

/* Misses and miss ratio at each of n sizes (frames[i] >= 1).  Exact mode:
 * misses are exact.  Sampled: estimates, misses = round(ratio * accesses).
 * Returns 0, or VL_EINVAL for a size the builder was not created for. */
VL_API int vl_mrc_result(const struct vl_mrc *m, const uint64_t *frames, size_t n,
			 struct vl_mrc_point *out, struct vl_error *err);

/* Parse a size list: "50,300,64M" (plain numbers are frames, numbers with a
 * K/M/G/T unit are bytes, rounded down to whole 4 KiB frames) or a range
 * "LO:HI" of `points` log-spaced sizes.  Sorted, duplicates removed.
 * *frames is malloc'd.  Returns 0 or VL_EINVAL naming the bad item. */
VL_API int vl_mrc_parse_sizes(const char *text, unsigned points, uint64_t **frames, size_t *n,
			      struct vl_error *err);

#ifdef __cplusplus
}
#endif

#endif
