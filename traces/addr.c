/* traces/addr.c - the "addr" text format, for traces written by hand.
 *
 *   OP ADDR [PID]      OP: R (read), W (write), I (instruction fetch),
 *                          case-insensitive
 *                      ADDR: hex with 0x, or decimal
 *                      PID: decimal, default 1
 *   # comment          anywhere on a line; blank lines are ignored
 *
 * Each line is one access of unknown size (it touches one page).
 *
 * Address-space events, so scenarios can be written by hand (numbers are
 * decimal or 0x hex; PID optional, last, default 1):
 *
 *   V RESERVE ADDR LEN [PID]          V COMMIT ADDR LEN PROT [PID]
 *   V DECOMMIT ADDR LEN [PID]         V RELEASE ADDR [PID]
 *   V PROTECT ADDR LEN PROT [PID]     V MAP ADDR LEN FILEID OFFSET PROT [PID]
 *   V UNMAP ADDR [PID]                V EXIT [PID]
 *   V ROI_BEGIN [PID]                 V ROI_END [PID]
 *   V ADVISE ADDR LEN hugepage|nohugepage|dontneed [PID]
 *   V MMAP ADDR LEN PROT private|shared FILEID OFFSET [PID]  (FILEID 0: anonymous)
 *   V MUNMAP ADDR LEN [PID]           V MPROTECT ADDR LEN PROT [PID]
 *   V BRK ADDR LEN [PID]              V MREMAP ADDR LEN NEWADDR NEWLEN [PID]
 *   V FORK PARENT [PID]
 *
 * Heap calls (docs/heap.md):
 *
 *   H ALLOC ADDR SIZE [PID]           H MEMALIGN ADDR SIZE ALIGN [PID]
 *   H FREE ADDR [PID]                 H REALLOC OLD NEW SIZE [PID]
 *
 * PROT: noaccess readonly readwrite execute execute_read execute_readwrite
 * writecopy execute_writecopy, optionally followed by +guard, or by +large
 * (V COMMIT with MEM_LARGE_PAGES).
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
	case 'm': return VL_OP_MODIFY;
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
		return vl_err(err, VL_EFORMAT, "expected an operation R, W, I or M, found '%.*s'",
			      (int)(end - s > 20 ? 20 : end - s), s);
	s = skip_space(s + 1, end);
	if (vl_scan_num(&s, end, addr) < 0 || (s < end && !vl_is_space(*s)))
		return vl_err(err, VL_EFORMAT,
			      "expected an address (hex with 0x, or decimal) after the operation");
	s = skip_space(s, end);
	*pid = 1;
	if (s < end) {
		const char *tok = s, *te = s;
		while (te < end && !vl_is_space(*te))
			te++;
		if (vl_scan_dec(&s, te, pid) < 0 || s != te || *pid > UINT32_MAX)
			return vl_err(err, VL_EFORMAT,
				      "expected a decimal process id (1 to 4294967295) after the address, "
				      "found '%.*s'", (int)(te - tok > 20 ? 20 : te - tok), tok);
		if (*pid == 0)
			return vl_err(err, VL_EFORMAT, "process id 0 is reserved (ids start at 1)");
		s = skip_space(s, end);
		if (s < end)
			return vl_err(err, VL_EFORMAT, "unexpected text '%.*s' after the process id",
				      (int)(end - s > 20 ? 20 : end - s), s);
	}
	return 1;
}

static const struct {
	const char *name;
	unsigned prot;
} prots[] = {
	{ "noaccess", VL_PROT_NOACCESS },
	{ "readonly", VL_PROT_READONLY },
	{ "readwrite", VL_PROT_READWRITE },
	{ "execute", VL_PROT_EXECUTE },
	{ "execute_read", VL_PROT_EXECUTE_READ },
	{ "execute_readwrite", VL_PROT_EXECUTE_READWRITE },
	{ "writecopy", VL_PROT_WRITECOPY },
	{ "execute_writecopy", VL_PROT_EXECUTE_WRITECOPY },
};

/* Shape of each event: its arguments, in order.  a = ADDR, l = LEN,
 * f = FILEID, o = OFFSET, p = PROT, v = ADVICE, s = private|shared,
 * n = NEWADDR (in offset), N = NEWLEN (in file_id), P = PARENT (in addr),
 * A = ALIGN (in offset: a power of two), w = read|write (in prot: 0 or
 * VL_POP_WRITE).  The heap calls are H lines. */
