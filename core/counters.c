/* core/counters.c - names, help and values of the fixed counters, from the
 * one X-macro list in vmlab/counters.h. */
#include <stddef.h>
#include <string.h>

#include "vmlab/counters.h"

static const char *const counter_names[] = {
#define X(name, help) #name,
	VL_COUNTERS(X)
#undef X
};

static const char *const counter_helps[] = {
#define X(name, help) help,
	VL_COUNTERS(X)
#undef X
};

static const size_t counter_offsets[] = {
#define X(name, help) offsetof(struct vl_counters, name),
	VL_COUNTERS(X)
#undef X
};

size_t vl_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}

const char *vl_counter_name(size_t i)
{
	return i < vl_counter_count() ? counter_names[i] : NULL;
}

const char *vl_counter_help(size_t i)
{
	return i < vl_counter_count() ? counter_helps[i] : NULL;
}

uint64_t vl_counter_get(const struct vl_counters *c, size_t i)
{
	uint64_t v = 0;
	if (i < vl_counter_count())
		memcpy(&v, (const char *)c + counter_offsets[i], sizeof(v));
	return v;
}
