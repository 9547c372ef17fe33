/*
 * Ring-3 workloads for reclaim and swap (the layouts and arguments are in
 * reclaim.h): swap_tree, a fork tree sharing a cluster that the kernel
 * swaps out of all of them at once; reclaim_load, workers that touch more
 * memory than the machine has and check every word they read back;
 * oom_eater, a task that must die of memory exhaustion.
 */
#include "user/ulib.h"
#include "user/reclaim.h"

static u32 atomic_add(volatile u32 *p, u32 v)
{
	return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}

/* Yields until *p == want; false after a long while (the kernel side died). */
static bool await_eq(volatile u32 *p, u32 want)
{
	for (u32 spin = 0; spin < 2000000; spin++) {
		if (*p == want)
			return true;
		sys_yield();
	}
	return false;
}

/* ---- swap_tree ---- */

/* Words of the cluster that are not swaptree_word. */
static u32 cluster_wrong(u32 ps)
{
	volatile u32 *c = (volatile u32 *)SWAPTREE_COW;
	u32 wrong = 0;

	for (u32 i = 0; i < ps / 4; i++)
		wrong += c[i] != swaptree_word(i);
	return wrong;
}

static int tree_node(volatile struct swaptree_sync *sy, u32 index, u32 levels, u32 ps, u32 flags)
{
	volatile u32 *c = (volatile u32 *)SWAPTREE_COW;
	s32 kids = 0;

	sy->pid[index] = (u32)sys_getpid();
	for (u32 k = 0; levels && k < 2; k++) {
		s32 pid = sys_fork();
		UASSERT(pid >= 0);
		if (pid == 0)
			sys_exit(tree_node(sy, 2 * index + 1 + k, levels - 1, ps, flags));
		kids++;
	}
	atomic_add(&sy->ready, 1);
	UASSERT(await_eq(&sy->go, 1));
	/* The cluster is out of every task: each read faults it back. */
	u32 wrong = cluster_wrong(ps);
	if (flags & SWAPTREE_EXPECT_KILL)
		return 3; /* the read should have killed this task */
	sy->frame[index] = pte_info(SWAPTREE_COW).frame;
	atomic_add(&sy->bad, wrong);
	atomic_add(&sy->done, 1);
	UCHECK_EQ(wrong, 0);
	UCHECK(await_eq(&sy->done, sy->ntasks));
	/* Every task got the same cluster back: the swap cache shared it. */
	UCHECK_EQ(sy->frame[index], sy->frame[0]);
	UCHECK(!pte_info(SWAPTREE_COW).writable || sy->ntasks == 1);
	c[0] = 0x70000000u + index; /* copy-on-write: this task's own copy */
	UCHECK_EQ(c[0], 0x70000000u + index);
	UCHECK_EQ(c[1], swaptree_word(1));
	while (kids--)
		UCHECK_EQ(wait_one(), 0);
	return 0;
}

