/*
 * The system-call interface between ring-3 test programs and the kernel.
 *
 * This header is shared: the kernel includes it, and so do the programs in
 * src/user/ (built without the kernel's config.h), so it holds only numbers
 * and plain structures.
 *
 * Calling convention (int 0x80, a DPL 3 interrupt gate):
 *   eax = number, ebx, ecx, edx, esi, edi = arguments 1-5;
 *   result in eax: >= 0 on success, a negative errno (mm/mm.h) on error.
 * Every other register comes back as it went in.
 */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H
#include "lib/types.h"

#define SYSCALL_VECTOR 0x80

enum syscall_nr {
	SYS_exit = 0,     /* exit(code): does not return */
	SYS_write = 1,    /* write(buf, len): to the console; bytes written */
	SYS_mmap = 2,     /* mmap(addr, len, prot, flags): anonymous only; the address */
	SYS_munmap = 3,   /* munmap(addr, len) */
	SYS_mprotect = 4, /* mprotect(addr, len, prot) */
	SYS_fork = 5,     /* fork(): the child's pid; 0 in the child */
	SYS_wait = 6,     /* wait(&status or 0): a child's pid, its exit code in status */
	SYS_yield = 7,    /* yield() */
	SYS_getpid = 8,   /* getpid() */
	SYS_test = 9,     /* test(op, a, b, c): see enum test_op */
	NR_SYSCALLS
};

/*
 * SYS_test: what the ring-3 halves of the selftests need from the kernel.
 * Assertions are counted per run (user_test_reset/user_test_counts in
 * kernel/user.h); a failure also fails the selftest that is running.
 */
enum test_op {
	TEST_PASS = 0,        /* one assertion held */
	TEST_FAIL = 1,        /* (file, line, message): one failed; strings in user memory */
	TEST_PTE = 2,         /* (addr, struct user_pte_info *): the PTE mapping addr */
	TEST_MM = 3,          /* (struct user_mm_info *): the caller's address space */
	TEST_SYS = 4,         /* (struct user_sys_info *): facts about this kernel */
	TEST_FREE_PAGES = 5,  /* free pages of all zones, in PAGE_SIZE units (hot lists drained) */
	TEST_FREE_LOWMEM = 6, /* free lowmem in KiB (hot lists drained) */
};

/* TEST_PTE: frame 0 means no present PTE maps the address. */
struct user_pte_info {
	u32 frame;    /* 4 KiB frame number (below 2^24 under PAE's 36 bits) */
	u32 writable; /* the PTE's R/W bit */
	s32 count;    /* the cluster's page->count */
	s32 mapcount; /* ... and page->mapcount (mms mapping it, minus one) */
};

struct user_mm_info {
	u32 rss;               /* clusters mapped, counted once per cluster */
	u32 pte_pages;         /* PTE tables */
	u32 pte_pages_highmem; /* ... of which in HighMem */
	u32 map_count;         /* VMAs */
};

struct user_sys_info {
	u32 page_size;      /* PAGE_SIZE: a cluster */
	u32 mmupage_size;   /* 4096 */
	u32 pmd_size;       /* what one PTE table maps: 4 MiB, or 2 MiB under PAE */
	u32 highmem_pages;  /* pages the HighMem zone manages; 0: no HighMem in this run */
	u32 highpte;        /* PTE pages come from HighMem (CONFIG_HIGHPTE) */
	u32 pae;            /* PAE paging */
	u32 nx;             /* execute-disable is in force (PAE and EFER.NXE) */
	u32 task_size;      /* where user space ends */
};

/*
 * The user image: the programs of src/user/ linked at USER_IMAGE_BASE,
 * starting with this header and the table of programs.
 *
 *   USER_IMAGE_BASE  struct user_image_header
 *            + 16    struct user_prog[nprogs]   (name, entry)
 *                    .text, .rodata             (no .data, no .bss)
 *            + size  end; the kernel's copy is padded to 16 KiB
 *
 * A task starts at `start` (crt0) with eax = the program's entry and
 * ebx = its argument; crt0 calls entry(arg) and exits with its result.
 */
#define USER_IMAGE_MAGIC 0x47414d49u /* "IMAG" */
#define USER_PROG_NAME_MAX 28

struct user_image_header {
	u32 magic;
	u32 nprogs;
	u32 start; /* crt0's address */
	u32 size;  /* bytes from USER_IMAGE_BASE to the end of the image */
};

struct user_prog {
	char name[USER_PROG_NAME_MAX]; /* NUL-terminated */
	u32 entry;                     /* int entry(u32 arg) */
};

#ifdef IA32MM_CONFIG_H /* the kernel's side */
struct trap_frame;
/* Vector 0x80 from trap_dispatch: runs the call, the result in tf->eax. */
void syscall_dispatch(struct trap_frame *tf);
/* Does call nr take the kernel lock at entry?  (mmap, munmap, mprotect do
 * not in anon_vma builds while mm_calls_lockless is set: kernel/syscall.c.) */
bool syscall_takes_kernel_lock(u32 nr);
extern bool mm_calls_lockless;
#endif

/* Exit codes the kernel gives: a task killed by exception vector v exits with this. */
#define EXIT_KILLED(v) (128 + (v))

#endif
