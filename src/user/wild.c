/*
 * Programs that break the rules, each in one way, and must be killed by
 * the kernel (exit code 128 + the exception vector) without harming
 * anything else.  None of them should ever return.
 */
#include "user/ulib.h"

static int wild_write(u32 addr)
{
	*(volatile u32 *)addr = 0xbad;
	return 0;
}
USER_PROGRAM(wild_write);

static int wild_read(u32 addr)
{
	return *(volatile u32 *)addr == 0x5eed ? 2 : 0;
}
USER_PROGRAM(wild_read);

static int wild_exec(u32 addr)
{
	return ((int (*)(void))addr)();
}
USER_PROGRAM(wild_exec);

/* Writes `ret` into fresh read-write (not executable) memory and calls it:
 * a fetch from an XD page under PAE with NX; it runs without NX. */
static int nx_exec(u32 arg)
{
	s32 a = map_anon(4096);

	if (a < 0)
		return 3;
	*(volatile u8 *)a = 0xc3;
	((void (*)(void))a)();
	return 0;
}
USER_PROGRAM(nx_exec);

/* The image is read-only. */
static int write_image(u32 arg)
{
	*(volatile u32 *)(USER_IMAGE_BASE + 64) = 0;
	return 0;
}
USER_PROGRAM(write_image);

static int div_zero(u32 arg)
{
	u32 q = 1, d = 0;
	__asm__ __volatile__("xorl %%edx, %%edx; divl %1" : "+a"(q) : "r"(d) : "edx");
	return (int)q;
}
USER_PROGRAM(div_zero);

static int bad_opcode(u32 arg)
{
	__asm__ __volatile__("ud2");
	return 0;
}
USER_PROGRAM(bad_opcode);

/* cli at CPL 3 with IOPL 0: #GP (SDM vol. 3 2.5, IOPL-sensitive instructions). */
static int privileged(u32 arg)
{
	__asm__ __volatile__("cli");
	return 0;
}
USER_PROGRAM(privileged);

/* int 0x30: an interrupt gate with DPL 0 raised from ring 3 is a #GP. */
static int bad_int(u32 arg)
{
	__asm__ __volatile__("int $0x30");
	return 0;
}
USER_PROGRAM(bad_int);

/* Recursion past the bottom of the stack VMA: a fault with no VMA. */
static int recurse(volatile u8 *prev, u32 depth)
{
	volatile u8 frame[4000];

	if (depth > 100000) /* 400 MB: far past the 256 KiB stack */
		return 0;
	frame[0] = (u8)depth;
	frame[3999] = prev ? prev[0] : 0;
	return recurse(frame, depth + 1) + frame[1];
}

static int stack_overflow(u32 arg)
{
	return recurse(NULL, 0);
}
USER_PROGRAM(stack_overflow);

/*
 * worker(rounds): a well-behaved task that keeps checking its memory while
 * others are killed around it.
 */
static int worker(u32 rounds)
{
	const u32 pages = 16;
	s32 a = map_anon(pages * 4096);

	UASSERT(a > 0);
	volatile u32 *p = (volatile u32 *)a;
	u32 wrong = 0;
	for (u32 r = 0; r < rounds; r++) {
		for (u32 i = 0; i < pages; i++)
			p[i * 1024 + r % 1024] = r * 1000 + i;
		sys_yield();
		for (u32 i = 0; i < pages; i++)
			wrong += p[i * 1024 + r % 1024] != r * 1000 + i;
	}
	UCHECK_EQ(wrong, 0);
	return 0;
}
USER_PROGRAM(worker);
