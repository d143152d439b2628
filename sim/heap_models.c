/* sim/heap_models.c - the heap models heap.model can name (sim/heap.h). */
#include <stddef.h>

#include "heap.h"

const struct vl_heap_model_ops *const vl_heap_models[] = {
	NULL,
};
