/* sim/rsm_ws.c - the working-set manager (windows): per-process working
 * sets, the balance-set manager on the model clock, aging and trimming,
 * the modified page writer and the zero page thread (reference notes A.7,
 * A.8; the WRK's wsmanagr.c for the order of things).
 *
 * Working sets.  Each process has a working-set list (WSLE array) of the
 * pages its valid PTEs map, one entry vpn | age << 56, in the order the
 * pages entered; an entry that leaves becomes a hole (WSL_HOLE), so the
 * order is kept, and the array is compacted when holes outnumber entries.
 * A private frame keeps its entry's index in pfn.flink while ACTIVE (no
 * page list links it then), so a page leaves its working set in O(1); a
 * shared page (in several working sets) is looked up.  ws_hist counts the
 * entries of each age.
 *
 * When the manager runs.  Not per fault: the balance-set manager wakes
 * once per wsm.period simulated seconds of the model clock (est_cycles /
 * cost.hz; the clock is read at periodic ticks of the access loop, at most
 * TICK_MAX accesses apart, and at faults), or every wsm.interval accesses
 * when that is set; and it wakes at a fault that finds available memory
 * below its goal (avail_target).  Available memory is free + standby, plus
 * the modified pages, which the modified page writer turns into standby
 * (Windows counts a trimmed dirty page toward its goal the same way).
 *
 * Aging (the timer pass): every entry of every working set, in list order:
 * accessed bit set -> clear it (and the TLB entry: INVLPG), age 0; clear ->
 * age + 1, up to ws_age_max (7: the 3-bit WSLE Age of Vista on).
 *
 * Trimming (A.7; WRK MiCheckAndSetSystemTrimCriteria, MiDetermineWsTrimAmount):
 * when available memory is below the goal, working sets above their
 * minimum are trimmed until available reaches 1.5 x the goal (the WRK's
 * DesiredFreeGoal).  Passes lower the age a page must have: 3, 2, 1, 0,
 * then 0 again (a page whose accessed bit was set in the first pass at 0
 * has it clear in the second).  In each pass the processes go in Windows's
 * order: the most pages of that age or older (the claim; at age 0, of age
 * 1 or older) first, then the longer idle (fewer accesses since the last
 * aging pass), then the larger.
 * Within a working set the clock hand goes on from where it stopped: an
 * entry with its accessed bit set gets age 0 and its bit cleared (second
 * chance); one old enough is trimmed.  Only when memory is exhausted
 * (make_room) do working sets go below their minimum.  The cost is the
 * entries examined: each pass looks only at processes with a claim.
 *
 * Local replacement (A.7): a fault of a process at its maximum while
 * available memory is below the goal gives up one of its own pages first.
 *
 * The replacement policy.  ws-aging, the windows default, is the rule
 * above (the hand picks the oldest).  Any other policy gets an instance
 * per working set that hears of that working set's pages (and, if it asks,
 * their accesses: e->ws_mux forwards them) and chooses, within the working
 * set, the page to give up at the maximum and the pages a trim takes; the
 * ages still decide which working sets are trimmed and how much.  The
 * instance holds private pages only: a view page (a shared frame, which a
 * process may map at two addresses) is left to the hand, which also takes
 * over when the policy has nothing left to give.
 *
 * A trimmed page leaves the working set for the standby list (clean) or
 * the modified list (dirty); its PTE becomes a transition PTE, so a touch
 * before the frame is repurposed is a soft fault.  A shared page is parked
 * on a list only when it leaves the last working set holding it.
 *
 * Making room.  With no free or standby frame: the modified page writer
 * writes a cluster (mpw.cluster_pages) to the page file, making it
 * standby; else working sets are trimmed (past their minimum if need be).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

#define WSL_AGE_SHIFT 56
#define WSL_VPN(x) ((x) & VPN_MASK)
#define WSL_AGE(x) ((unsigned)((x) >> WSL_AGE_SHIFT) & 7)
#define WSL_HOLE UINT64_MAX
#define WSL_MK(vpn, age) ((vpn) | ((uint64_t)(age) << WSL_AGE_SHIFT))
#define TICK_MAX 65536 /* accesses between readings of the model clock */

/* ---- the working-set list ---- */

static uint32_t proc_of(const struct vl_engine *e, const struct vl_proc *pr)
{
	return (uint32_t)(pr - e->procs);
}

