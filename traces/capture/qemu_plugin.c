/* traces/capture/qemu_plugin.c - a TCG plugin for qemu-x86_64 (user mode)
 * that records the guest's memory accesses and address space into .vmt.
 *
 *   qemu-x86_64 -plugin vmlab-qemu.so,out=FILE[,ifetch=on] PROGRAM ARGS
 *   qemu-x86_64 -plugin vmlab-qemu.so,dir=DIR[,ifetch=on] PROGRAM ARGS
 * (`vmlab capture --backend qemu` builds the second: one file per process
 * and exec, DIR/PID.SEQ.vmt, with its file table in DIR/PID.SEQ.files,
 * merged by vmlab capture afterwards.)
 *
 * At translation time every instruction gets a memory callback
 * (qemu_plugin_register_vcpu_mem_cb), and with ifetch=on an execution
 * callback recording its fetch; the region-of-interest NOPs of
 * <vmlab/roi.h> get an execution callback that records the marker.  The
 * callbacks append to per-vCPU buffers (capbuf.h); guest threads are vCPUs
 * in user mode and run in parallel.
 *
 * Address space (docs/trace-format.md, the Linux V events):
 *  - at the first translation, before the guest runs, the initial
 *    mappings qemu's loader made (executable, interpreter, stack, the
 *    initial break) as V MMAP: guest regions and their protections from
 *    qemu's page flags (walk_memory_regions, page_get_flags: qemu exports
 *    its symbols to plugins; without them no initial mappings are recorded
 *    and a warning says so), their files from the host's /proc/self/maps
 *    at guest address + guest_base;
 *  - every successful mmap, munmap, mprotect, mremap, brk, madvise
 *    (dontneed, hugepage, nohugepage), shmat and shmdt, from the syscall
 *    callbacks (arguments at entry, result at return);
 *  - fork and clone without CLONE_VM or CLONE_VFORK: the child (a forked
 *    qemu) opens its own file and starts it with V FORK PARENT; threads
 *    stay in their process's file; a vfork child (qemu forks it) is not
 *    recorded before its exec: natively it borrows its parent's memory;
 *  - execve: the file is finished before the call (the process image may
 *    go); a failed exec opens the next one, with no V EXIT (the image goes
 *    on).  The exec'd program runs natively unless vmlab capture's preload
 *    shim (reexec.c) starts it under qemu again, whose plugin then begins
 *    with V EXIT for the old image.
 * Heap calls (docs/heap.md): vmlab-heap.so, preloaded in the guest,
 * reports each successful malloc, free, realloc ... through the system
 * call VMLAB_HEAP_SYSCALL (traces/capture/heapsys.h), recorded here as H
 * events; it first announces the range of its own code, whose accesses
 * and fetches are then dropped (the instruction's address travels as the
 * memory callback's user data).
 * A file is named by FILEID, a hash of (device, inode), so the same file is
 * the same id in every process; DIR/PID.SEQ.files lists
 * `ID DEV:INODE SIZE PATH` for the ids used.
 *
 * Debian's qemu-user 7.2 is built with plugins but ships no qemu-plugin.h,
 * so the part of the API used here is declared below, as in QEMU 7.2's
 * include/qemu/qemu-plugin.h (plugin API version 1).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "traces/capture/capbuf.h"
#include "traces/capture/heapsys.h"

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
typedef void (*qemu_plugin_vcpu_syscall_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index,
					      int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
					      uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
					      uint64_t a8);
typedef void (*qemu_plugin_vcpu_syscall_ret_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_idx,
						  int64_t num, int64_t ret);

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
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_syscall_cb_t cb);
void qemu_plugin_register_vcpu_syscall_ret_cb(qemu_plugin_id_t id,
					      qemu_plugin_vcpu_syscall_ret_cb_t cb);

/* qemu-user internals (accel/tcg/translate-all.c, linux-user), exported
 * to plugins because qemu links with -rdynamic; weak, so that a qemu
 * without them still loads the plugin (then without initial mappings). */
typedef int (*walk_memory_regions_fn)(void *, uint64_t, uint64_t, unsigned long);
extern int walk_memory_regions(void *, walk_memory_regions_fn) __attribute__((weak));
extern uintptr_t guest_base __attribute__((weak));
#define QPAGE_READ 0x1
#define QPAGE_WRITE 0x2
#define QPAGE_EXEC 0x4
#define QPAGE_WRITE_ORG 0x10 /* writable, protected while qemu holds code of it */

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;
EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);

/* ---- recording ---- */

#define MAX_VCPUS 1024

static struct capbuf *bufs[MAX_VCPUS];
/* the code of vmlab-heap.so in this process: [heap_lo, heap_lo + heap_len) */
static uint64_t heap_lo, heap_len;
/* a second vCPU (thread) exists or is being created: events are written
 * at once (emit), so that a block's ALLOC reaches the file before another
 * thread can free it, and a mapping before another thread's accesses to
 * it; with one thread they wait in its buffer, in order */
static volatile int threads;
static uint32_t my_pid;
/* when this process last entered fork or clone (CLOCK_MONOTONIC ns, after
 * flushing what came before): a forked child inherits it and dates its
 * V FORK just after it, so the merge puts the fork before whatever its
 * parent did after the call, however late the child first flushes */
static uint64_t fork_ns;
static bool want_ifetch;
/* code=on: one fetch record per page of each block at its translation
 * (just before its first execution), so code pages fault as on Linux
 * without a record per instruction executed */
static bool want_code;
static __thread struct capbuf *tl_buf; /* this vCPU thread's buffer, once known */

/* the preloaded vmlab-reexec.so inside the guest: its mappings are not
 * recorded and accesses to them are dropped (natively the program runs
 * without it); [hid_lo, hid_lo + hid_len) spans its image */
static uint64_t shim_id;
static uint64_t hid_lo, hid_len;

/* Stand-ins for the vDSO (qemu 7.2 gives the guest none): where Linux
 * maps [vvar] (4 pages) and [vdso] (2 pages), above anything qemu maps */
