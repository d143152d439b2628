/* policies/tlb/srrip.c - static re-reference interval prediction.
 *
 * Jaleel et al., "High performance cache replacement using re-reference
 * interval prediction (RRIP)", ISCA 2010: each way holds a 2-bit RRPV.
 * Insert with RRPV 2 ("long" re-reference), a hit sets it to 0 (SRRIP-HP);
 * the victim is the lowest-numbered way with RRPV 3, ageing every way of
 * the set by one until one reaches 3.
 */
#include <string.h>

#include "vmlab/policy.h"

#define RRPV_MAX 3

static int srrip_init(struct vl_tlb_repl *t, struct vl_error *err)
{
	uint8_t *r = malloc((size_t)t->sets * t->ways);
	if (!r)
		return vl_err(err, VL_ENOMEM, "tlb srrip: out of memory");
	memset(r, RRPV_MAX, (size_t)t->sets * t->ways);
	t->priv = r;
	return 0;
}

static void srrip_fini(struct vl_tlb_repl *t)
{
	free(t->priv);
}

static void srrip_insert(struct vl_tlb_repl *t, uint32_t set, uint32_t way)
{
	((uint8_t *)t->priv)[(size_t)set * t->ways + way] = RRPV_MAX - 1;
}

static void srrip_touch(struct vl_tlb_repl *t, uint32_t set, uint32_t way)
{
	((uint8_t *)t->priv)[(size_t)set * t->ways + way] = 0;
}

static uint32_t srrip_victim(struct vl_tlb_repl *t, uint32_t set)
{
	uint8_t *r = (uint8_t *)t->priv + (size_t)set * t->ways;
	for (;;) {
		for (uint32_t w = 0; w < t->ways; w++)
			if (r[w] >= RRPV_MAX)
				return w;
		for (uint32_t w = 0; w < t->ways; w++)
			r[w]++;
	}
}

const struct vl_tlb_repl_ops vl_tlb_srrip = {
	.api_version = VL_POLICY_API_VERSION,
	.name = "srrip",
	.help = "static RRIP (2-bit re-reference prediction, hit promotion)",
	.init = srrip_init,
	.fini = srrip_fini,
	.insert = srrip_insert,
	.touch = srrip_touch,
	.victim = srrip_victim,
};
