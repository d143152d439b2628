/* sim/heap_models.c - the heap models heap.model can name (sim/heap.h). */
#include <stddef.h>

#include "heap.h"

#include "heap_util.h"

const struct vl_heap_model_ops *const vl_heap_models[] = {
	&vl_heap_nt,
	&vl_heap_segment,
	&vl_heap_glibc,
	NULL,
};
