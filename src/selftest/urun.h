/* Running ring-3 test programs and address spaces from a kernel test. */
#ifndef SELFTEST_URUN_H
#define SELFTEST_URUN_H
#include "lib/types.h"

/* Starts prog(arg); its pid, or -1 (with a test failure) if it could not start. */
int urun_start(const char *prog, u32 arg);
/* Waits until pid exits and returns its exit code; other children that exit
 * meanwhile are reaped.  -1 if pid is not a child. */
int urun_wait_for(int pid);
/* Reaps every child left. */
void urun_reap_all(void);
/* Starts prog(arg), waits for it, reaps the rest; its exit code or -1. */
int urun_run(const char *prog, u32 arg);
/* The ring-3 assertions since the counts were last read: all passed, and some ran. */
bool urun_checks_ok(void);

struct mm_struct;
/* A fresh address space, made current on this CPU (a CR3 load); NULL if out of memory. */
struct mm_struct *test_mm_enter(void);
/* Back to the kernel's page tables, and the address space dropped. */
void test_mm_leave(struct mm_struct *mm);

#endif
