/* core/sized.c - callers' structs that carry their size (core/sized.h). */
#include <string.h>

#include "core/sized.h"

static size_t size_of(const void *s)
{
	size_t n;
	memcpy(&n, s, sizeof(n)); /* the first member of every such struct */
	return n;
}

int sized_check(const void *dst, size_t v1, const char *what, struct vl_error *err)
{
	size_t n = size_of(dst);
	if (n < v1)
		return vl_err(err, VL_EINVAL, "%s: size is %zu, at least %zu expected (set .size = sizeof)",
			      what, n, v1);
	return 0;
}

int sized_in(void *dst, size_t full, const void *src, size_t v1, const char *what,
	     struct vl_error *err)
{
	VL_TRY(sized_check(src, v1, what, err));
	size_t n = size_of(src);
	memset(dst, 0, full);
	memcpy(dst, src, n < full ? n : full);
	return 0;
}

void sized_clear(void *s, size_t full)
{
	size_t n = size_of(s);
	if (n > full)
		n = full;
	if (n > sizeof(size_t))
		memset((char *)s + sizeof(size_t), 0, n - sizeof(size_t));
}

void sized_out(void *dst, const void *src, size_t full)
{
	size_t n = size_of(dst);
	if (n > full)
		n = full;
	if (n > sizeof(size_t))
		memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
		       n - sizeof(size_t));
}
