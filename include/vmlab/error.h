/* vmlab/error.h - error codes and the caller-owned error record.
 *
 * Every fallible library function returns 0 (or a count) on success and a
 * negative VL_E* code on failure, and fills a caller-owned struct vl_error
 * with one line of context ("trace x.addr line 12: expected hex address").
 * Library code never prints, exits or aborts on bad input.
 */
#ifndef VMLAB_ERROR_H
#define VMLAB_ERROR_H

#include <stdarg.h>

#include "vmlab/api.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vl_errcode {
	VL_OK = 0,
	VL_EINVAL = -1,   /* bad argument or configuration value */
	VL_ENOMEM = -2,   /* allocation failed */
	VL_EIO = -3,      /* read/write failed (errno-level) */
	VL_EFORMAT = -4,  /* malformed input file */
	VL_ENOENT = -5,   /* file, policy or format not found */
	VL_EUSAGE = -6,   /* command-line usage error */
	VL_ELIMIT = -7,   /* a configured limit was exceeded */
	VL_EVERSION = -8, /* incompatible version (file or plug-in) */
	VL_ESTATE = -9,   /* an invariant check failed */
};

#define VL_ERRMSG_MAX 512

struct vl_error {
	int code;                 /* last VL_E* code, 0 if none */
	char msg[VL_ERRMSG_MAX];  /* one line, no trailing newline */
};

/* Fill err (may be NULL) with code and a printf-style message; returns code. */
VL_API int vl_err(struct vl_error *err, int code, const char *fmt, ...) VL_PRINTF(3, 4);

/* Clear err (may be NULL). */
VL_API void vl_err_clear(struct vl_error *err);

/* Short name of a code ("format error"); never NULL. */
VL_API const char *vl_strerror(int code);

/* Forward a negative return from an expression. */
#define VL_TRY(expr)                          \
	do {                                  \
		int vl_try_rc_ = (expr);      \
		if (vl_try_rc_ < 0)           \
			return vl_try_rc_;    \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif
