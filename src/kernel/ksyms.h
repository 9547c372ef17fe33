/* The kernel's own symbol table (.ksyms, written by tools/genksyms.sh at the
 * second link): text symbols sorted by address. */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H
#include "lib/types.h"

/* The name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(u32 addr, u32 *offset);
/* The address of a text symbol by name, or 0. */
u32 ksym_address(const char *name);
/* Number of symbols in the table. */
u32 ksym_count(void);

#endif
