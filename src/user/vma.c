/*
 * Partial munmap and mprotect from user space.  The ranges are in 4 KiB
 * pages on purpose: in the pgcl4 variants they cut through clusters, so a
 * window ends up shared between VMAs, or half unmapped.  An access the new
 * layout forbids is made by a forked child, which must be killed (exit
 * code 128 + 14) while the parent goes on.
 */
#include "user/ulib.h"

#define PG 4096u
#define KILLED_BY_PF EXIT_KILLED(14)

static int do_read(u32 addr)
{
	return *(volatile u32 *)addr == 0x12345678 ? 2 : 0;
}

static int do_write(u32 addr)
{
	*(volatile u32 *)addr = 0x12345678;
	return 0;
}

/* Runs fn(addr) in a child; its exit status. */
static int in_child(int (*fn)(u32), u32 addr)
{
	s32 pid = spawn(fn, addr);

	UASSERT(pid > 0);
	return wait_one();
}

/* The clusters a set of 4 KiB pages of [a, a + n pages) touches, given a bitmap of live pages. */
static u32 clusters_live(u32 a, u32 n, u32 live, u32 ps)
{
	u32 count = 0, last = 0xffffffffu;

	for (u32 i = 0; i < n; i++) {
		if (!(live & (1u << i)))
			continue;
		u32 c = (a + i * PG) / ps;
		count += c != last;
		last = c;
	}
	return count;
}

static int munmap_partial(u32 arg)
{
	u32 ps = sys_info().page_size;
	struct user_mm_info before = mm_info();
	s32 r = map_anon(8 * PG);

	UASSERT(r > 0);
	u32 a = (u32)r;
	volatile u32 *p = (volatile u32 *)a;
	for (u32 i = 0; i < 8; i++)
		p[i * 1024] = 0x100 + i;
	UCHECK_EQ(mm_info().rss - before.rss, clusters_live(a, 8, 0xff, ps));

	/* Pages 2-4 go: across a cluster boundary in pgcl4. */
	UCHECK_EQ(sys_munmap(a + 2 * PG, 3 * PG), 0);
	UCHECK_EQ(mm_info().map_count, before.map_count + 2);
	u32 wrong = 0;
	for (u32 i = 0; i < 8; i++)
		if (i < 2 || i > 4)
			wrong += p[i * 1024] != 0x100 + i;
	UCHECK_EQ(wrong, 0);
	for (u32 i = 2; i <= 4; i++)
		UCHECK_EQ(pte_info(a + i * PG).frame, 0);
	UCHECK_EQ(mm_info().rss - before.rss, clusters_live(a, 8, 0xe3, ps));
	UCHECK_EQ(in_child(do_read, a + 3 * PG), KILLED_BY_PF);
	UCHECK_EQ(in_child(do_write, a + 2 * PG), KILLED_BY_PF);
	UCHECK_EQ(in_child(do_read, a + 4 * PG + 8), KILLED_BY_PF);
	UCHECK_EQ(p[5 * 1024], 0x105); /* the parent is untouched by its children's deaths */

	/* One more hole: page 0 only; then everything. */
	UCHECK_EQ(sys_munmap(a, PG), 0);
	UCHECK_EQ(p[1024], 0x101);
	UCHECK_EQ(mm_info().rss - before.rss, clusters_live(a, 8, 0xe2, ps));
	UCHECK_EQ(sys_munmap(a, 8 * PG), 0);
	struct user_mm_info after = mm_info();
	UCHECK_EQ(after.rss, before.rss);
	UCHECK_EQ(after.map_count, before.map_count);
	UCHECK_EQ(after.pte_pages, before.pte_pages);
	return 0;
}
USER_PROGRAM(munmap_partial);

/*
 * remap_zero: memory mapped again where an earlier mapping was unmapped
 * must read zero, even when the rest of its cluster is still mapped.
 */
static int remap_zero(u32 arg)
{
	s32 r = map_anon(4 * PG);

	UASSERT(r > 0);
	u32 a = (u32)r;
	volatile u32 *p = (volatile u32 *)a;
	for (u32 i = 0; i < 4; i++)
		p[i * 1024 + 5] = 0xdead0000u + i;
	UCHECK_EQ(sys_munmap(a + PG, PG), 0);
	UCHECK_EQ(sys_mmap(a + PG, PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), a + PG);
	UCHECK_EQ(p[1024 + 5], 0);
	p[1024 + 5] = 7;
	UCHECK_EQ(p[1024 + 5], 7);
	UCHECK_EQ(p[2 * 1024 + 5], 0xdead0002u);
	UCHECK_EQ(sys_munmap(a, 4 * PG), 0);
	return 0;
}
USER_PROGRAM(remap_zero);

/* The code put into memory by mprotect_split: mov $42, %eax; ret. */
static const u8 ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 };

static int do_call(u32 addr)
{
	return ((int (*)(void))addr)();
}

static int mprotect_split(u32 arg)
{
	struct user_sys_info si = sys_info();
	struct user_mm_info before = mm_info();
	s32 r = map_anon(12 * PG);

	UASSERT(r > 0);
	u32 a = (u32)r;
	volatile u32 *p = (volatile u32 *)a;
	for (u32 i = 0; i < 12; i++)
		p[i * 1024] = 0x200 + i;

	/* Pages 5-6 read-only: the VMA splits in three. */
	UCHECK_EQ(sys_mprotect(a + 5 * PG, 2 * PG, PROT_READ), 0);
	UCHECK_EQ(mm_info().map_count, before.map_count + 3);
	UCHECK_EQ(p[5 * 1024], 0x205);
	UCHECK(!pte_info(a + 5 * PG).writable);
	UCHECK(!pte_info(a + 6 * PG).writable);
	UCHECK(pte_info(a + 4 * PG).writable);
	UCHECK(pte_info(a + 7 * PG).writable);
	UCHECK_EQ(in_child(do_write, a + 5 * PG), KILLED_BY_PF);
	UCHECK_EQ(in_child(do_write, a + 6 * PG + 100), KILLED_BY_PF);
	p[4 * 1024] = 0x304; /* the neighbours stay writable */
	p[7 * 1024] = 0x307;
	UCHECK_EQ(p[6 * 1024], 0x206);

	/* Page 5 inaccessible: not even a read; the frame is kept. */
	UCHECK_EQ(sys_mprotect(a + 5 * PG, PG, PROT_NONE), 0);
	UCHECK_EQ(pte_info(a + 5 * PG).frame, 0);
	UCHECK_EQ(in_child(do_read, a + 5 * PG), KILLED_BY_PF);
	UCHECK_EQ(sys_mprotect(a + 5 * PG, 2 * PG, PROT_READ | PROT_WRITE), 0);
	UCHECK_EQ(p[5 * 1024], 0x205);
	p[5 * 1024] = 0x305;
	p[6 * 1024] = 0x306;
	UCHECK(pte_info(a + 5 * PG).writable);

	/* A range with a hole is refused and changes nothing. */
	UCHECK_EQ(sys_munmap(a + 9 * PG, PG), 0);
	u32 vmas = mm_info().map_count;
	UCHECK_EQ(sys_mprotect(a + 8 * PG, 3 * PG, PROT_READ), -ENOMEM);
	UCHECK_EQ(mm_info().map_count, vmas);
	p[8 * 1024] = 0x208; /* still writable (a read-only page 8 would kill us here) */

	/* Execute rights: code written to page 10 runs once it is executable,
	 * and (with NX) no longer runs when it is not. */
	memcpy((void *)(a + 10 * PG), ret42, sizeof(ret42));
	UCHECK_EQ(sys_mprotect(a + 10 * PG, PG, PROT_READ | PROT_EXEC), 0);
	UCHECK_EQ(do_call(a + 10 * PG), 42);
	UCHECK_EQ(sys_mprotect(a + 10 * PG, PG, PROT_READ | PROT_WRITE), 0);
	UCHECK_EQ(in_child(do_call, a + 10 * PG), si.nx ? KILLED_BY_PF : 42);

	u32 wrong = 0;
	for (u32 i = 0; i < 9; i++)
		wrong += p[i * 1024] != (i >= 4 && i <= 7 ? 0x300u : 0x200u) + i;
	UCHECK_EQ(wrong, 0);
	UCHECK_EQ(sys_munmap(a, 12 * PG), 0);
	struct user_mm_info after = mm_info();
	UCHECK_EQ(after.rss, before.rss);
	UCHECK_EQ(after.map_count, before.map_count);
	return 0;
}
USER_PROGRAM(mprotect_split);

/*
 * image_tail: anonymous memory mapped right after the image -- in pgcl4,
 * inside the window of the image's last cluster -- is fresh zeroed memory
 * of its own, not the kernel frame that follows the image.
 */
static int image_tail(u32 arg)
{
	const struct user_image_header *h = (const struct user_image_header *)USER_IMAGE_BASE;
	u32 end = USER_IMAGE_BASE + ((h->size + PG - 1) & ~(PG - 1));

	if (arg) /* the image's last 4 KiB goes first: its window is then shared for sure */
		UCHECK_EQ(sys_munmap(end - PG, PG), 0);
	else
		UCHECK(*(volatile u32 *)(end - PG) || 1); /* the image's last page is mapped */
	u32 at = arg ? end - PG : end;
	UASSERT_EQ(sys_mmap(at, PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), at);
	volatile u32 *p = (volatile u32 *)at;
	UCHECK_EQ(p[0] | p[1023], 0);
	p[0] = 0x7a11;
	UCHECK_EQ(p[0], 0x7a11);
	struct user_pte_info pi = pte_info(at);
	UCHECK(pi.frame != pte_info(USER_IMAGE_BASE).frame + (at - USER_IMAGE_BASE) / PG);
	UCHECK_EQ(pi.mapcount, 0);
	UCHECK_EQ(pi.count, 1);
	UCHECK_EQ(sys_munmap(at, PG), 0);
	return 0;
}
USER_PROGRAM(image_tail);
