/* Early x86 set-up done once from kmain. */
#ifndef ARCH_BOOT_ARCH_H
#define ARCH_BOOT_ARCH_H

/* Drops the boot code's identity mapping: from now on only the kernel half
 * (KERNEL_BASE + physical) is mapped, and a NULL dereference faults. */
void arch_early_init(void);

#endif
