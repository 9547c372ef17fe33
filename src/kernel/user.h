/*
 * User tasks: ring-3 tasks running the programs of the user image
 * (src/user/, embedded in the kernel), and what happens when they break
 * the rules.  See user.c.
 */
#ifndef KERNEL_USER_H
#define KERNEL_USER_H
#include "lib/types.h"
#include "kernel/syscall.h"

struct task;
struct trap_frame;

/* Checks the embedded image and installs the user-fault hook; after sched_init. */
void user_init(void);

/* The program called name in the image's table, or NULL. */
const struct user_prog *user_prog_find(const char *name);

/*
 * A new task, child of the current one, that runs program prog with
 * argument arg in ring 3, in a fresh address space holding the image
 * (read-only, executable) and a stack.  NULL if there is no such program
 * or memory ran out.
 */
struct task *user_task_create(const char *prog, u32 arg);

/*
 * Marks the current user task for killing, for an exception it raised in
 * ring 3 (vector in tf; cr2 for page faults; what: the reason, or NULL to
 * work it out).  Prints the report line; the task exits with
 * EXIT_KILLED(vector) on its way back to ring 3 (user_return_work).
 */
void user_kill(struct trap_frame *tf, u32 cr2, const char *what);

/* The ring-3 assertions (TEST_PASS / TEST_FAIL) counted since the last reset. */
struct user_test_counts {
	u32 passes, failures;
};
void user_test_reset(void);
struct user_test_counts user_test_counts(void);
/* Counts one assertion (syscall.c). */
void user_test_count(bool ok);

/* The image as the kernel sees it (direct-mapped, read-only). */
extern const u8 user_image_start[], user_image_end[];

#endif
