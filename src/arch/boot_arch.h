/* Early x86 set-up done once from kmain. */
#ifndef ARCH_BOOT_ARCH_H
#define ARCH_BOOT_ARCH_H

/* Unmaps the guard page under the boot stack in the boot page tables (the
 * identity map stays until paging_init replaces the tables). */
void arch_early_init(void);

#endif
