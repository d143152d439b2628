/* vmlab/vmlab.h - everything a program embedding vmlab needs. */
#ifndef VMLAB_VMLAB_H
#define VMLAB_VMLAB_H

#define VMLAB_VERSION "0.2.0"

#include "vmlab/config.h"
#include "vmlab/counters.h"
#include "vmlab/engine.h"
#include "vmlab/error.h"
#include "vmlab/policy.h"
#include "vmlab/trace.h"

#endif
