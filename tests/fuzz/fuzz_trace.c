/* tests/fuzz/fuzz_trace.c - libFuzzer target for a trace reader.
 *
 * Built once per format with -DFUZZ_FORMAT="name" (make fuzz); "auto"
 * exercises detection.  Each input is written to a memfd and read through
 * the public API like a file: open, read to the end, rewind, read again.
 * The reader must never crash, leak or read out of bounds; when it reports
 * success twice, both passes must agree on the record count, and every
 * event record must index an event of its batch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmlab/vmlab.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT "auto"
#endif

static int fd = -1;
static char path[64];
static struct vl_batch batch;

static ssize_t pass(struct vl_trace *t, uint64_t *n)
{
	struct vl_error err = { 0 };
	ssize_t got;
	*n = 0;
	while ((got = vl_trace_read(t, &batch, &err)) > 0) {
		for (size_t i = 0; i < batch.n; i++)
			if (batch.recs[i].op == VL_OP_EVENT && batch.recs[i].addr >= batch.n_events)
				abort();
		*n += batch.n;
	}
	return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_error err = { 0 };
	if (fd < 0) {
		fd = memfd_create("vmlab-fuzz", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (vl_batch_init(&batch, 1024, &err) < 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct vl_trace *t;
	if (vl_trace_open(&t, path, FUZZ_FORMAT, &err) < 0)
		return 0;
	uint64_t n1, n2;
	ssize_t r1 = pass(t, &n1);
	if (r1 == 0 && vl_trace_rewind(t, &err) == 0) {
		ssize_t r2 = pass(t, &n2);
		if (r2 != 0 || n1 != n2)
			abort(); /* the same bytes must read the same way twice */
	}
	vl_trace_close(t);
	return 0;
}