/* Entry i leaves the list. */
static void wsl_remove(struct vl_proc *pr, uint32_t i)
{
	pr->ws_hist[WSL_AGE(pr->wsl[i])]--;
	pr->wsl[i] = WSL_HOLE;
	pr->ws_n--;
	while (pr->ws_len && pr->wsl[pr->ws_len - 1] == WSL_HOLE)
		pr->ws_len--;
	if (pr->ws_hand >= pr->ws_len)
		pr->ws_hand = 0;
}

/* The frame proc's PTE for vpn maps, VL_NIL if none. */
static uint32_t frame_of(const struct vl_engine *e, const struct vl_proc *pr, uint64_t vpn)
{
	uint32_t li = pt_walk(&e->pt, pr->root, va_of(vpn));
	if (li == VL_NIL || !(e->pt.e[li] & PTE_P))
		return VL_NIL;
	uint32_t f = PTE_FRAME(e->pt.e[li]);
	if (pte_large(e->pt.e[li]))
		f += (uint32_t)(vpn & 511); /* 2 MiB pages only under windows */
	return f;
}

/* Squeeze the holes out, keeping the order (and the hand's place). */
static void wsl_compact(struct vl_engine *e, struct vl_proc *pr)
{
	uint32_t j = 0, hand = 0;
	for (uint32_t i = 0; i < pr->ws_len; i++) {
		if (i == pr->ws_hand)
			hand = j;
		uint64_t x = pr->wsl[i];
		if (x == WSL_HOLE)
			continue;
		pr->wsl[j] = x;
		uint32_t f = frame_of(e, pr, WSL_VPN(x));
		if (f < e->db.nframes && !(e->db.pfn[f].flags & PFN_F_PROTO))
			e->db.pfn[f].flink = j;
		j++;
	}
	pr->ws_len = j;
	pr->ws_hand = hand < j ? hand : 0;
}

static int wsl_insert(struct vl_engine *e, struct vl_proc *pr, uint64_t vpn, uint32_t f)
{
	if (pr->ws_len == pr->ws_cap && pr->ws_n < pr->ws_len / 2)
		wsl_compact(e, pr);
	if (grow_array(&pr->wsl, pr->ws_len, &pr->ws_cap, sizeof(*pr->wsl), 64) < 0)
		return VL_ENOMEM;
	uint32_t i = pr->ws_len++;
	pr->wsl[i] = WSL_MK(vpn, 0);
	pr->ws_n++;
	pr->ws_hist[0]++;
	if (!(e->db.pfn[f].flags & PFN_F_PROTO))
		e->db.pfn[f].flink = i;
	return 0;
}

/* Index of vpn's entry in proc's list (frame f maps it), VL_NIL if none. */
static uint32_t wsl_find(const struct vl_engine *e, const struct vl_proc *pr, uint64_t vpn,
			 uint32_t f)
{
	if (f < e->db.nframes && !(e->db.pfn[f].flags & PFN_F_PROTO)) {
		uint32_t i = e->db.pfn[f].flink;
		if (i < pr->ws_len && pr->wsl[i] != WSL_HOLE && WSL_VPN(pr->wsl[i]) == vpn)
			return i;
	}
	for (uint32_t i = 0; i < pr->ws_len; i++)
		if (pr->wsl[i] != WSL_HOLE && WSL_VPN(pr->wsl[i]) == vpn)
			return i;
	return VL_NIL;
}

static void set_age(struct vl_proc *pr, uint32_t i, unsigned age)
{
	uint64_t x = pr->wsl[i];
	pr->ws_hist[WSL_AGE(x)]--;
	pr->ws_hist[age]++;
	pr->wsl[i] = WSL_MK(WSL_VPN(x), age);
}

/* ---- the policy, per working set ---- */

void vl_ws_policy_access(struct vl_repl *r, uint32_t f, const struct vl_access *a)
{
	struct vl_engine *e = r->mm_ctx;
	struct vl_repl *w = e->procs[e->last_proc].ws_repl;
	if (w && !(e->db.pfn[f].flags & PFN_F_PROTO))
		e->ws_policy->on_access(w, f, a);
}

void vl_ws_policy_free(struct vl_engine *e, struct vl_proc *pr)
{
	if (!pr->ws_repl)
		return;
	if (e->ws_policy->fini)
		e->ws_policy->fini(pr->ws_repl);
	free(pr->ws_repl);
	pr->ws_repl = NULL;
}

