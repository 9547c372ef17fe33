/*
 * What the ring-3 reclaim workloads (src/user/reclaim.c) and the swap
 * suite (src/selftest/swap.c) agree on: fixed addresses and the handshake
 * page of swap_tree.  Included by both sides, so it holds only numbers
 * and a plain structure.
 */
#ifndef USER_RECLAIM_H
#define USER_RECLAIM_H
#include "lib/types.h"

/*
 * swap_tree(arg): a tree of tasks sharing one copy-on-write cluster.
 * arg bits 0-7: depth (2^(depth+1) - 1 tasks); SWAPTREE_EXPECT_KILL: the
 * read back is expected to kill the task (a corrupted slot), so no task
 * may fork.  The root maps the cluster at SWAPTREE_COW (one PAGE_SIZE
 * window, filled with swaptree_word) and the handshake page at
 * SWAPTREE_SYNC (MAP_SHARED), then forks; every task records its pid,
 * counts itself ready and waits for go.  The kernel test swaps the
 * cluster out of all of them, then sets go; each task reads the whole
 * cluster back, records the frame it got, and once all have read, writes
 * its own marker (breaking copy-on-write).
 */
#define SWAPTREE_COW 0x50000000u
#define SWAPTREE_SYNC 0x50400000u
#define SWAPTREE_MAX 63u
#define SWAPTREE_EXPECT_KILL 0x100u

struct swaptree_sync {
	u32 ready;  /* tasks waiting with the cluster mapped */
	u32 go;     /* set by the kernel: the cluster is out, read it back */
	u32 done;   /* tasks that read it back */
	u32 bad;    /* words that came back wrong, all tasks */
	u32 ntasks; /* the tree's size */
	u32 pid[SWAPTREE_MAX + 1];
	u32 frame[SWAPTREE_MAX + 1]; /* the frame each task found after the read */
};

/* The word at byte offset 4 * i of the cluster. */
static inline u32 swaptree_word(u32 i)
{
	u32 x = i * 0x9e3779b9u ^ 0x5eed1234u;
	x ^= x >> 15;
	return x * 0x2c1b3c6du;
}

/*
 * reclaim_load(arg): arg = (MiB << 8) | tasks.  The root forks `tasks`
 * workers that share the MiB between them; each fills its pages with
 * words derived from (worker, page, word, generation) and checks them over
 * several passes (all in order; a random quarter, each checked and
 * rewritten; the rewritten ones in order), so that every page comes back
 * from swap at least once under pressure and every word read is checked.
 * No worker reads back before all have filled their memory.  Exit code 0 when every word was right.
 *
 * oom_eater(arg): touches arg MiB of private memory, one word per 4 KiB;
 * the test expects it to be killed for memory (exit 3 if it never is).
 */
#define RECLAIM_LOAD_ARG(mib, tasks) (((u32)(mib) << 8) | (u32)(tasks))
/* reclaim_load's handshake page (MAP_SHARED): workers count themselves
 * there once their memory is filled, and wait for all of them. */
#define RECLAIM_SYNC 0x3f000000u

#endif
