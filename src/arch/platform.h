/*
 * How a run ends: the summary status, reported to whatever runs the image.
 *   Bochs: EAX = status word, then the magic breakpoint (xchg bx, bx).
 *   QEMU:  a byte to isa-debug-exit (port 0xf4); QEMU exits (v << 1) | 1.
 *   A PC:  the summary stays on screen; a key press reboots.
 */
#ifndef ARCH_PLATFORM_H
#define ARCH_PLATFORM_H
#include "lib/types.h"

enum run_status {
	RUN_PASS,    /* every selected test passed */
	RUN_FAIL,    /* some test failed */
	RUN_REFUSED, /* the kernel refused to run: bad input or missing CPU feature */
	RUN_PANIC,   /* a panic; detail = exception vector, 0xff for software */
};

#define STATUS_WORD_PASS 0x600D600Du
#define STATUS_WORD_FAIL 0xBAD0BAD0u
#define STATUS_WORD_REFUSED 0xBAD0C0DEu
#define STATUS_WORD_PANIC 0xDEAD0000u /* | vector */
#define QEMU_EXIT_BASE 0x10           /* + enum run_status */

enum platform { PLATFORM_PC, PLATFORM_BOCHS, PLATFORM_QEMU };
extern enum platform platform;
const char *platform_name(void);
/* Detects Bochs (port 0xE9 reads back 0xE9) and QEMU (fw_cfg signature). */
void platform_detect(void);
/* Prints "# ia32mm: status=..." and ends the run.  Never returns. */
void __noreturn platform_exit(enum run_status st, u32 detail);
/* The Bochs magic breakpoint with a value in EAX (a no-op elsewhere). */
void bochs_break(u32 eax_value);

#endif
