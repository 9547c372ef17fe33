/*
 * fork_exit_bench(arg): the ring-3 half of the mm_fork_exit benchmark
 * (src/selftest/bench_mm.c, which times it).  Writes one word in every
 * 4 KiB page of (arg & 0xff) MiB of private memory, then forks arg >> 8
 * children one after the other; each exits at once and is waited for.
 * Exit status 0, or 1 and 2 when the mapping or a fork failed.
 */
#include "user/ulib.h"

static int fork_exit_bench(u32 arg)
{
	u32 len = (arg & 0xff) << 20, forks = arg >> 8;
	s32 a = len ? map_anon(len) : 0;

	if (a < 0)
		return 1;
	for (u32 off = 0; off < len; off += 4096)
		*(volatile u32 *)(a + off) = off;
	for (u32 i = 0; i < forks; i++) {
		s32 pid = sys_fork();
		if (pid == 0)
			sys_exit(0);
		if (pid < 0 || sys_wait(NULL) != pid)
			return 2;
	}
	return 0;
}
USER_PROGRAM(fork_exit_bench);
