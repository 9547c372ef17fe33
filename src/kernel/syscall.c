/*
 * System calls: int 0x80 from ring 3 (the numbers and the register
 * convention are in syscall.h).
 *
 * Every pointer from user space is checked with access_ok and read or
 * written only through copy_from_user / copy_to_user, whose faults end in
 * an error (-EFAULT), never in a kill or a panic.  Ranges are checked by
 * the mm calls themselves (misaligned or wrapping: -EINVAL).
 *
 * Locking: the call runs with interrupts on.  The mm code and the
 * allocators under it are not preemption-safe yet, so every call into
 * them is made with preemption disabled (mm_call); copies to and from user
 * memory are made outside those sections, since their faults allocate.
 *
 * SMP: trap_dispatch takes the kernel lock for a call unless the call's
 * entry in syscall_flags says SC_LOCKLESS: mmap, munmap and mprotect in
 * anon_vma builds (mm->page_table_lock and the locks under it cover them;
 * mm/mmap.c takes the kernel lock itself for what still needs it: a
 * MAP_SHARED mapping's eager population, which may reclaim, an munmap over
 * swap entries, the last anon_vma of a range going away).  Every other
 * call, the test calls included (TEST_PTE's snapshot relies on it:
 * mm/memory.h), keeps it.  The way back to ring 3 (sched_return_check)
 * lets go of it only if it was taken, as after a lockless page fault.
 */
#include "kernel/syscall.h"
#include "kernel/preempt.h"
#include "kernel/printk.h"
#include "kernel/task.h"
#include "kernel/user.h"
#include "selftest/ktest.h"
#include "arch/io.h"
#include "arch/traps.h"
#include "arch/uaccess.h"
#include "lib/string.h"
#include "mm/mm.h"
#include "mm/memory.h"
#include "mm/page_alloc.h"

#define WRITE_CHUNK 128u
#define TEST_STRING_MAX 96u

static s32 sys_exit(u32 code)
{
	do_exit((int)code);
}

/* Copies the buffer to the console a chunk at a time; the bytes written, or
 * -EFAULT if not even the first could be read. */
static s32 sys_write(u32 buf, u32 len)
{
	char chunk[WRITE_CHUNK];
	u32 done = 0;

	if (!access_ok(buf, len))
		return -EFAULT;
	while (done < len) {
		u32 n = MIN(len - done, WRITE_CHUNK);
		u32 got = n - copy_from_user(chunk, buf + done, n);
		printk("%.*s", (int)got, chunk);
		done += got;
		if (got < n)
			return done ? (s32)done : -EFAULT;
	}
	return (s32)done;
}

static s32 sys_mmap(u32 addr, u32 len, u32 prot, u32 flags)
{
	preempt_disable();
	s32 ret = do_mmap(current->mm, addr, len, prot, flags);
	preempt_enable();
	return ret;
}

static s32 sys_munmap(u32 addr, u32 len)
{
	preempt_disable();
	s32 ret = do_munmap(current->mm, addr, len);
	preempt_enable();
	return ret;
}

static s32 sys_mprotect(u32 addr, u32 len, u32 prot)
{
	preempt_disable();
	s32 ret = do_mprotect(current->mm, addr, len, prot);
	preempt_enable();
	return ret;
}

/*
 * The child gets a copy of the address space (private pages copy-on-write)
 * and a copy of the parent's trap frame with eax = 0: its first switch
 * irets to the instruction after the parent's int 0x80, with the parent's
 * registers and stack pointer, and fork "returns" 0 there.
 */
static s32 sys_fork(struct trap_frame *tf)
{
	struct task *parent = current;

	preempt_disable();
	struct mm_struct *mm = dup_mm(parent->mm);
	preempt_enable();
	if (!mm)
		return -ENOMEM;
	struct trap_frame child = *tf;
	child.eax = 0;
	struct task *t = task_create(parent->name, mm, &child);
	if (!t) {
		preempt_disable();
		mmput(mm);
		preempt_enable();
		return -ENOMEM;
	}
	return t->pid;
}

/* Waits for any child; stores its exit code at status (if not 0). */
static s32 sys_wait(u32 status)
{
	int code;

	if (status && !access_ok(status, sizeof(code)))
		return -EFAULT;
	int pid = do_wait(&code);
	if (pid < 0)
		return pid;
	if (status && copy_to_user(status, &code, sizeof(code)))
		return -EFAULT; /* the child is reaped all the same */
	return pid;
}

static s32 test_pte(u32 addr, u32 out)
{
	struct user_pte_info info = { 0 };
	bool writable = false;

	if (addr >= TASK_SIZE || !access_ok(out, sizeof(info)))
		return -EFAULT;
	preempt_disable();
	/* count and mapcount as one snapshot: no lockless fault of another
	 * address space half done (mm/memory.h); the rest hold the kernel lock. */
	u32 ticket;
	do {
		ticket = faults_quiet_begin();
		memset(&info, 0, sizeof(info));
		u64 frame = user_pte_frame(current->mm, addr, &writable);
		if (frame) {
			struct page *page = frame_to_page(frame);
			info.frame = (u32)frame;
			info.writable = writable;
			info.count = page->count;
			info.mapcount = page->mapcount;
		}
	} while (!faults_quiet_since(ticket));
	preempt_enable();
	return copy_to_user(out, &info, sizeof(info)) ? -EFAULT : 0;
}

