/*
 * Copy-on-write across fork, checked by content and by frame.
 *
 * fork_tree(depth): every node of a binary tree of tasks `depth` levels
 * below the root writes its own marker over a private mapping and a stack
 * array, after checking that it inherited its parent's; a parent checks,
 * once its children have exited, that its own markers are intact, and that
 * writing again reuses its frames (it is the last sharer).
 *
 * cow_frames: one fork, and the PTEs and page counts on both sides at each
 * step: shared read-only after fork, a private copy on the first write, the
 * untouched cluster still shared, the parent writing in place at the end.
 */
#include "user/ulib.h"

#define TREE_PAGES 6
#define STACK_WORDS 256

struct node {
	u32 area;  /* the private mapping, TREE_PAGES 4 KiB pages */
	u32 depth; /* levels below the root */
	u32 frame0; /* the frame of the area's first page, before forking */
};

static u32 marker(u32 gen, u32 path, u32 i)
{
	return 0x80000000u | gen << 24 | path << 8 | i;
}

/* Fills the area and the stack array with this node's markers. */
static void stamp(const struct node *n, u32 *stack, u32 gen, u32 path)
{
	volatile u32 *p = (volatile u32 *)n->area;

	for (u32 i = 0; i < TREE_PAGES; i++) {
		p[i * 1024] = marker(gen, path, i);
		p[i * 1024 + 777] = ~marker(gen, path, i);
	}
	for (u32 i = 0; i < STACK_WORDS; i++)
		stack[i] = marker(gen, path, i);
}

/* How many of the node's markers are not what stamp() wrote. */
static u32 count_wrong(const struct node *n, const u32 *stack, u32 gen, u32 path)
{
	volatile u32 *p = (volatile u32 *)n->area;
	u32 wrong = 0;

	for (u32 i = 0; i < TREE_PAGES; i++)
		wrong += p[i * 1024] != marker(gen, path, i) ||
			 p[i * 1024 + 777] != ~marker(gen, path, i);
	for (u32 i = 0; i < STACK_WORDS; i++)
		wrong += stack[i] != marker(gen, path, i);
	return wrong;
}

static int tree_node(struct node *n, u32 gen, u32 path)
{
	u32 stack[STACK_WORDS];

	stamp(n, stack, gen, path);
	if (gen == n->depth)
		return 0;
	n->frame0 = pte_info(n->area).frame;
	for (u32 k = 0; k < 2; k++) {
		s32 pid = sys_fork();
		UASSERT(pid >= 0);
		if (pid == 0) {
			/* The child sees its parent's markers, on shared read-only frames. */
			UCHECK_EQ(count_wrong(n, stack, gen, path), 0);
			struct user_pte_info pi = pte_info(n->area);
			UCHECK_EQ(pi.frame, n->frame0);
			UCHECK(!pi.writable);
			sys_exit(tree_node(n, gen + 1, path * 2 + k));
		}
	}
	for (u32 k = 0; k < 2; k++)
		UCHECK_EQ(wait_one(), 0);
	UCHECK_EQ(count_wrong(n, stack, gen, path), 0);
	/* Every descendant is gone: the parent is the last sharer and reuses its frame. */
	struct user_pte_info pi = pte_info(n->area);
	UCHECK_EQ(pi.frame, n->frame0);
	UCHECK_EQ(pi.mapcount, 0);
	stamp(n, stack, gen, path);
	pi = pte_info(n->area);
	UCHECK_EQ(pi.frame, n->frame0);
	UCHECK(pi.writable);
	return 0;
}

static int fork_tree(u32 depth)
{
	struct node n = { 0, depth, 0 };
	s32 a = map_anon(TREE_PAGES * 4096);

	UASSERT(a > 0);
	n.area = (u32)a;
	int r = tree_node(&n, 0, 0);
	UCHECK_EQ(sys_munmap(n.area, TREE_PAGES * 4096), 0);
	return r;
}
USER_PROGRAM(fork_tree);

