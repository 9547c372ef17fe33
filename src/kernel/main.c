/*
 * kmain: from the boot code to the end of the run.
 *
 * Order matters: the console first (everything after can report), then the
 * command line and the CPU checks (refusals must come before anything
 * depends on them), then the memory map, interrupts, and the selftests.
 */
#include "kernel/cmdline.h"
#include "kernel/inject.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/task.h"
#include "kernel/user.h"
#include "arch/console.h"
#include "arch/cpu.h"
#include "arch/io.h"
#include "arch/layout.h"
#include "arch/multiboot.h"
#include "arch/platform.h"
#include "arch/smpboot.h"
#include "arch/timer.h"
#include "arch/traps.h"
#include "arch/boot_arch.h"
#include "arch/paging.h"
#include "mm/bootmem.h"
#include "mm/lowmem.h"
#include "mm/page.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "mm/mm.h"
#include "mm/memmap.h"
#include "mm/swap.h"
#include "selftest/bench.h"
#include "selftest/ktest.h"

struct boot_options boot_opts;
struct memmap boot_memmap;
struct memmap_report boot_memmap_report;

static void banner(void)
{
	printk("ia32mm: variant %s (%s)\n", CONFIG_VARIANT, platform_name());
	printk("ia32mm: paging %s, highmem %s, highpte %s, cpus %s, preempt %s, "
	       "%u KiB frames per page descriptor, debug %s\n",
	       CONFIG_X86_PAE ? "PAE 3-level" : "2-level", CONFIG_HIGHMEM ? "yes" : "no",
	       CONFIG_HIGHPTE ? "yes" : "no", CONFIG_SMP ? "smp" : "up",
	       CONFIG_PREEMPT ? "yes" : "no", 4u << CONFIG_PAGE_MMUSHIFT,
	       CONFIG_DEBUG ? "yes" : "no");
}

static void __noreturn refuse(const char *fmt, const char *what)
{
	printk("ia32mm: ");
	printk(fmt, what);
	printk("\n");
	platform_exit(RUN_REFUSED, 0);
}

static void parse_cmdline(void)
{
	char err[160];

	if (boot_cmdline_truncated)
		refuse("kernel command line longer than %s bytes", "1023");
	if (!cmdline_parse(boot_cmdline, &boot_opts, err, sizeof(err)))
		refuse("bad kernel command line: %s", err);
	console_loglevel = boot_opts.loglevel;
	pr_info("ia32mm: command line '%s'\n", boot_cmdline);
	if (ktest_count_selected(boot_opts.tests) == 0)
		refuse("bad kernel command line: tests=%s selects no test", boot_opts.tests);
}

/* What the variant needs from the CPU (SDM vol. 3 4.1.1: PAE paging needs CPUID.01H:EDX.PAE). */
static void check_cpu(void)
{
	cpu_detect();
	cpu_print_info(&boot_cpu);
	if (CONFIG_X86_PAE && !boot_cpu.pae)
		refuse("this CPU has no PAE; boot a nohighmem or 4g variant%s", "");
}

static void setup_memmap(void)
{
	static struct mem_region fw[MEMMAP_MAX];
	char err[160];
	/* 2-level paging reaches 4 GiB; PAE with 36-bit addresses 64 GiB. */
	struct memmap_limits lim = {
		.max_addr = CONFIG_X86_PAE ? GIB(64) : GIB(4),
		.align = 4096u << CONFIG_PAGE_MMUSHIFT,
		.min_ram = MIB(16),
	};
	int n = multiboot_memmap(fw, MEMMAP_MAX);

	memmap_print("firmware", fw, n);
	if (!memmap_clean(fw, n, &boot_memmap, &lim, &boot_memmap_report, err, sizeof(err)))
		refuse("unusable memory map: %s", err);
	memmap_print("usable", boot_memmap.r, boot_memmap.n);
	memmap_report_print(&boot_memmap_report);
}

/* Kernel page tables, page descriptors, then the allocators. */
static void setup_memory(void)
{
	bootmem_init(&boot_memmap, virt_to_phys(__kernel_end));
	paging_init(lowmem_end(&boot_memmap));
	bootmem_set_floor(MIB(16)); /* keep the DMA zone for DMA */
	mem_map_init(&boot_memmap);
	page_alloc_init(&boot_memmap, virt_to_phys(__kernel_end));
	kmem_cache_init();
	mm_init();
}

void kmain(void)
{
	arch_console_init();
	platform_detect();
	banner();
	if (boot_magic != MULTIBOOT_BOOTED)
		refuse("not started by a Multiboot loader (magic %s)", "wrong");
	gdt_init();
	idt_init();
	arch_early_init();
	parse_cmdline();
	check_cpu();
	setup_memmap();
	setup_memory();
	lowmem_report(&boot_memmap);
	sched_init(); /* kmain becomes task 0 */
	user_init();  /* the user image checked, ring-3 faults routed to kills */
	pic_init();
	timer_init();
	sti();
	smp_init();   /* the application processors: they take tasks from the run queue */
	swap_init(boot_opts.swap, boot_opts.swap_mib); /* the ATA probe times out in jiffies */
	inject_run(boot_opts.inject);

	struct ktest_totals t = ktest_run_all(boot_opts.tests);
	if (boot_opts.bench)
		bench_run_all("");
	platform_exit(t.failed ? RUN_FAIL : RUN_PASS, 0);
}
