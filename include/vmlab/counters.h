/* vmlab/counters.h - the named counters every run reports.
 *
 * One X-macro list defines the struct fields, the names printed in --json
 * and stored in results, and their help text; adding a counter is one line.
 * Counts of pages are in 4 KiB base pages.
 */
#ifndef VMLAB_COUNTERS_H
#define VMLAB_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "vmlab/api.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VL_COUNTERS(X)                                                                 \
	X(accesses, "memory accesses replayed (one per page touched)")                 \
	X(reads, "data loads")                                                         \
	X(writes, "data stores, including read-modify-write accesses")                 \
	X(ifetches, "instruction fetches")                                             \
	X(modifies, "read-modify-write accesses (lackey M), also counted in writes")   \
	X(faults, "page faults of every kind")                                         \
	X(faults_demand_zero, "first touch of a page: a zero-filled frame was mapped") \
	X(faults_soft, "page found in memory (standby/modified/shared/swap cache): no I/O") \
	X(faults_hard, "page read back from the page file or a mapped file")           \
	X(access_violations, "accesses the model refused (non-canonical, protection)") \
	X(evictions, "resident pages removed to free a frame")                         \
	X(writebacks, "dirty pages written back when evicted")                         \
	X(pagefile_reads, "pages read from the page file")                             \
	X(pagefile_writes, "pages written to the page file")                           \
	X(processes, "distinct processes seen in the trace")                           \
	X(events, "non-access trace events processed")                                 \
	X(resident_peak, "largest number of resident pages at any time")               \
	X(pt_nodes, "page-table nodes allocated (4 KiB each, all levels)")             \
	X(pt_pages, "page-table pages held in physical frames now (not textbook)")    \
	X(faults_cow, "copy-on-write faults: a private copy was made")                 \
	X(faults_guard, "guard-page exceptions (one-shot; the access is then retried)") \
	X(commit_failures, "commits refused: charge would pass the commit limit")     \
	X(commit_peak, "largest commit charge, pages")                                 \
	X(commit_charge, "commit charge at the end, pages")                            \
	X(ws_trims, "working-set trims (one per working set per trim pass)")           \
	X(pages_trimmed, "pages removed from working sets")                            \
	X(standby_repurposed, "standby pages reused for another page")                 \
	X(modified_written, "modified pages written by the modified page writer")      \
	X(zeroed_pages, "frames zeroed (zero-page thread or on demand)")               \
	X(file_reads, "pages read from mapped files")                                  \
	X(file_writes, "dirty mapped-file pages written back to their files")          \
	X(event_failures, "address-space events refused (overlap, bad range or base)") \
	X(accesses_skipped, "accesses of processes stopped by --on-av=stop-process")   \
	X(walks, "page walks that completed a translation (TLB misses at every level)") \
	X(walk_refs, "memory references made by walks after page-walk-cache hits")      \
	X(psc_hits, "walks that started below the root thanks to a page-walk cache")    \
	X(dirty_updates, "stores through a TLB entry whose page was not yet dirty")     \
	X(tlb_flushes, "TLB flushes at context switches (none with tlb.pcid = on)")     \
	X(large_pages_mapped, "2 MiB and 1 GiB pages mapped (at fault, promotion, THP fault)") \
	X(large_page_promotions, "4 KiB ranges collapsed or promoted into a 2 MiB page") \
	X(large_page_splits, "large pages split (part of one evicted, protected, freed)") \
	X(large_page_fallbacks, "large-page attempts that got 4 KiB pages (no free block)") \
	X(large_page_copies, "4 KiB pages copied by large-page collapses")              \
	X(reservations_broken, "2 MiB reservations broken to free frames")              \
	X(est_cycles, "estimated cycles spent in translation and faults (cost.* keys)") \
	X(heap_allocs, "heap blocks allocated (H ALLOC, and H REALLOC of no live block)") \
	X(heap_frees, "heap blocks freed (H FREE of a live block)")                     \
	X(heap_bytes_peak, "most requested bytes live in heap blocks at once")          \
	X(heap_committed_peak, "most pages the heap held committed at once (docs/heap.md)") \
	X(heap_decommits, "decommits (or program-break shrinks) by the heap model")    \
	X(heap_releases, "reservations released by the heap model")                    \
	X(heap_errors, "heap events that do not add up: free or realloc of no live block, overlap")

struct vl_counters {
#define VL_X_FIELD(name, help) uint64_t name;
	VL_COUNTERS(VL_X_FIELD)
#undef VL_X_FIELD
};

/* Number of fixed counters, their names and help, in declaration order. */
VL_API size_t vl_counter_count(void);
VL_API const char *vl_counter_name(size_t i);
VL_API const char *vl_counter_help(size_t i);
/* Value of the i-th fixed counter. */
VL_API uint64_t vl_counter_get(const struct vl_counters *c, size_t i);

#ifdef __cplusplus
}
#endif

#endif
