/* analysis/host.c - detect the host machine: page size, memory, THP,
 * fault-around, PMU and TLB geometry from CPUID.
 *
 * CPUID references: AMD64 Architecture Programmer's Manual vol. 3,
 * appendix E (CPUID Fn8000_0005 L1 TLB, Fn8000_0006 L2 TLB, Fn8000_0019
 * 1 GiB TLB; the 4-bit L2 associativity code table), Intel SDM vol. 2A
 * CPUID leaf 02H (descriptor table 3-12) and leaf 18H (deterministic
 * address translation parameters).
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <perfmon/pfmlib.h>

#include "analysis/host.h"
#include "analysis/pfm.h"
#include "analysis/util.h"
#include "vmlab/config.h"

static struct vl_host_tlb *tlb_add(struct vl_host *h, const char *name, unsigned level, char kind,
				   unsigned entries, unsigned ways, unsigned ps)
{
	if (h->ntlb == VL_HOST_MAX_TLBS || entries == 0)
		return NULL;
	struct vl_host_tlb *t = &h->tlb[h->ntlb++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->level = level;
	t->kind = kind;
	t->entries = entries;
	t->ways = ways ? ways : entries;
	t->page_sizes = ps;
	return t;
}

/* ---- AMD ---- */

/* L1: 8-bit associativity, 0xff = fully associative. */
static unsigned amd_l1_ways(unsigned code, unsigned entries)
{
	return code == 0xff ? entries : code;
}

/* L2 / 1G: the 4-bit code of APM vol. 3 table E-4. 0 = disabled. */
static unsigned amd_l2_ways(unsigned code, unsigned entries)
{
	static const unsigned ways[16] = { 0, 1, 2, 3, 4, 6, 8, 0, 16, 0, 32, 48, 64, 96, 128, 0 };
	return code == 0xf ? entries : ways[code & 0xf];
}

/* Add one structure per distinct (entries, ways) among the page sizes a
 * level reports for a kind; equal counts for 4K and 2M mean one shared
 * structure (what AMD documents for its L1 and L2 TLBs). */
static unsigned amd_level(struct vl_host *h, unsigned level, char kind, unsigned e4k, unsigned w4k,
			  unsigned e2m, unsigned w2m, unsigned e1g, unsigned w1g)
{
	char name[16];
	unsigned added = 0;
	snprintf(name, sizeof(name), "l%u%c", level, kind);
	unsigned ps = 0;
	if (e4k)
		ps |= VL_HOST_PS_4K;
	if (e2m && e2m == e4k && w2m == w4k)
		ps |= VL_HOST_PS_2M;
	if (e1g && e1g == e4k && w1g == w4k)
		ps |= VL_HOST_PS_1G;
	if (e4k && tlb_add(h, name, level, kind, e4k, w4k, ps))
		added++;
	if (e2m && !(ps & VL_HOST_PS_2M)) {
		snprintf(name, sizeof(name), "l%u%c2m", level, kind);
		if (tlb_add(h, name, level, kind, e2m, w2m, VL_HOST_PS_2M))
			added++;
	}
	if (e1g && !(ps & VL_HOST_PS_1G)) {
		snprintf(name, sizeof(name), "l%u%c1g", level, kind);
		if (tlb_add(h, name, level, kind, e1g, w1g, VL_HOST_PS_1G))
			added++;
	}
	return added;
}

