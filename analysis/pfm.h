/* analysis/pfm.h - hardware and OS event counting: libpfm4 + perf_event_open.
 *
 * A counter set is a list of events named as libpfm4 names them
 * ("perf::PAGE-FAULTS", "perf::DTLB-LOAD-MISSES",
 * "amd64_fam19h_zen3::L1_DTLB_MISS:TLB_RELOAD_4K_L2_MISS", or with a
 * privilege-level suffix, "perf::MINOR-FAULTS:u").  Each name is encoded
 * with pfm_get_os_event_encoding(PFM_OS_PERF_EVENT_EXT) and opened with
 * perf_event_open, one file descriptor per event (no groups, so one event
 * that cannot be opened never takes the others down).
 *
 * Two ways to count:
 *   - around a whole child process: vl_pfm_run_child forks, opens the
 *     counters on the child with enable_on_exec and inherit, then lets it
 *     exec (what `perf stat` does);
 *   - around a region of interest of the calling thread: vl_pfm_open(pid 0),
 *     vl_pfm_start ... vl_pfm_stop, vl_pfm_read.
 *
 * An event that cannot be counted is never reported as a number: its
 * state says why (unknown name, no hardware PMU, permission) and its
 * counted flag stays false.  Library code: nothing is printed.
 */
#ifndef VMLAB_ANALYSIS_PFM_H
#define VMLAB_ANALYSIS_PFM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmlab/error.h"

enum vl_pfm_state {
	VL_PFM_NEW = 0,         /* parsed, not opened yet */
	VL_PFM_OPEN,            /* file descriptor open */
	VL_PFM_UNKNOWN,         /* libpfm4 does not know the name (or a bad modifier) */
	VL_PFM_UNSUPPORTED,     /* encoded, but the kernel cannot count it here (no PMU) */
	VL_PFM_DENIED,          /* permission (perf_event_paranoid, capabilities) */
	VL_PFM_FAILED,          /* another perf_event_open error */
};

struct vl_pfm_event {
	char name[160];         /* as given */
	char fstr[320];         /* libpfm4's fully qualified name, "" if not encoded */
	int state;              /* enum vl_pfm_state */
	int fd;                 /* -1 unless VL_PFM_OPEN */
	uint32_t type;          /* perf_event_attr.type once encoded */
	uint64_t config, config1, config2;
	bool exclude_user, exclude_kernel, exclude_hv; /* privilege levels not counted */
	char why[256];          /* why it is not counted (state other than NEW/OPEN) */
	bool counted;           /* value holds a count read from the kernel */
	uint64_t value;         /* scaled for multiplexing when enabled != running */
	uint64_t enabled_ns, running_ns;
};

struct vl_pfm_set {
	struct vl_pfm_event *ev;
	size_t n;
};

/* Initialise libpfm4 (once per process; later calls are no-ops).
 * Returns 0 or VL_EINVAL with libpfm4's reason. */
int vl_pfm_init(struct vl_error *err);

/* Parse a comma-separated event list into s (empty names are an error).
 * Returns 0, VL_EINVAL naming the position, or VL_ENOMEM. */
int vl_pfm_parse(struct vl_pfm_set *s, const char *list, struct vl_error *err);

/* Free the set and close its descriptors. */
void vl_pfm_free(struct vl_pfm_set *s);

/* Encode and open every event of s on thread/process pid (0 = the caller),
 * disabled.  With on_exec the counters start at the target's next exec
 * and follow its children (inherit).  Events that cannot be opened get
 * their state and why and are skipped.  Returns the number opened (which
 * may be 0), or VL_EINVAL when libpfm4 cannot be initialised. */
int vl_pfm_open(struct vl_pfm_set *s, pid_t pid, bool on_exec, struct vl_error *err);

/* Encode every event of s (no open): fills fstr, type, config*, exclude_*
 * or state VL_PFM_UNKNOWN with why.  Returns the number encoded, or
 * VL_EINVAL when libpfm4 cannot be initialised. */
int vl_pfm_encode(struct vl_pfm_set *s, struct vl_error *err);

/* Reset and enable / disable every open counter of s. */
void vl_pfm_start(struct vl_pfm_set *s);
void vl_pfm_stop(struct vl_pfm_set *s);

/* Read every open counter into value/counted.  Returns 0, or VL_EIO when
 * a read fails (that event is then marked VL_PFM_FAILED, not counted). */
int vl_pfm_read(struct vl_pfm_set *s, struct vl_error *err);

/* Close the descriptors (values stay). */
void vl_pfm_close(struct vl_pfm_set *s);

/* Run argv[0] (searched in PATH) with argv as its arguments, counting s
 * from its exec to its exit (children included).  *status receives the
 * wait status.  Returns 0 when the program ran (whatever its exit status),
 * VL_ENOENT when it could not be executed, VL_EIO on fork/pipe failure. */
int vl_pfm_run_child(struct vl_pfm_set *s, char *const argv[], int *status,
		     struct vl_error *err);

/* The same with hooks (either may be NULL): pre_exec(arg) runs in the
 * child just before its exec (after fork: async-signal-safe calls only,
 * such as entering a cgroup, chdir, dup2); a non-zero return is an errno
 * and the program is not run (VL_EIO, "cannot prepare the child").
 * started(pid, arg) runs in the parent once the child exists, and
 * started(0, arg) once it has been waited for (to kill it on a signal). */
int vl_pfm_run_child_hooked(struct vl_pfm_set *s, char *const argv[], int (*pre_exec)(void *arg),
			    void (*started)(pid_t pid, void *arg), void *arg, int *status,
			    struct vl_error *err);

/* Whether this machine exposes a hardware (core) PMU to perf_event:
 * /sys/bus/event_source/devices/cpu (or cpu_core / cpu_atom) exists. */
bool vl_pfm_have_core_pmu(void);

/* Why a hardware event cannot be counted here when vl_pfm_have_core_pmu()
 * is false (the start of a why text). */
#define VL_PFM_NO_PMU                                                                 \
	"no hardware PMU on this machine (perf_event offers software events only, as " \
	"in a VM without a virtual PMU)"

/* Short name of a state ("open", "unknown event", "not supported", ...). */
const char *vl_pfm_state_name(int state);

#endif
