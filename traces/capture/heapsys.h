/* traces/capture/heapsys.h - how vmlab-heap.so (heap.c) tells the qemu
 * plugin (qemu_plugin.c) about heap calls: a system call with a number
 * Linux does not have, which the plugin's syscall callback sees and qemu
 * answers with ENOSYS.  Arguments: the kind, then up to three values. */
#ifndef VMLAB_CAPTURE_HEAPSYS_H
#define VMLAB_CAPTURE_HEAPSYS_H

#define VMLAB_HEAP_SYSCALL 0x7a6d  /* 31341: no x86-64 Linux system call */

enum {
	VMLAB_HEAP_HELLO = 0x48454c4f, /* "HELO": the library's code is [a, b) */
	VMLAB_HEAP_ALLOC = 1,          /* a = address, b = size, c = alignment (0: none) */
	VMLAB_HEAP_FREE = 2,           /* a = address */
	VMLAB_HEAP_REALLOC = 3,        /* a = old address, b = new address, c = size */
};

#endif
