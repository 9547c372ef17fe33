/*
 * Symbol lookup for backtraces.  Table layout (tools/genksyms.sh):
 *   u32 count; struct { u32 addr, name_offset; } syms[count]; char names[];
 */
#include "kernel/ksyms.h"
#include "lib/string.h"

struct ksym {
	u32 addr, name;
};

extern const u32 __ksyms_start[], __ksyms_end[];
extern char __text_start[], __text_end[];

u32 ksym_count(void)
{
	return (uintptr_t)__ksyms_end > (uintptr_t)__ksyms_start ? __ksyms_start[0] : 0;
}

static const struct ksym *syms(void)
{
	return (const struct ksym *)(__ksyms_start + 1);
}

static const char *sym_name(const struct ksym *s)
{
	return (const char *)(syms() + ksym_count()) + s->name;
}

const char *ksym_lookup(u32 addr, u32 *offset)
{
	u32 n = ksym_count(), lo = 0, hi = n;

	if (!n || addr < (u32)__text_start || addr >= (u32)__text_end)
		return NULL;
	/* Binary search for the last symbol at or below addr. */
	while (hi - lo > 1) {
		u32 mid = (lo + hi) / 2;
		if (syms()[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (syms()[lo].addr > addr)
		return NULL;
	*offset = addr - syms()[lo].addr;
	return sym_name(&syms()[lo]);
}

u32 ksym_address(const char *name)
{
	for (u32 i = 0; i < ksym_count(); i++)
		if (!strcmp(sym_name(&syms()[i]), name))
			return syms()[i].addr;
	return 0;
}