/* proc's instance of the policy, made on its first page. */
static struct vl_repl *ws_repl(struct vl_engine *e, struct vl_proc *pr, struct vl_error *err)
{
	if (pr->ws_repl || !e->ws_policy)
		return pr->ws_repl;
	struct vl_repl *r = calloc(1, sizeof(*r));
	if (!r) {
		vl_err(err, VL_ENOMEM, "out of memory for a working set's policy");
		return NULL;
	}
	*r = e->repl;
	r->ops = e->ws_policy;
	r->priv = NULL;
	if (e->ws_policy->init(r, err) < 0) {
		free(r);
		return NULL;
	}
	/* init chooses the same variant for every working set as it did
	 * for the engine's instance (e->ws_policy is that variant) */
	if (r->ops != e->ws_policy) {
		vl_err(err, VL_ESTATE, "policy %s: a working set's instance chose another variant",
		       e->ws_policy->name);
		if (r->ops && r->ops->fini)
			r->ops->fini(r);
		free(r);
		return NULL;
	}
	pr->ws_repl = r;
	return r;
}

/* ---- trimming ---- */

/* A shared frame no working set maps any more stays cached on the standby
 * or modified list under its transition prototype PTE (T6/T13). */
static void ws_idle(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	if (p->aux != 0 || p->loc != PFN_ACTIVE)
		return;
	*vl_proto_of(e, f) = SWPTE_TRANS | PTE_MAKE(f);
	e->resident_shared--;
	e->resident--;
	vl_to_list(e, f);
}

/* Page vpn of process proc, whose entry has left the list, leaves its
 * working set (T6). */
static void trim_page(struct vl_engine *e, uint32_t proc, uint64_t vpn)
{
	struct vl_proc *pr = &e->procs[proc];
	uint32_t li = pt_walk(&e->pt, pr->root, va_of(vpn));
	if (li == VL_NIL || !(e->pt.e[li] & PTE_P) || PTE_FRAME(e->pt.e[li]) == e->zero_frame)
		return;
	li = hp_leaf(e, proc, li, vpn, true); /* a piece of a large page: split first */
	if (li == VL_NIL)
		return;
	uint64_t pte = e->pt.e[li];
	uint32_t f = PTE_FRAME(pte);
	struct vl_pfn *p = &e->db.pfn[f];
	if (pr->ws_repl && !(p->flags & PFN_F_PROTO))
		e->ws_policy->on_unmap(pr->ws_repl, f);
	if (e->resv_n)
		lp_resv_drop(e, f); /* a page of a reservation leaves: the reservation breaks */
	e->ctr.pages_trimmed++;
	pr->ctr.evictions++;
	pr->ctr.resident_pages--;
	xl_invlpg(e, proc, vpn);
	if (pte & PTE_D)
		p->flags |= PFN_F_MODIFIED;
	if (p->flags & PFN_F_PROTO) {
		pt_set(&e->pt, li, SWPTE_PROTO | SWPTE_MKPROT(VPTE_PROT(pte)));
		if (--p->aux > 0)
			return; /* still in other working sets */
		ws_idle(e, f);
	} else {
		pt_set(&e->pt, li, SWPTE_TRANS | PTE_MAKE(f) | SWPTE_MKPROT(VPTE_PROT(pte)));
		e->resident--;
		vl_to_list(e, f);
	}
	e->ctr.evictions++;
}

/* The accessed bit of entry x of pr: read (and cleared, with the TLB
 * entry, when set). */
static bool test_clear_a(struct vl_engine *e, struct vl_proc *pr, uint64_t vpn)
{
	uint32_t li = pt_walk(&e->pt, pr->root, va_of(vpn));
	if (li == VL_NIL || !(e->pt.e[li] & PTE_A))
		return false;
	e->pt.e[li] &= ~PTE_A; /* a large page's one A bit: no split */
	xl_invlpg(e, proc_of(e, pr), vpn); /* A means something again */
	return true;
}

