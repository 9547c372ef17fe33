/* Deliberate failures, for the harness's own tests (inject= on the command line). */
#ifndef KERNEL_INJECT_H
#define KERNEL_INJECT_H
#include "kernel/cmdline.h"

/* Hang, panic or triple-fault now, as asked; registers the failing test for
 * inject=fail and returns. */
void inject_run(enum inject what);

#endif
