/*
 * Memory calls from several address spaces at once (the ring-3 side of
 * smp_stress.mm_calls_on_one_anon_vma and of the smp_mm_calls benchmark).
 *
 * mm_family(arg): arg bits 15:0 rounds, bits 19:16 children.  Maps
 * MF_PAGES private pages, stamps them, forks the children: every address
 * space's VMA there is on one anon_vma.  Then each member (the parent too)
 * works through its rounds on a page of its own choosing: munmap and a
 * fresh mmap of it (the new VMA joins its neighbour's anon_vma at its first
 * fault), mprotect read-only and back (splits: more VMAs join), or a write
 * (copy-on-write at first).  So every round links VMAs to, or unlinks them
 * from, the one anon_vma -- from every CPU at once, without the kernel
 * lock.  Each member checks its own stamps (a page it remapped must read
 * zero).  Exit status: 0, or the number of wrong words seen (capped).
 *
 * mm_churn(arg): arg rounds of mmap + touch every 4 KiB page + munmap of
 * MC_PAGES pages; exit 0, or 1 if a call failed.
 */
#include "user/ulib.h"

#define MF_BASE 0x60000000u
#define MF_PAGES 32u
#define MC_PAGES 4u
#define RW (PROT_READ | PROT_WRITE)

static volatile u32 *mf_page(u32 p)
{
	return (volatile u32 *)(MF_BASE + p * 4096);
}

static u32 mf_stamp(u32 tag, u32 p)
{
	return 0x5a000000u | tag << 8 | p;
}

/* One member's rounds; tag names it (0: the parent). */
static int mf_member(u32 arg)
{
	u32 tag = arg & 0xff, rounds = arg >> 8, bad = 0;

	for (u32 p = 0; p < MF_PAGES; p++)
		*mf_page(p) = mf_stamp(tag, p);
	for (u32 r = 0; r < rounds && bad < 100; r++) {
		u32 p = (tag * 7 + r * 5) % MF_PAGES, a = MF_BASE + p * 4096;
		volatile u32 *m = mf_page(p);
		switch (r % 3) {
		case 0:
			UASSERT_EQ(sys_munmap(a, 4096), 0);
			UASSERT_EQ((u32)sys_mmap(a, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), a);
			bad += *m != 0;
			*m = mf_stamp(tag, p);
			break;
		case 1:
			UASSERT_EQ(sys_mprotect(a, 4096, PROT_READ), 0);
			bad += *m != mf_stamp(tag, p);
			UASSERT_EQ(sys_mprotect(a, 4096, RW), 0);
			break;
		default:
			*m = mf_stamp(tag, p);
			break;
		}
		if (r % 16 == 15)
			for (u32 q = 0; q < MF_PAGES; q++)
				bad += *mf_page(q) != mf_stamp(tag, q);
	}
	for (u32 q = 0; q < MF_PAGES; q++)
		bad += *mf_page(q) != mf_stamp(tag, q);
	if (bad)
		uprintf("mm_family member %u: %u wrong words", tag, bad);
	UCHECK_EQ(bad, 0);
	return bad > 100 ? 100 : (int)bad;
}

static int mm_family(u32 arg)
{
	u32 rounds = arg & 0xffff, kids = (arg >> 16) & 0xf;
	int status = 0;

	UASSERT_EQ((u32)sys_mmap(MF_BASE, MF_PAGES * 4096, RW,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), MF_BASE);
	for (u32 p = 0; p < MF_PAGES; p++)
		*mf_page(p) = mf_stamp(0, p); /* the anon_vma: the children's VMAs join it */
	for (u32 k = 1; k <= kids; k++)
		UASSERT(spawn(mf_member, k | rounds << 8) > 0);
	status = mf_member(rounds << 8);
	for (u32 k = 1; k <= kids; k++) {
		int s = wait_one();
		if (s)
			status = s;
	}
	return status;
}
USER_PROGRAM(mm_family);

static int mm_churn(u32 rounds)
{
	for (u32 r = 0; r < rounds; r++) {
		s32 a = map_anon(MC_PAGES * 4096);
		if (a < 0)
			return 1;
		for (u32 p = 0; p < MC_PAGES; p++)
			*(volatile u32 *)(a + p * 4096) = r;
		if (sys_munmap((u32)a, MC_PAGES * 4096))
			return 1;
	}
	return 0;
}
USER_PROGRAM(mm_churn);
