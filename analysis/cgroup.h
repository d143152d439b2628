/* analysis/cgroup.h - a memory-limited cgroup and swap, for running a
 * native workload under memory pressure (`vmlab validate --limit`).
 *
 * The cgroup: cgroup v2 where its memory controller is enabled in the
 * root's cgroup.subtree_control, else the v1 memory controller (the first
 * mount of type cgroup with the memory option, /proc/self/mounts).  One
 * directory "vmlab-limit-PID-N" directly under the mount, the limit in
 * memory.max (v2) or memory.limit_in_bytes (v1); swap is not limited.
 *
 * Swap: the host's when /proc/swaps lists any; otherwise, for root, a
 * temporary swap file (fallocate, else written with zeros; mkswap; swapon)
 * that vl_swap_release switches off and removes.  It is never added to
 * /etc/fstab.
 *
 * Teardown after a signal: vl_limit_teardown() uses only async-signal-
 * safe calls (kill, waitpid, swapoff, unlink, rmdir) on what the module
 * recorded when it made things, so a SIGINT/SIGTERM handler may call it.
 */
#ifndef VMLAB_ANALYSIS_CGROUP_H
#define VMLAB_ANALYSIS_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmlab/vmlab.h"

struct vl_cgroup {
	int version;          /* 1 or 2; 0 before vl_cgroup_create */
	char path[512];       /* the cgroup's directory */
	char procs[560];      /* its cgroup.procs */
	uint64_t limit_bytes; /* what was written */
};

/* Which memory controller this machine offers: 2 or 1 with its mount in
 * mount, or 0 with why in why (one line). */
int vl_cgroup_probe(char *mount, size_t mount_n, char *why, size_t why_n);

/* Make a cgroup limited to limit_bytes.  Returns 0, or VL_ENOENT (no
 * memory controller), VL_EIO (not permitted, or the limit refused) with
 * why in err; nothing is left behind on failure. */
int vl_cgroup_create(struct vl_cgroup *cg, uint64_t limit_bytes, struct vl_error *err);

/* Move the calling process into cg (in a child between fork and exec:
 * async-signal-safe).  Returns 0 or -errno. */
int vl_cgroup_enter(const struct vl_cgroup *cg);

/* The cgroup's peak usage in bytes (v1 memory.max_usage_in_bytes, v2
 * memory.peak); 0 when the file is missing. */
uint64_t vl_cgroup_peak(const struct vl_cgroup *cg);

/* Remove cg (its processes must have exited; retried while the kernel
 * still reports it busy).  Returns 0 or VL_EIO; the struct is cleared
 * either way. */
int vl_cgroup_remove(struct vl_cgroup *cg, struct vl_error *err);

struct vl_swap {
	bool temporary;       /* a swap file made here, to release */
	char path[512];       /* that file */
	uint64_t bytes;       /* swap active after vl_swap_ensure */
	char desc[300];       /* what swap is used, one line */
};

/* Swap for a run limited to limit_bytes: the host's when any is active;
 * else, for root, a swap file of max(2 * limit_bytes, 512 MiB) in dir
 * (VMLAB_SWAP_DIR, else /var/tmp when dir is NULL).  Returns 0, or
 * VL_ENOENT (no swap and not root) / VL_EIO with why; a file made before
 * a failure is removed. */
int vl_swap_ensure(struct vl_swap *sw, uint64_t limit_bytes, const char *dir,
		   struct vl_error *err);

/* Switch off and remove a temporary swap file (nothing for the host's).
 * Returns 0 or VL_EIO (then the file is left, named in err). */
int vl_swap_release(struct vl_swap *sw, struct vl_error *err);

/* The child running now (0: none), ended by teardown: SIGTERM, half a
 * second, then SIGKILL, each to its process group when it leads one (a
 * child that calls setpgid(0, 0) after fork takes what it starts with
 * it; vmlab capture passes SIGTERM on to the processes it traces), else
 * to the child alone. */
void vl_limit_child(pid_t pid);

/* Kill the recorded child, remove the recorded cgroup, switch off and
 * remove the recorded swap file.  Async-signal-safe. */
void vl_limit_teardown(void);

#endif
