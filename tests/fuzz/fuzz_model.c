/* tests/fuzz/fuzz_model.c - libFuzzer target for the memory-manager model.
 *
 * The input is read 8 bytes at a time, each word one record of a trace of
 * three processes: mostly accesses (reads, writes, fetches) to a few MiB
 * of private memory and of file views, else an address-space event
 * (reserve, commit, decommit, release, protect, map a view, unmap, advise,
 * exit) with a protection drawn from all of them, guard pages included.
 * The same records are replayed under three configurations, each with the
 * invariant checker after every record (batches of one):
 *   - the textbook personality with the `always` large-page policy,
 *   - the linux preset with THP always and khugepaged,
 *   - the windows preset,
 * in little memory, so that eviction, trimming, the page lists, splits
 * and collapses all run.  Any error but running out of frames or page
 * file (VL_ELIMIT: the trace asked for more than the machine has) is a
 * finding: the model broke one of its invariants (VL_ESTATE), or crashed
 * or leaked under the sanitizers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmlab/vmlab.h"

#define REGION 0x10000000ull
#define VIEWS (REGION + 0x1000000ull)

static const uint32_t prots[] = {
	VL_PROT_NOACCESS, VL_PROT_READONLY, VL_PROT_READWRITE, VL_PROT_EXECUTE,
	VL_PROT_EXECUTE_READ, VL_PROT_EXECUTE_READWRITE, VL_PROT_WRITECOPY,
	VL_PROT_EXECUTE_WRITECOPY, VL_PROT_READWRITE | VL_PROT_GUARD,
	VL_PROT_READONLY | VL_PROT_GUARD,
};

static const char *const configs[][8] = {
	{ "os.personality=textbook", "largepage.policy=always", "largepage.interval=64", NULL },
	{ "@linux", "thp.enabled=always", "thp.khugepaged=on", "thp.khugepaged.interval=64",
	  "memory.pt_frames=on", NULL },
	{ "@windows", "wsm.interval=64", "ws.min_pages=4", "ws.max_pages=24",
	  "wsm.available_pages=8", "mpw.threshold_pages=4", NULL },
};

static struct vl_engine *engine(const char *const *sets)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	struct vl_engine *e = NULL;
	if (vl_config_new(&cfg, &err) < 0)
		abort();
	for (size_t i = 0; sets[i]; i++) {
		int rc = sets[i][0] == '@' ? vl_config_load_preset(cfg, "os", sets[i] + 1, &err)
					   : vl_config_set_arg(cfg, sets[i], &err);
		if (rc < 0) {
			fprintf(stderr, "fuzz_model: %s: %s\n", sets[i], err.msg);
			abort();
		}
	}
	const char *common[] = { "memory.frames=600", "pagefile.size=16M", "run.check=on",
				 "file.read_cluster=4", "file.fault_around=4", NULL };
	for (size_t i = 0; common[i]; i++)
		if (vl_config_set_arg(cfg, common[i], &err) < 0)
			abort();
	if (vl_engine_new(&e, cfg, &err) < 0) {
		fprintf(stderr, "fuzz_model: engine: %s\n", err.msg);
		abort();
	}
	vl_config_free(cfg);
	return e;
}

/* One record from the word x: an access, or an event into *ev. */
static struct vl_rec record(uint64_t x, struct vl_event *ev, int *is_event)
{
	uint32_t pid = 1 + (uint32_t)(x % 3);
	uint64_t page = (x >> 8) % 1024; /* 4 MiB of pages per process */
	unsigned k = (unsigned)((x >> 40) % 100);
	*is_event = k < 12;
	if (!*is_event) {
		uint64_t addr = REGION + (page << 12);
		if (k < 35)
			addr = VIEWS + (((x >> 48) % 4) << 20) + (((x >> 18) % 64) << 12);
		unsigned o = (unsigned)((x >> 30) % 10);
		uint8_t op = o < 6 ? VL_OP_READ : o < 9 ? VL_OP_WRITE : VL_OP_IFETCH;
		return (struct vl_rec){ .addr = addr, .pid = pid, .op = op };
	}
	memset(ev, 0, sizeof(*ev));
	uint64_t base = REGION + (((x >> 48) % 64) << 16); /* 64 KiB slots */
	uint64_t len = (1 + (x >> 54) % 600) << 12;        /* up to 2.3 MiB: large pages */
	ev->prot = prots[(x >> 20) % (sizeof(prots) / sizeof(prots[0]))];
	switch ((x >> 44) % 10) {
	case 0: ev->kind = VL_EV_RESERVE; ev->addr = base; ev->len = len; break;
	case 1:
	case 2: ev->kind = VL_EV_COMMIT; ev->addr = base; ev->len = len; break;
	case 3: ev->kind = VL_EV_DECOMMIT; ev->addr = base; ev->len = len; break;
	case 4: ev->kind = VL_EV_RELEASE; ev->addr = base; break;
	case 5: ev->kind = VL_EV_PROTECT; ev->addr = base; ev->len = len; break;
	case 6:
		ev->kind = VL_EV_MAP;
		ev->addr = VIEWS + (((x >> 48) % 4) << 20);
		ev->len = 0x40000;
		ev->file_id = (x >> 50) % 3;
		ev->offset = ((x >> 52) % 4) << 12;
		break;
	case 7: ev->kind = VL_EV_UNMAP; ev->addr = VIEWS + (((x >> 48) % 4) << 20); break;
	case 8:
		ev->kind = VL_EV_ADVISE;
		ev->addr = base;
		ev->len = len;
		ev->prot = (x >> 62) & 1 ? VL_ADV_HUGEPAGE : VL_ADV_NOHUGEPAGE;
		break;
	default: ev->kind = VL_EV_EXIT; break;
	}
	return (struct vl_rec){ .pid = pid, .op = VL_OP_EVENT };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vl_batch b;
	struct vl_error err = { 0 };
	if (!b.recs && vl_batch_init(&b, 4, &err) < 0)
		abort();
	size_t n = size / 8 > 4096 ? 4096 : size / 8;
	for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
		struct vl_engine *e = engine(configs[c]);
		for (size_t i = 0; i < n; i++) {
			uint64_t x;
			memcpy(&x, data + 8 * i, 8);
			int is_event;
			vl_batch_reset(&b);
			b.recs[0] = record(x, &b.events[0], &is_event);
			b.n = 1;
			b.n_events = is_event ? 1 : 0;
			if (vl_engine_feed(e, &b, &err) < 0) {
				if (err.code == VL_ELIMIT)
					break; /* the trace wants more memory than there is */
				fprintf(stderr, "fuzz_model: config %zu, record %zu: %s\n", c, i, err.msg);
				abort();
			}
		}
		vl_engine_free(e);
	}
	return 0;
}
