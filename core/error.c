/* sim/error.c - error records and counter names. */
#include <stdio.h>
#include <string.h>

#include "sim/internal.h"

int vl_err(struct vl_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

void vl_err_clear(struct vl_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *vl_strerror(int code)
{
	switch (code) {
	case VL_OK: return "ok";
	case VL_EINVAL: return "invalid value";
	case VL_ENOMEM: return "out of memory";
	case VL_EIO: return "I/O error";
	case VL_EFORMAT: return "format error";
	case VL_ENOENT: return "not found";
	case VL_EUSAGE: return "usage error";
	case VL_ELIMIT: return "limit exceeded";
	case VL_EVERSION: return "version mismatch";
	case VL_ESTATE: return "invariant broken";
	default: return "unknown error";
	}
}

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

const char *vl_version(void)
{
	return VMLAB_VERSION;
}
