/* core/version.c - the library's version string. */
#include "vmlab/version.h"

const char *vl_version(void)
{
	return VMLAB_VERSION;
}
