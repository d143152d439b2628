/* traces/capture/sancov.c - runtime for clang's load/store coverage
 * callbacks: links into a program built with
 *     clang -fsanitize-coverage=edge,trace-loads,trace-stores
 * (`vmlab capture --flags` prints the flags) and, when the environment
 * variable VMLAB_TRACE_OUT names a file, records every instrumented load
 * and store into it as .vmt.  Without the variable the callbacks return at
 * once.  `vmlab capture --backend sancov -o F -- PROG` sets it.
 *
 * clang calls __sanitizer_cov_loadN(addr) / __sanitizer_cov_storeN(addr)
 * before each N-byte access (N = 1, 2, 4, 8, 16) of instrumented code; code
 * not compiled with the flags (libc, this runtime) is not recorded.  Each
 * thread fills its own buffer (capbuf.h); a thread's last partial buffer is
 * written when the thread exits, the main thread's at exit().
 * Region-of-interest markers from <vmlab/roi.h> call __vmlab_roi().
 */
#include <stdlib.h>

#include "traces/capture/capbuf.h"

static __thread struct capbuf *tls_buf;
static pthread_key_t buf_key;
static uint32_t my_pid;

static void thread_done(void *p)
{
	struct capbuf *b = p;
	cap_flush(b);
	free(b);
}

static struct capbuf *get_buf(void)
{
	struct capbuf *b = tls_buf;
	if (__builtin_expect(b != NULL, 1))
		return b;
	b = calloc(1, sizeof(*b));
	if (!b) {
		cap_on = 0;
		return NULL;
	}
	tls_buf = b;
	pthread_setspecific(buf_key, b);
	return b;
}

static inline void rec(const void *addr, uint8_t op, uint8_t size)
{
	if (__builtin_expect(!cap_on, 0))
		return;
	struct capbuf *b = get_buf();
	if (b)
		cap_access(b, (uint64_t)(uintptr_t)addr, op, size, my_pid);
}

#define CB(n)                                                                         \
	void __sanitizer_cov_load##n(void *a) { rec(a, VL_OP_READ, n); }               \
	void __sanitizer_cov_store##n(void *a) { rec(a, VL_OP_WRITE, n); }
void __sanitizer_cov_load1(void *a);
void __sanitizer_cov_load2(void *a);
void __sanitizer_cov_load4(void *a);
void __sanitizer_cov_load8(void *a);
void __sanitizer_cov_load16(void *a);
void __sanitizer_cov_store1(void *a);
void __sanitizer_cov_store2(void *a);
void __sanitizer_cov_store4(void *a);
void __sanitizer_cov_store8(void *a);
void __sanitizer_cov_store16(void *a);
CB(1)
CB(2)
CB(4)
CB(8)
CB(16)

void __vmlab_roi(int kind);
void __vmlab_roi(int kind)
{
	if (!cap_on)
		return;
	struct capbuf *b = get_buf();
	if (b)
		cap_event(b, kind == 1 ? VL_EV_ROI_BEGIN : VL_EV_ROI_END, my_pid);
}

static void at_exit(void)
{
	if (!cap_w || getpid() != cap_pid)
		return;
	struct capbuf *b = tls_buf;
	if (b && cap_on) {
		cap_flush(b);
		cap_event(b, VL_EV_EXIT, my_pid);
	}
	cap_close();
}

__attribute__((constructor)) static void init(void)
{
	const char *out = getenv("VMLAB_TRACE_OUT");
	if (!out || !*out)
		return;
	cap_who = "vmlab sancov runtime";
	pthread_key_create(&buf_key, thread_done);
	char cmd[4096];
	cap_cmdline(cmd, sizeof(cmd));
	char name[256];
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(cmd, " "), cmd);
	my_pid = (uint32_t)getpid();
	if (cap_open(out, "vmlab capture --backend sancov", cmd, name) == 0)
		atexit(at_exit);
}
