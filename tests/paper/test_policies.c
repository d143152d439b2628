/* tests/paper/test_policies.c - the adaptive and scan-resistant policies
 * on small reference strings worked out by hand from each paper's (or its
 * authors') description of the algorithm.
 *
 * Every expected fault count below is derived step by step in the comment
 * above it, from the rules as the paper states them (quoted in short in
 * each policy's file header), not from running the program.  Notation:
 * pages are numbers; "f=N" is the running fault count; lists are written
 * most recent (head) first unless said otherwise.
 */
#include "tests/testutil.h"

/* Faults of policy on pages[] with the given frames and extra settings
 * (NULL-terminated "key=value" list, may be NULL), invariant checker on. */
static uint64_t faults_with(const char *policy, unsigned frames, const unsigned *pages, size_t n,
			    const char *const *extra)
{
	struct vl_rec recs[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		recs[i] = (struct vl_rec){ .addr = (uint64_t)pages[i] << 12, .pid = 1,
					   .op = VL_OP_READ };
	char fr[32], po[64];
	snprintf(fr, sizeof(fr), "memory.frames=%u", frames);
	snprintf(po, sizeof(po), "replacement.policy=%s", policy);
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	if (vl_config_new(&cfg, &err) < 0 || vl_config_set_arg(cfg, fr, &err) < 0 ||
	    vl_config_set_arg(cfg, po, &err) < 0 || vl_config_set_arg(cfg, "run.check=on", &err) < 0)
		fail_msg("config: %s", err.msg);
	for (size_t i = 0; extra && extra[i]; i++)
		if (vl_config_set_arg(cfg, extra[i], &err) < 0)
			fail_msg("config %s: %s", extra[i], err.msg);
	struct vl_engine *e;
	if (vl_engine_new(&e, cfg, &err) < 0)
		fail_msg("engine: %s", err.msg);
	vl_config_free(cfg);
	tu_feed(e, recs, n);
	uint64_t f = vl_engine_counters(e)->faults;
	vl_engine_free(e);
	return f;
}

#define N(a) (sizeof(a) / sizeof(a[0]))

/* ---- ARC (Megiddo and Modha, FAST 2003, Fig. 4), c = 2, p starts at 0.
 *
 * (a) 1 1 2 3 1: a page seen twice is protected from a one-time page.
 *   1 miss, new: T1=[1] f=1.  1 hit: T2=[1], T1=[].  2 miss: T1=[2] f=2.
 *   3 miss, new; |T1|+|B1| = 1 < c; REPLACE with p=0: |T1|=1 > p, so
 *     T1's LRU 2 goes to B1.  T1=[3] f=3.
 *   1 hit in T2.  Total 3.  (LRU: 3 evicts 1, 1 evicts 2: 4 faults.)
 *
 * (b) 1 2 1 3 2 1 3 2: ghost hits move p.
 *   1, 2 miss: T1=[2,1] f=2.  1 hit: T2=[1], T1=[2].
 *   3 miss, new: |T1|+|B1| = 1 < c, directory 2 < 2c; REPLACE (p=0):
 *     |T1|=1 > 0: 2 to B1.  T1=[3], B1=[2] f=3.
 *   2 miss in B1: p = min(c, 0 + max(1, |B2|/|B1|)) = 1.  REPLACE: |T1|=1
 *     is not > p=1 and 2 is not in B2, so T2's LRU 1 goes to B2.
 *     T2=[2], T1=[3], B2=[1] f=4.
 *   1 miss in B2: p = max(0, 1 - max(1, |B1|/|B2|)) = 0.  REPLACE: |T1|=1
 *     > 0: 3 to B1.  T2=[1,2], B1=[3] f=5.
 *   3 miss in B1: p = 1.  REPLACE: T1 empty: T2's LRU 2 to B2.  T2=[3,1]
 *     f=6.
 *   2 miss in B2: p = 0.  REPLACE: T2's LRU 1 to B2.  T2=[2,3] f=7.
 *   Total 7.  Had p stayed 0, the 4th miss would evict 3 and the next
 *   reference to 1 would hit.
 */
static void test_arc(void **state)
{
	(void)state;
	static const unsigned a[] = { 1, 1, 2, 3, 1 };
	static const unsigned b[] = { 1, 2, 1, 3, 2, 1, 3, 2 };
	assert_int_equal(faults_with("arc", 2, a, N(a), NULL), 3);
	assert_int_equal(faults_with("lru", 2, a, N(a), NULL), 4);
	assert_int_equal(faults_with("arc", 2, b, N(b), NULL), 7);
}

/* ---- LIRS (Jiang and Zhang, SIGMETRICS 2002, section 3.3), variant =
 * bounded, c = 3: L_hirs = 1 (1% of 3, at least 1), L_lirs = 2, as in the
 * paper's own
 * example.  S is written top first, "g" marks a non-resident entry.
 *
 *   1 miss: LIR (fewer than L_lirs LIR pages).  S=[1] f=1.
 *   2 miss: LIR.  S=[2,1] f=2.
 *   3 miss: resident HIR.  S=[3,2,1], Q=[3] f=3.
 *   4 miss: evict Q's front 3 (stays in S as 3g).  4 is new: HIR.
 *     S=[4,3g,2,1], Q=[4] f=4.
 *   3 miss: evict 4 (4g).  3 is in S: it becomes LIR at the top; the
 *     bottom LIR 1 becomes HIR and goes to Q; prune (2 is LIR: stop).
 *     S=[3,4g,2], Q=[1] f=5.
 *   2 hit, LIR at the bottom: to the top, prune removes 4g.  S=[2,3].
 *   1 hit, HIR not in S: to S's top and Q's end.  S=[1,2,3], Q=[1].
 *   4 miss: evict 1 (1g).  4 is not in S any more (pruned): HIR.
 *     S=[4,1g,2,3], Q=[4] f=6.
 *   1 miss: evict 4 (4g).  1 is in S: LIR; bottom LIR 3 to Q.
 *     S=[1,4g,2], Q=[3] f=7.
 *   3 hit, HIR not in S.  Total 7.
 * Without pruning, 4g would still be in S at the 8th reference and 4
 * would become LIR there instead.
 */
static void test_lirs(void **state)
{
	(void)state;
	static const unsigned s[] = { 1, 2, 3, 4, 3, 2, 1, 4, 1, 3 };
	static const char *const bounded[] = { "replacement.lirs.variant=bounded", NULL };
	assert_int_equal(faults_with("lirs", 3, s, N(s), bounded), 7);
}

/* ---- 2Q, full version (Johnson and Shasha, VLDB 1994, section 2.2),
 * c = 4: Kin = 25% = 1 page, Kout = 50% = 2 identities.
 *
 *   1 2 3 4 miss, free frames: A1in=[4,3,2,1] f=4.
 *   5 miss: |A1in| = 4 > Kin: evict A1in's tail 1 to A1out=[1].
 *     A1in=[5,4,3,2] f=5.
 *   1 miss, in A1out: evict A1in's tail 2 (A1out=[2,1]); 1 leaves A1out
 *     for Am.  Am=[1], A1out=[2], A1in=[5,4,3] f=6.
 *   2 miss, in A1out: evict 3 (A1out=[3,2]); 2 to Am.  Am=[2,1],
 *     A1out=[3], A1in=[5,4] f=7.
 *   3 miss, in A1out: evict 4; 3 to Am.  Am=[3,2,1], A1out=[4],
 *     A1in=[5] f=8.
 *   1 hit in Am: Am=[1,3,2].
 *   6 miss, new: |A1in| = 1 is not > Kin: evict Am's tail 2 (not
 *     remembered).  A1in=[6,5] f=9.
 *   2 miss, not in A1out: |A1in| = 2 > 1: evict 5.  A1in=[2,6] f=10.
 *   Total 10.  (With ">=" instead of ">" the 6 would evict 5 and the
 *   last 2 would hit: 9.)
 */
static void test_2q(void **state)
{
	(void)state;
	static const unsigned s[] = { 1, 2, 3, 4, 5, 1, 2, 3, 1, 6, 2 };
	assert_int_equal(faults_with("2q", 4, s, N(s), NULL), 10);
}

/* ---- S3-FIFO (Yang et al., SOSP 2023, Algorithm 1; the authors'
 * reference code for "t.freq > 1" and the main queue's 2-bit CLOCK).
 *
 * (a) c = 10 (defaults: S 10% = 1 page, M 9, G 9, move to M at freq >= 2).
 *   1..10 miss, free frames: all into S, freq 0.  f=10.
 *   1 hit, 1 hit: freq(1) = 2.  2 hit: freq(2) = 1.
 *   11 miss: |M| = 0 <= 9 and S is not empty: evict from S.  Tail 1 has
 *     freq 2: moves to M.  Tail 2 has freq 1: the victim, 2 enters G.
 *     S=[11,10..3] f=11.
 *   2 miss, in G: leaves G, into M.  Victim from S: tail 3 (freq 0) to G.
 *     f=12.
 *   3 miss, in G: into M; victim 4 (to G).  f=13.
 *   1 hit (in M).  4 miss, in G: into M; victim 5.  f=14.
 *   Total 14.  (Promoting at freq >= 1 would also move 2 to M at the
 *   11th miss, evicting 3, and the next 2 would hit: 13.)
 *
 * (b) c = 5 with small_pct = 20: S 1 page, M 4.
 *   1..5 miss into S.  f=5.  1 1 2 2 3 3 4 4: freq 2 for 1..4.
 *   6 miss: S's tails 1, 2, 3, 4 (freq 2) move to M (freq 0),
 *     M=[4,3,2,1]; tail 5 (freq 0) is the victim, to G.  S=[6] f=6.
 *   7 miss: |M| = 4 <= 4: evict from S: 6 to G.  S=[7] f=7.
 *   1 hit: freq(1) = 1.
 *   5 miss, in G: victim from S first: 7 (to G); then 5 into M.
 *     M=[5,4,3,2,1] f=8.
 *   8 miss: |M| = 5 > 4: evict from M: tail 1 has freq 1: reinserted at
 *     M's head with freq 0; tail 2 (freq 0) is the victim (M's victims do
 *     not enter G).  S=[8] f=9.
 *   2 miss, not in G: into S; victim from S: 8.  f=10.  Total 10.
 */
static void test_s3fifo(void **state)
{
	(void)state;
	static const unsigned a[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 1, 2, 11, 2, 3, 1, 4 };
	static const unsigned b[] = { 1, 2, 3, 4, 5, 1, 1, 2, 2, 3, 3, 4, 4, 6, 7, 1, 5, 8, 2 };
	static const char *const small20[] = { "replacement.s3fifo.small_pct=20", NULL };
	static const char *const move1[] = { "replacement.s3fifo.move_to_main=1", NULL };
	assert_int_equal(faults_with("s3fifo", 10, a, N(a), NULL), 14);
	assert_int_equal(faults_with("s3fifo", 10, a, N(a), move1), 13);
	assert_int_equal(faults_with("s3fifo", 5, b, N(b), small20), 10);
}

/* ---- SIEVE (Zhang et al., NSDI 2024, Algorithm 1), c = 4.  The queue
 * is written head (newest) first; "*" marks a visited page; the hand
 * moves from the tail toward the head and stays where it stopped.
 *
 *   1 2 3 4 miss: [4,3,2,1], hand at the tail.  f=4.
 *   1 hit: [4,3,2,1*].
 *   5 miss: hand at 1: visited, cleared; 2: unvisited, evicted; the
 *     hand stays at 2's neighbour toward the head, 3.  [5,4,3,1] f=5.
 *   6 miss: hand at 3: evicted (1, at the tail and unvisited now, is
 *     passed over: the hand does not go back).  Hand at 4.  [6,5,4,1] f=6.
 *   1 hit: 1*.
 *   7 miss: hand at 4: evicted; hand at 5.  [7,6,5,1*] f=7.
 *   2 miss: hand at 5: evicted; hand at 6.  [2,7,6,1*] f=8.
 *   1 hit.  4 miss: hand at 6: evicted.  f=9.  Total 9.
 *   (A hand restarting at the tail would evict 1 at the 6, and the next 1
 *   would miss.)
 */
static void test_sieve(void **state)
{
	(void)state;
	static const unsigned s[] = { 1, 2, 3, 4, 1, 5, 6, 1, 7, 2, 1, 4 };
	assert_int_equal(faults_with("sieve", 4, s, N(s), NULL), 9);
}

/* ---- CLOCK-Pro (Jiang, Chen and Zhang, USENIX 2005, sections 3-4),
 * variant = adaptive (vmlab's reading of the paper), c = 3:
 * m_c starts at 1 (m_h = 2) and stays in [1, 2].  The list is written
 * tail (oldest) first; "h" hot, "c" resident cold out of its test period,
 * "ct" resident cold in it, "g" a non-resident page in its test period;
 * "*" a set reference bit.  New pages enter at the head with their bit
 * clear; until the first victim is needed they enter hot while fewer than
 * m_h pages are hot (LIRS's start).  HAND_cold rests on the oldest
 * resident cold page, HAND_hot on the oldest hot page; HAND_hot ends the
 * test period of every cold page it passes (a g leaves).
 *
 * (a) 1 2 3 1 4 2 3 1 4 2 5 2
 *   1 2 miss: hot.  3 miss: 2 hot already: ct.  [1h 2h 3ct] f=3.
 *   1 hit: 1*.
 *   4 miss: HAND_cold at 3: clear: victim, stays as 3g.  4 enters ct.
 *     [1h* 2h 3g 4ct] f=4.
 *   2 hit: 2*.
 *   3 miss: HAND_cold at 4: victim (4g).  3 is 3g: re-accessed in its
 *     test period: m_c = 2, m_h = 1; 2 hot >= 1: HAND_hot at 1: bit set,
 *     cleared, 1 to the head; at 2: the same; the hand then reaches 3g
 *     itself: its test period is over, no promotion.  3g leaves, 3 enters
 *     ct at the head; the hand goes on to the next hot page, ending 4g's
 *     test (it leaves, m_c = 1).  [1h 2h 3ct] f=5.
 *   1 hit: 1*.
 *   4 miss: victim 3 (3g).  4 is not listed: ct.  [1h* 2h 3g 4ct] f=6.
 *   2 hit.  5 miss: victim 4 (4g); 5 ct.  [1h* 2h* 3g 4g 5ct] f=7.
 *   2 hit.  Total 7.  (The earlier reading, with the list head behind
 *   HAND_hot and every page entering cold, gave 9.)
 *
 * (b) 1 2 3 4 3 5 5 6 7 5 3 6 7
 *   1 2 hot, 3 ct; 4: victim 3 (3g), 4 ct.  [1h 2h 3g 4ct] f=4.
 *   3 miss: victim 4 (4g).  3g: m_c = 2, m_h = 1; 2 hot >= 1: HAND_hot
 *     at 1: clear: demoted to c, to the head; 1 hot >= 1: at 2: demoted
 *     the same way; 0 < 1: room.  3 turns hot at the head; the hand ends
 *     4g's test (m_c = 1), passes 1c and 2c, stops at 3.
 *     [1c 2c 3h] f=5.
 *   5 miss: HAND_cold at 1: clear, out of test: victim, leaves.  5 ct.
 *     [2c 3h 5ct] f=6.
 *   5 hit: 5*.
 *   6 miss: victim 2 (leaves).  [3h 5ct* 6ct] f=7.
 *   7 miss: HAND_cold at 5: bit set (cleared) in its test period: m_c = 2,
 *     m_h = 1; 1 hot >= 1: HAND_hot at 3: clear: demoted, to the head;
 *     room: 5 turns hot and goes to the head.  The hand ends 6's test
 *     (bit clear: m_c = 1), passes 3c, stops at 5.  [6c 3c 5h].  HAND_cold
 *     at 6: clear, out of test: victim, leaves.  7 ct.  [3c 5h 7ct] f=8.
 *   5 hit: 5*.  3 hit: 3*.
 *   6 miss: HAND_cold at 3: bit set, out of test: cleared, starts a test
 *     period at the head: [5h* 7ct 3ct]; at 7: victim (7g).  6 ct.
 *     [5h* 7g 3ct 6ct] f=9.
 *   7 miss: HAND_cold at 3: victim (3g).  7g: m_c = 2, m_h = 1; HAND_hot
 *     at 5: bit set: cleared, to the head: [7g 3g 6ct 5h]; the hand
 *     reaches 7g: no promotion; 7 enters ct; the hand ends the tests of
 *     3g (leaves, m_c = 1) and 6 (now c), stops at 5.  [6c 5h 7ct] f=10.
 *   Total 10.
 */
static void test_clock_pro(void **state)
{
	(void)state;
	static const unsigned a[] = { 1, 2, 3, 1, 4, 2, 3, 1, 4, 2, 5, 2 };
	static const unsigned b[] = { 1, 2, 3, 4, 3, 5, 5, 6, 7, 5, 3, 6, 7 };
	static const char *const adaptive[] = { "replacement.clock-pro.variant=adaptive", NULL };
	assert_int_equal(faults_with("clock-pro", 3, a, N(a), adaptive), 7);
	assert_int_equal(faults_with("clock-pro", 3, b, N(b), adaptive), 10);
}

/* ---- CLOCK's two variants, c = 3, on 1 2 3 1 4 2 5 1; the circle is
 * written tail (the hand) first, "*" a set bit; a page the hand passes
 * goes to the head with its bit cleared.
 *
 * set (the load sets the bit): 1 2 3 miss: [1* 2* 3*] f=3.  1 hit.
 *   4 miss: 1, 2, 3 passed (cleared), 1 is the victim: [2 3 4*] f=4.
 *   2 hit: 2*.  5 miss: 2 passed, 3 victim: [4* 2 5*] f=5.
 *   1 miss: 4 passed, 2 victim: f=6.  Total 6.
 * clear (pages enter clear, libCacheSim's Clock): [1 2 3] f=3.  1 hit: 1*.
 *   4 miss: 1 passed, 2 victim: [3 1 4] f=4.  2 miss: 3 victim [1 4 2]
 *   f=5.  5 miss: 1 victim [4 2 5] f=6.  1 miss: 4 victim f=7.  Total 7.
 */
static void test_clock_variants(void **state)
{
	(void)state;
	static const unsigned s[] = { 1, 2, 3, 1, 4, 2, 5, 1 };
	static const char *const set[] = { "replacement.clock.variant=set", NULL };
	static const char *const clear[] = { "replacement.clock.variant=clear", NULL };
	assert_int_equal(faults_with("clock", 3, s, N(s), NULL), 6);
	assert_int_equal(faults_with("clock", 3, s, N(s), set), 6);
	assert_int_equal(faults_with("clock", 3, s, N(s), clear), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_variants),
		cmocka_unit_test(test_arc),	cmocka_unit_test(test_lirs),
		cmocka_unit_test(test_2q),	cmocka_unit_test(test_s3fifo),
		cmocka_unit_test(test_sieve),	cmocka_unit_test(test_clock_pro),
	};
	return cmocka_run_group_tests_name("policies on worked examples", tests, NULL, NULL);
}
