/*
 * Swap: where reclaim puts anonymous clusters, and how PTEs find them again.
 *
 * One swap device is active at a time (the kernel command line chooses,
 * swap=ata|highmem|none, default: an ATA swap disk if one is attached, else
 * a HighMem area, else none):
 *   ata      a disk driven by arch/ata.c that carries the swap signature in
 *            its first sector (the harness's --swap-mib disk; a disk without
 *            it is never written);
 *   highmem  an area of HighMem taken from the page allocator at boot
 *            (swap_mib=N MiB, default 64), reached through kmap_atomic like
 *            any HighMem page: RAM the kernel cannot address directly stands
 *            in for a disk.
 *
 * Slots.  A device is cut into slots of PAGE_SIZE bytes: one slot holds one
 * cluster (16 KiB in pgcl4: swap I/O is always in whole clusters).  Each
 * slot has, in lowmem:
 *   count  the (address space, window) pairs that hold a swap entry for it,
 *          counted once per window however many of its 4 KiB PTEs hold the
 *          entry -- exactly as page->count counts mapped clusters;
 *   cache  the swap cache: the cluster in memory whose contents the slot
 *          holds (or is about to hold), while there is one.  The cache holds
 *          a reference on that page (PG_swapcache, page->private = entry);
 *   csum   in debug builds, a checksum of the cluster last written, verified
 *          on every read.
 * A slot is free when its count is 0 and nothing is cached for it.
 *
 * Swap entries in PTEs.  A PTE whose present bit is clear is ignored by the
 * CPU in every other bit (SDM vol. 3 4.3 table 4-6 and 4.4 table 4-11, "P
 * = 0: ignored"), so a swap entry is a non-present PTE:
 *
 *   31                      12 11 10  9 8     5 4      1 0
 *  +--------------------------+--+--+--+-------+--------+-+
 *  |        slot (offset)     | 0| 1| 0|   0   |  type  |0|
 *  +--------------------------+--+--+--+-------+--------+-+
 *     bit 10 (_PAGE_SWAPENTRY) set: never 0, so never pte_none;
 *     bit 9 (_PAGE_PROTNONE) clear: never a PROT_NONE mapping;
 *     under PAE the high half is 0.
 * Every slot of a window that mapped the cluster gets the same entry; slot
 * i of the window still means frame i of the cluster.
 *
 * Locking: the slot map (count, flags, csum, inuse, cursor), the swap cache
 * (cache, PG_swapcache, page->private) and swap_stats are under swap_lock,
 * a ticket spinlock taken with interrupts off, first in the mm lock order
 * (mm/mm.h): get_swap_slot, swap_duplicate, swap_free and the swap-cache
 * calls may run on every CPU at once, without the kernel lock.  The I/O
 * itself (swap_writepage's and swapin_page's transfer, the ATA channel, the
 * HighMem area's bounce frame), swap_set_limit and swap_corrupt_slot still
 * rely on the kernel lock (their callers, reclaim and the fault path, hold it).
 */
#ifndef MM_SWAP_H
#define MM_SWAP_H
#include "mm/page.h"
#include "arch/ata.h"
#include "kernel/cmdline.h"

/* Errors of the swap path (mm/mm.h has the others; Linux's numbers). */
#define EIO 5
#define ENOSPC 28

#define _PAGE_SWAPENTRY (1ull << 10)
#define SWP_TYPE_SHIFT 1
#define SWP_TYPE_MASK 0xfu
#define SWP_OFFSET_SHIFT 12
#define SWP_MAX_OFFSET (1u << 20) /* slots a device may have (32 - 12 bits) */

typedef struct {
	u32 val;
} swp_entry_t;

static inline swp_entry_t swp_entry(u32 type, u32 offset)
{
	return (swp_entry_t){ (offset << SWP_OFFSET_SHIFT) | (u32)_PAGE_SWAPENTRY |
			      ((type & SWP_TYPE_MASK) << SWP_TYPE_SHIFT) };
}
static inline u32 swp_type(swp_entry_t e) { return (e.val >> SWP_TYPE_SHIFT) & SWP_TYPE_MASK; }
static inline u32 swp_offset(swp_entry_t e) { return e.val >> SWP_OFFSET_SHIFT; }
static inline pte_t swp_entry_to_pte(swp_entry_t e) { return __pte(e.val); }
static inline swp_entry_t pte_to_swp_entry(pte_t p) { return (swp_entry_t){ (u32)pte_val(p) }; }
/* A swap entry: not present, not PROT_NONE, the marker bit set. */
static inline bool is_swap_pte(pte_t p)
{
	return (pte_val(p) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_SWAPENTRY)) == _PAGE_SWAPENTRY;
}

