/* core/memory.h - the host's memory and this process's use of it, for the
 * memory budget run.max_memory (docs/config.md).
 *
 * For the library's layers above core (sim, driver); not exported.
 */
#ifndef VMLAB_CORE_MEMORY_H
#define VMLAB_CORE_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "vmlab/config.h"
#include "vmlab/error.h"

/* Physical memory of the host in bytes (0 when unknown). */
uint64_t vl_host_memory(void);
/* This process's resident set in bytes, from /proc/self/statm (0 when
 * unknown). */
uint64_t vl_rss(void);
/* The budget: run.max_memory, or when it is 0 (the default) three
 * quarters of the host's memory; UINT64_MAX when neither is known. */
uint64_t vl_memory_budget(const struct vl_config *cfg);
/* 0 when the resident set plus more bytes fits the budget, else VL_ELIMIT
 * with err saying what (what: "page tables", ...) would need them, or
 * (more 0) that what uses too much; dflt: the budget is the default. */
int vl_memory_check(uint64_t budget, bool dflt, uint64_t more, const char *what,
		    struct vl_error *err);

#endif
