/*
 * Swap devices, the slot map and the swap cache (see swap.h).
 *
 * What the slot map protects: a slot is reused only when no window holds
 * an entry for it (count 0) and no cluster is cached for it, so a PTE's
 * entry always leads either to the cluster in memory (the cache) or to the
 * data written for it.  The cache holds one page reference; the windows
 * hold none (their pages were unmapped).
 *
 * I/O is synchronous and whole-cluster: PAGE_MMUCOUNT frames, each mapped
 * in turn in this CPU's KM_SWAP kmap_atomic slot -- the only slot swap
 * code uses, so reclaim may run under a caller that holds KM_PTE0 or the
 * KM_USER pair.  The HighMem area copies through a lowmem bounce frame
 * for that reason (both ends of the copy are kmapped frames).
 *
 * Locking (swap.h): swap_lock around the slot map, the swap cache and
 * swap_stats; it is let go before put_page and I/O.  Nothing here sleeps,
 * the ATA driver polls.
 */
#include "mm/swap.h"
#include "mm/vmscan.h"
#include "mm/highmem.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "mm/mm.h"
#include "mm/mm_locks.h"
#include "kernel/cmdline.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"

#define SECTORS_PER_FRAME (MMUPAGE_SIZE / ATA_SECTOR_SIZE)
#define SECTORS_PER_SLOT (PAGE_SIZE / ATA_SECTOR_SIZE)

struct swap_stats swap_stats;
static spinlock_t swap_lock = SPINLOCK_INIT;

static u32 swap_lock_take(void)
{
	return mm_lock(&swap_lock, MM_LOCK_SWAP);
}

static void swap_lock_drop(u32 flags)
{
	mm_unlock(&swap_lock, MM_LOCK_SWAP, flags);
}
static struct swap_info device;
static struct swap_info *active;
static const char *absent = "swap_init has not run";
static u32 inject_write_errors;
static u8 bounce[MMUPAGE_SIZE] __aligned(16);

struct swap_info *swap_active(void)
{
	return active;
}

const char *swap_absent_reason(void)
{
	return active ? NULL : absent;
}

/* ---- checksums (debug builds keep one per slot) ---- */

/* FNV-1a over 32-bit words: cheap, and a change confined to one word always
 * changes it (every step is a bijection of h). */
static u32 csum_frame(u32 h, const void *va)
{
	const u32 *w = va;

	for (u32 i = 0; i < MMUPAGE_SIZE / 4; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}
#define CSUM_INIT 2166136261u

u32 swap_checksum_page(struct page *page)
{
	u32 h = CSUM_INIT;

	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		void *va = kmap_atomic_frame(page_to_frame(page) + i, KM_SWAP);
		h = csum_frame(h, va);
		kunmap_atomic(va, KM_SWAP);
	}
	return h;
}

/* Copies one 4 KiB frame with string moves (the library memcpy goes a byte
 * at a time, which an emulator pays for on every swap-out and swap-in). */
