/* Which CPU is this.  One CPU until the application processors start. */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

static inline int smp_processor_id(void)
{
	return 0;
}

#endif
