/* vmlab/vmlab.h - everything a program embedding vmlab needs: every public
 * header, lowest layer first.  Inside the library each file includes the
 * headers of its own layer and those below instead (tests/e2e/layers.sh).
 */
#ifndef VMLAB_VMLAB_H
#define VMLAB_VMLAB_H

#include "vmlab/version.h"

/* core: errors, configuration, counter names, the policy interface */
#include "vmlab/config.h"
#include "vmlab/counters.h"
#include "vmlab/error.h"
#include "vmlab/policy.h"
/* traces: records, batches, readers, generators, the .vmt writer */
#include "vmlab/trace.h"
/* the simulator */
#include "vmlab/engine.h"
/* the run driver: whole traces, the OPT pre-pass */
#include "vmlab/run.h"
/* analysis: HDF5 results, miss-ratio curves */
#include "vmlab/mrc.h"
#include "vmlab/results.h"

#endif
