/*
 * crt0 and the small library of the ring-3 test programs (see ulib.h).
 */
#include "user/ulib.h"
#include "lib/printf.h"

/*
 * crt0: the kernel starts every task here with eax = the program's entry
 * and ebx = its argument, esp = USER_STACK_TOP (16-byte aligned).  The
 * call is made with esp 16-byte aligned, as the i386 System V ABI asks;
 * the program's return value is its exit code.
 */
__asm__(".section .text.user_start, \"ax\"\n"
	".globl user_start\n"
	"user_start:\n"
	"	xorl %ebp, %ebp\n" /* the outermost frame: backtraces stop */
	"	subl $12, %esp\n"
	"	pushl %ebx\n"
	"	call *%eax\n"
	"	movl %eax, %ebx\n"
	"	movl $0, %eax\n" /* SYS_exit */
	"	int $0x80\n"
	"	ud2\n"
	".previous\n");

struct user_pte_info pte_info(u32 addr)
{
	struct user_pte_info info = { 0 };

	if (sys_test(TEST_PTE, addr, (u32)&info, 0) < 0)
		memset(&info, 0, sizeof(info));
	return info;
}

struct user_mm_info mm_info(void)
{
	struct user_mm_info info = { 0 };

	sys_test(TEST_MM, (u32)&info, 0, 0);
	return info;
}

struct user_sys_info sys_info(void)
{
	struct user_sys_info info = { 0 };

	sys_test(TEST_SYS, (u32)&info, 0, 0);
	return info;
}

void uprintf(const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "# pid %d: ", sys_getpid());

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (u32)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	sys_write(buf, (u32)n);
}

void utest_report(bool ok, const char *file, int line, const char *what)
{
	if (ok)
		sys_test(TEST_PASS, 0, 0, 0);
	else
		sys_test(TEST_FAIL, (u32)file, (u32)line, (u32)what);
}

void utest_report_eq(u32 a, u32 b, const char *file, int line, const char *ea, const char *eb)
{
	char msg[120];

	if (a == b) {
		sys_test(TEST_PASS, 0, 0, 0);
		return;
	}
	snprintf(msg, sizeof(msg), "%s == %s: 0x%x != 0x%x", ea, eb, a, b);
	sys_test(TEST_FAIL, (u32)file, (u32)line, (u32)msg);
}

s32 spawn(int (*fn)(u32), u32 arg)
{
	s32 pid = sys_fork();

	if (pid == 0)
		sys_exit(fn(arg));
	return pid;
}

int wait_one(void)
{
	int status = -1;
	s32 pid = sys_wait(&status);

	UCHECK(pid > 0);
	return pid > 0 ? status : -1;
}
