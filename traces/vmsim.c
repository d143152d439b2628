/* traces/vmsim.c - "HEXADDR R|W" per line.
 *
 * The format of the classic OS-course page-replacement traces (the
 * SPEC-derived gcc/bzip/swim/sixpack 1M-reference traces):
 *
 *   0041f7a0 R
 *   13f5e2c0 W
 *
 * Hex address (an optional 0x is accepted), then R or W (any case).
 * Every record is pid 1.
 */
#include "traces/internal.h"

static int parse(const char *s, const char *end, int *op, uint64_t *addr, struct vl_error *err)
{
	while (s < end && vl_is_space(*s))
		s++;
	if (s == end)
		return 0;
	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (vl_scan_hex(&s, end, addr) < 0 || s == end || !vl_is_space(*s))
		return vl_err(err, VL_EFORMAT, "expected HEXADDR R|W, found '%.*s'",
			      (int)(end - s > 20 ? 20 : end - s), s);
	while (s < end && vl_is_space(*s))
		s++;
	if (s == end)
		return vl_err(err, VL_EFORMAT, "expected R or W after the address");
	switch (*s | 0x20) {
	case 'r': *op = VL_OP_READ; break;
	case 'w': *op = VL_OP_WRITE; break;
	default:
		return vl_err(err, VL_EFORMAT, "expected R or W after the address, found '%c'", *s);
	}
	s++;
	while (s < end && vl_is_space(*s))
		s++;
	if (s != end)
		return vl_err(err, VL_EFORMAT, "unexpected text after R/W");
	return 1;
}

static int vmsim_parse_line(char *line, size_t len, struct vl_batch *b, struct vl_error *err)
{
	int op;
	uint64_t addr;
	int rc = parse(line, line + len, &op, &addr, err);
	if (rc <= 0)
		return rc;
	struct vl_rec *r = &b->recs[b->n++];
	r->addr = addr;
	r->pid = 1;
	r->op = (uint8_t)op;
	r->size = 0;
	r->pad = 0;
	return 0;
}

static bool vmsim_ok(const char *line, size_t len)
{
	int op;
	uint64_t addr;
	return parse(line, line + len, &op, &addr, NULL) == 1;
}

static bool vmsim_ignore(const char *line, size_t len)
{
	const char *s = line, *end = line + len;
	while (s < end && vl_is_space(*s))
		s++;
	return s == end;
}

static int vmsim_probe(const char *buf, size_t len)
{
	return vl_probe_lines(buf, len, vmsim_ok, vmsim_ignore);
}

const struct vl_trace_format vl_fmt_vmsim = {
	.name = "vmsim",
	.help = "text: HEXADDR R|W per line (classic OS-course traces)",
	.probe = vmsim_probe,
	.parse_line = vmsim_parse_line,
};