unsigned vl_host_tlb_amd(struct vl_host *h, const uint32_t l5[2], const uint32_t l6[2],
			 const uint32_t l19[2])
{
	unsigned n = 0;
	/* Fn8000_0005: EAX 2M/4M, EBX 4K; [31:24] D ways [23:16] D entries
	 * [15:8] I ways [7:0] I entries */
	unsigned d4 = (l5[1] >> 16) & 0xff, d4w = amd_l1_ways(l5[1] >> 24, d4);
	unsigned i4 = l5[1] & 0xff, i4w = amd_l1_ways((l5[1] >> 8) & 0xff, i4);
	unsigned d2 = (l5[0] >> 16) & 0xff, d2w = amd_l1_ways(l5[0] >> 24, d2);
	unsigned i2 = l5[0] & 0xff, i2w = amd_l1_ways((l5[0] >> 8) & 0xff, i2);
	/* Fn8000_0019: EAX L1 1G, EBX L2 1G; [31:28] D ways [27:16] D entries
	 * [15:12] I ways [11:0] I entries (the L2 layout) */
	unsigned d1g = (l19[0] >> 16) & 0xfff, d1gw = amd_l2_ways(l19[0] >> 28, d1g);
	unsigned i1g = l19[0] & 0xfff, i1gw = amd_l2_ways((l19[0] >> 12) & 0xf, i1g);
	n += amd_level(h, 1, 'd', d4, d4w, d2, d2w, d1g, d1gw);
	n += amd_level(h, 1, 'i', i4, i4w, i2, i2w, i1g, i1gw);
	/* Fn8000_0006: EAX 2M/4M, EBX 4K, L2 layout */
	unsigned D4 = (l6[1] >> 16) & 0xfff, D4w = amd_l2_ways(l6[1] >> 28, D4);
	unsigned I4 = l6[1] & 0xfff, I4w = amd_l2_ways((l6[1] >> 12) & 0xf, I4);
	unsigned D2 = (l6[0] >> 16) & 0xfff, D2w = amd_l2_ways(l6[0] >> 28, D2);
	unsigned I2 = l6[0] & 0xfff, I2w = amd_l2_ways((l6[0] >> 12) & 0xf, I2);
	unsigned D1g = (l19[1] >> 16) & 0xfff, D1gw = amd_l2_ways(l19[1] >> 28, D1g);
	unsigned I1g = l19[1] & 0xfff, I1gw = amd_l2_ways((l19[1] >> 12) & 0xf, I1g);
	n += amd_level(h, 2, 'd', D4, D4w, D2, D2w, D1g, D1gw);
	n += amd_level(h, 2, 'i', I4, I4w, I2, I2w, I1g, I1gw);
	return n;
}

/* ---- Intel ---- */

unsigned vl_host_tlb_intel18(struct vl_host *h, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	unsigned type = edx & 0x1f, level = (edx >> 5) & 7;
	if (type == 0 || level == 0)
		return 0;
	unsigned ps = 0;
	if (ebx & 1)
		ps |= VL_HOST_PS_4K;
	if (ebx & 2)
		ps |= VL_HOST_PS_2M;
	if (ebx & 4)
		ps |= VL_HOST_PS_4M;
	if (ebx & 8)
		ps |= VL_HOST_PS_1G;
	unsigned ways = ebx >> 16, sets = ecx;
	unsigned entries = ways * sets;
	if (edx & (1u << 8))
		ways = entries; /* fully associative */
	char kind = type == 2 ? 'i' : type == 3 ? 'u' : 'd'; /* 1 data, 4 load, 5 store */
	char name[16];
	const char *sz = ps == VL_HOST_PS_4K ? ""
			 : (ps & ~(VL_HOST_PS_2M | VL_HOST_PS_4M)) == 0 ? "2m"
			 : ps == VL_HOST_PS_1G ? "1g"
					       : "";
	snprintf(name, sizeof(name), "l%u%c%s%s", level, kind, sz,
		 type == 4 ? "ld" : type == 5 ? "st" : "");
	/* the same name twice (e.g. two 4K slices): number it */
	for (unsigned i = 0, k = 2; i < h->ntlb; i++)
		if (!strcmp(h->tlb[i].name, name)) {
			snprintf(name, sizeof(name), "l%u%c%s%u", level, kind, sz, k++);
			i = (unsigned)-1;
		}
	return tlb_add(h, name, level, kind, entries, ways, ps) != NULL;
}

