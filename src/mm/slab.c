/*
 * The slab allocator (see slab.h for the layout of a slab).
 *
 *   one slab = one PAGE_SIZE page of lowmem
 *   +--------+--------+--------+-- ... --+--------+-------+
 *   | obj 0  | obj 1  | obj 2  |         | obj n-1| waste |  n = PAGE_SIZE / size
 *   +--------+--------+--------+-- ... --+--------+-------+
 *      free objects: first word = offset of the next free one
 *      page->index = offset of the first free object
 *
 * A cache keeps its slabs on three lists by how many objects are in use:
 * full, partial (allocations come from here first, then from an empty slab,
 * then from a new page) and empty.  It keeps at most SLAB_KEEP_EMPTY empty
 * slabs, so allocating and freeing around a slab boundary does not bounce
 * pages; kmem_cache_shrink gives back the rest.  The free list is LIFO: the
 * object freed last, still in the cache, is handed out next.
 *
 * The cache descriptors are objects of the first cache, "kmem_cache", whose
 * own descriptor is static.  kmalloc uses one cache per power of two from
 * KMALLOC_MIN to KMALLOC_MAX and whole pages above.
 *
 * Debug builds (CONFIG_DEBUG) fill a freed object with SLAB_POISON behind its
 * free-list word and check the poison when the object is handed out again
 * (a write after free panics), mark a handed-out object's first word with
 * SLAB_LIVE, and check every free: a double free, a pointer into the middle
 * of an object, into another cache or outside any slab panics.
 *
 * Locking (slab.h): c->lock around everything that touches c's slabs; the
 * list of caches under chain_lock (never held with a cache's lock).
 */
#include "mm/slab.h"
#include "mm/mm_locks.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"

#define SLAB_KEEP_EMPTY 1
/* Debug builds: the first word of a handed-out object, never a free-list offset. */
#define SLAB_LIVE 0x5a5a5a5au

static struct kmem_cache cache_cache; /* the cache of cache descriptors */
static struct list_head cache_chain = LIST_HEAD_INIT(cache_chain);
static spinlock_t chain_lock = SPINLOCK_INIT;
static bool slab_ready;

static const char *const kmalloc_names[] = {
	"kmalloc-16",  "kmalloc-32",   "kmalloc-64",   "kmalloc-128",  "kmalloc-256",
	"kmalloc-512", "kmalloc-1024", "kmalloc-2048", "kmalloc-4096", "kmalloc-8192",
};
#define NR_KMALLOC (PAGE_SHIFT - 4) /* 16 .. PAGE_SIZE / 2 */
_Static_assert(KMALLOC_MIN == 16, "kmalloc_names starts at 16");
_Static_assert(NR_KMALLOC <= ARRAY_SIZE(kmalloc_names), "a kmalloc cache has no name");
static struct kmem_cache *kmalloc_caches[NR_KMALLOC];

/* Fills in a descriptor; panics on sizes and alignments no cache can have. */
static void cache_setup(struct kmem_cache *c, const char *name, u32 size, u32 align)
{
	if (!align)
		align = 4;
	if (align & (align - 1) || align > PAGE_SIZE)
		panic("kmem_cache_create(%s): alignment %u is not a power of two up to a page",
		      name, align);
	if (!size || size > PAGE_SIZE)
		panic("kmem_cache_create(%s): object size %u not in 1..%u", name, size, PAGE_SIZE);
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->align = MAX(align, 4u); /* the free-list word */
	c->size = ALIGN_UP(size, c->align);
	c->objs_per_slab = PAGE_SIZE / c->size;
	INIT_LIST_HEAD(&c->full);
	INIT_LIST_HEAD(&c->partial);
	INIT_LIST_HEAD(&c->empty);
	u32 flags = spin_lock_irqsave(&chain_lock);
	list_add_tail(&c->link, &cache_chain);
	spin_unlock_irqrestore(&chain_lock, flags);
}

void kmem_cache_init(void)
{
	if (slab_ready)
		return;
	slab_ready = true;
	cache_setup(&cache_cache, "kmem_cache", sizeof(struct kmem_cache), 0);
	for (u32 i = 0; i < NR_KMALLOC; i++) {
		kmalloc_caches[i] = kmem_cache_create(kmalloc_names[i], KMALLOC_MIN << i, 0);
		if (!kmalloc_caches[i])
			panic("kmem_cache_init: no memory for %s", kmalloc_names[i]);
	}
}