static s32 test_mm(u32 out)
{
	struct mm_struct *mm = current->mm;
	struct user_mm_info info = { mm->rss, mm->pte_pages, mm->pte_pages_highmem, mm->map_count };

	return copy_to_user(out, &info, sizeof(info)) ? -EFAULT : 0;
}

static s32 test_sys(u32 out)
{
	struct user_sys_info info = {
		.page_size = PAGE_SIZE,
		.mmupage_size = MMUPAGE_SIZE,
		.pmd_size = PMD_SIZE,
		.highmem_pages = zones[ZONE_HIGHMEM].managed_pages,
		.highpte = CONFIG_HIGHPTE,
		.pae = CONFIG_X86_PAE,
		.nx = (__supported_pte_mask & _PAGE_NX) != 0,
		.task_size = TASK_SIZE,
	};

	return copy_to_user(out, &info, sizeof(info)) ? -EFAULT : 0;
}

/* A failed ring-3 assertion: reported like a kernel one, at the user's file:line. */
static s32 test_fail(u32 file, u32 line, u32 msg)
{
	char f[TEST_STRING_MAX], m[TEST_STRING_MAX];
	struct task *t = current;

	if (strncpy_from_user(f, file, sizeof(f)) < 0 || strncpy_from_user(m, msg, sizeof(m)) < 0)
		return -EFAULT;
	user_test_count(false);
	ktest_fail(f, (int)line, "in task %d (%s): %s", t->pid, t->name, m);
	return 0;
}

static s32 free_pages_now(bool lowmem_kib)
{
	preempt_disable();
	drain_all_pages();
	s32 ret = lowmem_kib ? (s32)(free_lowmem_bytes() >> 10) : (s32)nr_free_pages();
	preempt_enable();
	return ret;
}

static s32 sys_test(u32 op, u32 a, u32 b, u32 c)
{
	switch (op) {
	case TEST_PASS:
		user_test_count(true);
		return 0;
	case TEST_FAIL:
		return test_fail(a, b, c);
	case TEST_PTE:
		return test_pte(a, b);
	case TEST_MM:
		return test_mm(a);
	case TEST_SYS:
		return test_sys(a);
	case TEST_FREE_PAGES:
		return free_pages_now(false);
	case TEST_FREE_LOWMEM:
		return free_pages_now(true);
	}
	return -EINVAL;
}

/* Per call: may it run without the kernel lock?  (RMAP=pte_chain: the
 * chains have no lock of their own, every call keeps it.)  mm_calls_lockless
 * off makes the memory calls take it again (the before/after benchmark). */
#define SC_LOCKLESS 1u
static const u8 syscall_flags[NR_SYSCALLS] = {
	[SYS_mmap] = CONFIG_RMAP_PTE_CHAIN ? 0 : SC_LOCKLESS,
	[SYS_munmap] = CONFIG_RMAP_PTE_CHAIN ? 0 : SC_LOCKLESS,
	[SYS_mprotect] = CONFIG_RMAP_PTE_CHAIN ? 0 : SC_LOCKLESS,
};
bool mm_calls_lockless = true;

bool syscall_takes_kernel_lock(u32 nr)
{
	return nr >= NR_SYSCALLS || !(syscall_flags[nr] & SC_LOCKLESS) || !mm_calls_lockless;
}

static s32 do_syscall(struct trap_frame *tf)
{
	u32 a = tf->ebx, b = tf->ecx, c = tf->edx, d = tf->esi;

	switch (tf->eax) {
	case SYS_exit:
		return sys_exit(a);
	case SYS_write:
		return sys_write(a, b);
	case SYS_mmap:
		return sys_mmap(a, b, c, d);
	case SYS_munmap:
		return sys_munmap(a, b);
	case SYS_mprotect:
		return sys_mprotect(a, b, c);
	case SYS_fork:
		return sys_fork(tf);
	case SYS_wait:
		return sys_wait(a);
	case SYS_yield:
		yield();
		return 0;
	case SYS_getpid:
		return current->pid;
	case SYS_test:
		return sys_test(a, b, c, d);
	}
	return -ENOSYS;
}

/* From trap_dispatch, for vector 0x80: interrupts are off on entry (an
 * interrupt gate) and go back on for the call. */
void syscall_dispatch(struct trap_frame *tf)
{
	if (!(tf->cs & 3) || !current->mm) {
		tf->eax = (u32)-ENOSYS; /* system calls come from user tasks only */
		return;
	}
	sti();
	tf->eax = (u32)do_syscall(tf);
	cli();
}
