/*
 * Kernel access to user memory.  Only these functions touch user addresses:
 * each copy instruction is listed in the exception table, so a fault that
 * the address space cannot resolve ends the copy instead of the kernel.
 */
#ifndef ARCH_UACCESS_H
#define ARCH_UACCESS_H
#include "lib/types.h"

/* true if [addr, addr + len) lies in user space and does not wrap. */
bool access_ok(u32 addr, u32 len);
/* Return the number of bytes NOT copied: 0 on success. */
u32 copy_to_user(u32 to, const void *from, u32 len);
u32 copy_from_user(void *to, u32 from, u32 len);
/* A NUL-terminated string of at most max bytes (with the NUL); its length, or -1. */
int strncpy_from_user(char *to, u32 from, u32 max);

#endif