struct kmem_cache *kmem_cache_create(const char *name, u32 size, u32 align)
{
	kmem_cache_init();
	struct kmem_cache *c = kmem_cache_alloc(&cache_cache, GFP_KERNEL);
	if (c)
		cache_setup(c, name, size, align);
	return c;
}

/* The list, and its counter, for a slab of c with inuse objects in use. */
static struct list_head *slab_list(struct kmem_cache *c, u32 inuse, u32 **count)
{
	if (inuse == 0) {
		*count = &c->stats.slabs_empty;
		return &c->empty;
	}
	if (inuse == c->objs_per_slab) {
		*count = &c->stats.slabs_full;
		return &c->full;
	}
	*count = &c->stats.slabs_partial;
	return &c->partial;
}

/* After slab pg's in-use count changed from old, moves it to the matching list. */
static void slab_relink(struct kmem_cache *c, struct page *pg, u32 old)
{
	u32 *from, *to;
	struct list_head *want = slab_list(c, pg->private, &to);

	if (slab_list(c, old, &from) == want)
		return;
	list_del(&pg->lru);
	(*from)--;
	list_add(&pg->lru, want);
	(*to)++;
}

/* Gets a page for c and threads all its objects on the free list; NULL if none. */
static struct page *cache_grow(struct kmem_cache *c, gfp_t gfp)
{
	struct page *pg = alloc_page(gfp & (__GFP_ATOMIC | __GFP_NOWARN));

	if (!pg)
		return NULL;
	u8 *base = lowmem_page_address(pg);
	SetPageFlag(pg, PG_slab);
	pg->mapping = c;
	pg->private = 0;
	pg->index = 0;
	if (CONFIG_DEBUG)
		memset(base, SLAB_POISON, PAGE_SIZE);
	for (u32 i = 0; i + 1 < c->objs_per_slab; i++)
		*(u32 *)(base + i * c->size) = (i + 1) * c->size;
	*(u32 *)(base + (c->objs_per_slab - 1) * c->size) = SLAB_FREE_END;
	list_add(&pg->lru, &c->empty);
	c->stats.slabs_empty++;
	c->stats.pages++;
	c->stats.objs_total += c->objs_per_slab;
	c->stats.grows++;
	return pg;
}

/* Gives an empty slab back to the page allocator. */
static void slab_release(struct kmem_cache *c, struct page *pg)
{
	list_del(&pg->lru);
	c->stats.slabs_empty--;
	c->stats.pages--;
	c->stats.objs_total -= c->objs_per_slab;
	c->stats.shrinks++;
	ClearPageFlag(pg, PG_slab);
	pg->mapping = NULL;
	pg->private = 0; /* the page allocator reads the order here */
	pg->index = 0;
	__free_page(pg);
}

static bool valid_free_offset(const struct kmem_cache *c, u32 off)
{
	return off == SLAB_FREE_END || (off % c->size == 0 && off / c->size < c->objs_per_slab);
}

/* Debug: the free object about to be handed out must be as kmem_cache_free left it. */
static void check_poison(const struct kmem_cache *c, const u8 *obj, u32 next)
{
	if (!valid_free_offset(c, next))
		panic("slab %s: free object %p has a bad free-list word 0x%x: "
		      "written after it was freed", c->name, obj, next);
	for (u32 i = sizeof(u32); i < c->size; i++)
		if (obj[i] != SLAB_POISON)
			panic("slab %s: object %p written after it was freed "
			      "(byte %u is 0x%02x, not 0x%02x)", c->name, obj, i, obj[i], SLAB_POISON);
}