static int swap_tree(u32 arg)
{
	u32 depth = arg & 0xff, ps = sys_info().page_size;
	s32 c = sys_mmap(SWAPTREE_COW, ps, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	s32 s = sys_mmap(SWAPTREE_SYNC, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);

	UASSERT(c == (s32)SWAPTREE_COW && s == (s32)SWAPTREE_SYNC);
	UASSERT((2u << depth) - 1 <= SWAPTREE_MAX);
	UASSERT(depth == 0 || !(arg & SWAPTREE_EXPECT_KILL));
	volatile struct swaptree_sync *sy = (volatile struct swaptree_sync *)s;
	sy->ntasks = (2u << depth) - 1;
	volatile u32 *p = (volatile u32 *)c;
	for (u32 i = 0; i < ps / 4; i++)
		p[i] = swaptree_word(i);
	return tree_node(sy, 0, depth, ps, arg & SWAPTREE_EXPECT_KILL);
}
USER_PROGRAM(swap_tree);

/* ---- reclaim_load ---- */

#define WORDS_PER_PAGE 1024u
#define SAMPLES 16u /* words checked per 4 KiB page, 256 bytes apart */

static u32 load_word(u32 seed, u32 page, u32 k, u32 gen)
{
	u32 x = seed ^ page * 0x9e3779b9u ^ k * 0x85ebca6bu ^ gen * 0xc2b2ae35u;
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	return x;
}

struct load {
	volatile u32 *mem;
	u32 pages, seed;
	u8 *gen;            /* per page; on the worker's stack */
	u32 wrong, checked; /* words */
	u32 first_bad;      /* page of the first wrong word + 1, or 0 */
};

static void fill_page(struct load *l, u32 i)
{
	volatile u32 *p = l->mem + i * WORDS_PER_PAGE;

	p[1] = i;
	for (u32 k = 0; k < SAMPLES; k++)
		p[k * (WORDS_PER_PAGE / SAMPLES)] = load_word(l->seed, i, k, l->gen[i]);
}

static void check_page(struct load *l, u32 i)
{
	volatile u32 *p = l->mem + i * WORDS_PER_PAGE;
	u32 bad = p[1] != i;

	for (u32 k = 0; k < SAMPLES; k++)
		bad += p[k * (WORDS_PER_PAGE / SAMPLES)] != load_word(l->seed, i, k, l->gen[i]);
	if (bad && !l->first_bad) {
		l->first_bad = i + 1;
		uprintf("reclaim_load: page %u (generation %u): %u wrong words, word 0 = %x, "
			"word 1 = %x", i, l->gen[i], bad, p[0], p[1]);
	}
	l->wrong += bad;
	l->checked += SAMPLES + 1;
}

static int load_worker(u32 arg)
{
	u32 mib = arg >> 8, index = arg & 0xff;
	u8 gens[16384];
	struct load l = { 0, mib * 256, 0x1000193u * (index + 1), gens, 0, 0, 0 };

	UASSERT(l.pages <= sizeof(gens));
	s32 a = map_anon(l.pages * 4096);
	UASSERT(a > 0);
	l.mem = (volatile u32 *)a;
	for (u32 i = 0; i < l.pages; i++) {
		gens[i] = 1;
		fill_page(&l, i);
	}
	/* Every worker's memory is in use before anyone reads back: the
	 * pressure does not depend on how the workers happen to be scheduled. */
	volatile u32 *sync = (volatile u32 *)RECLAIM_SYNC;
	atomic_add(&sync[0], 1);
	UCHECK(await_eq(&sync[0], sync[1]));
	for (u32 i = 0; i < l.pages; i++)
		check_page(&l, i);
	/* Random order, a quarter of the pages: check, then a new generation;
	 * then the rewritten pages once more, in order. */
	u32 x = l.seed | 1;
	for (u32 n = 0; n < l.pages / 4; n++) {
		x = x * 1664525u + 1013904223u;
		u32 i = (x >> 8) % l.pages;
		check_page(&l, i);
		gens[i]++;
		fill_page(&l, i);
	}
	for (u32 i = 0; i < l.pages; i++)
		if (gens[i] > 1)
			check_page(&l, i);
	uprintf("reclaim_load worker %u: %u pages, %u words checked, %u wrong", index, l.pages,
		l.checked, l.wrong);
	UCHECK_EQ(l.wrong, 0);
	UCHECK_EQ(sys_munmap((u32)a, l.pages * 4096), 0);
	return l.wrong ? 1 : 0;
}

static int reclaim_load(u32 arg)
{
	u32 mib = arg >> 8, tasks = arg & 0xff, failed = 0;

	UASSERT(tasks >= 1 && tasks <= 16 && mib >= tasks);
	s32 s = sys_mmap(RECLAIM_SYNC, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
	UASSERT(s == (s32)RECLAIM_SYNC);
	volatile u32 *sync = (volatile u32 *)s;
	sync[0] = 0; /* workers done filling */
	sync[1] = tasks;
	for (u32 t = 0; t < tasks; t++) {
		u32 share = mib / tasks + (t < mib % tasks);
		UASSERT(spawn(load_worker, share << 8 | t) > 0);
	}
	for (u32 t = 0; t < tasks; t++)
		failed += wait_one() != 0;
	UCHECK_EQ(failed, 0);
	return failed ? 1 : 0;
}
USER_PROGRAM(reclaim_load);

/* ---- oom_eater ---- */

static int oom_eater(u32 mib)
{
	s32 a = map_anon(mib << 20);

	UASSERT(a > 0);
	for (u32 off = 0; off < mib << 20; off += 4096)
		*(volatile u32 *)(a + off) = off;
	return 3; /* all of it fitted: the test wanted it not to */
}
USER_PROGRAM(oom_eater);
