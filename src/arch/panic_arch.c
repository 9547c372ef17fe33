/*
 * Panic reports: vector, error code, CR2, the registers, and a backtrace
 * through the frame-pointer chain (every file is built with
 * -fno-omit-frame-pointer) with names from the kernel's own symbol table.
 */
#include "arch/panic_arch.h"
#include "arch/smpboot.h"
#include "arch/io.h"
#include "arch/layout.h"
#include "arch/paging.h"
#include "arch/platform.h"
#include "kernel/ksyms.h"
#include "kernel/panic.h"
#include "kernel/printk.h"

#define BACKTRACE_MAX 24

/* A kernel address the backtrace may read: mapped since boot, in the kernel half. */
static bool frame_readable(u32 addr)
{
	if (addr >= (u32)boot_stack - 4096 && addr < (u32)boot_stack)
		return false; /* the unmapped guard page */
	/* The direct map once paging_init built it, else the boot tables' 16 MiB. */
	u32 end = paging_info.lowmem_end ? paging_info.lowmem_end : EARLY_MAP_END;
	return addr >= KERNEL_BASE && addr <= KERNEL_BASE + end - 8 && !(addr & 3);
}

static void print_addr(u32 addr)
{
	u32 off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		printk("  [<%08x>] %s+0x%x\n", addr, name, off);
	else
		printk("  [<%08x>] ?\n", addr);
}

void backtrace_print(u32 eip, u32 ebp)
{
	u32 last = 0, repeats = 0;

	printk("Backtrace:\n");
	print_addr(eip);
	for (int depth = 0; depth < BACKTRACE_MAX && frame_readable(ebp); depth++) {
		u32 *frame = (u32 *)ebp;
		/* The return address points after the call: show the call itself. */
		u32 call = frame[1] - 1;
		if (!frame[1])
			break;
		if (call == last) {
			repeats++; /* recursion: say how often rather than repeat it */
		} else {
			if (repeats)
				printk("  ... the frame above %u more times\n", repeats);
			repeats = 0;
			print_addr(call);
		}
		last = call;
		if (frame[0] <= ebp)
			break; /* frames grow upward; anything else is a broken chain */
		ebp = frame[0];
	}
	if (repeats)
		printk("  ... the frame above %u more times\n", repeats);
}

static void print_cregs(u32 cr2)
{
	printk("CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", read_cr0(), cr2, read_cr3(), read_cr4());
}

void panic_trap(struct trap_frame *tf, u32 cr2)
{
	cli();
	if (panicking++) {
		printk("PANIC: %s during panic at eip %08x\n", trap_name(tf->vector), tf->eip);
		platform_exit(RUN_PANIC, tf->vector);
	}
	smp_stop_others();
	printk("\nPANIC: unexpected %s in %s mode, vector %u, error code 0x%x\n",
	       trap_name(tf->vector), (tf->cs & 3) ? "user" : "kernel", tf->vector, tf->error);
	if (tf->vector == VEC_PF)
		printk("PANIC: page fault at address %08x: %s, %s, %s%s\n", cr2,
		       (tf->error & 1) ? "protection violation" : "page not present",
		       (tf->error & 2) ? "write" : "read", (tf->error & 4) ? "user" : "supervisor",
		       (tf->error & 16) ? ", instruction fetch" : "");
	printk("EIP=%08x CS=%04x EFLAGS=%08x\n", tf->eip, tf->cs, tf->eflags);
	printk("EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", tf->eax, tf->ebx, tf->ecx, tf->edx);
	printk("ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", tf->esi, tf->edi, tf->ebp,
	       (tf->cs & 3) ? tf->user_esp : (u32)&tf->user_esp);
	printk("DS=%04x ES=%04x FS=%04x GS=%04x\n", tf->ds, tf->es, tf->fs, tf->gs);
	print_cregs(cr2);
	backtrace_print(tf->eip, tf->ebp);
	platform_exit(RUN_PANIC, tf->vector);
}

/*
 * Runs as its own task: the CPU saved the interrupted state in tss_main
 * (SDM vol. 3 7.3, task switching).  A kernel stack overflow lands here.
 */
void double_fault_task(void)
{
	const struct tss *t = &tss_main;

	panicking++;
	printk("\nPANIC: double fault (#DF), vector 8: an exception while delivering another\n");
	if (t->esp >= (u32)boot_stack - 4096 && t->esp < (u32)boot_stack + 64)
		printk("PANIC: kernel stack overflow (ESP=%08x, stack bottom %08x)\n", t->esp,
		       (u32)boot_stack);
	printk("EIP=%08x CS=%04x EFLAGS=%08x\n", t->eip, t->cs, t->eflags);
	printk("EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n", t->eax, t->ebx, t->ecx, t->edx);
	printk("ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n", t->esi, t->edi, t->ebp, t->esp);
	print_cregs(read_cr2());
	backtrace_print(t->eip, t->ebp);
	platform_exit(RUN_PANIC, VEC_DF);
}

void arch_dump_current(void)
{
	u32 *fp = __builtin_frame_address(0);

	print_cregs(read_cr2());
	/* fp[1]: our return address (in the caller); fp[0]: the caller's frame. */
	backtrace_print(fp[1] - 1, fp[0]);
}
