/*
 * bad_syscalls: every system call with arguments it must refuse -- bad
 * numbers, kernel and unmapped pointers, misaligned and wrapping ranges --
 * gets an error back, and the task goes on.  Also: the registers a call
 * does not return in come back unchanged, in fork's child too.
 */
#include "user/ulib.h"

#define PG 4096u
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void bad_numbers(void)
{
	UCHECK_EQ(syscall4(NR_SYSCALLS, 0, 0, 0, 0), -ENOSYS);
	UCHECK_EQ(syscall4(0x1000, 0, 0, 0, 0), -ENOSYS);
	UCHECK_EQ(syscall4(0xffffffffu, 0, 0, 0, 0), -ENOSYS);
	UCHECK_EQ(sys_test(1000, 0, 0, 0), -EINVAL);
}

static void bad_writes(u32 buf)
{
	static const char msg[] = "# bad_syscalls: a write from the read-only image\n";

	UCHECK_EQ(sys_write(msg, sizeof(msg) - 1), sizeof(msg) - 1);
	UCHECK_EQ(sys_write(msg, 0), 0);
	UCHECK_EQ(sys_write((void *)0xc0100000u, 4), -EFAULT);      /* kernel */
	UCHECK_EQ(sys_write((void *)0xbffffffcu, 8), -EFAULT);      /* runs into the kernel */
	UCHECK_EQ(sys_write((void *)0x20000000u, 4), -EFAULT);      /* no VMA */
	UCHECK_EQ(sys_write((void *)0, 4), -EFAULT);                /* NULL */
	UCHECK_EQ(sys_write((void *)0xfffffff0u, 0x20), -EFAULT);   /* wraps */
	UCHECK_EQ(sys_write((void *)buf, 0xffffffffu), -EFAULT);    /* wraps */
	/* A buffer that runs off the end of its mapping: the part before the end. */
	memcpy((void *)(buf + PG - 10), "# partial\n", 10);
	UCHECK_EQ(sys_write((void *)(buf + PG - 10), 300), 10);
	/* An inaccessible page. */
	UCHECK_EQ(sys_mprotect(buf, PG, PROT_NONE), 0);
	UCHECK_EQ(sys_write((void *)buf, 4), -EFAULT);
	UCHECK_EQ(sys_mprotect(buf, PG, RW), 0);
}

static void bad_mappings(u32 buf)
{
	UCHECK_EQ(sys_mmap(0, 0, RW, ANON), -EINVAL);
	UCHECK_EQ(sys_mmap(0, PG, RW, MAP_PRIVATE), -EINVAL);               /* not anonymous */
	UCHECK_EQ(sys_mmap(0, PG, RW, MAP_ANONYMOUS), -EINVAL);             /* neither kind */
	UCHECK_EQ(sys_mmap(0, PG, RW, ANON | MAP_SHARED), -EINVAL);         /* both kinds */
	UCHECK_EQ(sys_mmap(0, PG, 0x80, ANON), -EINVAL);                    /* prot */
	UCHECK_EQ(sys_mmap(0xc0000000u, PG, RW, ANON | MAP_FIXED), -EINVAL); /* kernel */
	UCHECK_EQ(sys_mmap(0x10000800u, PG, RW, ANON | MAP_FIXED), -EINVAL); /* misaligned */
	UCHECK_EQ(sys_mmap(0xbffff000u, 2 * PG, RW, ANON | MAP_FIXED), -EINVAL); /* crosses */
	UCHECK_EQ(sys_mmap(0, 0xfffff000u, RW, ANON), -EINVAL);             /* too long */
	UCHECK(sys_mmap(0, 0xb0000000u, RW, ANON) < 0);                     /* no room */
	UCHECK_EQ(sys_munmap(0xc0000000u, PG), -EINVAL);
	UCHECK_EQ(sys_munmap(buf + 1, PG), -EINVAL);
	UCHECK_EQ(sys_munmap(0xfffff000u, 2 * PG), -EINVAL);
	UCHECK_EQ(sys_munmap(buf, 0), -EINVAL);
	UCHECK_EQ(sys_mprotect(0x20000000u, PG, PROT_READ), -ENOMEM);       /* no VMA */
	UCHECK_EQ(sys_mprotect(buf + 2, PG, PROT_READ), -EINVAL);
	UCHECK_EQ(sys_mprotect(buf, PG, 0x40), -EINVAL);
	UCHECK_EQ(sys_mprotect(0xc0100000u, PG, RW), -EINVAL);
	UCHECK_EQ(sys_mprotect(USER_IMAGE_BASE, PG, RW), -EPERM);
	UCHECK_EQ(sys_munmap(0x20000000u, PG), 0); /* nothing there: not an error */
}

