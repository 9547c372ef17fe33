/* User-memory copies with exception fixups (see uaccess.h). */
#include "arch/uaccess.h"
#include "arch/traps.h"
#include "mm/mm.h"

bool access_ok(u32 addr, u32 len)
{
	return addr >= USER_BASE && addr + len >= addr && addr + len <= TASK_SIZE;
}

/*
 * rep movsb restarts where it stopped after a fault the fault handler
 * resolves (ECX and ESI/EDI are updated per byte, SDM vol. 2 MOVS); an
 * unresolved fault jumps to the fixup with ECX = bytes left.
 */
static u32 copy_bytes(void *to, const void *from, u32 len)
{
	__asm__ __volatile__("1: rep movsb\n"
			     "2:\n" EXTABLE(1b, 2b)
			     : "+D"(to), "+S"(from), "+c"(len)
			     :
			     : "memory");
	return len;
}

u32 copy_to_user(u32 to, const void *from, u32 len)
{
	if (!access_ok(to, len))
		return len;
	return copy_bytes((void *)to, from, len);
}

u32 copy_from_user(void *to, u32 from, u32 len)
{
	if (!access_ok(from, len))
		return len;
	return copy_bytes(to, (const void *)from, len);
}

int strncpy_from_user(char *to, u32 from, u32 max)
{
	for (u32 i = 0; i < max; i++) {
		if (copy_from_user(&to[i], from + i, 1))
			return -1;
		if (!to[i])
			return (int)i;
	}
	return -1;
}
