/* traces/capture/heap.c - vmlab-heap.so: the heap calls of a program
 * traced by the qemu back end, as H events (docs/heap.md).
 *
 * vmlab capture preloads this library (LD_PRELOAD, beside vmlab-reexec.so)
 * in every traced process.  It interposes malloc, calloc, realloc, free,
 * posix_memalign, aligned_alloc, memalign, valloc, pvalloc and
 * reallocarray: each calls glibc's own function and, when it succeeded,
 * tells the qemu plugin what it returned through a system call that does
 * not exist (VMLAB_HEAP_SYSCALL): the plugin's syscall callback sees the
 * number and its arguments and records the event; qemu answers ENOSYS and
 * nothing else happens.  So the library writes no memory of its own to
 * report an event.
 *
 * Its own accesses are kept out of the trace: all its code lives in one
 * section (vmlab_heap_text), whose bounds it announces to the plugin
 * (VMLAB_HEAP_HELLO) before anything else it does; the plugin drops the
 * accesses and fetches of instructions in that range.  The calls into
 * glibc go through pointers read by those instructions (no PLT stub of
 * this library runs), so what remains in the trace is glibc's allocator
 * itself, as without the library, one call frame deeper on the stack.
 * Before the announcement (the prologue of the very first call) a few
 * accesses are recorded.
 *
 * In qemu's own process (the preload reaches the emulator too) and in a
 * program run natively (before vmlab-reexec.so re-executes it under qemu)
 * the library only passes the calls on: it is inside qemu's guest when
 * /proc/self/comm names qemu (qemu does not emulate it) while
 * /proc/self/exe (which it does emulate) does not.
 *
 * Events: ALLOC ADDR SIZE ALIGN (ALIGN 0 for malloc, calloc; the alignment
 * asked for by the memalign family), FREE ADDR (free of a non-null
 * pointer, and realloc(p, 0), which frees p in glibc), REALLOC OLD NEW SIZE
 * (realloc and reallocarray of a non-null pointer that succeeded;
 * realloc(NULL, n) is an ALLOC).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "traces/capture/heapsys.h"

#define HTEXT __attribute__((section("vmlab_heap_text"), used))
#define EXPORT __attribute__((visibility("default")))

extern char __start_vmlab_heap_text[], __stop_vmlab_heap_text[];

/* glibc's allocator (the same code as malloc etc.: aliases) */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

static void *(*volatile real_malloc)(size_t) = __libc_malloc;
static void (*volatile real_free)(void *) = __libc_free;
static void *(*volatile real_calloc)(size_t, size_t) = __libc_calloc;
static void *(*volatile real_realloc)(void *, size_t) = __libc_realloc;
static void *(*volatile real_memalign)(size_t, size_t) = __libc_memalign;
static void *(*volatile real_valloc)(size_t) = __libc_valloc;
static void *(*volatile real_pvalloc)(size_t) = __libc_pvalloc;
/* glibc exports these only under their public names: dlsym(RTLD_NEXT) */
static int (*volatile real_posix_memalign)(void **, size_t, size_t);
static void *(*volatile real_reallocarray)(void *, size_t, size_t);

enum { UNKNOWN, RECORD, PASS, STARTING };
static volatile int state;

static inline __attribute__((always_inline)) long raw3(long n, long a, long b, long c)
{
	long ret;
	register long r10 __asm__("r10") = 0;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline __attribute__((always_inline)) void heap_event(long kind, long a, long b, long c)
{
	register long r10 __asm__("r10") = c;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)VMLAB_HEAP_SYSCALL), "D"(kind), "S"(a), "d"(b), "r"(r10)
			 : "rcx", "r11", "memory");
	(void)ret;
}

/* Whether the first n bytes of path's content (a file, or a link's
 * target with is_link) end in name after the last '/', compared up to
 * len bytes: raw system calls, our own stack. */
HTEXT static int names(const char *path, int is_link, const char *name, int len)
{
	char buf[512];
	long n;
	if (is_link) {
		n = raw3(89 /* readlink */, (long)path, (long)buf, sizeof(buf) - 1);
	} else {
		long fd = raw3(2 /* open */, (long)path, 0 /* O_RDONLY */, 0);
		if (fd < 0)
			return -1;
		n = raw3(0 /* read */, fd, (long)buf, sizeof(buf) - 1);
		raw3(3 /* close */, fd, 0, 0);
	}
	if (n <= 0)
		return -1;
	int start = 0;
	for (int i = 0; i < n; i++)
		if (buf[i] == '/')
			start = i + 1;
	for (int i = 0; i < len; i++)
		if (start + i >= n || buf[start + i] != name[i])
			return 0;
	return 1;
}

