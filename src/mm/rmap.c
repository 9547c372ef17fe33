/* anon_vma reverse mapping (see rmap.h). */
#include "mm/rmap.h"
#include "mm/slab.h"
#include "kernel/panic.h"

static struct kmem_cache *anon_vma_cache;
struct rmap_stats rmap_stats;

void rmap_init(void)
{
	anon_vma_cache = kmem_cache_create("anon_vma", sizeof(struct anon_vma), 4);
}

void anon_vma_link(struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;

	if (!av)
		return;
	list_add_tail(&vma->anon_vma_node, &av->head);
	av->nr_vmas++;
}

void anon_vma_unlink(struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;

	if (!av)
		return;
	list_del_init(&vma->anon_vma_node);
	vma->anon_vma = NULL;
	if (--av->nr_vmas == 0) {
		kmem_cache_free(anon_vma_cache, av);
		rmap_stats.anon_vmas--;
	}
}

/* A neighbour whose anon_vma vma may share: adjacent, same rights, and the
 * same linear offsets (anonymous memory: vm_pgoff is the address). */
static struct anon_vma *mergeable_neighbour(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct list_head *n[2] = { vma->vm_list.prev, vma->vm_list.next };

	for (int i = 0; i < 2; i++) {
		if (n[i] == &mm->mmap)
			continue;
		struct vm_area_struct *v = list_entry(n[i], struct vm_area_struct, vm_list);
		bool adjacent = v->vm_end == vma->vm_start || vma->vm_end == v->vm_start;
		if (adjacent && v->anon_vma && v->vm_flags == vma->vm_flags &&
		    v->vm_pgoff - vma->vm_pgoff == (v->vm_start - vma->vm_start) >> MMUPAGE_SHIFT)
			return v->anon_vma;
	}
	return NULL;
}

int anon_vma_prepare(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		return 0;
	struct anon_vma *av = mergeable_neighbour(vma);
	if (!av) {
		av = kmem_cache_alloc(anon_vma_cache, GFP_KERNEL);
		if (!av)
			return -ENOMEM;
		INIT_LIST_HEAD(&av->head);
		av->nr_vmas = 0;
		rmap_stats.anon_vmas++;
	}
	vma->anon_vma = av;
	anon_vma_link(vma);
	return 0;
}

void page_add_anon_rmap(struct page *page, struct vm_area_struct *vma, u32 w)
{
	page->mapping = (void *)((u32)vma->anon_vma | PAGE_MAPPING_ANON);
	page->index = vma->vm_pgoff + ((w - vma->vm_start) >> MMUPAGE_SHIFT);
}

u32 anon_vma_count(const struct anon_vma *av)
{
	return av->nr_vmas;
}