#define VVAR_STAND 0x7ffffff00000ull
#define VDSO_STAND (VVAR_STAND + 0x6000)
static const uint8_t roi_nop[2][7] = {
	{ 0x0f, 0x1f, 0x80, 0x01, 0x54, 0x4d, 0x56 },
	{ 0x0f, 0x1f, 0x80, 0x02, 0x54, 0x4d, 0x56 },
};

/* per-process files (dir=) */
static char out_dir[4096];
static char cmd_line[2048];
static unsigned file_seq;
static volatile int snap_done;
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t heap_start; /* page-aligned initial break; 0 before the first brk */
static uint64_t heap_end;

/* files named in this file's events, and shmat sizes for shmdt */
#define NFILES 1024
static uint64_t file_ids[NFILES];
static unsigned nfile_ids;
static FILE *files_out;
#define NSHM 64
static uint64_t shm_addr[NSHM], shm_len[NSHM];

/* syscall arguments at entry, per vCPU (the return callback has none) */
struct sysargs {
	int64_t num;
	uint64_t a[6];
};
static struct sysargs sargs[MAX_VCPUS];

static __attribute__((noinline)) struct capbuf *buf_new(unsigned int vcpu)
{
	if (vcpu >= MAX_VCPUS)
		return NULL;
	struct capbuf *b = calloc(1, sizeof(*b)); /* one vCPU runs on one thread: no race for the slot */
	__atomic_store_n(&bufs[vcpu], b, __ATOMIC_RELEASE);
	if (vcpu)
		threads = 1;
	return b;
}

static inline struct capbuf *buf_of(unsigned int vcpu)
{
	struct capbuf *b = vcpu < MAX_VCPUS ? __atomic_load_n(&bufs[vcpu], __ATOMIC_ACQUIRE) : NULL;
	if (__builtin_expect(b != NULL, 1))
		return b;
	return buf_new(vcpu);
}

/* What a memory callback's info says, without two calls into qemu per
 * access: a direct-mapped cache of info -> (store, size shift), filled
 * through the API (the encoding of info is qemu's own business).  An
 * entry is one 64-bit word: info << 32 | 0x100 (valid) | shift << 1 |
 * store, so threads racing on a slot see a whole entry or another one. */
static uint64_t mi_cache[256];

static inline unsigned mi_slot(qemu_plugin_meminfo_t info)
{
	return (info ^ (info >> 8) ^ (info >> 16)) & 255;
}

static __attribute__((noinline)) uint64_t mi_fill(qemu_plugin_meminfo_t info)
{
	uint64_t e = (uint64_t)info << 32 | 0x100 | (qemu_plugin_mem_size_shift(info) & 7) << 1 |
		     (qemu_plugin_mem_is_store(info) ? 1 : 0);
	__atomic_store_n(&mi_cache[mi_slot(info)], e, __ATOMIC_RELAXED);
	return e;
}

static inline uint64_t mi_get(qemu_plugin_meminfo_t info)
{
	uint64_t e = __atomic_load_n(&mi_cache[mi_slot(info)], __ATOMIC_RELAXED);
	if (__builtin_expect((e >> 32) != info || !(e & 0x100), 0))
		e = mi_fill(info);
	return e;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	if (__builtin_expect(!cap_on || vaddr - hid_lo < hid_len, 0))
		return;
	if (__builtin_expect((uint64_t)(uintptr_t)ud - heap_lo < heap_len, 0))
		return; /* an access of vmlab-heap.so's own code */
	struct capbuf *b = buf_of(vcpu);
	uint64_t mi = mi_get(info);
	if (b)
		cap_access(b, vaddr, (mi & 1) ? VL_OP_WRITE : VL_OP_READ,
			   (uint8_t)(1u << ((mi >> 1) & 7)), my_pid);
}

/* code=on: as on_mem, but the load and the store of one read-modify-write
 * instruction (ud: the instruction) at one address are one modify record:
 * x86 checks such an access as a write, and faults once */
static __attribute__((noinline)) void rmw_slow(unsigned int vcpu, qemu_plugin_meminfo_t info,
						uint64_t vaddr, const void *ud)
{
	struct capbuf *b = buf_of(vcpu);
	if (!b)
		return;
	uint64_t mi = mi_get(info);
	uint8_t size = (uint8_t)(1u << ((mi >> 1) & 7));
	if (mi & 1) {
		struct vl_rec *last = b->n ? &b->r[b->n - 1] : NULL;
		if (last && b->last_insn == ud && last->addr == vaddr && last->op == VL_OP_READ) {
			last->op = VL_OP_MODIFY;
			b->last_insn = NULL;
			return;
		}
		cap_access(b, vaddr, VL_OP_WRITE, size, my_pid);
	} else {
		cap_access(b, vaddr, VL_OP_READ, size, my_pid);
	}
	b->last_insn = ud;
}

/* The same in full: rmw_slow.  This is its common case (the buffer known
 * and not full, the info in the cache, one page), with no call, so that
 * it saves no registers. */
static void on_mem_rmw(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	if (__builtin_expect(!cap_on || vaddr - hid_lo < hid_len, 0))
		return;
	if (__builtin_expect((uint64_t)(uintptr_t)ud - heap_lo < heap_len, 0))
		return; /* an access of vmlab-heap.so's own code */
	struct capbuf *b = vcpu < MAX_VCPUS ? __atomic_load_n(&bufs[vcpu], __ATOMIC_ACQUIRE) : NULL;
	uint64_t mi = __atomic_load_n(&mi_cache[mi_slot(info)], __ATOMIC_RELAXED);
	unsigned size = 1u << ((mi >> 1) & 7);
	if (__builtin_expect(!b || (mi >> 32) != info || !(mi & 0x100) || b->n >= CAP_BUF ||
				     (vaddr & (VL_PAGE_SIZE - 1)) + size > VL_PAGE_SIZE,
			     0)) {
		rmw_slow(vcpu, info, vaddr, ud);
		return;
	}
	uint8_t op = VL_OP_READ;
	if (mi & 1) {
		if (b->n && b->last_insn == ud) {
			struct vl_rec *last = &b->r[b->n - 1];
			if (last->addr == vaddr && last->op == VL_OP_READ) {
				last->op = VL_OP_MODIFY;
				b->last_insn = NULL;
				return;
			}
		}
		op = VL_OP_WRITE;
	}
	b->r[b->n++] = (struct vl_rec){ .addr = vaddr, .pid = my_pid, .op = op, .size = (uint8_t)size };
	b->last_insn = ud;
}

