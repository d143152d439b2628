/* vmlab/version.h - which vmlab this is. */
#ifndef VMLAB_VERSION_H
#define VMLAB_VERSION_H

#include "vmlab/api.h"

#define VMLAB_VERSION "0.8.4"

#ifdef __cplusplus
extern "C" {
#endif

/* Library version string (VMLAB_VERSION of the library actually linked,
 * which may differ from the header's). */
VL_API const char *vl_version(void);

#ifdef __cplusplus
}
#endif

#endif
