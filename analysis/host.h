/* analysis/host.h - what vmlab can learn about the machine it runs on.
 *
 * vl_host_detect reads the page size (sysconf), memory size
 * (/proc/meminfo), the transparent-huge-page settings
 * (/sys/kernel/mm/transparent_hugepage), the fault-around size (debugfs,
 * often unreadable), the hardware PMU's presence, and the TLB geometry
 * from CPUID (AMD leaves 0x80000005/0x80000006/0x80000019, Intel leaf 0x18
 * or, failing that, the leaf 0x2 descriptors).  Whatever could not be
 * found is recorded with the reason, so the written configuration can
 * say so.  The CPUID decoders are separate functions on register values,
 * so they can be checked against documented register contents.
 */
#ifndef VMLAB_ANALYSIS_HOST_H
#define VMLAB_ANALYSIS_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VL_HOST_PS_4K 1u
#define VL_HOST_PS_2M 2u
#define VL_HOST_PS_4M 4u
#define VL_HOST_PS_1G 8u

struct vl_host_tlb {
	char name[16];        /* l1d, l1i, l2d, l2u, l1d2m, ... */
	unsigned level;       /* 1, 2 */
	char kind;            /* 'd' data, 'i' instruction, 'u' unified */
	unsigned entries;
	unsigned ways;        /* = entries when fully associative */
	unsigned page_sizes;  /* VL_HOST_PS_* */
};

#define VL_HOST_MAX_TLBS 16

struct vl_host {
	uint64_t page_size;
	uint64_t mem_bytes;            /* 0 = unknown */
	char thp_enabled[16];          /* "always" | "madvise" | "never" | "" = unknown */
	char thp_defrag[16];           /* "always" | "defer" | "defer+madvise" | "madvise" | "never" */
	int thp_zero_page;             /* 1, 0, -1 unknown */
	uint64_t thp_pmd_bytes;        /* 0 = unknown */
	uint64_t fault_around_bytes;   /* 0 = unknown */
	char fault_around_why[160];    /* why it is unknown */
	int swap_page_cluster;         /* vm.page-cluster, -1 unknown */
	int swap_vma_ra;               /* /sys/kernel/mm/swap/vma_ra_enabled: 1, 0, -1 unknown */
	int swap_rotational;           /* a swap device is rotational: 1, 0, -1 unknown */
	char swap_rot_from[160];       /* what swap_rotational was read from, or why unknown */
	int swap_sync;                 /* the first-used swap device is synchronous: 1, 0 (or none) */
	char swap_sync_dev[64];        /* its block device's name ("zram0"), "" if none */
	char vendor[16];               /* CPUID vendor string */
	unsigned family, model, stepping;
	char cpu_name[64];             /* brand string, may be empty */
	char pmu[64];                  /* libpfm4's detected core PMU, "" if none */
	bool core_pmu;                 /* perf_event exposes a hardware PMU */
	char kernel[64];
	struct vl_host_tlb tlb[VL_HOST_MAX_TLBS];
	unsigned ntlb;
	char tlb_why[200];             /* what CPUID did not tell (empty when complete) */
};

/* Detect everything about the running host.  Never fails: missing facts
 * are left unknown with their reason. */
void vl_host_detect(struct vl_host *h);

/* CPUID decoders (register values in, TLB structures appended to h->tlb).
 * AMD: eax/ebx of leaves 0x80000005, 0x80000006 and 0x80000019 (zeros
 * when the leaf is absent).  Returns the number of structures added. */
unsigned vl_host_tlb_amd(struct vl_host *h, const uint32_t l5[2], const uint32_t l6[2],
			 const uint32_t l19[2]);
/* Intel leaf 0x18 sub-leaf: ebx, ecx, edx.  Returns 1 if it described a
 * TLB (added), 0 if the sub-leaf is invalid. */
unsigned vl_host_tlb_intel18(struct vl_host *h, uint32_t ebx, uint32_t ecx, uint32_t edx);
/* Intel leaf 0x2 descriptor byte.  Returns 1 if it is a TLB descriptor
 * this decoder knows (added), 0 otherwise. */
unsigned vl_host_tlb_intel2(struct vl_host *h, uint8_t desc);

struct vl_config;

/* The host as a machine configuration in INI form, using only keys that
 * schema declares (the optional ones: machine.name, tlb.*; NULL = only
 * the keys every build has), everything else as comments.  Returns a
 * malloc'd string or NULL when out of memory. */
char *vl_host_ini(const struct vl_host *h, const struct vl_config *schema);

/* Name of the built-in machine preset whose events.pmu is pmu (the
 * libpfm4 PMU name), in buf; NULL when none names it. */
const char *vl_host_machine_preset(const char *pmu, char *buf, size_t n);

/* Does cfg declare key ('*' segments of declarations match any name)? */
bool vl_config_declares(const struct vl_config *cfg, const char *key);

#endif