/* Intel SDM table 3-12: the TLB descriptors of current and recent cores. */
static const struct {
	uint8_t desc;
	unsigned level;
	char kind;
	unsigned entries, ways, ps;
} intel2[] = {
	{ 0x01, 1, 'i', 32, 4, VL_HOST_PS_4K },
	{ 0x02, 1, 'i', 2, 2, VL_HOST_PS_4M },
	{ 0x03, 1, 'd', 64, 4, VL_HOST_PS_4K },
	{ 0x04, 1, 'd', 8, 4, VL_HOST_PS_4M },
	{ 0x05, 1, 'd', 32, 4, VL_HOST_PS_4M },
	{ 0x0b, 1, 'i', 4, 4, VL_HOST_PS_4M },
	{ 0x4f, 1, 'i', 32, 32, VL_HOST_PS_4K },
	{ 0x50, 1, 'i', 64, 64, VL_HOST_PS_4K | VL_HOST_PS_2M | VL_HOST_PS_4M },
	{ 0x55, 1, 'i', 7, 7, VL_HOST_PS_2M | VL_HOST_PS_4M },
	{ 0x56, 1, 'd', 16, 4, VL_HOST_PS_4M },
	{ 0x57, 1, 'd', 16, 4, VL_HOST_PS_4K },
	{ 0x5a, 1, 'd', 32, 4, VL_HOST_PS_2M | VL_HOST_PS_4M },
	{ 0x5b, 1, 'd', 64, 64, VL_HOST_PS_4K | VL_HOST_PS_4M },
	{ 0x61, 1, 'i', 48, 48, VL_HOST_PS_4K },
	{ 0x63, 1, 'd', 32, 4, VL_HOST_PS_2M | VL_HOST_PS_4M },
	{ 0x64, 1, 'd', 512, 4, VL_HOST_PS_4K },
	{ 0x6a, 1, 'd', 64, 8, VL_HOST_PS_4K },
	{ 0x6b, 2, 'd', 256, 8, VL_HOST_PS_4K },
	{ 0x6c, 2, 'd', 128, 128, VL_HOST_PS_2M | VL_HOST_PS_4M },
	{ 0x6d, 2, 'd', 16, 16, VL_HOST_PS_1G },
	{ 0x76, 1, 'i', 8, 8, VL_HOST_PS_2M | VL_HOST_PS_4M },
	{ 0xa0, 1, 'd', 32, 32, VL_HOST_PS_4K },
	{ 0xb0, 1, 'i', 128, 4, VL_HOST_PS_4K },
	{ 0xb1, 1, 'i', 8, 4, VL_HOST_PS_2M },
	{ 0xb2, 1, 'i', 64, 4, VL_HOST_PS_4K },
	{ 0xb3, 1, 'd', 128, 4, VL_HOST_PS_4K },
	{ 0xb4, 1, 'd', 256, 4, VL_HOST_PS_4K },
	{ 0xb5, 1, 'i', 64, 8, VL_HOST_PS_4K },
	{ 0xb6, 1, 'i', 128, 8, VL_HOST_PS_4K },
	{ 0xba, 1, 'd', 64, 4, VL_HOST_PS_4K },
	{ 0xc0, 1, 'd', 8, 4, VL_HOST_PS_4K | VL_HOST_PS_4M },
	{ 0xc1, 2, 'u', 1024, 8, VL_HOST_PS_4K | VL_HOST_PS_2M },
	{ 0xc2, 1, 'd', 16, 4, VL_HOST_PS_4K | VL_HOST_PS_2M },
	{ 0xc3, 2, 'u', 1536, 6, VL_HOST_PS_4K | VL_HOST_PS_2M },
	{ 0xc4, 1, 'd', 32, 4, VL_HOST_PS_2M | VL_HOST_PS_4M },
	{ 0xca, 2, 'u', 512, 4, VL_HOST_PS_4K },
};