/* The swap signature: sector 0 of a swap disk starts with it; slot 0
 * starts at SWAP_DISK_DATA_LBA. */
#define SWAP_DISK_MAGIC "IA32MM-SWAP-V1"
#define SWAP_DISK_DATA_LBA 128u /* 64 KiB: room for the header whatever PAGE_SIZE is */
#define SWAP_MAX_MIB 1024u      /* metadata costs 12 bytes of lowmem per slot */
#define SWAP_HIGHMEM_DEFAULT_MIB 64u

enum swap_kind { SWAP_KIND_ATA, SWAP_KIND_HIGHMEM };

struct swap_slot {
	struct page *cache; /* the swap cache */
	u32 csum;           /* checksum of what was written (debug builds) */
	u16 count;          /* windows holding the entry */
	u16 flags;          /* SLOT_* */
};
#define SLOT_WRITTEN 0x1u /* holds a cluster written out (and its csum) */

struct swap_info {
	enum swap_kind kind;
	char name[56];             /* "ata0-slave (QEMU HARDDISK)", "HighMem area" */
	u32 max_slots;             /* what the device holds (metadata for this many) */
	u32 nr_slots;              /* usable now (swap_set_limit may lower it) */
	u32 inuse;                 /* slots not free */
	u32 cursor;                /* where the next search for a free slot starts */
	struct swap_slot *slots;
	unsigned slots_order;      /* of the metadata block */
	struct ata_disk disk;      /* SWAP_KIND_ATA */
	struct page **blocks;      /* SWAP_KIND_HIGHMEM: blocks of 1 << block_order pages */
	u32 nr_blocks;
	unsigned block_order;
};

/* What happened since boot (the tests compare before and after). */
struct swap_stats {
	u32 swap_outs;     /* clusters written to slots */
	u32 swap_ins;      /* clusters read back from slots */
	u32 cache_hits;    /* swap-entry faults served by the swap cache */
	u32 write_errors;  /* writes that failed: the cluster stayed in memory */
	u32 read_errors;   /* reads that failed: the faulting task was killed */
	u32 csum_errors;   /* reads whose checksum did not match (debug builds) */
	u32 csum_checked;  /* reads whose checksum was verified */
	u32 full;          /* get_swap_slot found no free slot */
};
extern struct swap_stats swap_stats;

/* Sets up the device the command line asks for (swap=, swap_mib=; after
 * the page allocator, with interrupts on); prints what it chose. */
void swap_init(enum swap_mode mode, u32 mib);
/* The active device, or NULL (swap=none, or nothing found). */
struct swap_info *swap_active(void);
/* Why there is no active device ("swap=none", "no swap disk attached"...). */
const char *swap_absent_reason(void);

/* A free slot, its count 0 and nothing cached yet (add_to_swap_cache must
 * follow at once); entry 0 when the device is full or absent. */
swp_entry_t get_swap_slot(void);
/* One more window holds e (fork copies it). */
void swap_duplicate(swp_entry_t e);
/* One window less holds e; the last one frees the slot and drops the cached cluster. */
void swap_free(swp_entry_t e);
/* The windows holding e (tests). */
u32 swap_count(swp_entry_t e);

/* The swap cache.  add: page takes e's slot (a reference is taken, the page
 * is marked PG_swapcache and dirty).  delete: the page leaves the cache
 * and its reference goes; the slot is freed if no window holds it. */
void add_to_swap_cache(struct page *page, swp_entry_t e);
void delete_from_swap_cache(struct page *page);
struct page *lookup_swap_cache(swp_entry_t e);
static inline swp_entry_t page_swp_entry(const struct page *page)
{
	return (swp_entry_t){ page->private };
}

/* Writes a cached cluster to its slot (the whole cluster); 0, or -EIO
 * after printing why (the page stays in memory and in the cache, dirty). */
int swap_writepage(struct page *page);
/*
 * The cluster behind entry e, with a reference for the caller: from the
 * swap cache, or a new HighMem page read from the slot (and checksummed in
 * debug builds) that joins the cache and the LRU.  NULL with *err = -ENOMEM
 * (no memory), -EIO (read error or checksum mismatch: printed).
 */
struct page *swapin_page(swp_entry_t e, int *err);

/* Tests: usable slots lowered to n (n = 0: back to all); -EBUSY unless no slot is in use. */
int swap_set_limit(u32 n);
/* Tests: the next n writes fail at the device (ATA: a write past the
 * disk's end, which the drive refuses; HighMem: refused by the driver). */
void swap_inject_write_errors(u32 n);
/* Tests: flips one bit of slot's stored cluster behind the kernel's back. */
int swap_corrupt_slot(u32 slot);
/* The cluster checksum that debug builds keep per slot. */
u32 swap_checksum_page(struct page *page);

#endif
