/* Formatted output into buffers: a subset of C99 printf. */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H
#include "lib/types.h"

/*
 * Conversions: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '+' ' ',
 * a width and precision (or '*'), length modifiers hh h l ll z.
 * Returns the length the full output would have, as C99 does.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