static void on_fetch(unsigned int vcpu, void *ud)
{
	if (__builtin_expect(!cap_on, 0))
		return;
	struct capbuf *b = buf_of(vcpu);
	uint64_t a = (uint64_t)(uintptr_t)ud;
	if (__builtin_expect((a >> 4) - heap_lo < heap_len, 0))
		return;
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

/* ---- address-space events ---- */

static unsigned linux_prot(unsigned p)
{
	bool r = p & PROT_READ, w = p & PROT_WRITE, x = p & PROT_EXEC;
	if (!r && !w && !x)
		return VL_PROT_NOACCESS;
	if (x)
		return w ? VL_PROT_EXECUTE_READWRITE : r ? VL_PROT_EXECUTE_READ : VL_PROT_EXECUTE;
	return w ? VL_PROT_READWRITE : VL_PROT_READONLY;
}

/* splitmix64 of (dev, inode): the same file, the same id, in every
 * process; never 0 (anonymous) and below 2^63 (ids the model keeps for
 * anonymous sections) */
static uint64_t file_id_of(uint64_t dev, uint64_t ino)
{
	uint64_t z = dev * 0x9e3779b97f4a7c15ull + ino;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	z &= (1ull << 62) - 1;
	return z ? z : 1;
}

/* Name file id in this file's table (once). */
static void note_file(uint64_t id, uint64_t dev, uint64_t ino, uint64_t size, const char *path)
{
	for (unsigned i = 0; i < nfile_ids; i++)
		if (file_ids[i] == id)
			return;
	if (nfile_ids < NFILES)
		file_ids[nfile_ids++] = id;
	if (files_out) {
		fprintf(files_out, "%llu %u:%u:%llu %llu %s\n", (unsigned long long)id,
			major((dev_t)dev), minor((dev_t)dev), (unsigned long long)ino,
			(unsigned long long)size, path);
		fflush(files_out);
	}
}

static void emit(unsigned vcpu, uint32_t kind, uint32_t prot, uint64_t addr, uint64_t len,
		 uint64_t file_id, uint64_t offset)
{
	struct capbuf *b = buf_of(vcpu);
	if (!b || !cap_on)
		return;
	struct vl_event ev = { .kind = kind, .prot = prot, .addr = addr, .len = len,
			       .file_id = file_id, .offset = offset };
	/* one thread: the event waits in the buffer, in order, for the next
	 * flush (a write, a lock and a tick per event cost more than the
	 * event); with several, it goes out now, before any other thread's
	 * records that may depend on it (a FREE before the block's reuse) */
	if (threads)
		cap_vevent(b, &ev, my_pid);
	else
		cap_vevent_buffered(b, &ev, my_pid);
}

/* The file behind host fd: its id (0 when it is not a regular file). */
static uint64_t fd_file(int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	char link[64], path[4096];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	uint64_t id = file_id_of((uint64_t)st.st_dev, (uint64_t)st.st_ino);
	note_file(id, (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
		  n > 0 ? path : "?");
	return id;
}

/* A successful read, pread64, readv or preadv of ret bytes (x86-64
 * numbers): when its fd names a regular file, V FREAD of the bytes it read
 * (Linux brought them into the page cache).  qemu user mode runs the
 * guest's system calls in this process, so the guest's fd is ours; the
 * offset of a read is where the file position is now, less ret. */
static void file_read(unsigned vcpu, int64_t num, const uint64_t *a, uint64_t ret)
{
	int fd = (int)a[0];
	uint64_t fid = fd_file(fd);
	if (!fid)
		return;
	uint64_t off;
	if (num == 17 || num == 295) {
		off = a[3];
	} else {
		off_t pos = lseek(fd, 0, SEEK_CUR);
		if (pos < 0 || (uint64_t)pos < ret)
			return;
		off = (uint64_t)pos - ret;
	}
	emit(vcpu, VL_EV_FREAD, 0, 0, ret, fid, off);
}

/* host /proc/self/maps, for the files of the initial mappings */
struct hmap {
	uint64_t start, end, offset, ino;
	unsigned dmaj, dmin;
	bool shared;
	char path[256];
};
struct snap {
	struct hmap *m;
	size_t n;
	unsigned vcpu;
	int pagemap;       /* /proc/self/pagemap, or -1 */
	uint64_t files[4]; /* distinct files of the initial mappings (up to 4) */
	unsigned nfiles;
	uint64_t guard_end; /* end of the last PROT_NONE region seen (the stack's guard) */
};

/* Pages of guest range [at, to) that qemu's loader wrote before the first
 * instruction (the stack's arguments, environment and auxiliary vector;
 * the zeroed tail of a data segment's last file page): on the host they
 * are present and anonymous (pagemap bit 63 set, bit 61 "file page or
 * shared" clear).  Linux's exec writes the same pages from the kernel
 * (copy_to_user, padzero), faulting them; they become write records. */
static void loader_writes(const struct snap *s, uint64_t at, uint64_t to, uint64_t gb)
{
	struct capbuf *b = buf_of(s->vcpu);
	if (s->pagemap < 0 || !b)
		return;
	uint64_t ent[512];
	for (uint64_t p = at; p < to;) {
		size_t n = (size_t)((to - p) >> VL_PAGE_SHIFT);
		if (n > 512)
			n = 512;
		if (n == 0)
			break;
		ssize_t got = pread(s->pagemap, ent, n * 8, (off_t)(((p + gb) >> VL_PAGE_SHIFT) * 8));
		if (got <= 0)
			return;
		n = (size_t)got / 8;
		for (size_t i = 0; i < n; i++)
			if ((ent[i] >> 63) & 1 && !((ent[i] >> 61) & 1))
				cap_access(b, p + ((uint64_t)i << VL_PAGE_SHIFT), VL_OP_WRITE, 1, my_pid);
		p += (uint64_t)n << VL_PAGE_SHIFT;
	}
}

/* The first page of the stack [at, to) that holds the argument and
 * environment strings, or `to` when they cannot be found.  Linux's exec
 * copies the strings (copy_strings) into the new stack through
 * get_user_pages before the process's page-fault counting begins, and
 * such faults are no page-fault events anyway; only create_elf_tables'
 * writes below them (platform string, random bytes, argv/envp pointers,
 * auxiliary vector) fault.  qemu's loader lays the stack out the same
 * way (linux-user/elfload.c): the strings at the top, the tables below,
 * argc at the initial stack pointer.  The plugin API has no registers, so
 * the stack pointer is the first non-zero word of the lowest page the
 * loader wrote (the stack below it is fresh, zeroed memory); argv and envp
 * follow it, each ending in a null pointer, and every pointer must fall in
 * the stack for the layout to be believed. */
static uint64_t exec_strings(const struct snap *s, uint64_t at, uint64_t to, uint64_t gb)
{
	if (s->pagemap < 0 || !&guest_base)
		return to;
	uint64_t low = to; /* the lowest page the loader wrote */
	for (uint64_t p = at; p < to && low == to; p += VL_PAGE_SIZE) {
		uint64_t ent;
		if (pread(s->pagemap, &ent, 8, (off_t)(((p + gb) >> VL_PAGE_SHIFT) * 8)) != 8)
			return to;
		if ((ent >> 63) & 1 && !((ent >> 61) & 1))
			low = p;
	}
	const uint64_t *w = (const uint64_t *)(uintptr_t)(gb + low);
	size_t nw = (size_t)((to - low) / 8), i = 0;
	while (i < nw && w[i] == 0)
		i++;
	if (i == nw || w[i] == 0 || w[i] > (1u << 20))
		return to; /* no plausible argc */
	uint64_t argc = w[i++], lowest = to;
	for (int list = 0; list < 2; list++) { /* argv (argc entries), then envp */
		for (uint64_t n = 0;; n++, i++) {
			if (i >= nw)
				return to;
			if (w[i] == 0) {
				if (list == 0 && n != argc)
					return to;
				i++;
				break;
			}
			if (w[i] < low || w[i] >= to || (list == 0 && n >= argc))
				return to;
			if (w[i] < lowest)
				lowest = w[i];
		}
	}
	return lowest & ~(uint64_t)(VL_PAGE_SIZE - 1);
}

static int snap_region(void *priv, uint64_t start, uint64_t end, unsigned long flags)
{
	struct snap *s = priv;
	if (start >= (1ull << 47))
		return 0; /* [vsyscall]: emulated by qemu, no mapping of the process */
	unsigned p = 0;
	if (flags & QPAGE_READ)
		p |= PROT_READ;
	if (flags & (QPAGE_WRITE | QPAGE_WRITE_ORG))
		p |= PROT_WRITE;
	if (flags & QPAGE_EXEC)
		p |= PROT_EXEC;
	unsigned prot = linux_prot(p);
	uint64_t gb = &guest_base ? guest_base : 0;
	uint64_t at = start;
	while (at < end) {
		/* the host mapping holding guest page at, if any */
		const struct hmap *h = NULL;
		for (size_t i = 0; i < s->n && !h; i++)
			if (s->m[i].start <= at + gb && at + gb < s->m[i].end)
				h = &s->m[i];
		uint64_t to = end;
		if (h && h->end - gb < to)
			to = h->end - gb;
		if (!h) { /* up to the next host mapping */
			for (size_t i = 0; i < s->n; i++)
				if (s->m[i].start > at + gb && s->m[i].start - gb < to)
					to = s->m[i].start - gb;
		}
		uint64_t fid = 0, off = 0;
		bool shared = false;
		if (h && h->ino && h->path[0] == '/') {
			struct stat st;
			uint64_t dev = makedev(h->dmaj, h->dmin);
			uint64_t size = stat(h->path, &st) == 0 ? (uint64_t)st.st_size : 0;
			fid = file_id_of(dev, h->ino);
			note_file(fid, dev, h->ino, size, h->path);
			off = h->offset + (at + gb - h->start);
			shared = h->shared;
		} else if (h) {
			shared = h->shared;
		}
		emit(s->vcpu, VL_EV_MMAP, prot | (shared ? VL_MAP_SHARED : 0), at, to - at, fid, off);
		/* the stack (above its guard page) and private file data;
		 * qemu's own anonymous regions have no native counterpart */
		bool stack = !fid && s->guard_end && s->guard_end == at;
		if (!shared && (flags & (QPAGE_WRITE | QPAGE_WRITE_ORG)) && (fid || stack)) {
			uint64_t strings = stack ? exec_strings(s, at, to, gb) : to;
			loader_writes(s, at, strings, gb);
			if (strings < to) /* exec's copy_strings: get_user_pages */
				emit(s->vcpu, VL_EV_POPULATE, VL_POP_WRITE, strings, to - strings, 0,
				     0);
		}
		if (prot == VL_PROT_NOACCESS)
			s->guard_end = to;
		bool seen = !fid;
		for (unsigned i = 0; i < s->nfiles && !seen; i++)
			seen = s->files[i] == fid;
		if (!seen && s->nfiles < 4)
			s->files[s->nfiles++] = fid;
		at = to;
	}
	return 0;
}

/* The initial mappings, once, before the guest's first instruction. */
static void snapshot(unsigned vcpu)
{
	if (!walk_memory_regions) {
		fprintf(stderr, "%s: this qemu exports no walk_memory_regions: the initial "
				"mappings (executable, interpreter, stack) are not recorded\n",
			cap_who);
		return;
	}
	struct snap s = { .vcpu = vcpu, .pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) };
	size_t cap = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096 + 128];
	while (f && fgets(line, sizeof(line), f)) {
		struct hmap h = { 0 };
		char perms[8] = "", path[4096] = "";
		unsigned long long st, en, off, ino;
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %4095[^\n]", &st, &en, perms, &off,
			   &h.dmaj, &h.dmin, &ino, path) < 7)
			continue;
		h.start = st;
		h.end = en;
		h.offset = off;
		h.ino = ino;
		h.shared = perms[3] == 's';
		const char *p = path;
		while (*p == ' ')
			p++;
		snprintf(h.path, sizeof(h.path), "%s", p);
		if (s.n == cap) {
			cap = cap ? 2 * cap : 64;
			struct hmap *nm = realloc(s.m, cap * sizeof(*nm));
			if (!nm)
				break;
			s.m = nm;
		}
		s.m[s.n++] = h;
	}
	if (f)
		fclose(f);
	walk_memory_regions(&s, snap_region);
	free(s.m);
	if (s.pagemap >= 0)
		close(s.pagemap);
	/* the vDSO Linux maps in every process, and the one read of it that a
	 * dynamically linked program's loader makes (its ELF header, for its
	 * symbols): one minor fault natively */
	emit(vcpu, VL_EV_MMAP, VL_PROT_READONLY, VVAR_STAND, 0x6000, 0, 0);
	emit(vcpu, VL_EV_MMAP, VL_PROT_EXECUTE_READ, VDSO_STAND, 0x2000, 0, 0);
	/* exec read the first bytes of the executable and of its interpreter
	 * (kernel_read of BINPRM_BUF_SIZE = 256 bytes, the interpreter's ELF
	 * header), through the page cache with its read-ahead, before it
	 * mapped them */
	for (unsigned i = 0; i < s.nfiles; i++)
		emit(vcpu, VL_EV_FREAD, 0, 0, 256, s.files[i], 0);
	struct capbuf *b = buf_of(vcpu);
	if (s.nfiles >= 2 && b) /* an executable and its interpreter */
		cap_access(b, VDSO_STAND, VL_OP_READ, 8, my_pid);
}

