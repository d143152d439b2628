/* traces/din.c - DineroIII/IV "din" text traces.
 *
 *   LABEL ADDR [EXTRA]    LABEL 0 data read, 1 data write, 2 instruction
 *                         fetch, 3 escape and 4 cache flush (both skipped);
 *                         ADDR hex (an optional 0x is accepted);
 *                         EXTRA ignored (DineroIII traces put the data word
 *                         there, DineroIV an optional size)
 *
 * Each line is one access of unknown size (it touches one page); pid 1.
 */
#include "traces/internal.h"

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && vl_is_space(*s))
		s++;
	return s;
}

/* 0 = blank or skipped label, 1 = access, <0 = error. */
static int parse(const char *s, const char *end, int *op, uint64_t *addr, struct vl_error *err)
{
	s = skip_space(s, end);
	if (s == end)
		return 0;
	if (*s < '0' || *s > '4' || s + 1 == end || !vl_is_space(s[1]))
		return vl_err(err, VL_EFORMAT, "expected a din label 0-4 then a hex address, found '%.*s'",
			      (int)(end - s > 20 ? 20 : end - s), s);
	int label = *s - '0';
	s = skip_space(s + 1, end);
	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (vl_scan_hex(&s, end, addr) < 0 || (s < end && !vl_is_space(*s)))
		return vl_err(err, VL_EFORMAT, "expected a hex address after the din label");
	s = skip_space(s, end);
	if (s < end) { /* one optional hex field */
		uint64_t extra;
		if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			s += 2;
		if (vl_scan_hex(&s, end, &extra) < 0 || skip_space(s, end) != end)
			return vl_err(err, VL_EFORMAT,
				      "expected at most one hex field after the din address");
	}
	if (label > 2)
		return 0;
	*op = label == 0 ? VL_OP_READ : label == 1 ? VL_OP_WRITE : VL_OP_IFETCH;
	return 1;
}

static int din_parse_line(char *line, size_t len, struct vl_batch *b, struct vl_error *err)
{
	int op;
	uint64_t addr;
	int rc = parse(line, line + len, &op, &addr, err);
	if (rc <= 0)
		return rc;
	return vl_emit_access(b, addr, 0, (uint8_t)op, 1, err);
}

static bool din_ok(const char *line, size_t len)
{
	int op;
	uint64_t addr;
	return parse(line, line + len, &op, &addr, NULL) >= 0;
}

static bool din_ignore(const char *line, size_t len)
{
	return skip_space(line, line + len) == line + len;
}

static int din_probe(const char *buf, size_t len)
{
	return vl_probe_lines(buf, len, din_ok, din_ignore);
}

const struct vl_trace_format vl_fmt_din = {
	.name = "din",
	.help = "DineroIV din: LABEL HEXADDR [x]; label 0 read, 1 write, 2 ifetch",
	.probe = din_probe,
	.parse_line = din_parse_line,
};
