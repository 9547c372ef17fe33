/*
 * smp_reader(arg): the ring-3 side of the SMP stress suite
 * (src/selftest/smp_stress.c).  arg: bits 15:0 most rounds, bits 19:16 fork depth.
 *
 * The task maps SR_PAGES 4 KiB pages at SR_BASE and stamps every word with
 * a value that names its owner, its page and the page's generation.  Each
 * round it reads every word back -- the translations stay hot in this CPU's
 * TLB while the kernel, on another CPU, pages the clusters out and hands
 * the freed frames to a holder that fills them with poison (0xdead....) --
 * then unmaps and maps one page again (it must read zero), or restamps one,
 * forks a child now and then (which checks what it inherited and goes on
 * with its own stamp), and yields so that the scheduler moves it between
 * CPUs.  It stops after its rounds (a forked child; the first reader has
 * none: it runs until told) or when the kernel writes 1 into the
 * word at SR_CTRL (a page the kernel never pages out).  A word that is neither the stamp nor zero where zero is due is a
 * read through a translation that should have been shot down.
 */
#include "user/ulib.h"
#include "user/smp_stress.h"

#define CHECK_STRIDE 16

struct reader {
	u32 tag;              /* owner tag of the stamps: pid-based */
	u32 gen[SR_PAGES];
	u32 bad;              /* wrong words seen */
	u32 rounds, depth;
};

static u32 stamp(u32 tag, u32 p, u32 gen, u32 i)
{
	return ((tag & 0x3f) + 1) << 24 | p << 18 | (gen & 0x3f) << 12 | i;
}

static volatile u32 *page_at(u32 p)
{
	return (volatile u32 *)(SR_BASE + p * 4096);
}

static void fill(struct reader *r, u32 p)
{
	volatile u32 *m = page_at(p);
	for (u32 i = 0; i < 1024; i++)
		m[i] = stamp(r->tag, p, r->gen[p], i);
}

/* Reads page p; counts and reports (first one only) words that differ. */
static void check(struct reader *r, u32 p, bool zero, u32 round)
{
	volatile u32 *m = page_at(p);
	/* Every CHECK_STRIDE-th word: poison fills whole frames, so a stale
	 * translation shows on any of them (and Bochs runs 4 CPUs on one). */
	for (u32 i = round % CHECK_STRIDE; i < 1024; i += CHECK_STRIDE) {
		u32 v = m[i], want = zero ? 0 : stamp(r->tag, p, r->gen[p], i);
		if (v != want) {
			if (!r->bad)
				uprintf("stale read: page %u word %u = %x, expected %x (round %u)",
					p, i, v, want, round);
			r->bad++;
		}
	}
}

static int run(struct reader *r);

/* A forked child: checks the parent's stamps, then stamps its own. */
static int child_fn(u32 arg)
{
	struct reader *r = (struct reader *)arg; /* the child's copy of the parent's stack */
	for (u32 p = 0; p < SR_PAGES; p++)
		check(r, p, false, 0);
	if (r->bad)
		return 1;
	r->tag = (u32)sys_getpid();
	for (u32 p = 0; p < SR_PAGES; p++)
		fill(r, p);
	r->rounds = SR_CHILD_ROUNDS;
	r->depth--;
	return run(r);
}

static int run(struct reader *r)
{
	u32 children = 0;

	volatile u32 *stop = (volatile u32 *)SR_CTRL;

	/* rounds == 0: until the kernel writes the stop word */
	for (u32 round = 0; (!r->rounds || round < r->rounds) && !r->bad && !*stop; round++) {
		for (u32 p = 0; p < SR_PAGES; p++)
			check(r, p, false, round);
		u32 p = round % SR_PAGES;
		if (round % 3 == 0) {
			/* munmap, then a fresh zero page at the same address */
			UASSERT_EQ(sys_munmap(SR_BASE + p * 4096, 4096), 0);
			UASSERT_EQ((u32)sys_mmap(SR_BASE + p * 4096, 4096, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), SR_BASE + p * 4096);
			check(r, p, true, round);
			r->gen[p]++;
			fill(r, p);
		} else if (round % 3 == 1) {
			r->gen[p]++;
			fill(r, p);
		}
		if (r->depth && round % 16 == 8 && spawn(child_fn, (u32)r) > 0)
			children++;
		if (round % 4 == 3)
			sys_yield();
	}
	while (children--)
		if (wait_one() != 0)
			r->bad++;
	UCHECK_EQ(r->bad, 0);
	return r->bad ? 1 : 0;
}

static int smp_reader(u32 arg)
{
	struct reader r;

	memset(&r, 0, sizeof(r));
	r.rounds = arg & 0xffff;
	r.depth = (arg >> 16) & 0xf;
	r.tag = (u32)sys_getpid();
	UASSERT_EQ((u32)sys_mmap(SR_CTRL, SR_PAGES * 4096 + 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), SR_CTRL);
	*(volatile u32 *)SR_CTRL = 0; /* present: the kernel writes the stop word into its frame */
	for (u32 p = 0; p < SR_PAGES; p++)
		fill(&r, p);
	return run(&r);
}
USER_PROGRAM(smp_reader);