/* The kernel read or wrote [a, a + n) of the guest for a system call
 * (copy_from_user, copy_to_user): one access per page, as Linux faults
 * each untouched page of a buffer it fills. */
static void kernel_access(unsigned vcpu, uint64_t a, uint64_t n, uint8_t op)
{
	struct capbuf *b = buf_of(vcpu);
	if (!b || !a || !n || n > (1ull << 34) || a - hid_lo < hid_len)
		return;
	for (uint64_t p = a, end = a + n; p < end; p = (p | (VL_PAGE_SIZE - 1)) + 1)
		cap_access(b, p, op, 1, my_pid);
}

/* An iovec array of the guest (readv, writev): each buffer, len bytes in all. */
static void kernel_iov(unsigned vcpu, uint64_t iov, uint64_t cnt, uint64_t len, uint8_t op)
{
	if (!&guest_base || !iov || cnt > 1024)
		return;
	const uint64_t *v = (const uint64_t *)(uintptr_t)(guest_base + iov);
	for (uint64_t i = 0; i < cnt && len; i++) {
		uint64_t l = v[2 * i + 1] < len ? v[2 * i + 1] : len;
		kernel_access(vcpu, v[2 * i], l, op);
		len -= l;
	}
}

/* What the kernel copies to or from the guest's memory in the system calls
 * common programs make (x86-64 numbers), after a successful call: the
 * buffers Linux touches on the program's behalf.  Sizes are those of the
 * x86-64 kernel structures. */
