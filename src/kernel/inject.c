/*
 * inject=fail|hang|panic|triple|overflow|double-free|lock-order: each makes a run fail in one of the ways the
 * harness must recognise (ci/test_harness.py boots them all).
 */
#include "kernel/inject.h"
#include "kernel/printk.h"
#include "arch/console.h"
#include "arch/io.h"
#include "arch/traps.h"
#include "mm/mm_locks.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "selftest/ktest.h"

static void injected_failure(void)
{
	ktest_fail(__FILE__, __LINE__, "injected failure (inject=fail)");
}

static const struct ktest inject_fail_test = { "inject", "fail", injected_failure, 0 };

/* A NULL dereference outside any fixup: the panic report must name this function. */
static void __attribute__((noinline)) inject_crash(void)
{
	volatile u32 *null = NULL;
	printk("inject: dereferencing NULL\n");
	(void)*null;
}

static void __noreturn inject_hang(void)
{
	printk("inject: hanging with interrupts off\n");
	cli();
	for (;;)
		barrier();
}

/* With an empty IDT every exception faults again: #DF, then a triple fault. */
static void __noreturn inject_triple(void)
{
	printk("inject: loading an empty IDT, then int3\n");
	arch_console_flush();
	cli();
	idt_load_empty();
	__asm__ __volatile__("int3");
	for (;;)
		hlt();
}

/* Recurses until the guard page under the stack faults. */
static u32 __attribute__((noinline)) inject_recurse(volatile u32 *depth)
{
	volatile u32 pad[64];

	pad[0] = ++*depth;
	if (pad[0]) /* always true; hides the endless recursion from the compiler */
		return inject_recurse(depth) + pad[0];
	return 0;
}

void inject_run(enum inject what)
{
	switch (what) {
	case INJECT_FAIL:
		ktest_add_extra(&inject_fail_test);
		break;
	case INJECT_HANG:
		inject_hang();
	case INJECT_PANIC:
		inject_crash();
		break;
	case INJECT_TRIPLE:
		inject_triple();
	case INJECT_OVERFLOW: {
		volatile u32 depth = 0;
		printk("inject: recursing until the kernel stack overflows\n");
		inject_recurse(&depth);
		break;
	}
	case INJECT_DOUBLE_FREE: {
		struct page *p = alloc_page(GFP_KERNEL);
		printk("inject: freeing pfn %u twice\n", page_to_pfn(p));
		__free_page(p);
		__free_page(p);
		break;
	}
	case INJECT_LOCK_ORDER: {
		if (!CONFIG_DEBUG) {
			printk("inject: lock-order: only debug builds check the lock order\n");
			break;
		}
		struct zone *z = &zones[ZONE_NORMAL];
		printk("inject: kmalloc under zone %s's lock\n", z->name);
		u32 flags = mm_lock(&z->lock, MM_LOCK_ZONE);
		kfree(kmalloc(32, GFP_KERNEL)); /* a slab cache's lock: out of order */
		mm_unlock(&z->lock, MM_LOCK_ZONE, flags);
		break;
	}
	case INJECT_NONE:
		break;
	}
}
