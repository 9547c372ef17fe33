/* Early x86 set-up (see boot_arch.h). */
#include "arch/boot_arch.h"
#include "arch/io.h"
#include "arch/layout.h"

extern u32 boot_pt[];
extern char boot_stack_guard[];

void arch_early_init(void)
{
	/* The page under the boot stack becomes not-present: an overflow faults
	 * (and, faulting again on the push of the #PF frame, double-faults). */
	boot_pt[virt_to_phys(boot_stack_guard) >> 12] = 0;
	write_cr3(read_cr3());
}