static void syscall_buffers(unsigned vcpu, int64_t num, const uint64_t *a, int64_t ret)
{
	const uint8_t W = VL_OP_WRITE, R = VL_OP_READ;
	uint64_t r = (uint64_t)ret;
	switch (num) {
	case 0: case 17: kernel_access(vcpu, a[1], r, W); break;  /* read, pread64 */
	case 1: case 18: kernel_access(vcpu, a[1], r, R); break;  /* write, pwrite64 */
	case 19: case 295: kernel_iov(vcpu, a[1], a[2], r, W); break; /* readv, preadv */
	case 20: case 296: kernel_iov(vcpu, a[1], a[2], r, R); break; /* writev, pwritev */
	case 4: case 5: case 6: kernel_access(vcpu, a[1], 144, W); break; /* stat, fstat, lstat */
	case 262: kernel_access(vcpu, a[2], 144, W); break;       /* newfstatat */
	case 332: kernel_access(vcpu, a[4], 256, W); break;       /* statx */
	case 137: case 138: kernel_access(vcpu, a[1], 120, W); break; /* statfs, fstatfs */
	case 78: case 217: kernel_access(vcpu, a[1], r, W); break; /* getdents(64) */
	case 318: kernel_access(vcpu, a[0], r, W); break;         /* getrandom */
	case 22: case 293: kernel_access(vcpu, a[0], 8, W); break; /* pipe, pipe2 */
	case 53: kernel_access(vcpu, a[3], 8, W); break;          /* socketpair */
	case 61: /* wait4 */
		kernel_access(vcpu, a[1], 4, W);
		kernel_access(vcpu, a[3], 144, W);
		break;
	case 13: kernel_access(vcpu, a[2], 32, W); break;  /* rt_sigaction: old action */
	case 14: kernel_access(vcpu, a[2], 8, W); break;   /* rt_sigprocmask: old set */
	case 63: kernel_access(vcpu, a[0], 390, W); break; /* uname */
	case 79: kernel_access(vcpu, a[0], r, W); break;   /* getcwd */
	case 89: kernel_access(vcpu, a[1], r, W); break;   /* readlink */
	case 267: kernel_access(vcpu, a[2], r, W); break;  /* readlinkat */
	case 97: kernel_access(vcpu, a[1], 16, W); break;  /* getrlimit */
	case 302: kernel_access(vcpu, a[3], 16, W); break; /* prlimit64: old limit */
	case 98: kernel_access(vcpu, a[1], 144, W); break; /* getrusage */
	case 99: kernel_access(vcpu, a[0], 112, W); break; /* sysinfo */
	case 100: kernel_access(vcpu, a[0], 32, W); break; /* times */
	case 204: kernel_access(vcpu, a[2], r, W); break;  /* sched_getaffinity */
	case 7: kernel_access(vcpu, a[0], a[1] * 8, W); break; /* poll: revents */
	case 16: /* ioctl: TCGETS, TIOCGWINSZ */
		if (a[1] == 0x5401)
			kernel_access(vcpu, a[2], 36, W);
		else if (a[1] == 0x5413)
			kernel_access(vcpu, a[2], 8, W);
		break;
	case 228: /* clock_gettime, gettimeofday, time, getcpu: the vDSO natively */
	case 96:
	case 201:
	case 309: {
		struct capbuf *b = buf_of(vcpu);
		if (b) {
			cap_access(b, VDSO_STAND, VL_OP_IFETCH, 1, my_pid);
			cap_access(b, VVAR_STAND + VL_PAGE_SIZE, VL_OP_READ, 8, my_pid);
		}
		if (num == 228)
			kernel_access(vcpu, a[1], 16, W);
		else if (num == 96)
			kernel_access(vcpu, a[0], 16, W);
		else if (num == 201)
			kernel_access(vcpu, a[0], 8, W);
		break;
	}
	default:
		break;
	}
}