HTEXT __attribute__((noinline)) static void start(void)
{
	int expected = UNKNOWN;
	if (!__atomic_compare_exchange_n(&state, &expected, STARTING, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		while (state == STARTING)
			; /* another thread is starting the library */
		return;
	}
	heap_event(VMLAB_HEAP_HELLO, (long)__start_vmlab_heap_text, (long)__stop_vmlab_heap_text, 0);
	int saved = errno;
	static const char qemu[] = "qemu-x86_64";
	int guest = names("/proc/self/comm", 0, qemu, 11) == 1 &&
		    names("/proc/self/exe", 1, qemu, 11) == 0;
	if (guest) {
		/* our calls of dlsym allocate nothing that is freed later */
		__atomic_store_n(&state, PASS, __ATOMIC_RELEASE);
		real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
		real_reallocarray = (void *(*)(void *, size_t, size_t))dlsym(RTLD_NEXT, "reallocarray");
		if (real_posix_memalign && real_reallocarray)
			__atomic_store_n(&state, RECORD, __ATOMIC_RELEASE);
	} else {
		real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
		real_reallocarray = (void *(*)(void *, size_t, size_t))dlsym(RTLD_NEXT, "reallocarray");
		__atomic_store_n(&state, PASS, __ATOMIC_RELEASE);
	}
	errno = saved;
}

HTEXT __attribute__((constructor(101))) static void vmlab_heap_init(void)
{
	if (state == UNKNOWN)
		start();
}

static inline __attribute__((always_inline)) int recording(void)
{
	int s = state;
	if (__builtin_expect(s == RECORD, 1))
		return 1;
	if (s == UNKNOWN)
		start();
	return state == RECORD;
}

HTEXT EXPORT void *malloc(size_t n)
{
	void *p = real_malloc(n);
	if (p && recording())
		heap_event(VMLAB_HEAP_ALLOC, (long)p, (long)n, 0);
	return p;
}

HTEXT EXPORT void free(void *p)
{
	if (p && recording())
		heap_event(VMLAB_HEAP_FREE, (long)p, 0, 0);
	real_free(p);
}

HTEXT EXPORT void *calloc(size_t n, size_t size)
{
	void *p = real_calloc(n, size);
	if (p && recording())
		heap_event(VMLAB_HEAP_ALLOC, (long)p, (long)(n * size), 0);
	return p;
}

HTEXT EXPORT void *realloc(void *old, size_t n)
{
	void *p = real_realloc(old, n);
	if (!recording())
		return p;
	if (!old) {
		if (p)
			heap_event(VMLAB_HEAP_ALLOC, (long)p, (long)n, 0);
	} else if (p) {
		heap_event(VMLAB_HEAP_REALLOC, (long)old, (long)p, (long)n);
	} else if (n == 0) {
		heap_event(VMLAB_HEAP_FREE, (long)old, 0, 0); /* glibc's realloc(p, 0) frees p */
	}
	return p;
}

HTEXT EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	if (!real_reallocarray)
		start();
	void *p = real_reallocarray ? real_reallocarray(old, n, size) : NULL;
	if (!recording())
		return p;
	if (!old) {
		if (p)
			heap_event(VMLAB_HEAP_ALLOC, (long)p, (long)(n * size), 0);
	} else if (p) {
		heap_event(VMLAB_HEAP_REALLOC, (long)old, (long)p, (long)(n * size));
	} else if (n * size == 0) {
		heap_event(VMLAB_HEAP_FREE, (long)old, 0, 0);
	}
	return p;
}

HTEXT EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (!real_posix_memalign)
		start();
	int rc = real_posix_memalign ? real_posix_memalign(out, align, n) : ENOMEM;
	if (rc == 0 && recording())
		heap_event(VMLAB_HEAP_ALLOC, (long)*out, (long)n, (long)align);
	return rc;
}

HTEXT EXPORT void *memalign(size_t align, size_t n)
{
	void *p = real_memalign(align, n);
	if (p && recording())
		heap_event(VMLAB_HEAP_ALLOC, (long)p, (long)n, (long)align);
	return p;
}

HTEXT EXPORT void *aligned_alloc(size_t align, size_t n)
{
	void *p = real_memalign(align, n); /* glibc's aligned_alloc is memalign */
	if (p && recording())
		heap_event(VMLAB_HEAP_ALLOC, (long)p, (long)n, (long)align);
	return p;
}

HTEXT EXPORT void *valloc(size_t n)
{
	void *p = real_valloc(n);
	if (p && recording())
		heap_event(VMLAB_HEAP_ALLOC, (long)p, (long)n, 4096);
	return p;
}

HTEXT EXPORT void *pvalloc(size_t n)
{
	void *p = real_pvalloc(n);
	/* pvalloc rounds the size up to a page */
	if (p && recording())
		heap_event(VMLAB_HEAP_ALLOC, (long)p, (long)((n + 4095) & ~(size_t)4095), 4096);
	return p;
}