unsigned vl_host_tlb_intel2(struct vl_host *h, uint8_t desc)
{
	for (size_t i = 0; i < sizeof(intel2) / sizeof(intel2[0]); i++) {
		if (intel2[i].desc != desc)
			continue;
		char name[16];
		const char *sz = intel2[i].ps & VL_HOST_PS_4K ? "" : intel2[i].ps == VL_HOST_PS_1G ? "1g" : "2m";
		snprintf(name, sizeof(name), "l%u%c%s", intel2[i].level, intel2[i].kind, sz);
		for (unsigned j = 0, k = 2; j < h->ntlb; j++)
			if (!strcmp(h->tlb[j].name, name)) {
				snprintf(name, sizeof(name), "l%u%c%s%u", intel2[i].level, intel2[i].kind,
					 sz, k++);
				j = (unsigned)-1;
			}
		return tlb_add(h, name, intel2[i].level, intel2[i].kind, intel2[i].entries,
			       intel2[i].ways, intel2[i].ps) != NULL;
	}
	return 0;
}

/* ---- detection ---- */

static bool read_line(const char *path, char *buf, size_t n, int *en)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		*en = errno;
		return false;
	}
	bool ok = fgets(buf, (int)n, f) != NULL;
	*en = ok ? 0 : EIO;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

/* "always [madvise] never" -> "madvise" */
static void bracketed(const char *s, char *out, size_t n)
{
	const char *a = strchr(s, '['), *b = a ? strchr(a, ']') : NULL;
	out[0] = 0;
	if (a && b && (size_t)(b - a - 1) < n) {
		memcpy(out, a + 1, (size_t)(b - a - 1));
		out[b - a - 1] = 0;
	}
}

static void detect_cpu(struct vl_host *h)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(0, &a, &b, &c, &d)) {
		snprintf(h->tlb_why, sizeof(h->tlb_why), "CPUID not available");
		return;
	}
	unsigned max_std = a;
	memcpy(h->vendor, &b, 4);
	memcpy(h->vendor + 4, &d, 4);
	memcpy(h->vendor + 8, &c, 4);
	h->vendor[12] = 0;
	__cpuid(1, a, b, c, d);
	unsigned fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
	if (fam == 0xf)
		fam += (a >> 20) & 0xff;
	if (fam == 0xf || fam >= 6)
		model |= ((a >> 16) & 0xf) << 4;
	h->family = fam;
	h->model = model;
	h->stepping = a & 0xf;
	unsigned max_ext = __get_cpuid_max(0x80000000, NULL);
	if (max_ext >= 0x80000004) {
		uint32_t brand[12];
		for (unsigned i = 0; i < 3; i++)
			__cpuid(0x80000002 + i, brand[i * 4], brand[i * 4 + 1], brand[i * 4 + 2],
				brand[i * 4 + 3]);
		memcpy(h->cpu_name, brand, sizeof(brand) < sizeof(h->cpu_name) ? sizeof(brand)
										 : sizeof(h->cpu_name) - 1);
		h->cpu_name[sizeof(brand) < sizeof(h->cpu_name) ? sizeof(brand)
								: sizeof(h->cpu_name) - 1] = 0;
		/* trim spaces */
		size_t len = strlen(h->cpu_name);
		while (len && h->cpu_name[len - 1] == ' ')
			h->cpu_name[--len] = 0;
		char *s = h->cpu_name;
		while (*s == ' ')
			s++;
		memmove(h->cpu_name, s, strlen(s) + 1);
	}
	if (!strcmp(h->vendor, "AuthenticAMD") || !strcmp(h->vendor, "HygonGenuine")) {
		uint32_t l5[2] = { 0, 0 }, l6[2] = { 0, 0 }, l19[2] = { 0, 0 };
		if (max_ext >= 0x80000005)
			__cpuid(0x80000005, l5[0], l5[1], c, d);
		if (max_ext >= 0x80000006)
			__cpuid(0x80000006, l6[0], l6[1], c, d);
		if (max_ext >= 0x80000019)
			__cpuid(0x80000019, l19[0], l19[1], c, d);
		vl_host_tlb_amd(h, l5, l6, l19);
		if (!l19[0] && !l19[1])
			snprintf(h->tlb_why, sizeof(h->tlb_why),
				 "1 GiB TLB entries not detected: CPUID Fn8000_0019 %s",
				 max_ext >= 0x80000019 ? "reads zero (masked by the hypervisor?)"
						       : "not implemented");
	} else if (!strcmp(h->vendor, "GenuineIntel")) {
		if (max_std >= 0x18) {
			unsigned nsub;
			__cpuid_count(0x18, 0, nsub, b, c, d);
			for (unsigned i = 0; i <= nsub && i < 32; i++) {
				__cpuid_count(0x18, i, a, b, c, d);
				vl_host_tlb_intel18(h, b, c, d);
			}
		}
		if (h->ntlb == 0 && max_std >= 2) {
			__cpuid(2, a, b, c, d);
			uint32_t regs[4] = { a & ~0xffu, b, c, d };
			unsigned unknown = 0;
			for (unsigned r = 0; r < 4; r++) {
				if (regs[r] & 0x80000000u)
					continue; /* register holds no descriptors */
				for (unsigned k = 0; k < 4; k++) {
					uint8_t desc = (uint8_t)(regs[r] >> (8 * k));
					if (desc && desc != 0xff && !vl_host_tlb_intel2(h, desc))
						unknown++;
				}
			}
			if (unknown)
				snprintf(h->tlb_why, sizeof(h->tlb_why),
					 "%u CPUID leaf 0x2 descriptors were not TLB descriptors this "
					 "decoder knows (caches, prefetch, or unlisted TLBs)",
					 unknown);
		}
	}
	if (h->ntlb == 0 && !h->tlb_why[0])
		snprintf(h->tlb_why, sizeof(h->tlb_why), "CPUID (%s) reports no TLB geometry",
			 h->vendor);
}

