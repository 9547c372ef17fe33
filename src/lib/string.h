/* The freestanding C string functions the kernel uses. */
#ifndef LIB_STRING_H
#define LIB_STRING_H
#include "lib/types.h"

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
/* Shell-style match of '*' and '?' against the whole string. */
bool glob_match(const char *pattern, const char *str);
/* Parses an unsigned decimal or 0x-hex number filling the whole [s, s+len);
 * returns false on anything else or overflow of 64 bits. */
bool parse_u64(const char *s, size_t len, u64 *out);

#endif
