/* Port I/O and the few privileged instructions C code needs. */
#ifndef ARCH_IO_H
#define ARCH_IO_H
#include "lib/types.h"

static inline void outb(u16 port, u8 v) { __asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
/* A write to port 0x80 (POST diagnostics) takes about a microsecond on a PC. */
static inline void io_delay(void) { outb(0x80, 0); }

static inline void cli(void) { __asm__ __volatile__("cli" ::: "memory"); }
static inline void sti(void) { __asm__ __volatile__("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ __volatile__("hlt" ::: "memory"); }
static inline u32 read_eflags(void) { u32 f; __asm__ __volatile__("pushfl; popl %0" : "=r"(f)); return f; }
static inline u64 rdtsc(void) { u64 t; __asm__ __volatile__("rdtsc" : "=A"(t)); return t; }

static inline u32 read_cr0(void) { u32 v; __asm__ __volatile__("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u32 read_cr2(void) { u32 v; __asm__ __volatile__("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u32 read_cr3(void) { u32 v; __asm__ __volatile__("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u32 read_cr4(void) { u32 v; __asm__ __volatile__("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ __volatile__("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(u32 v) { __asm__ __volatile__("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(u32 v) { __asm__ __volatile__("mov %0, %%cr4" : : "r"(v) : "memory"); }

static inline u64 rdmsr(u32 msr)
{
	u64 v;
	__asm__ __volatile__("rdmsr" : "=A"(v) : "c"(msr));
	return v;
}
static inline void wrmsr(u32 msr, u64 v) { __asm__ __volatile__("wrmsr" : : "c"(msr), "A"(v)); }

#endif