static void detect_pmu(struct vl_host *h)
{
	h->core_pmu = vl_pfm_have_core_pmu();
	if (vl_pfm_init(NULL) < 0)
		return;
	pfm_pmu_info_t info;
	for (int p = PFM_PMU_NONE + 1; p < PFM_PMU_MAX; p++) {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (pfm_get_pmu_info((pfm_pmu_t)p, &info) != PFM_SUCCESS || !info.is_present)
			continue;
		if (info.type == PFM_PMU_TYPE_CORE && info.name) {
			snprintf(h->pmu, sizeof(h->pmu), "%s", info.name);
			return;
		}
	}
}

/* Is the block device dev rotational?  1, 0, or -1 when /sys does not
 * say (a partition's queue is its disk's). */
static int dev_rotational(dev_t dev)
{
	char path[128], buf[16];
	int en;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/rotational", major(dev), minor(dev));
	if (read_line(path, buf, sizeof(buf), &en))
		return atoi(buf) != 0;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../queue/rotational", major(dev),
		 minor(dev));
	if (read_line(path, buf, sizeof(buf), &en))
		return atoi(buf) != 0;
	return -1;
}

/* The kernel name of block device dev ("zram0", "vda1"): the last part of
 * its /sys/dev/block link; "" when /sys does not say. */
static void dev_name(dev_t dev, char *out, size_t n)
{
	char path[128], target[256];
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	ssize_t len = readlink(path, target, sizeof(target) - 1);
	out[0] = 0;
	if (len <= 0)
		return;
	target[len] = 0;
	const char *b = strrchr(target, '/');
	snprintf(out, n, "%s", b ? b + 1 : target);
}

/* Is the device named name synchronous (bdev_synchronous: the drivers
 * that complete I/O in the caller, zram, brd's RAM disks, pmem and its
 * btt)?  Then Linux swaps in past the swap cache (SWP_SYNCHRONOUS_IO). */