/* The aging pass over one working set (A.7). */
static void wsl_age(struct vl_engine *e, struct vl_proc *pr)
{
	for (uint32_t i = 0; i < pr->ws_len; i++) {
		uint64_t x = pr->wsl[i];
		if (x == WSL_HOLE)
			continue;
		unsigned age = WSL_AGE(x);
		if (test_clear_a(e, pr, WSL_VPN(x)))
			set_age(pr, i, 0);
		else if (age < e->ws_age_max)
			set_age(pr, i, age + 1);
	}
	pr->ws_acc_mark = pr->accesses;
}

/* The clock hand of proc trims up to want pages of age >= thr, never
 * below floor, in at most one revolution.  Returns pages trimmed. */
static uint64_t hand_trim(struct vl_engine *e, uint32_t proc, uint64_t want, unsigned thr,
			  uint32_t floor)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t done = 0;
	for (uint32_t seen = 0, len = pr->ws_len; seen < len && done < want && pr->ws_n > floor;
	     seen++) {
		if (pr->ws_hand >= pr->ws_len)
			pr->ws_hand = 0;
		uint32_t i = pr->ws_hand++;
		uint64_t x = pr->wsl[i];
		if (x == WSL_HOLE)
			continue;
		if (test_clear_a(e, pr, WSL_VPN(x))) {
			set_age(pr, i, 0); /* second chance */
			continue;
		}
		if (WSL_AGE(x) < thr)
			continue;
		wsl_remove(pr, i);
		trim_page(e, proc, WSL_VPN(x));
		done++;
	}
	return done;
}

/* proc's policy instance gives up to want pages, never below floor. */
static uint64_t policy_trim(struct vl_engine *e, uint32_t proc, uint64_t want, uint32_t floor,
			    const struct vl_access *cause)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t done = 0;
	struct vl_evict_ctx ctx = { .cause = cause, .pid = pr->pid };
	while (done < want && pr->ws_n > floor && pr->ws_repl) {
		size_t n = e->ws_policy->select_victims(pr->ws_repl, &ctx, e->victims, 1);
		if (n != 1)
			break;
		uint32_t f = e->victims[0];
		if (f >= e->db.nframes || e->db.pfn[f].loc != PFN_ACTIVE)
			break;
		uint64_t vpn = pfn_vpn(e, f);
		uint32_t i = wsl_find(e, pr, vpn, f);
		if (i == VL_NIL) {
			/* not in this working set after all: the policy forgets it */
			e->ws_policy->on_unmap(pr->ws_repl, f);
			continue;
		}
		vpn = WSL_VPN(pr->wsl[i]);
		wsl_remove(pr, i);
		trim_page(e, proc, vpn);
		done++;
	}
	/* the policy holds the private pages; view pages (shared, possibly
	 * mapped twice in one working set) are the hand's */
	if (done < want && pr->ws_n > floor)
		done += hand_trim(e, proc, want - done, 0, floor);
	return done;
}

/* Trim up to want pages of proc, of age >= thr, never below floor. */
static uint64_t ws_trim_proc(struct vl_engine *e, uint32_t proc, uint64_t want, unsigned thr,
			     uint32_t floor, const struct vl_access *cause)
{
	uint64_t done = e->ws_policy ? policy_trim(e, proc, want, floor, cause)
				     : hand_trim(e, proc, want, thr, floor);
	if (done)
		e->ctr.ws_trims++;
	return done;
}

/* Available memory as the manager counts it: free + standby + modified
 * (on its way to standby). */
static uint64_t avail_eff(const struct vl_engine *e)
{
	return vl_available(e) + e->modified.n;
}

static uint64_t claim(const struct vl_proc *pr, unsigned thr)
{
	uint64_t c = 0;
	for (unsigned a = thr; a < 8; a++)
		c += pr->ws_hist[a];
	return c;
}

/* A process's place in Windows's trimming order (WI6; the WRK sorts its
 * expansion list by claim): the most old pages first, then the longer
 * idle (fewer accesses since the last aging pass), then the larger, then
 * the earlier (in order of first appearance: row, not slot). */
struct ws_key {
	uint64_t claim, busy, size;
	uint32_t proc, row;
};

static int order_cmp(const void *pa, const void *pb)
{
	const struct ws_key *a = pa, *b = pb;
	if (a->claim != b->claim)
		return a->claim > b->claim ? -1 : 1;
	if (a->busy != b->busy)
		return a->busy < b->busy ? -1 : 1;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return a->row < b->row ? -1 : 1;
}

