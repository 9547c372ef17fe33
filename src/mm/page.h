/*
 * Page descriptors and page clustering.
 *
 * Two sizes, never to be confused:
 *   MMUPAGE_SIZE (4 KiB)  the hardware page: what one PTE maps, what invlpg
 *                         invalidates.  Its number is a "frame".
 *   PAGE_SIZE             the VM's page: MMUPAGE_SIZE << PAGE_MMUSHIFT, the unit
 *                         of allocation, of page descriptors, of swap.  Its
 *                         number is a "pfn".
 * pgcl1 variants have PAGE_MMUSHIFT 0 (the two coincide); pgcl4 variants have
 * 2: one descriptor controls a cluster of four 4 KiB frames (16 KiB).
 *
 * Descriptors live in lowmem, in per-section arrays (sparse: holes in the
 * physical address space cost nothing): section s covers pfns
 * [s << PFN_SECTION_SHIFT, (s + 1) << PFN_SECTION_SHIFT).
 */
#ifndef MM_PAGE_H
#define MM_PAGE_H
#include "lib/types.h"
#include "lib/list.h"
#include "arch/pgtable.h"
#include "arch/spinlock.h"

typedef u64 phys_addr_t;

#define PAGE_MMUSHIFT CONFIG_PAGE_MMUSHIFT
#define PAGE_MMUCOUNT (1u << PAGE_MMUSHIFT)            /* frames per page */
#define PAGE_SHIFT (MMUPAGE_SHIFT + PAGE_MMUSHIFT)
#define PAGE_SIZE (1u << PAGE_SHIFT)                    /* bytes per VM page */
#define PAGE_MASK (~(PAGE_SIZE - 1))

/* The first MiB (BIOS data, option ROMs, the SMP trampoline) is never managed:
 * it gets no descriptors and counts as neither RAM nor lowmem. */
#define FIRST_MANAGED_PHYS 0x100000ull
#define MAX_PHYS_ADDR (1ull << 36)                      /* 64 GiB: PAE's 36 bits */
#define SECTION_SHIFT 26                                /* 64 MiB sections */
#define PFN_SECTION_SHIFT (SECTION_SHIFT - PAGE_SHIFT)
#define NR_SECTIONS (u32)(MAX_PHYS_ADDR >> SECTION_SHIFT)

/* pfn (cluster number) <-> frame (4 KiB number) <-> physical address. */
static inline u64 pfn_to_frame(u32 pfn) { return (u64)pfn << PAGE_MMUSHIFT; }
static inline u32 frame_to_pfn(u64 frame) { return (u32)(frame >> PAGE_MMUSHIFT); }
static inline phys_addr_t pfn_to_phys(u32 pfn) { return (phys_addr_t)pfn << PAGE_SHIFT; }
static inline u32 phys_to_pfn(phys_addr_t pa) { return (u32)(pa >> PAGE_SHIFT); }

enum zone_type { ZONE_DMA, ZONE_NORMAL, ZONE_HIGHMEM, MAX_NR_ZONES };

/*
 * page->flags: the low bits are PG_* flags; bits 28-29 hold the zone and
 * bits 18-27 the section, so page_to_pfn needs no search.
 */
enum pageflags {
	PG_reserved,  /* never given to the page allocator (kernel image, holes) */
	PG_buddy,     /* free, in the buddy allocator; private = order */
	PG_slab,      /* owned by a slab cache; mapping = the cache */
	PG_highmem,   /* above lowmem: reach it through kmap */
	PG_pgtable,   /* a page-table page */
	PG_anon,      /* anonymous user memory */
	PG_lru,       /* on an active or inactive list */
	PG_active,
	PG_referenced,
	PG_dirty,
	PG_swapcache,
	PG_locked,
	PG_pcp,       /* on a per-CPU hot list */
	PG_allocated, /* handed out by the page allocator (debug: double-free check) */
	PG_head,      /* first page of an allocated block of order >= 1 (order in page[1].private) */
	PG_direct,    /* RMAP=pte_chain: mapping holds the one PTE address, not a chain */
	NR_PAGEFLAGS,
};
#define PAGE_SECTION_SHIFT 18
#define PAGE_SECTION_BITS 10
#define PAGE_ZONE_SHIFT 28
_Static_assert(NR_PAGEFLAGS <= PAGE_SECTION_SHIFT, "page flags overlap the section field");
_Static_assert(NR_SECTIONS <= (1u << PAGE_SECTION_BITS), "section field too narrow");