static bool name_synchronous(const char *name)
{
	static const char *const pre[] = { "zram", "ram", "pmem" };
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		size_t l = strlen(pre[i]);
		if (!strncmp(name, pre[i], l) && name[l] >= '0' && name[l] <= '9')
			return true;
	}
	return false;
}

/* Linux reads swap ahead by virtual address only when no active swap
 * device is rotational (mm/swap_state.c swap_use_vma_readahead; a swap
 * file counts as the disk under its file system, mm/swapfile.c).  With
 * no swap active, the disk of the root file system: where a swap file
 * would go. */
static void detect_swap_rotational(struct vl_host *h)
{
	h->swap_rotational = -1;
	h->swap_sync = 0;
	h->swap_sync_dev[0] = 0;
	struct au_swap sw[AU_MAX_SWAPS];
	int at;
	size_t k = au_swaps(sw, AU_MAX_SWAPS, &at);
	unsigned n = 0;
	for (size_t i = 0; i < k; i++) {
		struct stat st;
		if (stat(sw[i].name, &st) < 0)
			continue;
		dev_t dev = !strcmp(sw[i].type, "partition") ? st.st_rdev : st.st_dev;
		int r = dev_rotational(dev);
		if ((int)i == at) { /* pages go to this one first */
			dev_name(dev, h->swap_sync_dev, sizeof(h->swap_sync_dev));
			h->swap_sync = name_synchronous(h->swap_sync_dev);
		}
		n++;
		if (r > h->swap_rotational)
			h->swap_rotational = r;
	}
	if (n) {
		snprintf(h->swap_rot_from, sizeof(h->swap_rot_from), "the %u active swap device%s", n,
			 n > 1 ? "s" : "");
		return;
	}
	struct stat st;
	if (stat("/", &st) == 0)
		h->swap_rotational = dev_rotational(st.st_dev);
	snprintf(h->swap_rot_from, sizeof(h->swap_rot_from),
		 h->swap_rotational >= 0 ? "no swap active: the disk of / (where a swap file would go)"
					 : "no swap active, and the disk of / is not a block device");
}