/* Trim working sets until available (as avail_eff counts it) reaches
 * goal.  force: below their minimum too.  Returns pages trimmed. */
static uint64_t wsm_trim(struct vl_engine *e, uint64_t goal, bool force,
			 const struct vl_access *cause)
{
	static const unsigned pass_age[] = { 3, 2, 1, 0, 0 };
	uint64_t total = 0;
	uint32_t floor = force ? 0 : e->ws_min;
	while (e->ws_order_cap < e->nlive) /* grow_array doubles once a call */
		if (grow_array(&e->ws_order, e->ws_order_cap, &e->ws_order_cap,
			       sizeof(*e->ws_order), 16) < 0)
			return 0;
	for (unsigned pass = 0; pass < 5 && avail_eff(e) < goal; pass++) {
		unsigned thr = pass_age[pass];
		uint32_t n = 0;
		for (uint32_t k = 0, i; proc_next(e, &k, &i);) {
			const struct vl_proc *pr = &e->procs[i];
			/* at age 0 every page qualifies: the claim that orders
			 * the processes is then their pages of age 1 and more */
			uint64_t c = claim(pr, thr ? thr : 1);
			if (pr->root && pr->ws_n > floor && (thr == 0 || c))
				e->ws_order[n++] = (struct ws_key){ c, pr->accesses - pr->ws_acc_mark,
								    pr->ws_n, i, pr->row };
		}
		qsort(e->ws_order, n, sizeof(*e->ws_order), order_cmp);
		for (uint32_t k = 0; k < n && avail_eff(e) < goal; k++) {
			uint32_t i = e->ws_order[k].proc;
			uint64_t want = goal - avail_eff(e);
			uint64_t c = thr ? claim(&e->procs[i], thr) : want;
			total += ws_trim_proc(e, i, want < c ? want : c, thr, floor, cause);
		}
	}
	return total;
}

/* ---- the modified page writer ---- */

/* Write a modified frame to its backing store (page file or file); false
 * when the page file has no slot for it (full at its maximum, nothing to
 * take a slot from). */
static bool write_out(struct vl_engine *e, uint32_t f)
{
	struct vl_pfn *p = &e->db.pfn[f];
	bool file = (p->flags & PFN_F_PROTO) && !PFN_PAGEFILE_SECTION(e, p);
	if (!file && vl_slot_ensure(e, f, NULL) < 0)
		return false;
	count_page_write(e, file);
	p->flags &= (uint8_t)~PFN_F_MODIFIED;
	return true;
}

/* Write up to max modified pages (oldest first) and move them to standby;
 * stops at a page the page file has no slot for.  Returns pages written. */
static uint64_t mpw_run(struct vl_engine *e, uint64_t max)
{
	uint64_t done = 0;
	while (max-- > 0 && e->modified.head != VL_NIL) {
		uint32_t f = e->modified.head;
		if (!write_out(e, f))
			break; /* it stays first on the modified list */
		plist_del(e, &e->modified, f);
		e->ctr.modified_written++;
		vl_to_list(e, f); /* clean now: standby */
		done++;
	}
	return done;
}

/* ---- the balance-set manager ---- */

/* The timer's pass: age every working set, trim if available memory is
 * below the goal, run the modified page writer past its threshold, zero
 * the free frames. */
static int timer_pass(struct vl_engine *e, struct vl_error *err)
{
	for (uint32_t k = 0, i; proc_next(e, &k, &i);)
		wsl_age(e, &e->procs[i]);
	if (avail_eff(e) < e->avail_target)
		wsm_trim(e, e->trim_goal, false, NULL);
	if (e->modified.n > e->mpw_threshold)
		mpw_run(e, e->modified.n);
	if (e->zero_thread)
		count_zero_fill(e, pfn_zero_free(&e->db));
	return 0;
}

/* Is the timer due on the model clock?  Moves the due time on. */
static bool clock_due(struct vl_engine *e, double now)
{
	if (e->wsm_interval || now < e->wsm_due)
		return false;
	e->wsm_due += e->wsm_period;
	if (e->wsm_due <= now) /* a long stretch (one slow fault): one pass, not many */
		e->wsm_due = now + e->wsm_period;
	return true;
}

