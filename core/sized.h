/* core/sized.h - reading and filling callers' structs that grow.
 *
 * The rule (docs/design.md, "Structs that grow"): a public struct that the
 * caller allocates and that may gain fields starts with `size_t size`,
 * which the caller sets to sizeof the struct as its headers define it.
 * The library then reads and writes only that many bytes: a field beyond
 * them reads as zero on input and is not written on output, so a program
 * built against older headers works with a newer library, and a newer
 * program's extra fields are left alone by an older one.  A size smaller
 * than the struct's first release is refused (VL_EINVAL): it was not set.
 *
 * For the library's layers above core (traces, driver, analysis); the
 * functions are not exported.
 */
#ifndef VMLAB_CORE_SIZED_H
#define VMLAB_CORE_SIZED_H

#include <stddef.h>

#include "vmlab/error.h"

/* The caller's struct src (which starts with its size) into dst, a full
 * struct of full bytes: the bytes src->size covers, zero beyond.  Returns
 * 0, or VL_EINVAL naming what (e.g. "struct vl_run_opts") when src->size
 * is below v1, the first release's size. */
int sized_in(void *dst, size_t full, const void *src, size_t v1, const char *what,
	     struct vl_error *err);

/* Check the size of a struct the library is about to fill: 0, or
 * VL_EINVAL as sized_in. */
int sized_check(const void *dst, size_t v1, const char *what, struct vl_error *err);

/* Zero the fields of the caller's s that fit in s->size (at most full
 * bytes); s->size stays. */
void sized_clear(void *s, size_t full);

/* Fill the caller's dst from src, a full struct of full bytes: the fields
 * that fit in dst->size; dst->size stays as the caller set it. */
void sized_out(void *dst, const void *src, size_t full);

#endif
