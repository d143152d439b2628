/* traces/capture/qemu_plugin.c - a TCG plugin for qemu-x86_64 (user mode)
 * that records the guest's memory accesses into .vmt.
 *
 *   qemu-x86_64 -plugin vmlab-qemu.so,out=FILE[,ifetch=on] PROGRAM ARGS
 * (`vmlab capture --backend qemu` builds this command line.)
 *
 * At translation time every instruction gets a memory callback
 * (qemu_plugin_register_vcpu_mem_cb), and with ifetch=on an execution
 * callback recording its fetch; the region-of-interest NOPs of
 * <vmlab/roi.h> get an execution callback that records the marker.  The
 * callbacks append to per-vCPU buffers (capbuf.h); guest threads are vCPUs
 * in user mode and run in parallel.
 *
 * Debian's qemu-user 7.2 is built with plugins but ships no qemu-plugin.h,
 * so the part of the API used here is declared below, as in QEMU 7.2's
 * include/qemu/qemu-plugin.h (plugin API version 1).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "traces/capture/capbuf.h"

/* ---- the QEMU 7.2 plugin API subset (API version 1) ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* not dereferenced */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef uint32_t qemu_plugin_meminfo_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_mem_rw { QEMU_PLUGIN_MEM_R = 1, QEMU_PLUGIN_MEM_W, QEMU_PLUGIN_MEM_RW };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
					  uint64_t vaddr, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
				      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
				      void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags, void *userdata);
unsigned int qemu_plugin_mem_size_shift(qemu_plugin_meminfo_t info);
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;
EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);

/* ---- recording ---- */

#define MAX_VCPUS 1024

static struct capbuf *bufs[MAX_VCPUS];
static uint32_t my_pid;
static bool want_ifetch;
static const uint8_t roi_nop[2][7] = {
	{ 0x0f, 0x1f, 0x80, 0x01, 0x54, 0x4d, 0x56 },
	{ 0x0f, 0x1f, 0x80, 0x02, 0x54, 0x4d, 0x56 },
};

static struct capbuf *buf_of(unsigned int vcpu)
{
	if (vcpu >= MAX_VCPUS)
		return NULL;
	struct capbuf *b = __atomic_load_n(&bufs[vcpu], __ATOMIC_ACQUIRE);
	if (__builtin_expect(b != NULL, 1))
		return b;
	b = calloc(1, sizeof(*b)); /* one vCPU runs on one thread: no race for the slot */
	__atomic_store_n(&bufs[vcpu], b, __ATOMIC_RELEASE);
	return b;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	(void)ud;
	if (__builtin_expect(!cap_on, 0))
		return;
	struct capbuf *b = buf_of(vcpu);
	if (b)
		cap_access(b, vaddr, qemu_plugin_mem_is_store(info) ? VL_OP_WRITE : VL_OP_READ,
			   (uint8_t)(1u << qemu_plugin_mem_size_shift(info)), my_pid);
}

static void on_fetch(unsigned int vcpu, void *ud)
{
	if (__builtin_expect(!cap_on, 0))
		return;
	struct capbuf *b = buf_of(vcpu);
	uint64_t a = (uint64_t)(uintptr_t)ud;
	if (b)
		cap_access(b, a >> 4, VL_OP_IFETCH, (uint8_t)(a & 15), my_pid);
}

static void on_roi(unsigned int vcpu, void *ud)
{
	if (!cap_on)
		return;
	struct capbuf *b = buf_of(vcpu);
	if (b)
		cap_event(b, ud ? VL_EV_ROI_END : VL_EV_ROI_BEGIN, my_pid);
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(tb);
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		size_t len = qemu_plugin_insn_size(insn);
		if (want_ifetch) /* vaddr << 4 | length (x86 instructions are <= 15 bytes) */
			qemu_plugin_register_vcpu_insn_exec_cb(
				insn, on_fetch, QEMU_PLUGIN_CB_NO_REGS,
				(void *)(uintptr_t)((qemu_plugin_insn_vaddr(insn) << 4) | (len & 15)));
		if (len == 7) {
			const uint8_t *d = qemu_plugin_insn_data(insn);
			for (int k = 0; k < 2; k++)
				if (!memcmp(d, roi_nop[k], 7))
					qemu_plugin_register_vcpu_insn_exec_cb(insn, on_roi,
									       QEMU_PLUGIN_CB_NO_REGS,
									       (void *)(uintptr_t)k);
		}
		qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS,
						 QEMU_PLUGIN_MEM_RW, NULL);
	}
}

static void on_exit_cb(qemu_plugin_id_t id, void *ud)
{
	(void)id;
	(void)ud;
	if (getpid() != cap_pid)
		return;
	for (unsigned i = 0; i < MAX_VCPUS; i++)
		if (bufs[i])
			cap_flush(bufs[i]);
	if (bufs[0] && cap_on)
		cap_event(bufs[0], VL_EV_EXIT, my_pid);
	cap_close();
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	const char *out = NULL, *cmd = "";
	cap_who = "vmlab qemu plugin";
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out = argv[i] + 4;
		else if (!strcmp(argv[i], "ifetch=on") || !strcmp(argv[i], "ifetch=true"))
			want_ifetch = true;
		else if (!strcmp(argv[i], "ifetch=off") || !strcmp(argv[i], "ifetch=false"))
			want_ifetch = false;
		else if (!strncmp(argv[i], "cmd=", 4))
			cmd = argv[i] + 4;
		else {
			fprintf(stderr, "vmlab qemu plugin: unknown argument '%s' "
					"(expected out=FILE, ifetch=on|off, cmd=TEXT)\n", argv[i]);
			return -1;
		}
	}
	if (!out) {
		fprintf(stderr, "vmlab qemu plugin: missing out=FILE\n");
		return -1;
	}
	my_pid = (uint32_t)getpid();
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(cmd, " "), cmd);
	if (cap_open(out, "vmlab capture --backend qemu", cmd, name) < 0)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
	return 0;
}