/* Finish this process's current file (before an exec). */
static void close_side_files(void)
{
	if (files_out)
		fclose(files_out);
	files_out = NULL;
	if (cap_tickf)
		fclose(cap_tickf);
	cap_tickf = NULL;
}

static void finish_file(void)
{
	for (unsigned i = 0; i < MAX_VCPUS; i++)
		if (bufs[i])
			cap_flush(bufs[i]);
	cap_close();
	close_side_files();
}

/* Metadata space vmlab capture fills in place when the file is the only
 * one (the file table, the exit status): vl_vmt_fill_reserved. */
static char reserve[1 << 14];

/* Open DIR/PID.SEQ.vmt (and .files) for this process: the next SEQ free.
 * exec: the old image's end is recorded first (V EXIT) when an earlier
 * file of this pid exists. */
static int open_part(bool after_fork, uint32_t parent, bool same_image)
{
	char path[4200], fpath[4200];
	bool earlier = false;
	for (;; file_seq++) {
		snprintf(path, sizeof(path), "%s/%u.%u.vmt", out_dir, my_pid, file_seq);
		if (access(path, F_OK) != 0)
			break;
		earlier = true;
	}
	snprintf(fpath, sizeof(fpath), "%s/%u.%u.files", out_dir, my_pid, file_seq);
	files_out = fopen(fpath, "w");
	snprintf(fpath, sizeof(fpath), "%s/%u.%u.ticks", out_dir, my_pid, file_seq);
	cap_tickf = fopen(fpath, "w");
	cap_nrec = 0;
	nfile_ids = 0;
	if (!reserve[0]) {
		memcpy(reserve, "reserved=", 9);
		memset(reserve + 9, ' ', sizeof(reserve) - 11);
		reserve[sizeof(reserve) - 2] = '\n';
	}
	cap_extra = reserve;
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(cmd_line, " "), cmd_line);
	if (cap_open(path, "vmlab capture --backend qemu", cmd_line, name) < 0)
		return -1;
	struct capbuf *b = buf_of(0);
	if (earlier && !after_fork && !same_image && b)
		cap_event(b, VL_EV_EXIT, my_pid);
	if (after_fork && b) {
		/* a segment of its own (cap_vevent flushes), dated just after
		 * the parent's call */
		struct vl_event ev = { .kind = VL_EV_FORK, .addr = parent };
		cap_tick_ns = fork_ns ? fork_ns + 1 : 0;
		cap_vevent(b, &ev, my_pid);
		cap_tick_ns = 0;
	}
	return 0;
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1,
		       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6,
		       uint64_t a7, uint64_t a8)
{
	(void)id;
	(void)a7;
	(void)a8;
	if (vcpu >= MAX_VCPUS)
		return;
	sargs[vcpu] = (struct sysargs){ .num = num, .a = { a1, a2, a3, a4, a5, a6 } };
	if (num == VMLAB_HEAP_SYSCALL) {
		switch (a1) {
		case VMLAB_HEAP_HELLO:
			if (a3 > a2) {
				heap_lo = a2;
				heap_len = a3 - a2;
			}
			break;
		case VMLAB_HEAP_ALLOC:
			emit(vcpu, VL_EV_HEAP_ALLOC, 0, a2, a3, 0, a4);
			break;
		case VMLAB_HEAP_FREE:
			emit(vcpu, VL_EV_HEAP_FREE, 0, a2, 0, 0, 0);
			break;
		case VMLAB_HEAP_REALLOC:
			emit(vcpu, VL_EV_HEAP_REALLOC, 0, a2, a4, 0, a3);
			break;
		default:
			return;
		}
		/* threads: emit wrote the event before the call returns (a FREE
		 * before the real free makes the block available to others) */
		return;
	}
	if (!tl_buf)
		tl_buf = buf_of(vcpu);
	if (num == 56 && (a1 & 0x100) && cap_on) {
		/* clone(CLONE_VM): a thread is coming.  From now on events go
		 * out at once (emit), and those this one buffered go first,
		 * before the new thread records anything */
		threads = 1;
		struct capbuf *b = buf_of(vcpu);
		if (b)
			cap_flush(b);
	}
	if (!out_dir[0] || !cap_on)
		return;
	switch (num) {
	case 56: /* clone */
		if (a1 & 0x100) /* CLONE_VM: a thread */
			break;
		/* fall through */
	case 57: /* fork */
	case 58: /* vfork */
		/* everything before the fork goes out first, with its tick */
		for (unsigned i = 0; i < MAX_VCPUS; i++)
			if (bufs[i])
				cap_flush(bufs[i]);
		if (cap_tickf) /* nothing buffered for the child to write again */
			fflush(cap_tickf);
		{
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			fork_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		}
		break;
	case 59:  /* execve */
	case 322: /* execveat */
		finish_file();
		break;
	default:
		break;
	}
}