/*
 * Locking of the descriptor's fields (smp variants; mm/mm.h has the lock order):
 *   flags     PG_* bits change with one locked OR/AND (SetPageFlag,
 *             ClearPageFlag; SDM vol. 3 8.1.2.2), so CPUs changing different
 *             bits of one page lose none; the zone and section bits never change.
 *             PG_buddy/PG_pcp and private (order) of a free page: the zone's
 *             lock, or the owning CPU's hot-list lock.  PG_lru/PG_active and
 *             lru of a listed page: lru_lock (vmscan.c).  PG_swapcache and
 *             private of a swap-cache page: swap_lock (swap.c).  PG_slab, the
 *             slab's private/index (in use, free list) and lru: its cache's lock.
 *   count     atomic (get_page, put_page, __free_pages: LOCK XADD).
 *   mapcount  atomic (several mms change it, each under its own mm lock).
 *   mapping, index of a user cluster: set under the anon_vma's lock by a
 *             fault holding its mm's lock; the anon_vma they name is freed
 *             only under the kernel lock (rmap.c), which reclaim's
 *             lookups through them hold.
 */
struct page {
	u32 flags;             /* PG_* bits, section and zone numbers */
	s32 count;             /* references: 0 when free */
	s32 mapcount;          /* user PTE mappings, counted once per cluster; -1 = none */
	u32 private;           /* buddy: order; swap: the swap entry; slab: objects in use */
	struct list_head lru;  /* buddy free list, per-CPU list, LRU list or slab list */
	void *mapping;         /* anon_vma (tagged with bit 0), pte_chain or PTE address (PG_direct),
	                        * the owning slab cache, a PTE table's address space */
	u32 index;             /* anon: linear page offset in the VMA's space; slab: free list */
};
_Static_assert(sizeof(struct page) <= 32, "struct page must stay within 32 bytes");

static inline bool PageFlag(const struct page *p, int f) { return p->flags & (1u << f); }
static inline void SetPageFlag(struct page *p, int f) { atomic_or_smp(&p->flags, 1u << f); }
static inline void ClearPageFlag(struct page *p, int f) { atomic_andnot_smp(&p->flags, 1u << f); }
static inline enum zone_type page_zonenum(const struct page *p) { return (p->flags >> PAGE_ZONE_SHIFT) & 3; }
static inline u32 page_section(const struct page *p)
{
	return (p->flags >> PAGE_SECTION_SHIFT) & ((1u << PAGE_SECTION_BITS) - 1);
}

/* A section's descriptors, biased so that map[pfn] is pfn's descriptor. */
struct mem_section {
	struct page *map;         /* NULL: no RAM in this section */
	u32 start_pfn, end_pfn;   /* the pfns that have descriptors */
};
extern struct mem_section mem_sections[NR_SECTIONS];

static inline struct page *pfn_to_page(u32 pfn)
{
	struct mem_section *s = &mem_sections[pfn >> PFN_SECTION_SHIFT];
	return s->map + pfn;
}
static inline u32 page_to_pfn(const struct page *p)
{
	return (u32)(p - mem_sections[page_section(p)].map);
}
/* true if pfn has a descriptor (it lies in a span of RAM). */
static inline bool pfn_valid(u32 pfn)
{
	if (pfn >= (NR_SECTIONS << PFN_SECTION_SHIFT))
		return false;
	const struct mem_section *s = &mem_sections[pfn >> PFN_SECTION_SHIFT];
	return s->map && pfn >= s->start_pfn && pfn < s->end_pfn;
}
static inline phys_addr_t page_to_phys(const struct page *p) { return pfn_to_phys(page_to_pfn(p)); }
static inline u64 page_to_frame(const struct page *p) { return pfn_to_frame(page_to_pfn(p)); }
static inline struct page *phys_to_page(phys_addr_t pa) { return pfn_to_page(phys_to_pfn(pa)); }
static inline struct page *frame_to_page(u64 frame) { return pfn_to_page(frame_to_pfn(frame)); }
static inline bool PageHighMem(const struct page *p) { return PageFlag(p, PG_highmem); }

/* The direct-map address of a lowmem page (NULL for HighMem: use kmap). */
static inline void *lowmem_page_address(const struct page *p)
{
	return PageHighMem(p) ? NULL : phys_to_virt((u32)page_to_phys(p));
}
static inline struct page *virt_to_page(const void *va) { return phys_to_page(virt_to_phys(va)); }

/* Lowmem bytes spent on descriptors (and any other per-page metadata). */
extern u64 mem_map_bytes;
/* Highest pfn with RAM, +1; first pfn that is not lowmem. */
extern u32 max_pfn, max_low_pfn;

/*
 * Creates the descriptors for every usable region of map (whole clusters
 * only: memmap cleaning trimmed the regions), from boot memory.  Every
 * descriptor starts reserved; the page allocator frees what is RAM.
 */
struct memmap;
void mem_map_init(const struct memmap *map);

#endif
