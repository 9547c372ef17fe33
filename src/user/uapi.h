/*
 * The user ABI's constants, shared by ring-3 programs and the kernel (mm/mm.h
 * includes this file): mmap/mprotect bits as Linux numbers them, the error
 * numbers system calls return negated, and where the image and stack live.
 */
#ifndef USER_UAPI_H
#define USER_UAPI_H

#define PROT_NONE 0x0
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define ECHILD 10
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EBUSY 16
#define EINVAL 22
#define ENOSYS 38

#define USER_IMAGE_BASE 0x08000000u
#define USER_STACK_TOP 0xbfff0000u
#define USER_STACK_SIZE 0x00040000u /* 256 KiB */

#endif