static void on_syscall_ret(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, int64_t ret)
{
	(void)id;
	if (vcpu >= MAX_VCPUS || sargs[vcpu].num != num)
		return;
	const uint64_t *a = sargs[vcpu].a;
	bool ok = ret >= 0 || ret < -4095;
	/* vfork (and clone with CLONE_VFORK, posix_spawn's): qemu runs it as
	 * a fork, but natively the child borrows its parent's memory until it
	 * execs: it is not recorded (no V FORK, no copy-on-write for the
	 * parent) until its exec starts the program it runs */
	bool vfork = num == 58 || (num == 56 && (a[0] & 0x4000));
	if (out_dir[0] && (num == 56 || num == 57) && ret == 0 && !vfork &&
	    !(num == 56 && (a[0] & 0x100)) && (uint32_t)getpid() != my_pid) {
		/* the child of a fork: a file of its own, starting as a copy */
		uint32_t parent = my_pid;
		my_pid = (uint32_t)getpid();
		pthread_mutex_init(&cap_lock, NULL);
		cap_w = NULL;
		cap_on = 0;
		file_seq = 0;
		files_out = NULL; /* the parent's streams; ours are opened next */
		cap_tickf = NULL;
		for (unsigned i = 0; i < MAX_VCPUS; i++)
			if (bufs[i])
				bufs[i]->n = bufs[i]->nev = 0;
		open_part(true, parent, false);
		return;
	}
	if (out_dir[0] && (num == 59 || num == 322)) { /* a failed exec: record on */
		if (!ok && !cap_on && (uint32_t)getpid() == my_pid) /* the image goes on: no V EXIT */
			open_part(false, 0, true);
		return;
	}
	if (!ok || !cap_on)
		return;
	if (want_code)
		syscall_buffers(vcpu, num, a, ret);
	if (ret > 0 && (num == 0 || num == 17 || num == 19 || num == 295))
		file_read(vcpu, num, a, (uint64_t)ret);
	bool hidden = hid_len && (a[0] - hid_lo < hid_len);
	switch (num) {
	case 9: { /* mmap(addr, len, prot, flags, fd, off) */
		bool anon = a[3] & MAP_ANONYMOUS;
		bool shared = (a[3] & 3) == MAP_SHARED || (a[3] & 3) == 3; /* MAP_SHARED_VALIDATE */
		uint64_t fid = anon ? 0 : fd_file((int)a[4]);
		if (fid && fid == shim_id) { /* vmlab-reexec.so: not the program's */
			uint64_t lo = hid_len ? hid_lo : (uint64_t)ret;
			uint64_t hi = hid_len ? hid_lo + hid_len : (uint64_t)ret;
			uint64_t e = ((uint64_t)ret + a[1] + VL_PAGE_SIZE - 1) & ~(uint64_t)(VL_PAGE_SIZE - 1);
			if ((uint64_t)ret < lo)
				lo = (uint64_t)ret;
			if (e > hi)
				hi = e;
			hid_lo = lo;
			hid_len = hi - lo;
			break;
		}
		if (hid_len && (uint64_t)ret - hid_lo < hid_len)
			break; /* inside the shim's image (its bss) */
		if (!anon && !fid && !shared) /* a device (/dev/zero): anonymous */
			fid = 0;
		emit(vcpu, VL_EV_MMAP, linux_prot((unsigned)a[2]) | (shared ? VL_MAP_SHARED : 0),
		     (uint64_t)ret, a[1], fid, fid ? a[5] : 0);
		break;
	}
	case 11: /* munmap */
		if (hidden)
			break;
		emit(vcpu, VL_EV_MUNMAP, 0, a[0], a[1], 0, 0);
		break;
	case 10: /* mprotect */
		if (hidden)
			break;
		emit(vcpu, VL_EV_MPROTECT, linux_prot((unsigned)a[2]), a[0], a[1], 0, 0);
		break;
	case 25: /* mremap(old, old_len, new_len, flags, new) */
		emit(vcpu, VL_EV_MREMAP, 0, a[0], a[1], a[2], (uint64_t)ret);
		break;
	case 12: { /* brk: the break after the call */
		uint64_t brk = (uint64_t)ret;
		if (!heap_start) {
			heap_start = (brk + VL_PAGE_SIZE - 1) & ~(uint64_t)(VL_PAGE_SIZE - 1);
			heap_end = heap_start;
		}
		uint64_t end = brk > heap_start ? brk : heap_start;
		end = (end + VL_PAGE_SIZE - 1) & ~(uint64_t)(VL_PAGE_SIZE - 1);
		if (end != heap_end) {
			heap_end = end;
			emit(vcpu, VL_EV_BRK, 0, heap_start, end - heap_start, 0, 0);
		}
		break;
	}
	case 28: /* madvise(addr, len, advice) */
		if (a[2] == MADV_DONTNEED)
			emit(vcpu, VL_EV_ADVISE, VL_ADV_DONTNEED, a[0], a[1], 0, 0);
		else if (a[2] == MADV_HUGEPAGE)
			emit(vcpu, VL_EV_ADVISE, VL_ADV_HUGEPAGE, a[0], a[1], 0, 0);
		else if (a[2] == MADV_NOHUGEPAGE)
			emit(vcpu, VL_EV_ADVISE, VL_ADV_NOHUGEPAGE, a[0], a[1], 0, 0);
		break;
	case 30: { /* shmat(id, addr, flags): a shared mapping of segment id */
		struct shmid_ds ds;
		uint64_t len = shmctl((int)a[0], IPC_STAT, &ds) == 0 ? ds.shm_segsz : VL_PAGE_SIZE;
		uint64_t fid = file_id_of(0x5348u, a[0]); /* "SH": segments are not files */
		char name[64];
		snprintf(name, sizeof(name), "shm:%llu", (unsigned long long)a[0]);
		note_file(fid, 0, a[0], len, name);
		emit(vcpu, VL_EV_MMAP,
		     ((a[2] & SHM_RDONLY) ? VL_PROT_READONLY : VL_PROT_READWRITE) | VL_MAP_SHARED,
		     (uint64_t)ret, len, fid, 0);
		for (unsigned i = 0; i < NSHM; i++)
			if (!shm_len[i]) {
				shm_addr[i] = (uint64_t)ret;
				shm_len[i] = len;
				break;
			}
		break;
	}
	case 67: /* shmdt(addr) */
		for (unsigned i = 0; i < NSHM; i++)
			if (shm_len[i] && shm_addr[i] == a[0]) {
				emit(vcpu, VL_EV_MUNMAP, 0, a[0], shm_len[i], 0, 0);
				shm_len[i] = 0;
				break;
			}
		break;
	default:
		break;
	}
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	if (__builtin_expect(!snap_done, 0)) {
		pthread_mutex_lock(&snap_lock);
		if (!snap_done && out_dir[0])
			snapshot(0);
		snap_done = 1;
		pthread_mutex_unlock(&snap_lock);
	}
	size_t n = qemu_plugin_tb_n_insns(tb);
	if (n && hid_len && qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0)) - hid_lo < hid_len)
		return; /* vmlab-reexec.so's code: not the program's */
	if (n && heap_len && qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0)) - heap_lo < heap_len)
		return; /* vmlab-heap.so's code, once it said where it is */
	if (n && want_code && !want_ifetch && cap_on) {
		/* the block's pages, fetched first now (translation precedes the
		 * first execution); a new thread's blocks before its first
		 * system call are not recorded (its buffer is not known yet) */
		struct capbuf *b = tl_buf;
		if (!b && syscall(SYS_gettid) == getpid())
			b = tl_buf = buf_of(0);
		struct qemu_plugin_insn *last = qemu_plugin_tb_get_insn(tb, n - 1);
		uint64_t first = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
		uint64_t end = qemu_plugin_insn_vaddr(last) + qemu_plugin_insn_size(last) - 1;
		if (b) {
			cap_access(b, first, VL_OP_IFETCH, 1, my_pid);
			if ((end ^ first) >> VL_PAGE_SHIFT)
				cap_access(b, end & ~(uint64_t)(VL_PAGE_SIZE - 1), VL_OP_IFETCH, 1, my_pid);
		}
	}
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
		/* the instruction's address as user data: vmlab-heap.so's code is
		 * known only once it runs, and translated blocks are kept */
		qemu_plugin_register_vcpu_mem_cb(insn, want_code ? on_mem_rmw : on_mem,
						 QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW,
						 (void *)(uintptr_t)qemu_plugin_insn_vaddr(insn));
	}
}

