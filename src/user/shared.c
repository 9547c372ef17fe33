/*
 * shared_anon(untouched): MAP_SHARED anonymous memory is one set of pages
 * for parent and child after fork: each sees the other's writes, on the
 * same frames, while a private mapping next to it stays private.
 *
 * With untouched = 0 the parent faults every shared page in before the
 * fork; with untouched = 1 it does not, and the pages first appear after
 * the fork -- in the child or in the parent, whichever writes first.
 */
#include "user/ulib.h"

#define NSHARED 4

/* Spins (yielding) until *flag == want; false if it never came. */
static bool await(volatile u32 *flag, u32 want)
{
	for (u32 spin = 0; spin < 200000; spin++) {
		if (*flag == want)
			return true;
		sys_yield();
	}
	return false;
}

static int shared_child(volatile u32 *s, volatile u32 *priv, u32 ps)
{
	UCHECK_EQ(priv[0], 7);
	priv[0] = 8; /* private: the parent must not see this */
	for (u32 i = 1; i < NSHARED; i++)
		s[i * ps / 4] = 0xc0de0000u + i;
	s[2] = pte_info((u32)s + ps).frame;
	s[0] = 1;
	UASSERT(await(s, 2));
	UCHECK_EQ(s[1], 0xfeed);
	for (u32 i = 1; i < NSHARED; i++)
		UCHECK_EQ(s[i * ps / 4 + 1], 0xbeef0000u + i);
	return 0;
}

static int shared_anon(u32 untouched)
{
	u32 ps = sys_info().page_size;
	s32 rs = sys_mmap(0, NSHARED * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
	s32 rp = map_anon(ps);

	UASSERT(rs > 0 && rp > 0);
	volatile u32 *s = (volatile u32 *)rs, *priv = (volatile u32 *)rp;
	s[0] = 0; /* the handshake word: always faulted in before the fork */
	if (!untouched)
		for (u32 i = 1; i < NSHARED; i++)
			s[i * ps / 4] = 0;
	priv[0] = 7;

	s32 pid = sys_fork();
	UASSERT(pid >= 0);
	if (pid == 0)
		sys_exit(shared_child(s, priv, ps));
	UCHECK(await(s, 1));
	for (u32 i = 1; i < NSHARED; i++)
		UCHECK_EQ(s[i * ps / 4], 0xc0de0000u + i);
	struct user_pte_info pi = pte_info((u32)s + ps);
	UCHECK_EQ(pi.frame, s[2]); /* the same frame on both sides */
	UCHECK(pi.writable);
	UCHECK_EQ(pi.mapcount, 1);
	for (u32 i = 1; i < NSHARED; i++)
		s[i * ps / 4 + 1] = 0xbeef0000u + i;
	s[1] = 0xfeed;
	s[0] = 2;
	UCHECK_EQ(wait_one(), 0);
	UCHECK_EQ(priv[0], 7);
	UCHECK_EQ(pte_info((u32)s + ps).mapcount, 0);
	UCHECK_EQ(sys_munmap((u32)rs, NSHARED * ps), 0);
	return 0;
}
USER_PROGRAM(shared_anon);

/*
 * spin_preempted: the child spins in ring 3 without a system call until
 * its parent writes a flag -- which the parent can only do if the timer
 * takes the CPU away from the spinning child (on the way back to ring 3
 * every variant switches when the time slice is over).
 */
static int spinner(volatile u32 *s)
{
	s[1] = 1; /* spinning from now on */
	for (u32 i = 0; i < 400000000u; i++)
		if (s[0])
			return 0;
	return 1;
}

static int spin_preempted(u32 arg)
{
	s32 r = sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);

	UASSERT(r > 0);
	volatile u32 *s = (volatile u32 *)r;
	s[0] = s[1] = 0;
	s32 pid = sys_fork();
	UASSERT(pid >= 0);
	if (pid == 0)
		sys_exit(spinner(s));
	while (!s[1])
		sys_yield();
	s[0] = 1;
	UCHECK_EQ(wait_one(), 0);
	return 0;
}
USER_PROGRAM(spin_preempted);