static int ws_tick(struct vl_engine *e, struct vl_error *err)
{
	if (e->wsm_interval)
		return timer_pass(e, err); /* access.c schedules the next */
	double now = vl_engine_cycles(e);
	if (clock_due(e, now))
		VL_TRY(timer_pass(e, err));
	/* the next reading of the clock: when the due time could come at
	 * the cheapest access, or TICK_MAX accesses on, whichever is first */
	double per = e->xl.cost_tlb_hit > 0 ? e->xl.cost_tlb_hit : 1;
	double left = (e->wsm_due - now) / per;
	uint64_t step = left < 1 ? 1 : left > TICK_MAX ? TICK_MAX : (uint64_t)left;
	e->next_tick = e->time + step;
	return 0;
}

static int ws_make_room(struct vl_engine *e, const struct vl_access *a, struct vl_error *err)
{
	if (e->modified.n && mpw_run(e, e->mpw_cluster))
		return 0;
	uint64_t standby = e->nstandby;
	if ((wsm_trim(e, e->trim_goal, false, a) || wsm_trim(e, 1, true, a)) &&
	    (e->nstandby > standby || !e->modified.n))
		return 0;
	if (e->modified.n && !mpw_run(e, e->mpw_cluster))
		return vl_err(err, VL_ELIMIT,
			      "page file full: %u slots in use, at its maximum (pagefile.max = %s), "
			      "and every page in memory is modified; give more pagefile.max or "
			      "memory.frames",
			      e->pf.used, vl_config_str(e->cfg, "pagefile.max"));
	if (e->modified.n || vl_available(e))
		return 0;
	return vl_err(err, VL_ELIMIT,
		      "out of memory: all %u frames hold page tables (%llu) or are pinned, "
		      "no page can be trimmed; give more memory.frames",
		      e->db.nframes, (unsigned long long)e->ctr.pt_pages);
}

static int ws_mapped(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint32_t f,
		     const struct vl_access *a, struct vl_error *err)
{
	struct vl_proc *pr = &e->procs[proc];
	if (wsl_insert(e, pr, vpn, f) < 0)
		return vl_err(err, VL_ENOMEM, "out of memory for a working set");
	if (e->ws_policy && !(e->db.pfn[f].flags & PFN_F_PROTO)) {
		struct vl_repl *r = ws_repl(e, pr, err);
		if (!r)
			return err ? err->code : VL_ENOMEM;
		struct vl_access none = vl_access_none(e, pr->pid);
		e->ws_policy->on_map(r, f, a ? a : &none);
	}
	return 0;
}

static void ws_cached(struct vl_engine *e, uint32_t f, const struct vl_access *a)
{
}

/* V PROTECT to NOACCESS or GUARD: the page leaves the working set as a
 * trim takes it (T6), its contents kept on standby or modified. */
static bool ws_park(struct vl_engine *e, uint32_t proc, uint32_t li, uint64_t vpn)
{
	struct vl_proc *pr = &e->procs[proc];
	uint64_t pte = e->pt.e[li];
	uint32_t f = PTE_FRAME(pte);
	if (!(pte & PTE_P) || (pte & PTE_PS) || f >= e->db.nframes || (pte & PTE_SW_NOPOLICY))
		return false;
	uint32_t i = wsl_find(e, pr, vpn, f);
	if (i == VL_NIL)
		return false;
	wsl_remove(pr, i);
	trim_page(e, proc, vpn);
	e->ctr.pages_trimmed--; /* not a trim: the page was made inaccessible */
	e->ctr.evictions--;
	pr->ctr.evictions--;
	return true;
}

static void ws_unmapped(struct vl_engine *e, uint32_t proc, uint64_t vpn, uint32_t f)
{
	struct vl_proc *pr = &e->procs[proc];
	if (pr->ws_n == 0) { /* the process is exiting (vad.c emptied the set) */
		pr->ws_len = pr->ws_hand = 0;
		memset(pr->ws_hist, 0, sizeof(pr->ws_hist));
		return;
	}
	uint32_t i = wsl_find(e, pr, vpn, f);
	if (i == VL_NIL)
		return;
	wsl_remove(pr, i);
	if (pr->ws_repl && !(e->db.pfn[f].flags & PFN_F_PROTO))
		e->ws_policy->on_unmap(pr->ws_repl, f);
}

/* Before a process's working set grows by a page (a fault): the balance
 * set manager's timer if the model clock says so, its wake-up if available
 * memory is below the goal, and local replacement at the maximum while
 * memory is not plentiful (A.7). */
