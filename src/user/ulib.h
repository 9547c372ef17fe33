/*
 * The ring-3 side of the system calls, and the little the test programs
 * need besides: output and assertions that report to the kernel.  The
 * image also links the kernel's src/lib/printf.c and string.c (pure code).
 *
 * Programs have no .data and no .bss (the link refuses them): state lives
 * on the stack or in memory they mmap.  Constant tables and strings are
 * fine (.rodata, in the read-only image).
 */
#ifndef USER_ULIB_H
#define USER_ULIB_H
#include "lib/types.h"
#include "lib/string.h" /* src/lib/string.c is linked into the image too */
#include "kernel/syscall.h"
#include "user/uapi.h"

/* One system call: eax = nr, ebx..esi = a..d (kernel/syscall.h). */
static inline s32 syscall4(u32 nr, u32 a, u32 b, u32 c, u32 d)
{
	s32 ret;
	__asm__ __volatile__("int $0x80"
			     : "=a"(ret)
			     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
			     : "memory");
	return ret;
}

static inline void __noreturn sys_exit(int code)
{
	syscall4(SYS_exit, (u32)code, 0, 0, 0);
	__builtin_unreachable();
}
static inline s32 sys_write(const void *buf, u32 len)
{
	return syscall4(SYS_write, (u32)buf, len, 0, 0);
}
static inline s32 sys_mmap(u32 addr, u32 len, u32 prot, u32 flags)
{
	return syscall4(SYS_mmap, addr, len, prot, flags);
}
static inline s32 sys_munmap(u32 addr, u32 len)
{
	return syscall4(SYS_munmap, addr, len, 0, 0);
}
static inline s32 sys_mprotect(u32 addr, u32 len, u32 prot)
{
	return syscall4(SYS_mprotect, addr, len, prot, 0);
}
static inline s32 sys_fork(void)
{
	return syscall4(SYS_fork, 0, 0, 0, 0);
}
static inline s32 sys_wait(int *status)
{
	return syscall4(SYS_wait, (u32)status, 0, 0, 0);
}
static inline s32 sys_yield(void)
{
	return syscall4(SYS_yield, 0, 0, 0, 0);
}
static inline s32 sys_getpid(void)
{
	return syscall4(SYS_getpid, 0, 0, 0, 0);
}
static inline s32 sys_test(u32 op, u32 a, u32 b, u32 c)
{
	return syscall4(SYS_test, op, a, b, c);
}

/* Anonymous private read-write memory, the common case. */
static inline s32 map_anon(u32 len)
{
	return sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
}

/* Kernel facts (TEST_*): failures come back as zeroed structures. */
struct user_pte_info pte_info(u32 addr);
struct user_mm_info mm_info(void);
struct user_sys_info sys_info(void);

/* Output: a "# pid N: " prefixed line; %d %u %x %s %c only. */
void uprintf(const char *fmt, ...) __printf(1, 2);

/* Assertions: UCHECK counts a pass or reports file:line and goes on;
 * UASSERT also ends the program with exit code 1. */
void utest_report(bool ok, const char *file, int line, const char *what);
#define UCHECK(cond) utest_report(!!(cond), __FILE__, __LINE__, #cond)
#define UASSERT(cond)                                                 \
	do {                                                          \
		bool _ok = !!(cond);                                  \
		utest_report(_ok, __FILE__, __LINE__, #cond);         \
		if (!_ok)                                             \
			sys_exit(1);                                  \
	} while (0)
/* Compares two values and shows both when they differ. */
void utest_report_eq(u32 a, u32 b, const char *file, int line, const char *ea, const char *eb);
#define UCHECK_EQ(a, b) utest_report_eq((u32)(a), (u32)(b), __FILE__, __LINE__, #a, #b)
#define UASSERT_EQ(a, b)                                                          \
	do {                                                                      \
		u32 _a = (u32)(a), _b = (u32)(b);                                 \
		utest_report_eq(_a, _b, __FILE__, __LINE__, #a, #b);              \
		if (_a != _b)                                                     \
			sys_exit(1);                                              \
	} while (0)

/* Forks a child that runs fn(arg) and exits with its result; returns the
 * child's pid in the parent, or a negative error. */
s32 spawn(int (*fn)(u32), u32 arg);
/* Waits for one child; its exit status, or -1 (with a failed check). */
int wait_one(void);

/* Registers fn in the image's table of programs under its own name. */
#define USER_PROGRAM(fn)                                                          \
	static const struct user_prog user_prog_##fn                              \
		__attribute__((used, section(".user_progs"), aligned(4))) = {     \
			#fn, (u32)(fn) }

#endif
