/* policies/largepage/madvise.c - large pages only in explicit regions.
 *
 * Like madvise(MADV_HUGEPAGE) on Linux or VirtualAlloc(MEM_LARGE_PAGES) on
 * Windows: only aligned 2 MiB ranges lying wholly inside one of the regions
 * in largepage.madvise.regions ("0xSTART-0xEND,...", END exclusive) get 2
 * MiB pages.  Windows large pages are non-pageable, so these are pinned:
 * the replacement policy never sees them.  With fallback = off a range
 * that finds no free 2 MiB block fails (the access counts as an access
 * violation), as VirtualAlloc fails; with on it gets 4 KiB pages.
 */
#include <stdio.h>
#include <string.h>

#include "vmlab/policy.h"

static const struct vl_key_def params[] = {
	{ "regions", VL_KT_STR, "", "virtual ranges for large pages: 0xSTART-0xEND,... (END exclusive)",
	  NULL, 0, 0, NULL },
	{ "fallback", VL_KT_BOOL, "on", "fall back to 4 KiB pages when no 2 MiB block is free",
	  NULL, 0, 0, NULL },
};

#define MAX_REGIONS 64

struct madv {
	uint64_t start[MAX_REGIONS], end[MAX_REGIONS]; /* vpns, end exclusive */
	unsigned n;
	bool fallback;
};

static int madv_init(struct vl_lp *lp, struct vl_error *err)
{
	struct madv *m = calloc(1, sizeof(*m));
	if (!m)
		return vl_err(err, VL_ENOMEM, "largepage madvise: out of memory");
	const char *s = vl_config_str(lp->cfg, "largepage.madvise.regions");
	while (*s) {
		unsigned long long a, b;
		int used = 0;
		if (m->n == MAX_REGIONS || sscanf(s, "%llx-%llx%n", &a, &b, &used) != 2 || b <= a ||
		    (s[used] != ',' && s[used] != '\0')) {
			free(m);
			return vl_err(err, VL_EINVAL,
				      "largepage.madvise.regions: expected 0xSTART-0xEND[,...] with "
				      "START < END (at most %d ranges) at '%s'", MAX_REGIONS, s);
		}
		m->start[m->n] = a >> 12;
		m->end[m->n] = b >> 12;
		m->n++;
		s += used + (s[used] == ',');
	}
	m->fallback = vl_config_bool(lp->cfg, "largepage.madvise.fallback");
	lp->priv = m;
	return 0;
}

static void madv_fini(struct vl_lp *lp)
{
	free(lp->priv);
}

static unsigned madv_size(struct vl_lp *lp, const struct vl_lp_fault *f)
{
	const struct madv *m = lp->priv;
	uint64_t lo = f->vpn & ~511ull, hi = lo + 512;
	for (unsigned i = 0; i < m->n; i++)
		if (lo >= m->start[i] && hi <= m->end[i])
			return VL_LP_2M | VL_LP_PINNED | (m->fallback ? 0 : VL_LP_NOFALLBACK);
	return VL_LP_4K;
}

const struct vl_lp_ops vl_lp_madvise = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "madvise",
	.help = "non-pageable 2 MiB pages only in explicit regions (MEM_LARGE_PAGES / MADV_HUGEPAGE)",
	.params = params,
	.nparams = sizeof(params) / sizeof(params[0]),
	.init = madv_init,
	.fini = madv_fini,
	.fault_size = madv_size,
};
