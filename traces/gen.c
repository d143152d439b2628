/* traces/gen.c - synthetic trace generators (`vmlab gen`).
 *
 * Every generator yields n access records into batches, deterministically
 * from its seed (splitmix64), so a generated trace is reproducible from its
 * command line.  Parameters are "key=value" words; docs/trace-format.md
 * lists them.  Common keys: n (records), seed, writes (fraction of records
 * that are writes), base (first address), pid.
 *
 *   seq      base + i*step, wrapping at pages: each page touched step-wise
 *   strided  base + i*stride, wrapping at pages
 *   loop     one access per page, pages 0..pages-1, again and again
 *   uniform  a uniformly random byte of one of pages pages
 *   zipf     page of rank r drawn with probability proportional to r^-alpha
 *   phased   phases working sets of pages pages, each used uniformly for
 *            len records; consecutive sets overlap by the fraction overlap
 *   mix      procs processes (pids pid..pid+procs-1), each drawing zipf
 *            pages from its own address space, in round-robin quanta
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/internal.h"
#include "vmlab/policy.h"

enum gen_kind { G_SEQ, G_STRIDED, G_LOOP, G_UNIFORM, G_ZIPF, G_PHASED, G_MIX };

static const char *const kind_names[] = { "seq", "strided", "loop", "uniform",
					  "zipf", "phased", "mix" };
#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

struct vl_gen {
	enum gen_kind kind;
	uint64_t n, i, seed, rng, base, pages, step, stride, phases, len, procs, quantum;
	uint32_t pid;
	double writes, alpha, overlap;
	double *cdf; /* zipf, mix: cumulative probability of ranks 1..pages */
};

struct key {
	const char *name;
	bool is_double;
	size_t off;
	const char *def;
};