void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	struct page *pg;

	if (gfp & (__GFP_DMA | __GFP_HIGHMEM))
		panic("kmem_cache_alloc(%s): slabs come from Normal memory; "
		      "gfp 0x%x asks for DMA or HighMem", c->name, gfp);
	u32 flags = mm_lock(&c->lock, MM_LOCK_SLAB);
	if (!list_empty(&c->partial))
		pg = list_first_entry(&c->partial, struct page, lru);
	else if (!list_empty(&c->empty))
		pg = list_first_entry(&c->empty, struct page, lru);
	else if (!(pg = cache_grow(c, gfp))) {
		c->stats.fails++;
		mm_unlock(&c->lock, MM_LOCK_SLAB, flags);
		return NULL;
	}
	u8 *obj = (u8 *)lowmem_page_address(pg) + pg->index;
	u32 next = *(u32 *)obj;
	if (CONFIG_DEBUG)
		check_poison(c, obj, next);
	pg->index = next;
	pg->private++;
	slab_relink(c, pg, pg->private - 1);
	c->stats.objs_in_use++;
	c->stats.allocs++;
	mm_unlock(&c->lock, MM_LOCK_SLAB, flags);
	if (gfp & __GFP_ZERO)
		memset(obj, 0, c->size);
	else if (CONFIG_DEBUG)
		*(u32 *)obj = SLAB_LIVE;
	return obj;
}

/* Is the object at offset off of slab pg on its free list? */
static bool object_is_free(const struct kmem_cache *c, const struct page *pg, u32 off)
{
	const u8 *base = lowmem_page_address(pg);
	const u8 *obj = base + off;

	/* Debug builds: a handed-out object is marked or has lost its poison. */
	if (CONFIG_DEBUG && (!valid_free_offset(c, *(const u32 *)obj) ||
			     (c->size > sizeof(u32) && obj[c->size - 1] != SLAB_POISON)))
		return false;
	u32 f = pg->index;
	for (u32 n = 0; f != SLAB_FREE_END && n < c->objs_per_slab; n++) {
		if (f == off)
			return true;
		f = *(const u32 *)(base + f);
	}
	return false;
}

/* The descriptor of the page holding p, or NULL if p is not in directly mapped RAM. */
static struct page *lowmem_page(const void *p)
{
	uintptr_t va = (uintptr_t)p;

	if (va < PAGE_OFFSET || virt_to_phys(va) >= pfn_to_phys(max_low_pfn))
		return NULL;
	u32 pfn = phys_to_pfn(virt_to_phys(va));
	return pfn_valid(pfn) ? pfn_to_page(pfn) : NULL;
}

/* kmem_cache_free_check with c's lock held. */
static const char *free_check_locked(const struct kmem_cache *c, const void *obj)
{
	static char whys[NR_CPUS][96]; /* per CPU: the caller holds a cache lock */
	char *why = whys[smp_processor_id()];
	const struct page *pg = lowmem_page(obj);

	if (!obj)
		return "freeing NULL";
	if (!pg)
		return "not a lowmem address, so not a slab object";
	if (!PageFlag(pg, PG_slab))
		return "not in a slab page";
	if (pg->mapping != c) {
		snprintf(why, sizeof(whys[0]), "the object belongs to cache %s",
			 ((const struct kmem_cache *)pg->mapping)->name);
		return why;
	}
	u32 off = (uintptr_t)obj & ~PAGE_MASK;
	if (off % c->size || off / c->size >= c->objs_per_slab)
		return "not the start of an object";
	if (pg->private == 0 || object_is_free(c, pg, off))
		return "double free: the object is already free";
	return NULL;
}

const char *kmem_cache_free_check(const struct kmem_cache *c, const void *obj)
{
	struct kmem_cache *lc = (struct kmem_cache *)c;
	u32 flags = mm_lock(&lc->lock, MM_LOCK_SLAB);
	const char *why = free_check_locked(c, obj);
	mm_unlock(&lc->lock, MM_LOCK_SLAB, flags);
	return why;
}

void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	u32 flags = mm_lock(&c->lock, MM_LOCK_SLAB);
	if (CONFIG_DEBUG) {
		const char *why = free_check_locked(c, obj);
		if (why)
			panic("kmem_cache_free(%s, %p): %s", c->name, obj, why);
	}
	struct page *pg = virt_to_page(obj);
	u32 off = (uintptr_t)obj & ~PAGE_MASK;

	if (CONFIG_DEBUG)
		memset(obj, SLAB_POISON, c->size);
	*(u32 *)obj = pg->index;
	pg->index = off;
	pg->private--;
	slab_relink(c, pg, pg->private + 1);
	c->stats.objs_in_use--;
	c->stats.frees++;
	if (pg->private == 0 && c->stats.slabs_empty > SLAB_KEEP_EMPTY)
		slab_release(c, pg);
	mm_unlock(&c->lock, MM_LOCK_SLAB, flags);
}

