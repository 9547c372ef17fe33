/* The benchmark runner (see bench.h). */
#include "selftest/bench.h"
#include "selftest/ktest.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"

extern const struct kbench __benches_start[], __benches_end[];
static const struct kbench *current_bench;

void bench_report(const char *fields, ...)
{
	char buf[384];
	va_list ap;

	va_start(ap, fields);
	vsnprintf(buf, sizeof(buf), fields, ap);
	va_end(ap);
	printk("# bench: {\"name\": \"%s\", \"variant\": \"%s\", %s}\n",
	       current_bench ? current_bench->name : "?", CONFIG_VARIANT, buf);
}

int bench_run_all(const char *globs)
{
	int n = 0;

	for (const struct kbench *b = __benches_start; b < __benches_end; b++) {
		if (!ktest_selected(globs, "bench", b->name))
			continue;
		current_bench = b;
		b->fn();
		n++;
	}
	current_bench = NULL;
	printk("# benchmarks: %d run\n", n);
	return n;
}