#define U(f) false, offsetof(struct vl_gen, f)
#define D(f) true, offsetof(struct vl_gen, f)
static const struct key keys[] = {
	{ "n", U(n), "1000000" },	  { "seed", U(seed), "1" },
	{ "base", U(base), "0x10000000" }, { "pages", U(pages), "1024" },
	{ "step", U(step), "64" },	  { "stride", U(stride), "8192" },
	{ "phases", U(phases), "4" },	  { "len", U(len), "250000" },
	{ "procs", U(procs), "4" },	  { "quantum", U(quantum), "1000" },
	{ "writes", D(writes), "0.25" },  { "alpha", D(alpha), "1.0" },
	{ "overlap", D(overlap), "0.5" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *vl_gen_kinds(void)
{
	return "seq, strided, loop, uniform, zipf, phased, mix";
}

static int set_key(struct vl_gen *g, const char *k, size_t klen, const char *v,
		   struct vl_error *err)
{
	if (klen == 3 && !strncmp(k, "pid", 3)) {
		char *end;
		unsigned long long x = strtoull(v, &end, 0);
		if (*end || x == 0 || x > UINT32_MAX)
			return vl_err(err, VL_EINVAL, "gen: pid expects 1..4294967295, got '%s'", v);
		g->pid = (uint32_t)x;
		return 0;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		if (strlen(keys[i].name) != klen || strncmp(keys[i].name, k, klen))
			continue;
		char *end;
		if (keys[i].is_double) {
			double x = strtod(v, &end);
			if (*end || !*v || !(x >= 0) || x > 1e6)
				return vl_err(err, VL_EINVAL, "gen: %s expects a number >= 0, got '%s'",
					      keys[i].name, v);
			*(double *)((char *)g + keys[i].off) = x;
		} else {
			if (*v == '-')
				return vl_err(err, VL_EINVAL, "gen: %s expects an unsigned integer, got '%s'",
					      keys[i].name, v);
			unsigned long long x = strtoull(v, &end, 0);
			if (*end || !*v)
				return vl_err(err, VL_EINVAL, "gen: %s expects an unsigned integer, got '%s'",
					      keys[i].name, v);
			*(uint64_t *)((char *)g + keys[i].off) = x;
		}
		return 0;
	}
	return vl_err(err, VL_EINVAL, "gen: unknown parameter '%.*s' (known: n, seed, writes, base, "
		      "pid, pages, step, stride, alpha, phases, len, overlap, procs, quantum)",
		      (int)klen, k);
}

static int build_cdf(struct vl_gen *g, struct vl_error *err)
{
	g->cdf = malloc(g->pages * sizeof(*g->cdf));
	if (!g->cdf)
		return vl_err(err, VL_ENOMEM, "gen: out of memory for %llu zipf ranks",
			      (unsigned long long)g->pages);
	double sum = 0;
	for (uint64_t r = 0; r < g->pages; r++) {
		sum += pow((double)(r + 1), -g->alpha);
		g->cdf[r] = sum;
	}
	for (uint64_t r = 0; r < g->pages; r++)
		g->cdf[r] /= sum;
	return 0;
}

int vl_gen_open(struct vl_gen **out, const char *kind, int nparams, char *const *params,
		struct vl_error *err)
{
	struct vl_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return vl_err(err, VL_ENOMEM, "gen: out of memory");
	size_t k;
	for (k = 0; k < NKINDS && strcmp(kind_names[k], kind); k++)
		;
	if (k == NKINDS) {
		free(g);
		return vl_err(err, VL_EINVAL, "gen: unknown generator '%s' (known: %s)", kind,
			      vl_gen_kinds());
	}
	g->kind = (enum gen_kind)k;
	g->pid = 1;
	int rc;
	for (size_t i = 0; i < NKEYS; i++)
		if ((rc = set_key(g, keys[i].name, strlen(keys[i].name), keys[i].def, err)) < 0)
			goto fail;
	for (int i = 0; i < nparams; i++) {
		const char *eq = strchr(params[i], '=');
		if (!eq) {
			rc = vl_err(err, VL_EINVAL, "gen: expected KEY=VALUE, got '%s'", params[i]);
			goto fail;
		}
		if ((rc = set_key(g, params[i], (size_t)(eq - params[i]), eq + 1, err)) < 0)
			goto fail;
	}
	if (g->pages == 0 || g->pages > (1ull << 30) || g->writes > 1 || g->step == 0 ||
	    g->stride == 0 || g->phases == 0 || g->len == 0 || g->procs == 0 ||
	    g->procs > 65536 || g->quantum == 0 || g->overlap >= 1 ||
	    g->base + g->pages * VL_PAGE_SIZE * (g->kind == G_PHASED ? g->phases : 1) < g->base) {
		rc = vl_err(err, VL_EINVAL, "gen: out of range: need 1 <= pages <= 2^30, writes <= 1, "
			    "overlap < 1, procs <= 65536, and step, stride, phases, len, quantum >= 1");
		goto fail;
	}
	if ((g->kind == G_ZIPF || g->kind == G_MIX) && (rc = build_cdf(g, err)) < 0)
		goto fail;
	g->rng = g->seed;
	*out = g;
	return 0;
fail:
	free(g);
	return rc;
}

void vl_gen_close(struct vl_gen *g)
{
	if (!g)
		return;
	free(g->cdf);
	free(g);
}

static double unit(uint64_t *rng)
{
	return (double)(vl_rand_next(rng) >> 11) * 0x1.0p-53;
}

static uint64_t zipf_page(struct vl_gen *g)
{
	double u = unit(&g->rng);
	uint64_t lo = 0, hi = g->pages - 1;
	while (lo < hi) { /* first rank with cdf >= u */
		uint64_t mid = lo + (hi - lo) / 2;
		if (g->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

ssize_t vl_gen_read(struct vl_gen *g, struct vl_batch *b, struct vl_error *err)
{
	(void)err;
	vl_batch_reset(b);
	uint64_t span = g->pages * VL_PAGE_SIZE;
	while (b->n < b->cap && g->i < g->n) {
		uint64_t i = g->i++, addr = 0;
		uint32_t pid = g->pid;
		switch (g->kind) {
		case G_SEQ: addr = g->base + (i * g->step) % span; break;
		case G_STRIDED: addr = g->base + (i * g->stride) % span; break;
		case G_LOOP: addr = g->base + (i % g->pages) * VL_PAGE_SIZE; break;
		case G_UNIFORM: addr = g->base + vl_rand_below(&g->rng, span); break;
		case G_ZIPF: addr = g->base + zipf_page(g) * VL_PAGE_SIZE; break;
		case G_PHASED: {
			uint64_t phase = (i / g->len) % g->phases;
			uint64_t shift = (uint64_t)((double)g->pages * (1.0 - g->overlap));
			if (shift == 0)
				shift = 1;
			addr = g->base + (phase * shift) * VL_PAGE_SIZE +
			       vl_rand_below(&g->rng, span);
			break;
		}
		case G_MIX: {
			uint64_t p = (i / g->quantum) % g->procs;
			pid = g->pid + (uint32_t)p;
			addr = g->base + zipf_page(g) * VL_PAGE_SIZE;
			break;
		}
		}
		uint8_t op = g->writes > 0 && unit(&g->rng) < g->writes ? VL_OP_WRITE : VL_OP_READ;
		b->recs[b->n++] = (struct vl_rec){ .addr = addr, .pid = pid, .op = op, .size = 0 };
	}
	return (ssize_t)b->n;
}

uint64_t vl_gen_procs(const struct vl_gen *g, uint32_t *first_pid)
{
	*first_pid = g->pid;
	return g->kind == G_MIX ? g->procs : 1;
}
