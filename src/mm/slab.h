/*
 * The slab allocator: caches of fixed-size objects in lowmem, for the
 * kernel's own structures (VMAs, anon_vmas, pte_chains), and kmalloc over
 * power-of-two caches.
 *
 * A slab is one page (PAGE_SIZE: 4 KiB, or 16 KiB in pgcl4 variants) from
 * the NORMAL or DMA zone, never HighMem, so every object is directly mapped.
 * The objects sit back to back from the start of the page; there are no
 * per-object headers.  The slab's page descriptor holds its state:
 *
 *   page->flags    PG_slab
 *   page->mapping  the cache
 *   page->private  objects in use
 *   page->index    offset of the first free object in the page, or
 *                  SLAB_FREE_END; each free object's first word holds the
 *                  offset of the next one
 *   page->lru      on the cache's full, partial or empty list
 *
 * Locking: callable on every CPU at once, with or without the kernel lock.
 * Each cache has its own lock (a ticket spinlock taken with interrupts off,
 * so a cache may be used from an interrupt handler too): its slab lists, the
 * slabs' free lists and page fields above, and its stats.  A cache's lock is
 * taken before the page allocator's locks (growing and shrinking call it
 * with the lock held; mm/mm.h has the order); never two caches' locks at
 * once.  The list of all caches has a lock of its own (slab.c).
 */
#ifndef MM_SLAB_H
#define MM_SLAB_H
#include "lib/list.h"
#include "mm/page_alloc.h"

/* Per-cache counters; the slab counts and pages are the current state,
 * allocs..shrinks count events since the cache was created. */
struct kmem_cache_stats {
	u32 objs_in_use;   /* objects handed out and not freed */
	u32 objs_total;    /* objects in all the cache's slabs */
	u32 slabs_full, slabs_partial, slabs_empty;
	u32 pages;         /* PAGE_SIZE pages held (one per slab) */
	u32 allocs, frees; /* successful kmem_cache_alloc / kmem_cache_free calls */
	u32 grows;         /* slabs taken from the page allocator */
	u32 shrinks;       /* slabs given back to it */
	u32 fails;         /* allocations that returned NULL */
};

struct kmem_cache {
	spinlock_t lock;             /* everything below but name, size, align, objs_per_slab */
	const char *name;            /* not copied: must outlive the cache */
	u32 size;                    /* object stride: the size rounded up to align */
	u32 align;                   /* a power of two, at least 4 */
	u32 objs_per_slab;
	struct list_head full, partial, empty; /* slabs, through page->lru */
	struct list_head link;       /* on the list of all caches */
	struct kmem_cache_stats stats;
};

/* page->index of a slab with no free object. */
#define SLAB_FREE_END 0xffffffffu
/* The byte freed objects are filled with in debug builds. */
#define SLAB_POISON 0x6b

/* Creates the cache of caches and the kmalloc caches; the first
 * kmem_cache_create or kmalloc calls it if nobody did before. */
void kmem_cache_init(void);

/*
 * A new cache of objects of size bytes (at most PAGE_SIZE) aligned to align
 * (0: 4 bytes; else a power of two).  name must stay valid while the cache
 * exists.  Returns NULL when no memory is left for the descriptor.
 */
struct kmem_cache *kmem_cache_create(const char *name, u32 size, u32 align);
/* An object of cache c, or NULL.  gfp: GFP_KERNEL or GFP_ATOMIC, plus
 * __GFP_ZERO (the object is zeroed) and __GFP_NOWARN; never HighMem. */
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp);
/* Returns obj to c.  Debug builds panic on a double free and on a pointer
 * that is not the start of one of c's objects. */
void kmem_cache_free(struct kmem_cache *c, void *obj);
/* Why freeing obj into c would be wrong, or NULL if it is a live object of c. */
const char *kmem_cache_free_check(const struct kmem_cache *c, const void *obj);
/* Gives c's empty slabs back to the page allocator. */
void kmem_cache_shrink(struct kmem_cache *c);
/* Frees c and all its slabs; panics if any object is still allocated. */
void kmem_cache_destroy(struct kmem_cache *c);
/* One line per cache: name, object size, the counters. */
void kmem_cache_print_stats(void);
/* Objects in use and pages held, summed over every cache (the tests' leak checks). */
void kmem_cache_totals(u32 *objs, u32 *pages);

/*
 * kmalloc: size bytes from the smallest power-of-two cache that fits
 * (KMALLOC_MIN..KMALLOC_MAX); larger requests get whole pages (a block of
 * 1 << order pages, order < MAX_ORDER).  gfp as for kmem_cache_alloc.
 * kmalloc(0) returns a KMALLOC_MIN object.  kfree(NULL) does nothing.
 */
#define KMALLOC_MIN 16u
#define KMALLOC_MAX (PAGE_SIZE / 2)
void *kmalloc(u32 size, gfp_t gfp);
void kfree(const void *ptr);
/* The cache kmalloc(size) uses, or NULL when size takes whole pages. */
struct kmem_cache *kmalloc_cache(u32 size);

#endif