void vl_host_detect(struct vl_host *h)
{
	memset(h, 0, sizeof(*h));
	long ps = sysconf(_SC_PAGESIZE);
	h->page_size = ps > 0 ? (uint64_t)ps : 0;
	FILE *f = fopen("/proc/meminfo", "r");
	if (f) {
		char line[256];
		unsigned long long kb;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
				h->mem_bytes = kb * 1024ull;
		fclose(f);
	}
	char buf[256];
	int en;
	if (read_line("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf), &en))
		bracketed(buf, h->thp_enabled, sizeof(h->thp_enabled));
	if (read_line("/sys/kernel/mm/transparent_hugepage/defrag", buf, sizeof(buf), &en))
		bracketed(buf, h->thp_defrag, sizeof(h->thp_defrag));
	h->thp_zero_page = -1;
	if (read_line("/sys/kernel/mm/transparent_hugepage/use_zero_page", buf, sizeof(buf), &en))
		h->thp_zero_page = atoi(buf) != 0;
	if (read_line("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf, sizeof(buf), &en))
		h->thp_pmd_bytes = strtoull(buf, NULL, 10);
	if (read_line("/sys/kernel/debug/fault_around_bytes", buf, sizeof(buf), &en))
		h->fault_around_bytes = strtoull(buf, NULL, 10);
	else
		snprintf(h->fault_around_why, sizeof(h->fault_around_why),
			 "/sys/kernel/debug/fault_around_bytes: %s%s", strerror(en),
			 en == ENOENT ? " (debugfs not mounted, or locked down)" : "");
	h->swap_page_cluster = -1;
	if (read_line("/proc/sys/vm/page-cluster", buf, sizeof(buf), &en))
		h->swap_page_cluster = atoi(buf);
	h->swap_vma_ra = -1;
	if (read_line("/sys/kernel/mm/swap/vma_ra_enabled", buf, sizeof(buf), &en))
		h->swap_vma_ra = !strcmp(buf, "true") || !strcmp(buf, "1");
	detect_swap_rotational(h);
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(h->kernel, sizeof(h->kernel), "%s %s %s", u.sysname, u.release, u.machine);
	detect_cpu(h);
	detect_pmu(h);
}

/* ---- INI ---- */

static void page_sizes(unsigned ps, char *buf, size_t n)
{
	buf[0] = 0;
	const char *names[] = { "4k", "2m", "4m", "1g" };
	for (unsigned i = 0; i < 4; i++)
		if (ps & (1u << i))
			snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? "," : "",
				 names[i]);
}

const char *vl_host_machine_preset(const char *pmu, char *buf, size_t n)
{
	if (!pmu || !*pmu)
		return NULL;
	char names[1024];
	snprintf(names, sizeof(names), "%s", vl_config_presets("machines"));
	for (char *save, *p = strtok_r(names, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
		struct vl_config *c;
		if (vl_config_new(&c, NULL) < 0)
			return NULL;
		bool match = vl_config_load_preset(c, "machines", p, NULL) == 0 &&
			     !strcmp(vl_config_str(c, "events.pmu"), pmu);
		vl_config_free(c);
		if (match) {
			snprintf(buf, n, "%s", p);
			return buf;
		}
	}
	return NULL;
}

bool vl_config_declares(const struct vl_config *cfg, const char *key)
{
	const struct vl_key_def *d;
	for (size_t i = 0; cfg && (d = vl_config_key(cfg, i)); i++) {
		const char *p = d->key, *k = key;
		while (*p && *k) {
			if (*p == '*') {
				p++;
				while (*k && *k != '.')
					k++;
				continue;
			}
			if (*p != *k)
				break;
			p++, k++;
		}
		if (!*p && !*k)
			return true;
	}
	return false;
}

/* The [swap] section: the keys of the swap the host uses now (sync_key:
 * the schema has swap.synchronous). */
static void swap_section(struct au_buf *b, const struct vl_host *h, bool sync_key)
{
	au_bprintf(b, "\n[swap]\n");
	if (h->swap_page_cluster >= 0 && h->swap_page_cluster <= 10)
		au_bprintf(b, "page_cluster = %d\n", h->swap_page_cluster);
	else
		au_bprintf(b, "; page_cluster: not detected (/proc/sys/vm/page-cluster)\n");
	if (h->swap_vma_ra >= 0)
		au_bprintf(b, "vma_readahead = %s\n", h->swap_vma_ra ? "on" : "off");
	else
		au_bprintf(b, "; vma_readahead: not detected (/sys/kernel/mm/swap/vma_ra_enabled)\n");
	if (h->swap_rotational >= 0)
		au_bprintf(b, "; rotational: from %s\nrotational = %s\n", h->swap_rot_from,
		    h->swap_rotational ? "on" : "off");
	else
		au_bprintf(b, "; rotational: not detected (%s)\n", h->swap_rot_from);
	if (sync_key) {
		if (h->swap_sync_dev[0])
			au_bprintf(b, "; synchronous: the swap device used first, %s%s\n",
			    h->swap_sync_dev,
			    h->swap_sync ? " (no readahead: swap-ins skip the swap cache)" : "");
		else
			au_bprintf(b, "; synchronous: no swap active (a swap file would be on a disk)\n");
		au_bprintf(b, "synchronous = %s\n", h->swap_sync ? "on" : "off");
	}
}

char *vl_host_ini(const struct vl_host *h, const struct vl_config *schema)
{
	struct au_buf b = { 0 };
	au_bprintf(&b, "; Machine configuration of this host, written by `vmlab host`.\n");
	au_bprintf(&b, "; Load it with `vmlab run -c FILE`; lines starting with ';' are facts\n");
	au_bprintf(&b, "; that are not configuration keys, or that could not be detected.\n");
	au_bprintf(&b, "; kernel: %s\n", h->kernel[0] ? h->kernel : "not detected");
	au_bprintf(&b, "; cpu: %s family 0x%x model 0x%x stepping %u%s%s%s\n", h->vendor, h->family,
	    h->model, h->stepping, h->cpu_name[0] ? " \"" : "", h->cpu_name,
	    h->cpu_name[0] ? "\"" : "");
	au_bprintf(&b, "; libpfm4 core PMU model: %s\n", h->pmu[0] ? h->pmu : "not detected");
	au_bprintf(&b, "; perf_event hardware PMU: %s\n",
	    h->core_pmu ? "present"
			: "not available (software events only; hardware and TLB events cannot be "
			  "counted here)");
	if (vl_config_declares(schema, "machine.name"))
		au_bprintf(&b, "\n[machine]\nname = host\n");
	au_bprintf(&b, "\n[memory]\n");
	if (h->mem_bytes)
		au_bprintf(&b, "size = %llu\n", (unsigned long long)(h->mem_bytes & ~4095ull));
	else
		au_bprintf(&b, "; size: not detected (/proc/meminfo unreadable)\n");
	if (h->page_size)
		au_bprintf(&b, "page_size = %llu\n", (unsigned long long)h->page_size);
	else
		au_bprintf(&b, "; page_size: not detected\n");
	au_bprintf(&b, "\n[thp]\n");
	if (h->thp_enabled[0])
		au_bprintf(&b, "enabled = %s\n", h->thp_enabled);
	else
		au_bprintf(&b, "; enabled: not detected (no /sys/kernel/mm/transparent_hugepage/enabled)\n");
	if (h->thp_defrag[0])
		au_bprintf(&b, "defrag = %s\n", h->thp_defrag);
	else
		au_bprintf(&b, "; defrag: not detected\n");
	if (h->thp_zero_page >= 0)
		au_bprintf(&b, "use_zero_page = %s\n", h->thp_zero_page ? "on" : "off");
	else
		au_bprintf(&b, "; use_zero_page: not detected\n");
	if (h->thp_pmd_bytes)
		au_bprintf(&b, "; PMD page size: %llu bytes\n", (unsigned long long)h->thp_pmd_bytes);
	au_bprintf(&b, "\n[file]\n");
	if (h->fault_around_bytes && h->page_size)
		au_bprintf(&b, "fault_around = %llu\n",
		    (unsigned long long)(h->fault_around_bytes / h->page_size));
	else
		au_bprintf(&b,
		    "; fault_around: not detected: %s.\n"
		    "; The linux preset's 16 pages (the kernel default, 64 KiB) applies.\n",
		    h->fault_around_why);
	/* core keys, in every build: written without a schema too (validate
	 * passes none; until 0.8.4 it then got no [swap] at all) */
	if (!schema || vl_config_declares(schema, "swap.page_cluster"))
		swap_section(&b, h, !schema || vl_config_declares(schema, "swap.synchronous"));
	bool tlb_keys = vl_config_declares(schema, "tlb.l1d.entries");
	for (unsigned i = 0; i < h->ntlb; i++) {
		const struct vl_host_tlb *t = &h->tlb[i];
		char ps[32];
		page_sizes(t->page_sizes, ps, sizeof(ps));
		const char *kind = t->kind == 'd' ? "data" : t->kind == 'i' ? "instr" : "unified";
		if (tlb_keys)
			au_bprintf(&b, "\n[tlb.%s]\nlevel = %u\nkind = %s\nentries = %u\nways = %u\npage_sizes = %s\n",
			    t->name, t->level, kind, t->entries, t->ways, ps);
		else
			au_bprintf(&b, "%s; tlb.%s: level %u, %s, %u entries, %u ways, pages %s\n",
			    i == 0 ? "\n" : "", t->name, t->level, kind, t->entries, t->ways, ps);
	}
	if (h->tlb_why[0])
		au_bprintf(&b, "%s; TLB: %s\n", h->ntlb ? "" : "\n", h->tlb_why);
	return au_buf_take(&b);
}
