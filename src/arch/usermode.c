/*
 * The first entry into ring 3.  A user task starts life like fork's child:
 * task_create puts a trap frame at the top of its kernel stack, and its
 * first switch returns through trap_return, whose iret reads the frame as
 * an inter-privilege return (SDM vol. 3 6.12.1, 6.14 figure 6-4 read
 * backwards): EIP, CS, EFLAGS, then ESP and SS because CS.RPL = 3 > CPL.
 *
 * The selectors carry RPL 3 and point at the DPL 3 flat descriptors of
 * gdt.c; the data segment registers get the user data selector too (an
 * iret to an outer level nulls any that are more privileged, SDM vol. 3
 * IRET).  EFLAGS: IF set, so the timer can take the CPU back; IOPL 0, so
 * cli/sti/in/out fault in ring 3 (SDM vol. 1 3.4.3); bit 1 always set.
 */
#include "arch/usermode.h"
#include "arch/switch.h"
#include "lib/string.h"

void user_frame_init(struct trap_frame *tf, u32 eip, u32 esp)
{
	memset(tf, 0, sizeof(*tf));
	tf->gs = tf->fs = tf->es = tf->ds = USER_DS;
	tf->eip = eip;
	tf->cs = USER_CS;
	tf->eflags = EFLAGS_IF | EFLAGS_RESERVED;
	tf->user_esp = esp;
	tf->user_ss = USER_DS;
}

bool user_frame_valid(const struct trap_frame *tf)
{
	return tf->cs == USER_CS && tf->user_ss == USER_DS && (tf->eflags & EFLAGS_IF) &&
	       !(tf->eflags & (3u << 12)); /* IOPL 0 */
}