/* The child's half of cow_frames; sync is a shared page for the handshake. */
static int cow_child(volatile u32 *p, volatile u32 *sync, struct user_pte_info f0,
		     struct user_pte_info f1, u32 ps)
{
	u32 per = ps / 4096;
	struct user_pte_info c = pte_info((u32)p);

	UCHECK_EQ(c.frame, f0.frame); /* shared after fork, read-only on this side too */
	UCHECK(!c.writable);
	UCHECK_EQ(c.mapcount, 1);
	UCHECK_EQ(c.count, 2);
	UCHECK_EQ(p[0], 1);
	p[0] = 10; /* the first write copies the whole cluster */
	c = pte_info((u32)p);
	UCHECK(c.frame != f0.frame);
	UCHECK(c.writable);
	UCHECK_EQ(c.mapcount, 0);
	UCHECK_EQ(c.count, 1);
	UCHECK_EQ(p[0], 10);
	if (per > 1) { /* the window's other slots moved to the copy with it */
		struct user_pte_info s1 = pte_info((u32)p + 4096);
		UCHECK_EQ(s1.frame, c.frame + 1);
		UCHECK_EQ(p[1024], 3);
	}
	/* The second cluster was not written: still shared. */
	c = pte_info((u32)p + ps);
	UCHECK_EQ(c.frame, f1.frame);
	UCHECK(!c.writable);
	UCHECK_EQ(c.mapcount, 1);
	UCHECK_EQ(p[ps / 4], 2);
	sync[0] = 1; /* tell the parent, then wait for its checks */
	for (u32 spin = 0; sync[0] != 2 && spin < 100000; spin++)
		sys_yield();
	UCHECK_EQ(sync[0], 2);
	return 0;
}

static int cow_frames(u32 arg)
{
	u32 ps = sys_info().page_size;
	s32 a = map_anon(2 * ps);
	s32 s = sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);

	UASSERT(a > 0 && s > 0);
	volatile u32 *p = (volatile u32 *)a, *sync = (volatile u32 *)s;
	sync[0] = 0; /* touched before fork: the page is shared from here on */
	p[0] = 1;
	p[ps / 4] = 2;
	if (ps > 4096)
		p[1024] = 3;
	struct user_pte_info f0 = pte_info((u32)a), f1 = pte_info((u32)a + ps);
	UCHECK(f0.writable && f1.writable);
	UCHECK_EQ(f0.mapcount, 0);
	UCHECK_EQ(f0.count, 1);

	s32 pid = sys_fork();
	UASSERT(pid >= 0);
	if (pid == 0)
		sys_exit(cow_child(p, sync, f0, f1, ps));
	struct user_pte_info c = pte_info((u32)a + ps);
	UCHECK_EQ(c.frame, f1.frame);
	UCHECK(!c.writable); /* fork write-protected the parent's side too */
	for (u32 spin = 0; sync[0] != 1 && spin < 100000; spin++)
		sys_yield();
	UCHECK_EQ(sync[0], 1);
	/* The child has its own copy of cluster 0; the parent still has the original. */
	c = pte_info((u32)a);
	UCHECK_EQ(c.frame, f0.frame);
	UCHECK_EQ(c.mapcount, 0);
	UCHECK_EQ(c.count, 1);
	UCHECK_EQ(p[0], 1);
	UCHECK_EQ(pte_info((u32)a + ps).mapcount, 1);
	sync[0] = 2;
	UCHECK_EQ(wait_one(), 0);
	/* Alone again: writes reuse the frames in place. */
	p[0] = 5;
	p[ps / 4] = 6;
	c = pte_info((u32)a);
	UCHECK_EQ(c.frame, f0.frame);
	UCHECK(c.writable);
	c = pte_info((u32)a + ps);
	UCHECK_EQ(c.frame, f1.frame);
	UCHECK(c.writable);
	UCHECK_EQ(c.mapcount, 0);
	UCHECK_EQ(p[0] + p[ps / 4], 11);
	return 0;
}
USER_PROGRAM(cow_frames);