static void bad_waits(u32 buf)
{
	UCHECK_EQ(sys_wait(0), -ECHILD);
	UCHECK_EQ(sys_wait((int *)0xc0000000u), -EFAULT);
	UCHECK_EQ(sys_wait((int *)0xfffffffeu), -EFAULT);
	/* The status cannot be stored into the read-only image: the child is
	 * reaped all the same, and the call says -EFAULT. */
	s32 pid = sys_fork();
	if (pid == 0)
		sys_exit(3);
	UASSERT(pid > 0);
	UCHECK_EQ(sys_wait((int *)(USER_IMAGE_BASE + 16)), -EFAULT);
	UCHECK_EQ(sys_wait(0), -ECHILD);
	int status = 0;
	pid = sys_fork();
	if (pid == 0)
		sys_exit(4);
	UCHECK_EQ(sys_wait(&status), pid);
	UCHECK_EQ(status, 4);
}

static void bad_tests(u32 buf)
{
	UCHECK_EQ(sys_test(TEST_PTE, buf, 0xc0000000u, 0), -EFAULT);
	UCHECK_EQ(sys_test(TEST_PTE, 0xc0100000u, buf, 0), -EFAULT);
	UCHECK_EQ(sys_test(TEST_MM, 0x20000000u, 0, 0), -EFAULT);
	UCHECK_EQ(sys_test(TEST_SYS, 0xfffffff0u, 0, 0), -EFAULT);
	/* A failure report the kernel cannot read is refused, not counted. */
	UCHECK_EQ(sys_test(TEST_FAIL, 0xc0100000u, 1, buf), -EFAULT);
	UCHECK_EQ(sys_test(TEST_FAIL, buf, 1, 0x20000000u), -EFAULT);
}

/* int 0x80 leaves every register but eax as it was (getpid: no arguments). */
static void registers_kept(void)
{
	u32 in[5] = { 0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555 }, out[5];
	s32 pid;

	__asm__ __volatile__("int $0x80"
			     : "=a"(pid), "=b"(out[0]), "=c"(out[1]), "=d"(out[2]), "=S"(out[3]),
			       "=D"(out[4])
			     : "a"(SYS_getpid), "b"(in[0]), "c"(in[1]), "d"(in[2]), "S"(in[3]),
			       "D"(in[4])
			     : "memory");
	UCHECK(pid > 0);
	for (u32 i = 0; i < 5; i++)
		UCHECK_EQ(out[i], in[i]);
}

/* fork's child returns from the same int 0x80 with eax = 0 and every other
 * register as the parent had it. */
static void fork_keeps_registers(void)
{
	u32 in[5] = { 0x66666666, 0x77777777, 0x88888888, 0x99999999, 0xaaaaaaaa }, out[5];
	s32 pid;

	__asm__ __volatile__("int $0x80"
			     : "=a"(pid), "=b"(out[0]), "=c"(out[1]), "=d"(out[2]), "=S"(out[3]),
			       "=D"(out[4])
			     : "a"(SYS_fork), "b"(in[0]), "c"(in[1]), "d"(in[2]), "S"(in[3]),
			       "D"(in[4])
			     : "memory");
	u32 differ = 0;
	for (u32 i = 0; i < 5; i++)
		differ += out[i] != in[i];
	if (pid == 0)
		sys_exit(differ ? 1 : 0);
	UCHECK(pid > 0);
	UCHECK_EQ(differ, 0);
	UCHECK_EQ(wait_one(), 0);
}

static int bad_syscalls(u32 arg)
{
	s32 buf = map_anon(PG);

	UASSERT(buf > 0);
	bad_numbers();
	bad_writes((u32)buf);
	bad_mappings((u32)buf);
	bad_waits((u32)buf);
	bad_tests((u32)buf);
	registers_kept();
	fork_keeps_registers();
	UCHECK_EQ(sys_munmap((u32)buf, PG), 0);
	return 0;
}
USER_PROGRAM(bad_syscalls);
