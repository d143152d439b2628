/* tests/fuzz/model_gen.h - random traces for the memory-manager model,
 * shared by the libFuzzer target (tests/fuzz/fuzz_model.c: bytes become
 * records) and the V-event stress test of make test
 * (tests/golden/test_vevent_stress.c: a seeded generator's words do).
 *
 * A 64-bit word is one record of a trace of three processes: mostly
 * accesses (reads, writes, fetches) to a few MiB of private memory and of
 * file views, else an address-space event (reserve, commit, decommit,
 * release, protect, map a view, unmap, advise, exit) with a protection
 * drawn from all of them, guard pages included.  mg_configs are the five
 * configurations every trace is replayed under:
 *   - the textbook personality with the `always` large-page policy,
 *   - the linux preset with THP always and khugepaged,
 *   - the windows preset,
 *   - the textbook personality without large pages or page tables in
 *     frames, where a COMMIT of a free range commits through its VAD
 *     (VAD_F_COMMITTED) and writes no PTE,
 *   - the linux preset under a memory cgroup's limit (memory.limit, 32
 *     of the 600 frames), where the views' cached file pages take extra
 *     frames outside the limit,
 * in little memory (mg_engine's common settings), with the invariant
 * checker on, so that eviction, trimming, the page lists, splits and
 * collapses all run.
 */
#ifndef VMLAB_TESTS_MODEL_GEN_H
#define VMLAB_TESTS_MODEL_GEN_H

#include <stdint.h>
#include <string.h>

#include "vmlab/vmlab.h"

#define MG_REGION 0x10000000ull
#define MG_VIEWS (MG_REGION + 0x1000000ull)

static const uint32_t mg_prots[] = {
	VL_PROT_NOACCESS, VL_PROT_READONLY, VL_PROT_READWRITE, VL_PROT_EXECUTE,
	VL_PROT_EXECUTE_READ, VL_PROT_EXECUTE_READWRITE, VL_PROT_WRITECOPY,
	VL_PROT_EXECUTE_WRITECOPY, VL_PROT_READWRITE | VL_PROT_GUARD,
	VL_PROT_READONLY | VL_PROT_GUARD,
};

static const char *const mg_configs[][8] = {
	{ "os.personality=textbook", "largepage.policy=always", "largepage.interval=64", NULL },
	{ "@linux", "thp.enabled=always", "thp.khugepaged=on", "thp.khugepaged.interval=64",
	  "memory.pt_frames=on", NULL },
	{ "@windows", "wsm.interval=64", "ws.min_pages=4", "ws.max_pages=24",
	  "wsm.available_pages=8", "mpw.threshold_pages=4", NULL },
	{ "os.personality=textbook", "replacement.policy=clock", NULL },
	{ "@linux", "memory.limit=128K", "memory.pt_frames=on", NULL },
};

/* The engine of configuration sets[] (NULL-terminated; "@NAME" loads the
 * os preset NAME) over the common settings; NULL with err filled. */
static struct vl_engine *mg_engine(const char *const *sets, struct vl_error *err)
{
	struct vl_config *cfg;
	struct vl_engine *e = NULL;
	if (vl_config_new(&cfg, err) < 0)
		return NULL;
	int rc = 0;
	for (size_t i = 0; sets[i] && rc == 0; i++)
		rc = sets[i][0] == '@' ? vl_config_load_preset(cfg, "os", sets[i] + 1, err)
				       : vl_config_set_arg(cfg, sets[i], err);
	const char *common[] = { "memory.frames=600", "pagefile.size=16M", "run.check=on",
				 "file.read_cluster=4", "file.fault_around=4", NULL };
	for (size_t i = 0; common[i] && rc == 0; i++)
		rc = vl_config_set_arg(cfg, common[i], err);
	if (rc == 0)
		vl_engine_new(&e, cfg, err);
	vl_config_free(cfg);
	return e;
}

/* One record from the word x: an access, or an event into *ev. */
static struct vl_rec mg_record(uint64_t x, struct vl_event *ev, int *is_event)
{
	uint32_t pid = 1 + (uint32_t)(x % 3);
	uint64_t page = (x >> 8) % 1024; /* 4 MiB of pages per process */
	unsigned k = (unsigned)((x >> 40) % 100);
	*is_event = k < 12;
	if (!*is_event) {
		uint64_t addr = MG_REGION + (page << 12);
		if (k < 35)
			addr = MG_VIEWS + (((x >> 48) % 4) << 20) + (((x >> 18) % 64) << 12);
		unsigned o = (unsigned)((x >> 30) % 10);
		uint8_t op = o < 6 ? VL_OP_READ : o < 9 ? VL_OP_WRITE : VL_OP_IFETCH;
		return (struct vl_rec){ .addr = addr, .pid = pid, .op = op };
	}
	memset(ev, 0, sizeof(*ev));
	uint64_t base = MG_REGION + (((x >> 48) % 64) << 16); /* 64 KiB slots */
	uint64_t len = (1 + (x >> 54) % 600) << 12;        /* up to 2.3 MiB: large pages */
	ev->prot = mg_prots[(x >> 20) % (sizeof(mg_prots) / sizeof(mg_prots[0]))];
	switch ((x >> 44) % 10) {
	case 0: ev->kind = VL_EV_RESERVE; ev->addr = base; ev->len = len; break;
	case 1:
	case 2: ev->kind = VL_EV_COMMIT; ev->addr = base; ev->len = len; break;
	case 3: ev->kind = VL_EV_DECOMMIT; ev->addr = base; ev->len = len; break;
	case 4: ev->kind = VL_EV_RELEASE; ev->addr = base; break;
	case 5: ev->kind = VL_EV_PROTECT; ev->addr = base; ev->len = len; break;
	case 6:
		ev->kind = VL_EV_MAP;
		ev->addr = MG_VIEWS + (((x >> 48) % 4) << 20);
		ev->len = 0x40000;
		ev->file_id = (x >> 50) % 3;
		ev->offset = ((x >> 52) % 4) << 12;
		break;
	case 7: ev->kind = VL_EV_UNMAP; ev->addr = MG_VIEWS + (((x >> 48) % 4) << 20); break;
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

#endif
