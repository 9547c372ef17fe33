/* Entering ring 3 (see usermode.c). */
#ifndef ARCH_USERMODE_H
#define ARCH_USERMODE_H
#include "arch/traps.h"

#define USER_CS 0x1b /* GDT entry 3, RPL 3 (gdt.c) */
#define USER_DS 0x23 /* GDT entry 4, RPL 3 */

/* Fills tf so that an iret through it starts ring 3 at eip with stack esp. */
void user_frame_init(struct trap_frame *tf, u32 eip, u32 esp);
/* true if tf returns to ring 3 through selectors user_frame_init would give. */
bool user_frame_valid(const struct trap_frame *tf);

#endif
