/* vmlab/roi.h - region-of-interest markers for programs whose memory
 * accesses vmlab captures.
 *
 *   #include <vmlab/roi.h>
 *   ...set-up...
 *   vmlab_roi_begin();
 *   ...the part to study...
 *   vmlab_roi_end();
 *
 * `vmlab capture` records each marker as a VL_EV_ROI_BEGIN / VL_EV_ROI_END
 * event whatever the back end, and `vmlab run --roi` replays only the
 * accesses between them.  Outside a capture the markers cost a few
 * instructions and do nothing.  How each back end sees them:
 *   qemu    a 7-byte long NOP, `nopl 0x564d5401(%rax)` (begin) or
 *           `...02` (end), that the vmlab TCG plugin recognises;
 *   lackey  VALGRIND_PRINTF("vmlab-roi-begin\n"), when valgrind.h is
 *           installed (Debian package valgrind), which valgrind writes into
 *           the lackey log the capture reads;
 *   sancov  a call to __vmlab_roi(), defined by the vmlab sancov runtime
 *           (a weak reference: NULL in a program linked without it).
 * Header-only; needs no vmlab library.
 */
#ifndef VMLAB_ROI_H
#define VMLAB_ROI_H

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define VMLAB_ROI_VALGRIND_(what) VALGRIND_PRINTF("vmlab-roi-" what "\n")
#endif
#endif
#ifndef VMLAB_ROI_VALGRIND_
#define VMLAB_ROI_VALGRIND_(what) ((void)0)
#endif

#define VMLAB_ROI_BEGIN 1
#define VMLAB_ROI_END 2

#ifdef __cplusplus
extern "C" {
#endif
/* Defined by the sancov capture runtime; kind is VMLAB_ROI_BEGIN/END. */
void __vmlab_roi(int kind) __attribute__((weak));
#ifdef __cplusplus
}
#endif

static inline void vmlab_roi_begin(void)
{
#if defined(__x86_64__)
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80, 0x01, 0x54, 0x4d, 0x56" ::: "memory");
#endif
	VMLAB_ROI_VALGRIND_("begin");
	if (__vmlab_roi)
		__vmlab_roi(VMLAB_ROI_BEGIN);
}

static inline void vmlab_roi_end(void)
{
#if defined(__x86_64__)
	__asm__ volatile(".byte 0x0f, 0x1f, 0x80, 0x02, 0x54, 0x4d, 0x56" ::: "memory");
#endif
	VMLAB_ROI_VALGRIND_("end");
	if (__vmlab_roi)
		__vmlab_roi(VMLAB_ROI_END);
}

#endif