static const struct {
	const char *name;
	uint32_t kind;
	const char *args;
	char prefix;
} events[] = {
	{ "RESERVE", VL_EV_RESERVE, "al", 0 },   { "COMMIT", VL_EV_COMMIT, "alp", 0 },
	{ "DECOMMIT", VL_EV_DECOMMIT, "al", 0 }, { "RELEASE", VL_EV_RELEASE, "a", 0 },
	{ "PROTECT", VL_EV_PROTECT, "alp", 0 },  { "MAP", VL_EV_MAP, "alfop", 0 },
	{ "UNMAP", VL_EV_UNMAP, "a", 0 },        { "EXIT", VL_EV_EXIT, "", 0 },
	{ "ROI_BEGIN", VL_EV_ROI_BEGIN, "", 0 }, { "ROI_END", VL_EV_ROI_END, "", 0 },
	{ "ADVISE", VL_EV_ADVISE, "alv", 0 },
	{ "MMAP", VL_EV_MMAP, "alpsfo", 0 },     { "MUNMAP", VL_EV_MUNMAP, "al", 0 },
	{ "MPROTECT", VL_EV_MPROTECT, "alp", 0 }, { "BRK", VL_EV_BRK, "al", 0 },
	{ "MREMAP", VL_EV_MREMAP, "alnN", 0 },   { "FORK", VL_EV_FORK, "P", 0 },
	{ "ALLOC", VL_EV_HEAP_ALLOC, "al", 'H' }, { "MEMALIGN", VL_EV_HEAP_ALLOC, "alA", 'H' },
	{ "FREE", VL_EV_HEAP_FREE, "a", 'H' },  { "REALLOC", VL_EV_HEAP_REALLOC, "anl", 'H' },
	{ "FREAD", VL_EV_FREAD, "fol", 0 },     { "POPULATE", VL_EV_POPULATE, "alw", 0 },
};

static const char *word_end(const char *s, const char *end)
{
	while (s < end && !vl_is_space(*s))
		s++;
	return s;
}

static int parse_prot(const char *s, const char *e, unsigned *out, struct vl_error *err)
{
	const char *plus = memchr(s, '+', (size_t)(e - s));
	const char *base_end = plus ? plus : e;
	unsigned guard = 0;
	if (plus) {
		if (e - plus == 6 && !strncmp(plus, "+large", 6))
			guard = VL_PROT_LARGE;
		else if (e - plus == 6 && !strncmp(plus, "+guard", 6))
			guard = VL_PROT_GUARD;
		else
			return vl_err(err, VL_EFORMAT,
				      "expected +guard or +large after the protection, found '%.*s'",
				      (int)(e - plus), plus);
	}
	for (size_t i = 0; i < sizeof(prots) / sizeof(prots[0]); i++) {
		if ((size_t)(base_end - s) == strlen(prots[i].name) &&
		    !strncmp(s, prots[i].name, (size_t)(base_end - s))) {
			if (guard && prots[i].prot == VL_PROT_NOACCESS)
				return vl_err(err, VL_EFORMAT, "noaccess cannot be combined with +guard or +large");
			*out = prots[i].prot | guard;
			return 0;
		}
	}
	return vl_err(err, VL_EFORMAT,
		      "expected a protection (noaccess, readonly, readwrite, execute, execute_read, "
		      "execute_readwrite, writecopy, execute_writecopy, optionally +guard or +large), found '%.*s'",
		      (int)(e - s > 24 ? 24 : e - s), s);
}