void kmem_cache_shrink(struct kmem_cache *c)
{
	u32 flags = mm_lock(&c->lock, MM_LOCK_SLAB);
	while (!list_empty(&c->empty))
		slab_release(c, list_first_entry(&c->empty, struct page, lru));
	mm_unlock(&c->lock, MM_LOCK_SLAB, flags);
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	if (c == &cache_cache || (c->size <= KMALLOC_MAX && kmalloc_cache(c->size) == c))
		panic("kmem_cache_destroy(%s): the allocator's own caches stay", c->name);
	if (c->stats.objs_in_use)
		panic("kmem_cache_destroy(%s): %u objects still allocated", c->name,
		      c->stats.objs_in_use);
	kmem_cache_shrink(c);
	u32 flags = spin_lock_irqsave(&chain_lock);
	list_del(&c->link);
	spin_unlock_irqrestore(&chain_lock, flags);
	kmem_cache_free(&cache_cache, c);
}

void kmem_cache_print_stats(void)
{
	struct list_head *l;

	kmem_cache_init();
	u32 flags = spin_lock_irqsave(&chain_lock);
	list_for_each(l, &cache_chain) {
		const struct kmem_cache *c = list_entry(l, struct kmem_cache, link);
		const struct kmem_cache_stats *s = &c->stats;
		printk("slab: %-14s size %4u objs %u/%u slabs full %u partial %u empty %u pages %u "
		       "allocs %u frees %u grows %u shrinks %u fails %u\n",
		       c->name, c->size, s->objs_in_use, s->objs_total, s->slabs_full,
		       s->slabs_partial, s->slabs_empty, s->pages, s->allocs, s->frees, s->grows,
		       s->shrinks, s->fails);
	}
	spin_unlock_irqrestore(&chain_lock, flags);
}

void kmem_cache_totals(u32 *objs, u32 *pages)
{
	struct list_head *l;

	kmem_cache_init();
	*objs = *pages = 0;
	u32 flags = spin_lock_irqsave(&chain_lock);
	list_for_each(l, &cache_chain) {
		const struct kmem_cache *c = list_entry(l, struct kmem_cache, link);
		*objs += c->stats.objs_in_use;
		*pages += c->stats.pages;
	}
	spin_unlock_irqrestore(&chain_lock, flags);
}

struct kmem_cache *kmalloc_cache(u32 size)
{
	u32 i = 0;

	if (size > KMALLOC_MAX)
		return NULL;
	kmem_cache_init();
	while ((KMALLOC_MIN << i) < size)
		i++;
	return kmalloc_caches[i];
}

void *kmalloc(u32 size, gfp_t gfp)
{
	struct kmem_cache *c = kmalloc_cache(size);
	unsigned order = 0;

	if (c)
		return kmem_cache_alloc(c, gfp);
	while (order < MAX_ORDER && (PAGE_SIZE << order) < size)
		order++;
	if (order == MAX_ORDER) {
		if (!(gfp & __GFP_NOWARN))
			pr_warn("kmalloc(%u): larger than a block of %u pages\n", size,
				1u << (MAX_ORDER - 1));
		return NULL;
	}
	return get_free_pages(gfp, order);
}

void kfree(const void *ptr)
{
	if (!ptr)
		return;
	struct page *pg = CONFIG_DEBUG ? lowmem_page(ptr) : virt_to_page(ptr);
	if (!pg)
		panic("kfree(%p): not a lowmem address, so not from kmalloc", ptr);
	if (PageFlag(pg, PG_slab)) {
		kmem_cache_free(pg->mapping, (void *)ptr);
		return;
	}
	if (CONFIG_DEBUG) {
		const char *why = page_free_check(pg);
		if (why || ((uintptr_t)ptr & ~PAGE_MASK))
			panic("kfree(%p): not the start of a kmalloc block: %s", ptr,
			      why ? why : "inside the page");
	}
	free_pages((void *)ptr, page_order(pg));
}