static void on_exit_cb(qemu_plugin_id_t id, void *ud)
{
	(void)id;
	(void)ud;
	if ((uint32_t)getpid() != my_pid || getpid() != cap_pid)
		return;
	for (unsigned i = 0; i < MAX_VCPUS; i++)
		if (bufs[i])
			cap_flush(bufs[i]);
	if (bufs[0] && cap_on)
		cap_event(bufs[0], VL_EV_EXIT, my_pid);
	cap_close();
	close_side_files();
}

/* qemu is about to kill itself with a fatal signal of the guest's (the
 * preload shim calls this from kill()): finish the file as at exit. */
static void on_fatal(void)
{
	on_exit_cb(0, NULL);
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	const char *out = NULL, *cmd = "", *dir = NULL;
	cap_who = "vmlab qemu plugin";
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out = argv[i] + 4;
		else if (!strncmp(argv[i], "dir=", 4))
			dir = argv[i] + 4;
		else if (!strcmp(argv[i], "ifetch=on") || !strcmp(argv[i], "ifetch=true"))
			want_ifetch = true;
		else if (!strcmp(argv[i], "ifetch=off") || !strcmp(argv[i], "ifetch=false"))
			want_ifetch = false;
		else if (!strcmp(argv[i], "code=on"))
			want_code = true;
		else if (!strcmp(argv[i], "code=off"))
			want_code = false;
		else if (!strncmp(argv[i], "cmd=", 4))
			cmd = argv[i] + 4;
		else {
			fprintf(stderr, "vmlab qemu plugin: unknown argument '%s' "
					"(expected out=FILE or dir=DIR, ifetch=on|off, code=on|off, cmd=TEXT)\n",
				argv[i]);
			return -1;
		}
	}
	if (!out == !dir) {
		fprintf(stderr, "vmlab qemu plugin: expected one of out=FILE, dir=DIR\n");
		return -1;
	}
	my_pid = (uint32_t)getpid();
	snprintf(cmd_line, sizeof(cmd_line), "%s", cmd);
	/* the preload shim, first in LD_PRELOAD (vmlab capture puts it there) */
	const char *pre = getenv("LD_PRELOAD");
	if (pre && *pre) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%.*s", (int)strcspn(pre, ": "), pre);
		if (strstr(path, "vmlab-reexec") && stat(path, &st) == 0)
			shim_id = file_id_of((uint64_t)st.st_dev, (uint64_t)st.st_ino);
	}
	if (dir) {
		snprintf(out_dir, sizeof(out_dir), "%s", dir);
		if (open_part(false, 0, false) < 0)
			return -1;
		qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
		qemu_plugin_register_vcpu_syscall_ret_cb(id, on_syscall_ret);
	} else {
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(cmd, " "), cmd);
		if (cap_open(out, "vmlab capture --backend qemu", cmd, name) < 0)
			return -1;
		qemu_plugin_register_vcpu_syscall_cb(id, on_syscall); /* heap events */
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
	void (*set_hook)(void (*)(void)) =
		(void (*)(void (*)(void)))dlsym(RTLD_DEFAULT, "vmlab_set_fatal_hook");
	if (set_hook)
		set_hook(on_fatal);
	return 0;
}