/* "V KIND ARGS... [PID]", or "H KIND ARGS... [PID]" (heap calls) */
static int parse_event(const char *s, const char *end, struct vl_batch *b, struct vl_error *err)
{
	char prefix = (char)(*s & ~0x20) == 'H' ? 'H' : 0;
	s = skip_space(s + 1, end);
	const char *we = word_end(s, end);
	size_t k;
	for (k = 0; k < sizeof(events) / sizeof(events[0]); k++)
		if (events[k].prefix == prefix && (size_t)(we - s) == strlen(events[k].name) &&
		    !strncmp(s, events[k].name, (size_t)(we - s)))
			break;
	if (k == sizeof(events) / sizeof(events[0]) && prefix)
		return vl_err(err, VL_EFORMAT,
			      "expected a heap call (ALLOC, MEMALIGN, FREE, REALLOC) after H, found '%.*s'",
			      (int)(we - s > 20 ? 20 : we - s), s);
	if (k == sizeof(events) / sizeof(events[0]))
		return vl_err(err, VL_EFORMAT,
			      "expected an event (RESERVE, COMMIT, DECOMMIT, RELEASE, PROTECT, MAP, "
			      "UNMAP, EXIT, ROI_BEGIN, ROI_END, ADVISE, MMAP, MUNMAP, MPROTECT, BRK, "
			      "MREMAP, FORK, FREAD, POPULATE) after V, found '%.*s'",
			      (int)(we - s > 20 ? 20 : we - s), s);
	struct vl_event ev = { .kind = events[k].kind };
	static const char *const what[] = { ['a'] = "an address", ['l'] = "a length",
					    ['f'] = "a file id", ['o'] = "an offset",
					    ['n'] = "a new address", ['N'] = "a new length",
					    ['P'] = "a parent process id",
					    ['A'] = "an alignment" };
	const char *vh = prefix ? "H" : "V";
	for (const char *a = events[k].args; *a; a++) {
		s = skip_space(we, end);
		we = word_end(s, end);
		if (s == end)
			return vl_err(err, VL_EFORMAT, "%s %s: expected %s", vh, events[k].name,
				      *a == 'p'   ? "a protection"
				      : *a == 'v' ? "an advice (hugepage, nohugepage or dontneed)"
				      : *a == 's' ? "private or shared"
				      : *a == 'w' ? "read or write"
						  : what[(unsigned char)*a]);
		if (*a == 'p') {
			VL_TRY(parse_prot(s, we, &ev.prot, err));
			continue;
		}
		if (*a == 'v') {
			if (we - s == 8 && !strncmp(s, "hugepage", 8))
				ev.prot = VL_ADV_HUGEPAGE;
			else if (we - s == 10 && !strncmp(s, "nohugepage", 10))
				ev.prot = VL_ADV_NOHUGEPAGE;
			else if (we - s == 8 && !strncmp(s, "dontneed", 8))
				ev.prot = VL_ADV_DONTNEED;
			else
				return vl_err(err, VL_EFORMAT,
					      "V ADVISE: expected hugepage, nohugepage or dontneed, found '%.*s'",
					      (int)(we - s > 20 ? 20 : we - s), s);
			continue;
		}
		if (*a == 's') {
			if (we - s == 6 && !strncmp(s, "shared", 6))
				ev.prot |= VL_MAP_SHARED;
			else if (!(we - s == 7 && !strncmp(s, "private", 7)))
				return vl_err(err, VL_EFORMAT, "V %s: expected private or shared, found '%.*s'",
					      events[k].name, (int)(we - s > 20 ? 20 : we - s), s);
			continue;
		}
		if (*a == 'w') {
			if (we - s == 5 && !strncmp(s, "write", 5))
				ev.prot = VL_POP_WRITE;
			else if (!(we - s == 4 && !strncmp(s, "read", 4)))
				return vl_err(err, VL_EFORMAT, "V %s: expected read or write, found '%.*s'",
					      events[k].name, (int)(we - s > 20 ? 20 : we - s), s);
			continue;
		}
		uint64_t v;
		const char *q = s;
		if (*a == 'f' && we - s == 8 && !strncmp(s, "pagefile", 8)) {
			ev.file_id = VL_FILE_PAGEFILE; /* a section backed by the page file */
			continue;
		}
		if (vl_scan_num(&q, we, &v) < 0 || q != we)
			return vl_err(err, VL_EFORMAT, "%s %s: expected %s (hex with 0x, or decimal), found '%.*s'",
				      vh, events[k].name, what[(unsigned char)*a], (int)(we - s > 20 ? 20 : we - s), s);
		switch (*a) {
		case 'a': ev.addr = v; break;
		case 'l': ev.len = v; break;
		case 'f': case 'N': ev.file_id = v; break;
		case 'P':
			if (v == 0 || v > UINT32_MAX)
				return vl_err(err, VL_EFORMAT, "V %s: expected a parent process id (1 or more)",
					      events[k].name);
			ev.addr = v;
			break;
		case 'A':
			if (v == 0 || (v & (v - 1)))
				return vl_err(err, VL_EFORMAT,
					      "H %s: expected an alignment that is a power of two, found %llu",
					      events[k].name, (unsigned long long)v);
			ev.offset = v;
			break;
		default: ev.offset = v; break;
		}
	}
	uint64_t pid = 1;
	s = skip_space(we, end);
	if (s < end) {
		const char *tok = s, *te = s;
		while (te < end && !vl_is_space(*te))
			te++;
		if (vl_scan_dec(&s, te, &pid) < 0 || s != te || pid == 0 || pid > UINT32_MAX)
			return vl_err(err, VL_EFORMAT,
				      "%s %s: expected a decimal process id (1 to 4294967295) at the end, "
				      "found '%.*s'", vh, events[k].name, (int)(te - tok > 20 ? 20 : te - tok),
				      tok);
		s = skip_space(s, end);
		if (s < end)
			return vl_err(err, VL_EFORMAT, "%s %s: unexpected text '%.*s'", vh, events[k].name,
				      (int)(end - s > 20 ? 20 : end - s), s);
	}
	if (ev.kind == VL_EV_FREAD && (ev.len > 0x7ffff000u || ev.offset >= (1ull << 40)))
		return vl_err(err, VL_EFORMAT,
			      "V FREAD: expected a length of at most 0x7ffff000 bytes (Linux's largest "
			      "read) at an offset below 1 TiB");
	struct vl_rec *r = &b->recs[b->n++];
	b->events[b->n_events] = ev;
	r->addr = b->n_events++;
	r->pid = (uint32_t)pid;
	r->op = VL_OP_EVENT;
	r->size = 0;
	r->pad = 0;
	return 0;
}

static int addr_parse_line(char *line, size_t len, struct vl_batch *b, struct vl_error *err)
{
	{
		const char *end = line + len, *s = skip_space(line, end);
		const char *hash = memchr(s, '#', (size_t)(end - s));
		if (hash)
			end = hash;
		if (s < end && (*s == 'V' || *s == 'v' || *s == 'H' || *s == 'h') &&
		    (s + 1 == end || vl_is_space(s[1])))
			return parse_event(s, end, b, err);
	}
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
	const char *s = skip_space(line, line + len);
	if (s < line + len && (*s == 'V' || *s == 'v' || *s == 'H' || *s == 'h') &&
	    line + len - s > 2 && vl_is_space(s[1]))
		return true; /* an event line: judged when parsed */
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
	.help = "text: OP ADDR [PID] per line; OP R/W/I; ADDR 0x-hex or decimal; V events",
	.probe = addr_probe,
	.parse_line = addr_parse_line,
};
