/* Temporary kernel mappings of HighMem (see highmem.h). */
#include "mm/highmem.h"
#include "kernel/panic.h"
#include "lib/string.h"
#include "arch/paging.h"
#include "arch/smp.h"

struct kmap_stats kmap_stats;

static enum fixed_addresses km_slot(enum km_type type)
{
	return FIX_KMAP_BEGIN + type + KM_TYPE_NR * smp_processor_id();
}

void *kmap_atomic_frame(u64 frame, enum km_type type)
{
	enum fixed_addresses idx = km_slot(type);
	u32 va = fix_to_virt(idx);

	set_fixmap_pte(idx, frame, PAGE_KERNEL);
	/* The slot may still be cached with its previous frame (SDM 4.10.4.2). */
	invlpg(va);
	kmap_stats.atomic_maps++;
	return (void *)va;
}

void *kmap_atomic(struct page *page, enum km_type type)
{
	if (!PageHighMem(page))
		return lowmem_page_address(page);
	return kmap_atomic_frame(page_to_frame(page), type);
}

void kunmap_atomic(void *addr, enum km_type type)
{
	u32 va = (u32)addr;

	if (va < FIXADDR_START)
		return; /* a lowmem page: nothing was mapped */
	if (CONFIG_DEBUG) {
		if (virt_to_fix(va) != km_slot(type))
			panic("kunmap_atomic(%08x): not the slot of type %d", va, type);
		pte_clear(kernel_pte(va));
		invlpg(va);
	}
}

void clear_highpage(struct page *page)
{
	if (!PageHighMem(page)) {
		memset(lowmem_page_address(page), 0, PAGE_SIZE);
		return;
	}
	for (u32 i = 0; i < PAGE_MMUCOUNT; i++) {
		void *va = kmap_atomic_frame(page_to_frame(page) + i, KM_USER0);
		memset(va, 0, MMUPAGE_SIZE);
		kunmap_atomic(va, KM_USER0);
	}
}