static void copy_frame(void *dst, const void *src)
{
	u32 n = MMUPAGE_SIZE / 4;

	__asm__ __volatile__("rep movsl" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* ---- the two kinds of device: frame i of a slot ---- */

static u64 area_frame(const struct swap_info *si, u32 slot, u32 i)
{
	struct page *block = si->blocks[slot >> si->block_order];
	return page_to_frame(block + (slot & ((1u << si->block_order) - 1))) + i;
}

static u64 slot_lba(u32 slot, u32 i)
{
	return SWAP_DISK_DATA_LBA + (u64)slot * SECTORS_PER_SLOT + i * SECTORS_PER_FRAME;
}

/* An ATA transfer of a cluster: its frames one after the other in KM_SWAP,
 * the checksum taken while each is mapped (before a write, after a read). */
struct cluster_io {
	struct page *page;
	bool write;
	u32 h;
};

static void *cluster_map(void *ctx, u32 block)
{
	struct cluster_io *io = ctx;
	void *va = kmap_atomic_frame(page_to_frame(io->page) + block, KM_SWAP);

	if (CONFIG_DEBUG && io->write)
		io->h = csum_frame(io->h, va);
	return va;
}

static void cluster_unmap(void *ctx, u32 block, void *va)
{
	struct cluster_io *io = ctx;

	if (CONFIG_DEBUG && !io->write)
		io->h = csum_frame(io->h, va);
	kunmap_atomic(va, KM_SWAP);
}

/* Moves the whole cluster to or from the slot in one ATA command. */
static int ata_cluster(struct swap_info *si, u32 slot, struct page *page, bool write, bool fail,
		       u32 *h)
{
	struct cluster_io io = { page, write, CSUM_INIT };
	struct ata_buffers b = { cluster_map, cluster_unmap, &io };
	int err;

	if (fail) { /* the drive itself refuses: a write past the disk's end */
		void *va = kmap_atomic_frame(page_to_frame(page), KM_SWAP);
		err = ata_write_beyond_end(&si->disk, va);
		kunmap_atomic(va, KM_SWAP);
	} else {
		err = ata_transfer(&si->disk, slot_lba(slot, 0), SECTORS_PER_SLOT, &b, write);
	}
	*h = io.h;
	return err ? -EIO : 0;
}

/* Copies the whole cluster to or from the HighMem area, frame by frame
 * through the bounce frame (one kmap_atomic slot for both ends). */
static int area_cluster(struct swap_info *si, u32 slot, struct page *page, bool write, bool fail,
			u32 *h)
{
	*h = CSUM_INIT;
	if (fail) {
		printk("swap: %s: write of slot %u refused (injected error)\n", si->name, slot);
		return -EIO;
	}
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		u64 from = write ? page_to_frame(page) + i : area_frame(si, slot, i);
		u64 to = write ? area_frame(si, slot, i) : page_to_frame(page) + i;
		void *va = kmap_atomic_frame(from, KM_SWAP);
		copy_frame(bounce, va);
		kunmap_atomic(va, KM_SWAP);
		va = kmap_atomic_frame(to, KM_SWAP);
		copy_frame(va, bounce);
		kunmap_atomic(va, KM_SWAP);
		if (CONFIG_DEBUG)
			*h = csum_frame(*h, bounce);
	}
	return 0;
}

/* Writes the whole cluster to the slot; its checksum goes to *h. */
static int write_cluster(struct swap_info *si, u32 slot, struct page *page, u32 *h)
{
	bool fail = inject_write_errors > 0;

	if (fail)
		inject_write_errors--;
	if (si->kind == SWAP_KIND_ATA)
		return ata_cluster(si, slot, page, true, fail, h);
	return area_cluster(si, slot, page, true, fail, h);
}

/* Reads the slot into the whole cluster; its checksum goes to *h. */
static int read_cluster(struct swap_info *si, u32 slot, struct page *page, u32 *h)
{
	if (si->kind == SWAP_KIND_ATA)
		return ata_cluster(si, slot, page, false, false, h);
	return area_cluster(si, slot, page, false, false, h);
}

/* ---- the slot map ---- */

static struct swap_slot *entry_slot(swp_entry_t e, const char *who)
{
	u32 off = swp_offset(e);

	if (!active || swp_type(e) != 0 || off >= active->max_slots)
		panic("%s: bad swap entry %08x (slot %u, type %u; %u slots)", who, e.val, off,
		      swp_type(e), active ? active->max_slots : 0);
	return &active->slots[off];
}

/* The slot is free again. */
static void slot_release(struct swap_slot *s)
{
	s->flags = 0;
	s->csum = 0;
	active->inuse--;
}

static void __add_to_swap_cache(struct page *page, swp_entry_t e, struct swap_slot *s)
{
	if (s->cache || PageFlag(page, PG_swapcache))
		panic("swap cache: pfn %u into slot %u, which caches pfn %d", page_to_pfn(page),
		      swp_offset(e), s->cache ? (int)page_to_pfn(s->cache) : -1);
	s->cache = page;
	page->private = e.val;
	SetPageFlag(page, PG_swapcache);
	get_page(page);
}

void add_to_swap_cache(struct page *page, swp_entry_t e)
{
	u32 flags = swap_lock_take();
	__add_to_swap_cache(page, e, entry_slot(e, "add_to_swap_cache"));
	SetPageFlag(page, PG_dirty); /* the slot does not hold it yet */
	swap_lock_drop(flags);
}

swp_entry_t get_swap_slot(void)
{
	struct swap_info *si = active;
	u32 flags = swap_lock_take();

	if (!si || si->inuse >= si->nr_slots) {
		swap_stats.full++;
		swap_lock_drop(flags);
		return (swp_entry_t){ 0 };
	}
	for (u32 n = 0; n < si->nr_slots; n++) {
		u32 slot = (si->cursor + n) % si->nr_slots;
		struct swap_slot *s = &si->slots[slot];
		if (s->count || s->cache || (s->flags & SLOT_WRITTEN))
			continue;
		si->cursor = slot + 1;
		si->inuse++;
		s->flags = 0;
		swap_lock_drop(flags);
		return swp_entry(0, slot);
	}
	panic("swap: %u of %u slots in use, but none is free", si->inuse, si->nr_slots);
}

/* Unbinds page from its slot (swap_lock held); the caller puts the cache's reference. */
static void __delete_from_swap_cache(struct page *page)
{
	swp_entry_t e = page_swp_entry(page);
	struct swap_slot *s = entry_slot(e, "delete_from_swap_cache");

	if (s->cache != page || !PageFlag(page, PG_swapcache))
		panic("swap cache: pfn %u is not what slot %u caches", page_to_pfn(page), swp_offset(e));
	s->cache = NULL;
	ClearPageFlag(page, PG_swapcache);
	page->private = 0;
	if (!s->count)
		slot_release(s);
}

void delete_from_swap_cache(struct page *page)
{
	u32 flags = swap_lock_take();
	__delete_from_swap_cache(page);
	swap_lock_drop(flags);
	put_page(page);
}

struct page *lookup_swap_cache(swp_entry_t e)
{
	u32 flags = swap_lock_take();
	struct page *page = entry_slot(e, "lookup_swap_cache")->cache;
	swap_lock_drop(flags);
	return page;
}

void swap_duplicate(swp_entry_t e)
{
	u32 flags = swap_lock_take();
	struct swap_slot *s = entry_slot(e, "swap_duplicate");

	if (s->count == 0xffff)
		panic("swap: slot %u is held by 65535 windows", swp_offset(e));
	if (!s->count && !s->cache && !(s->flags & SLOT_WRITTEN))
		panic("swap_duplicate: slot %u is free", swp_offset(e));
	s->count++;
	swap_lock_drop(flags);
}

void swap_free(swp_entry_t e)
{
	u32 flags = swap_lock_take();
	struct swap_slot *s = entry_slot(e, "swap_free");
	struct page *cached = NULL;

	if (!s->count)
		panic("swap_free: slot %u is held by no window", swp_offset(e));
	if (!--s->count) {
		cached = s->cache;
		if (cached)
			__delete_from_swap_cache(cached); /* frees the slot too */
		else
			slot_release(s);
	}
	swap_lock_drop(flags);
	if (cached)
		put_page(cached);
}

u32 swap_count(swp_entry_t e)
{
	return entry_slot(e, "swap_count")->count;
}

/* ---- I/O ---- */

int swap_writepage(struct page *page)
{
	swp_entry_t e = page_swp_entry(page);
	struct swap_slot *s = entry_slot(e, "swap_writepage");
	u32 h;

	if (write_cluster(active, swp_offset(e), page, &h)) {
		atomic_inc(&swap_stats.write_errors);
		printk("swap: %s: write of slot %u failed: the cluster (pfn %u) stays in memory\n",
		       active->name, swp_offset(e), page_to_pfn(page));
		return -EIO;
	}
	u32 flags = swap_lock_take();
	s->flags |= SLOT_WRITTEN;
	s->csum = h;
	ClearPageFlag(page, PG_dirty);
	swap_stats.swap_outs++;
	swap_lock_drop(flags);
	return 0;
}

/* The slot's cached cluster, with a reference for the caller; lets go of
 * swap_lock (taken with flags). */
static struct page *cache_hit(struct swap_slot *s, u32 flags)
{
	struct page *cached = s->cache;

	swap_stats.cache_hits++;
	get_page(cached);
	swap_lock_drop(flags);
	return cached;
}

struct page *swapin_page(swp_entry_t e, int *err)
{
	struct swap_slot *s = entry_slot(e, "swapin_page");
	u32 slot = swp_offset(e), h;
	u32 flags = swap_lock_take();

	if (s->cache)
		return cache_hit(s, flags);
	if (!(s->flags & SLOT_WRITTEN))
		panic("swapin: slot %u was never written and nothing is cached for it", slot);
	swap_lock_drop(flags);
	struct page *page = alloc_page(GFP_HIGHUSER | __GFP_NOWARN);
	if (!page) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = read_cluster(active, slot, page, &h);
	if (*err) {
		atomic_inc(&swap_stats.read_errors);
		printk("swap: %s: read of slot %u failed\n", active->name, slot);
	} else if (CONFIG_DEBUG) {
		atomic_inc(&swap_stats.csum_checked);
		if (h != s->csum) {
			atomic_inc(&swap_stats.csum_errors);
			printk("swap: %s: slot %u read back with checksum %08x, written with %08x: "
			       "corrupted, not used\n", active->name, slot, h, s->csum);
			*err = -EIO;
		}
	}
	if (*err) {
		put_page(page);
		return NULL;
	}
	SetPageFlag(page, PG_anon);
	flags = swap_lock_take();
	if (s->cache) {
		/* Another CPU read the slot meanwhile: use its copy. */
		struct page *cached = cache_hit(s, flags);
		put_page(page); /* swap_lock is let go first */
		return cached;
	}
	swap_stats.swap_ins++;
	__add_to_swap_cache(page, e, s); /* clean: the slot holds the same data */
	swap_lock_drop(flags);
	lru_cache_add(page);
	return page;
}

/* ---- tests ---- */

int swap_set_limit(u32 n)
{
	if (!active)
		return -ENOENT;
	if (active->inuse)
		return -EBUSY;
	active->nr_slots = n ? MIN(n, active->max_slots) : active->max_slots;
	active->cursor = 0;
	return 0;
}

void swap_inject_write_errors(u32 n)
{
	inject_write_errors = n;
}

int swap_corrupt_slot(u32 slot)
{
	u8 sector[ATA_SECTOR_SIZE];

	if (!active || slot >= active->max_slots || !(active->slots[slot].flags & SLOT_WRITTEN))
		return -EINVAL;
	if (active->kind == SWAP_KIND_HIGHMEM) {
		u8 *a = kmap_atomic_frame(area_frame(active, slot, 0), KM_SWAP);
		a[100] ^= 0x10;
		kunmap_atomic(a, KM_SWAP);
		return 0;
	}
	if (ata_read(&active->disk, slot_lba(slot, 0), 1, sector))
		return -EIO;
	sector[100] ^= 0x10;
	return ata_write(&active->disk, slot_lba(slot, 0), 1, sector) ? -EIO : 0;
}

/* ---- setting up ---- */

/* The slot metadata for n slots, zeroed; false if lowmem ran out. */
static bool alloc_slots(struct swap_info *si, u32 n)
{
	u32 bytes = n * sizeof(struct swap_slot);
	unsigned order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	if (order >= MAX_ORDER)
		return false;
	si->slots = get_free_pages(GFP_KERNEL | __GFP_NOWARN, order);
	if (!si->slots)
		return false;
	memset(si->slots, 0, PAGE_SIZE << order);
	si->slots_order = order;
	si->max_slots = si->nr_slots = n;
	return true;
}

/* Slots for a device of bytes, within swap_mib and the format's limits. */
static u32 slots_for(u64 bytes, u32 mib)
{
	u64 cap = MIB(mib ? mib : SWAP_MAX_MIB);
	u64 n = MIN(bytes, cap) / PAGE_SIZE;
	return (u32)MIN(n, (u64)SWP_MAX_OFFSET);
}

/* Looks for an ATA disk with the swap signature; 0 when one is set up. */
static int swapon_ata(u32 mib)
{
	static const enum ata_pos order[] = { ATA_PRIMARY_SLAVE, ATA_SECONDARY_MASTER,
					      ATA_SECONDARY_SLAVE, ATA_PRIMARY_MASTER };
	u8 sector[ATA_SECTOR_SIZE];

	for (u32 i = 0; i < ARRAY_SIZE(order); i++) {
		struct ata_disk *d = &device.disk;
		if (ata_identify(order[i], d, NULL) || ata_read(d, 0, 1, sector))
			continue;
		if (memcmp(sector, SWAP_DISK_MAGIC, sizeof(SWAP_DISK_MAGIC)))
			continue; /* not ours: never written */
		if (d->sectors <= SWAP_DISK_DATA_LBA + SECTORS_PER_SLOT)
			continue;
		u32 n = slots_for((d->sectors - SWAP_DISK_DATA_LBA) * ATA_SECTOR_SIZE, mib);
		if (!alloc_slots(&device, n)) {
			absent = "no lowmem for the swap slot map";
			return -ENOMEM;
		}
		device.kind = SWAP_KIND_ATA;
		ata_set_multiple(d); /* 4 KiB per data block, not 512 bytes */
		snprintf(device.name, sizeof(device.name), "%s (%s)", ata_pos_name(d->pos), d->model);
		return 0;
	}
	absent = "no disk with the swap signature is attached (harness --swap-mib N)";
	return -ENOENT;
}

/* Takes mib MiB of HighMem from the page allocator as the swap area. */
static int swapon_highmem(u32 mib)
{
	u32 want = (u32)(MIB(mib ? mib : SWAP_HIGHMEM_DEFAULT_MIB) / PAGE_SIZE);
	unsigned order = 0;

	if (!CONFIG_HIGHMEM || !zones[ZONE_HIGHMEM].managed_pages) {
		absent = "no HighMem in this run for a swap area";
		return -ENOENT;
	}
	want = MIN(want, SWP_MAX_OFFSET);
	while (order < MAX_ORDER - 1 && (2u << order) <= want)
		order++;
	u32 nblocks = want >> order;
	device.blocks = kmalloc(nblocks * sizeof(struct page *), GFP_KERNEL);
	if (!device.blocks) {
		absent = "no lowmem for the HighMem swap area's block list";
		return -ENOMEM;
	}
	device.block_order = order;
	device.nr_blocks = 0;
	while (device.nr_blocks < nblocks) {
		struct page *b = alloc_pages(GFP_HIGHUSER | __GFP_NOWARN, order);
		if (b && !PageHighMem(b)) {
			__free_pages(b, order); /* fell back to lowmem: HighMem is exhausted */
			b = NULL;
		}
		if (!b)
			break;
		device.blocks[device.nr_blocks++] = b;
	}
	if (!device.nr_blocks || !alloc_slots(&device, device.nr_blocks << order)) {
		while (device.nr_blocks)
			__free_pages(device.blocks[--device.nr_blocks], order);
		kfree(device.blocks);
		absent = "could not take HighMem (or lowmem for its slot map) for the swap area";
		return -ENOMEM;
	}
	device.kind = SWAP_KIND_HIGHMEM;
	snprintf(device.name, sizeof(device.name), "HighMem area");
	return 0;
}

void swap_init(enum swap_mode mode, u32 mib)
{
	int err = -ENOENT;

	if (mode == SWAP_NONE) {
		absent = "swap=none";
	} else {
		if (mode == SWAP_AUTO || mode == SWAP_ATA)
			err = swapon_ata(mib);
		if (err && (mode == SWAP_AUTO || mode == SWAP_HIGHMEM))
			err = swapon_highmem(mib);
		if (err == -ENOENT && mode == SWAP_AUTO)
			absent = "no swap disk attached (harness --swap-mib N), no HighMem for an area";
	}
	if (err) {
		pr_info("swap: none (%s)\n", absent);
		return;
	}
	active = &device;
	pr_info("swap: %s, %u slots of %u KiB (%u MiB), %u KiB of lowmem for the slot map\n",
		device.name, device.max_slots, PAGE_SIZE >> 10,
		(u32)((u64)device.max_slots * PAGE_SIZE >> 20), (PAGE_SIZE << device.slots_order) >> 10);
}