static void ws_grow(struct vl_engine *e, uint32_t proc)
{
	struct vl_proc *pr = &e->procs[proc];
	if (!e->wsm_interval && clock_due(e, vl_engine_cycles(e)))
		timer_pass(e, NULL);
	if (avail_eff(e) < e->avail_target)
		wsm_trim(e, e->trim_goal, false, NULL);
	if (pr->ws_n >= e->ws_max && avail_eff(e) < e->avail_target && pr->ws_n) {
		/* the policy's choice; ws-aging's is the hand's: the first page
		 * not accessed since the hand last passed (WI6's second chance) */
		struct vl_access none = vl_access_none(e, pr->pid);
		uint64_t done = e->ws_policy ? policy_trim(e, proc, 1, 0, &none)
					     : hand_trim(e, proc, 1, 0, 0);
		if (!done)
			done = hand_trim(e, proc, 1, 0, 0); /* every bit was set: now clear */
		if (done)
			e->ctr.ws_trims++;
	}
}

static uint64_t ws_pages(const struct vl_engine *e)
{
	uint64_t ws = 0;
	for (uint32_t k = 0, i; proc_next(e, &k, &i);)
		ws += e->procs[i].ws_n;
	return ws;
}

/* Each list agrees with its counts (live entries, ages, the hand), a
 * private page's entry index is in its frame, every entry maps a page, and
 * the lists hold as many entries as there are valid PTEs. */
static int ws_check(const struct vl_engine *e, uint64_t valid, struct vl_error *err)
{
	uint64_t ws = 0;
	for (uint32_t k = 0, p; proc_next(e, &k, &p);) {
		const struct vl_proc *pr = &e->procs[p];
		uint32_t n = 0, hist[8] = { 0 };
		for (uint32_t i = 0; i < pr->ws_len; i++) {
			uint64_t x = pr->wsl[i];
			if (x == WSL_HOLE)
				continue;
			n++;
			hist[WSL_AGE(x)]++;
			if (WSL_AGE(x) > e->ws_age_max)
				return vl_err(err, VL_ESTATE, "pid %u page 0x%llx: age %u past the maximum %u",
					      pr->pid, (unsigned long long)WSL_VPN(x), WSL_AGE(x),
					      e->ws_age_max);
			uint32_t f = frame_of(e, pr, WSL_VPN(x));
			if (f == VL_NIL || f >= e->db.nframes || e->db.pfn[f].loc != PFN_ACTIVE)
				return vl_err(err, VL_ESTATE,
					      "pid %u: working-set entry %u (page 0x%llx) maps no resident frame",
					      pr->pid, i, (unsigned long long)WSL_VPN(x));
			if (!(e->db.pfn[f].flags & PFN_F_PROTO) && e->db.pfn[f].flink != i)
				return vl_err(err, VL_ESTATE,
					      "pid %u page 0x%llx: frame %u names entry %u, it is entry %u",
					      pr->pid, (unsigned long long)WSL_VPN(x), f, e->db.pfn[f].flink, i);
		}
		if (n != pr->ws_n || memcmp(hist, pr->ws_hist, sizeof(hist)) != 0)
			return vl_err(err, VL_ESTATE,
				      "pid %u: working set counts %u entries (by age too), the list holds %u",
				      pr->pid, pr->ws_n, n);
		if (pr->ws_hand > pr->ws_len) /* at ws_len: it wraps at its next step */
			return vl_err(err, VL_ESTATE, "pid %u: clock hand %u past the list's %u entries",
				      pr->pid, pr->ws_hand, pr->ws_len);
		ws += n;
	}
	if (ws != valid)
		return vl_err(err, VL_ESTATE, "working sets hold %llu entries, %llu PTEs are valid",
			      (unsigned long long)ws, (unsigned long long)valid);
	return 0;
}

const struct vl_rsm_ops vl_rsm_ws = {
	.name = "working-set",
	.policy = false,
	.lists = true,
	.mapped = ws_mapped,
	.cached = ws_cached,
	.park = ws_park,
	.unmapped = ws_unmapped,
	.idle = ws_idle,
	.grow = ws_grow,
	.make_room = ws_make_room,
	.tick = ws_tick,
	.ws_pages = ws_pages,
	.check = ws_check,
};
