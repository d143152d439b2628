/* core/error.c - error records: the caller-owned struct vl_error and the
 * names of the codes (vmlab/error.h).  Also linked, alone, into the
 * capture runtimes (traces/capture/), which use the .vmt writer. */
#include <stdio.h>
#include <string.h>

#include "vmlab/error.h"

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
