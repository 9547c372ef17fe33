/* Running ring-3 test programs from a kernel test (see urun.h). */
#include "selftest/urun.h"
#include "selftest/ktest.h"
#include "kernel/task.h"
#include "kernel/user.h"
#include "mm/mm.h"

/* Starts prog(arg); its pid, or -1 (with a test failure) if it could not start. */
int urun_start(const char *prog, u32 arg)
{
	struct task *t = user_task_create(prog, arg);

	if (!t) {
		ktest_fail(__FILE__, __LINE__, "cannot start user program %s", prog);
		return -1;
	}
	return t->pid;
}

/* Waits until pid exits and returns its exit code; other children that
 * exit meanwhile (orphans) are reaped.  -1 if pid is not a child. */
int urun_wait_for(int pid)
{
	int code, got;

	while ((got = do_wait(&code)) > 0)
		if (got == pid)
			return code;
	return -1;
}

/* Reaps every remaining child (orphaned grandchildren included). */
void urun_reap_all(void)
{
	while (do_wait(NULL) > 0)
		;
}

/* Runs prog(arg) to its end: its exit code, or -1 if it could not start. */
int urun_run(const char *prog, u32 arg)
{
	int pid = urun_start(prog, arg);
	int code = pid > 0 ? urun_wait_for(pid) : -1;

	urun_reap_all();
	return code;
}

/* The ring-3 assertions since the test began: none failed, and some ran. */
bool urun_checks_ok(void)
{
	struct user_test_counts c = user_test_counts();

	ktest_diag("ring-3 assertions: %u passed, %u failed", c.passes, c.failures);
	return c.failures == 0 && c.passes > 0;
}

struct mm_struct *test_mm_enter(void)
{
	struct mm_struct *mm = mm_alloc();

	if (mm)
		switch_mm(NULL, mm);
	return mm;
}

void test_mm_leave(struct mm_struct *mm)
{
	switch_mm(mm, NULL);
	mmput(mm);
}
