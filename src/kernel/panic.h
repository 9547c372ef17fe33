/* panic(): print why, the CPU state and a symbolic backtrace, then stop the
 * run with the panic status.  Never returns. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H
#include "lib/types.h"

void __noreturn panic(const char *fmt, ...) __printf(1, 2);
/* True once a panic has started (console code may take shortcuts). */
extern int panicking;

#define BUG_ON(cond)                                                            \
	do {                                                                    \
		if (unlikely(cond))                                             \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#endif
