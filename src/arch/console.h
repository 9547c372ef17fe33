/* The consoles: COM1 (115200 8N1), port 0xE9 and VGA text mode. */
#ifndef ARCH_CONSOLE_H
#define ARCH_CONSOLE_H
#include "lib/types.h"

void arch_console_init(void);
/* Writes to every console that is present; '\n' becomes CR LF on COM1. */
void arch_console_write(const char *s, size_t len);
/* Waits until COM1 has sent every byte (before the run ends or the CPU dies). */
void arch_console_flush(void);
/* Waits for a key on the PC keyboard (real-PC end of run); false if none. */
bool arch_console_wait_key(u32 timeout_ms);

#endif
