/* tests/fuzz/fuzz_model.c - libFuzzer target for the memory-manager model.
 *
 * The input is read 8 bytes at a time, each word one record
 * (tests/fuzz/model_gen.h: a trace of three processes, accesses and every
 * kind of address-space event), replayed under the four configurations
 * of model_gen.h with the invariant checker after every record (batches
 * of one).  Any error but running out of frames or page
 * file (VL_ELIMIT: the trace asked for more than the machine has) is a
 * finding: the model broke one of its invariants (VL_ESTATE), or crashed
 * or leaked under the sanitizers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/model_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vl_batch b;
	struct vl_error err = { 0 };
	if (!b.recs && vl_batch_init(&b, 4, &err) < 0)
		abort();
	size_t n = size / 8 > 4096 ? 4096 : size / 8;
	for (size_t c = 0; c < sizeof(mg_configs) / sizeof(mg_configs[0]); c++) {
		struct vl_engine *e = mg_engine(mg_configs[c], &err);
		if (!e) {
			fprintf(stderr, "fuzz_model: config %zu: %s\n", c, err.msg);
			abort();
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t x;
			memcpy(&x, data + 8 * i, 8);
			int is_event;
			vl_batch_reset(&b);
			b.recs[0] = mg_record(x, &b.events[0], &is_event);
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
