/* analysis/h5run.c - the provenance of a trace replay, recorded the same
 * way by `vmlab run -o` and by every sweep cell.
 *
 * Kept apart from the writer (h5.c) so that the one place deciding what a
 * run's attributes and /summary row say about its configuration is shared
 * by the CLI and the sweep library: a cell's results are then exactly what
 * `vmlab run -o` would have stored for the same configuration and trace.
 */
#include <stdlib.h>

#include "vmlab/results.h"

int vl_h5_run_end_trace(struct vl_h5_run *run, struct vl_engine *e, const struct vl_trace *t,
			const char *trace_path, const struct vl_run_stats *st, struct vl_error *err)
{
	const struct vl_config *cfg = vl_engine_config(e);
	char *text = vl_config_text(cfg);
	if (!text) {
		vl_h5_run_free(run);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	uint64_t frames = vl_config_isset(cfg, "memory.size")
				  ? vl_config_u64(cfg, "memory.size") / VL_PAGE_SIZE
				  : vl_config_u64(cfg, "memory.frames");
	struct vl_h5_provenance pv = {
		.size = sizeof(pv),
		.trace_path = trace_path,
		.trace_format = vl_trace_format(t),
		.config_text = text,
		.os = vl_config_str(cfg, "os.personality"),
		.policy = vl_config_str(cfg, "replacement.policy"),
		.frames = frames,
		.seed = vl_config_u64(cfg, "run.seed"),
		.wall_seconds = st->wall_seconds,
		.stats = st,
	};
	int rc = vl_h5_run_end_engine(run, e, &pv, err);
	free(text);
	return rc;
}
