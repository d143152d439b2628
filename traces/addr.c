/* traces/addr.c - the "addr" text format, for traces written by hand.
 *
 *   OP ADDR [PID]      OP: R (read), W (write), I (instruction fetch),
 *                          case-insensitive
 *                      ADDR: hex with 0x, or decimal
 *                      PID: decimal, default 1
 *   # comment          anywhere on a line; blank lines are ignored
 *
 * Each line is one access of unknown size (it touches one page).
 */
#include <string.h>

#include "traces/internal.h"

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && vl_is_space(*s))
		s++;
	return s;
}

static int op_of(char c)
{
	switch (c | 0x20) {
	case 'r': return VL_OP_READ;
	case 'w': return VL_OP_WRITE;
	case 'i': return VL_OP_IFETCH;
	default: return -1;
	}
}

/* Parse [s, end) into op/addr/pid; 0 = blank, 1 = access, <0 = error. */
static int parse(const char *s, const char *end, int *op, uint64_t *addr, uint64_t *pid,
		 struct vl_error *err)
{
	const char *hash = memchr(s, '#', (size_t)(end - s));
	if (hash)
		end = hash;
	s = skip_space(s, end);
	if (s == end)
		return 0;
	*op = op_of(*s);
	if (*op < 0 || (s + 1 < end && !vl_is_space(s[1])))
		return vl_err(err, VL_EFORMAT, "expected an operation R, W or I, found '%.*s'",
			      (int)(end - s > 20 ? 20 : end - s), s);
	s = skip_space(s + 1, end);
	if (vl_scan_num(&s, end, addr) < 0 || (s < end && !vl_is_space(*s)))
		return vl_err(err, VL_EFORMAT,
			      "expected an address (hex with 0x, or decimal) after the operation");
	s = skip_space(s, end);
	*pid = 1;
	if (s < end) {
		if (vl_scan_dec(&s, end, pid) < 0 || *pid > UINT32_MAX)
			return vl_err(err, VL_EFORMAT, "expected a decimal process id after the address");
		s = skip_space(s, end);
		if (s < end)
			return vl_err(err, VL_EFORMAT, "unexpected text '%.*s' after the process id",
				      (int)(end - s > 20 ? 20 : end - s), s);
	}
	return 1;
}

static int addr_parse_line(char *line, size_t len, struct vl_batch *b, struct vl_error *err)
{
	int op;
	uint64_t addr, pid;
	int rc = parse(line, line + len, &op, &addr, &pid, err);
	if (rc <= 0)
		return rc;
	struct vl_rec *r = &b->recs[b->n++];
	r->addr = addr;
	r->pid = (uint32_t)pid;
	r->op = (uint8_t)op;
	r->size = 0;
	r->pad = 0;
	return 0;
}

static bool addr_ok(const char *line, size_t len)
{
	int op;
	uint64_t addr, pid;
	return parse(line, line + len, &op, &addr, &pid, NULL) == 1;
}

static bool addr_ignore(const char *line, size_t len)
{
	const char *end = line + len, *s = skip_space(line, end);
	return s == end || *s == '#';
}

static int addr_probe(const char *buf, size_t len)
{
	return vl_probe_lines(buf, len, addr_ok, addr_ignore);
}

const struct vl_trace_format vl_fmt_addr = {
	.name = "addr",
	.help = "text: OP ADDR [PID] per line; OP R/W/I; ADDR 0x-hex or decimal",
	.probe = addr_probe,
	.parse_line = addr_parse_line,
};
