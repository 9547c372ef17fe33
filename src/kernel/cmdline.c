/*
 * The kernel command line: words separated by blanks, each one option.
 *
 *   tests=<glob>[,<glob>...]   select tests ("suite.name" globs); repeats append
 *   bench                      run the benchmarks too
 *   audit                      arm the TLB audit (the audit suite stops at the debugger)
 *   quick                      the longest tests do a sample of their work (make check's matrix)
 *   loglevel=N                 0..7, messages above N are not shown
 *   inject=fail|hang|panic|triple|overflow|double-free|lock-order   a deliberate failure for the harness
 *   swap=ata|highmem|none      the swap device (default: a swap disk, else HighMem)
 *   swap_mib=N                 swap size limit in MiB, 1..65536 (HighMem area size)
 *   seed=N                     the stress suite's random seed, 0..2^32-1 (decimal or 0x hex)
 *   stress=N                   the stress suite's number of steps, 1..100000000
 *   swap_stress=N              swap.swap_out_stress runs until N swap-outs, 1..100000000
 *   model_bug=wp|user|dirty|rsvd|global   a wrong rule in the paging conformance model
 *
 * Anything else is an error, reported with the offending word so that a typo
 * never silently runs the wrong tests.  Words are handled in place as
 * (pointer, length) pairs; nothing is copied until a value is accepted.
 */
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"

/* The tests= error message spells out the limit. */
_Static_assert(CMDLINE_TESTS_MAX == 256, "update the 'at most 255 characters' message");

/* Words this long are shortened in error messages. */
#define WORD_SHOWN_MAX 48

struct word {
	const char *s;
	size_t len;
};

/* Returns true for the characters that separate words. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Returns true if word w is exactly the string lit. */
static bool word_is(struct word w, const char *lit)
{
	return strlen(lit) == w.len && !strncmp(w.s, lit, w.len);
}

/* Returns true if w starts with prefix; then *val is the rest of w. */
static bool word_value(struct word w, const char *prefix, struct word *val)
{
	size_t n = strlen(prefix);

	if (w.len < n || strncmp(w.s, prefix, n))
		return false;
	val->s = w.s + n;
	val->len = w.len - n;
	return true;
}

/*
 * Writes the message fmt (whose one %s is the quoted word) into err and
 * returns false, so that parsers can `return bad_word(...)`.
 */
static bool bad_word(char *err, size_t errlen, struct word w, const char *fmt)
{
	char quoted[WORD_SHOWN_MAX + 8];

	if (w.len > WORD_SHOWN_MAX)
		snprintf(quoted, sizeof(quoted), "'%.*s...'", WORD_SHOWN_MAX - 3, w.s);
	else
		snprintf(quoted, sizeof(quoted), "'%.*s'", (int)w.len, w.s);
	if (err && errlen)
		snprintf(err, errlen, fmt, quoted);
	return false;
}

/* Returns true if c may appear in a tests= glob: [A-Za-z0-9_.*?-]. */
static bool glob_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '*' || c == '?' || c == '-';
}

/*
 * Checks the value of tests= (w is the whole word) and appends it to
 * opts->tests, after a comma when earlier tests= words gave some.  Returns
 * false with a message for an empty list, an empty glob, a character outside
 * glob_char(), or a list that would not fit CMDLINE_TESTS_MAX.
 */
static bool parse_tests(struct word w, struct word val, struct boot_options *opts,
			char *err, size_t errlen)
{
	size_t have = strlen(opts->tests), i, glob_len = 0;

	if (!val.len)
		return bad_word(err, errlen, w, "bad value in %s: expected <glob>[,<glob>...]");
	for (i = 0; i <= val.len; i++) {
		if (i == val.len || val.s[i] == ',') {
			if (!glob_len)
				return bad_word(err, errlen, w, "bad value in %s: empty glob");
			glob_len = 0;
		} else if (!glob_char(val.s[i])) {
			return bad_word(err, errlen, w,
					"bad value in %s: globs are made of A-Z a-z 0-9 _ . * ? -");
		} else {
			glob_len++;
		}
	}
	if (have + (have ? 1 : 0) + val.len >= CMDLINE_TESTS_MAX)
		return bad_word(err, errlen, w, "too many tests at %s: the list holds at most 255 characters");
	if (have)
		opts->tests[have++] = ',';
	memcpy(opts->tests + have, val.s, val.len);
	opts->tests[have + val.len] = 0;
	return true;
}

/* Parses the N of loglevel=N (one or more decimal digits, value 0..7) into opts. */
static bool parse_loglevel(struct word w, struct word val, struct boot_options *opts,
			   char *err, size_t errlen)
{
	int level = 0;
	size_t i;

	for (i = 0; i < val.len; i++) {
		if (val.s[i] < '0' || val.s[i] > '9')
			break;
		level = level * 10 + (val.s[i] - '0');
		if (level > LOG_DEBUG)
			break;
	}
	if (!val.len || i < val.len)
		return bad_word(err, errlen, w, "bad value in %s: expected 0-7");
	opts->loglevel = level;
	return true;
}

/* Parses the value of inject= (see enum inject) into opts. */
static bool parse_inject(struct word w, struct word val, struct boot_options *opts,
			 char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum inject what;
	} kinds[] = {
		{ "fail", INJECT_FAIL },
		{ "hang", INJECT_HANG },
		{ "panic", INJECT_PANIC },
		{ "triple", INJECT_TRIPLE },
		{ "overflow", INJECT_OVERFLOW },
		{ "double-free", INJECT_DOUBLE_FREE },
		{ "lock-order", INJECT_LOCK_ORDER },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (word_is(val, kinds[i].name)) {
			opts->inject = kinds[i].what;
			return true;
		}
	}
	return bad_word(err, errlen, w, "bad value in %s: expected fail, hang, panic, triple, overflow, double-free or lock-order");
}

/* Parses the value of swap= (see enum swap_mode) into opts. */
static bool parse_swap(struct word w, struct word val, struct boot_options *opts, char *err,
		       size_t errlen)
{
	static const struct {
		const char *name;
		enum swap_mode mode;
	} modes[] = {
		{ "ata", SWAP_ATA },
		{ "highmem", SWAP_HIGHMEM },
		{ "none", SWAP_NONE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		if (word_is(val, modes[i].name)) {
			opts->swap = modes[i].mode;
			return true;
		}
	}
	return bad_word(err, errlen, w, "bad value in %s: expected ata, highmem or none");
}

/* Parses the N of swap_mib=N (decimal, 1..CMDLINE_SWAP_MIB_MAX) into opts. */
static bool parse_swap_mib(struct word w, struct word val, struct boot_options *opts, char *err,
			   size_t errlen)
{
	u64 mib;

	for (size_t i = 0; i < val.len; i++)
		if (val.s[i] < '0' || val.s[i] > '9')
			return bad_word(err, errlen, w, "bad value in %s: expected a number of MiB");
	if (!val.len || !parse_u64(val.s, val.len, &mib) || mib == 0 || mib > CMDLINE_SWAP_MIB_MAX)
		return bad_word(err, errlen, w, "bad value in %s: expected 1-65536 MiB");
	opts->swap_mib = (u32)mib;
	return true;
}

/* Parses a decimal or 0x-hex number in [min, max] into *out. */
static bool parse_number(struct word w, struct word val, u32 min, u32 max, u32 *out, char *err,
			 size_t errlen)
{
	char fmt[64];
	u64 v;

	if (!parse_u64(val.s, val.len, &v) || v < min || v > max) {
		snprintf(fmt, sizeof(fmt), "bad value in %%s: expected a number from %u to %u", min, max);
		return bad_word(err, errlen, w, fmt);
	}
	*out = (u32)v;
	return true;
}

/* Parses the value of model_bug= (see enum model_bug) into opts. */
static bool parse_model_bug(struct word w, struct word val, struct boot_options *opts, char *err,
			    size_t errlen)
{
	static const char *const names[] = {
		[MODEL_BUG_WP] = "wp",
		[MODEL_BUG_USER] = "user",
		[MODEL_BUG_DIRTY] = "dirty",
		[MODEL_BUG_RSVD] = "rsvd",
		[MODEL_BUG_GLOBAL] = "global",
	};

	for (size_t i = MODEL_BUG_WP; i < ARRAY_SIZE(names); i++) {
		if (word_is(val, names[i])) {
			opts->model_bug = (enum model_bug)i;
			return true;
		}
	}
	return bad_word(err, errlen, w, "bad value in %s: expected wp, user, dirty, rsvd or global");
}

/* The options without a value: the word sets a bool of boot_options. */
static const struct {
	const char *name;
	size_t offset;
} flag_options[] = {
	{ "bench", offsetof(struct boot_options, bench) },
	{ "audit", offsetof(struct boot_options, audit) },
	{ "quick", offsetof(struct boot_options, quick) },
};

/* Applies one option word to opts; returns false with a message naming it if it is bad. */
static bool parse_word(struct word w, struct boot_options *opts, char *err, size_t errlen)
{
	struct word val;

	for (u32 i = 0; i < ARRAY_SIZE(flag_options); i++) {
		const char *name = flag_options[i].name;
		size_t n = strlen(name);
		if (word_is(w, name)) {
			*(bool *)((char *)opts + flag_options[i].offset) = true;
			return true;
		}
		if (w.len > n && !strncmp(w.s, name, n) && w.s[n] == '=') {
			char fmt[64];
			snprintf(fmt, sizeof(fmt), "bad value in %%s: %s takes no value", name);
			return bad_word(err, errlen, w, fmt);
		}
	}
	if (word_value(w, "tests=", &val))
		return parse_tests(w, val, opts, err, errlen);
	if (word_value(w, "loglevel=", &val))
		return parse_loglevel(w, val, opts, err, errlen);
	if (word_value(w, "inject=", &val))
		return parse_inject(w, val, opts, err, errlen);
	if (word_value(w, "swap=", &val))
		return parse_swap(w, val, opts, err, errlen);
	if (word_value(w, "swap_mib=", &val))
		return parse_swap_mib(w, val, opts, err, errlen);
	if (word_value(w, "seed=", &val)) {
		opts->seed_set = true;
		return parse_number(w, val, 0, 0xffffffffu, &opts->seed, err, errlen);
	}
	if (word_value(w, "stress=", &val))
		return parse_number(w, val, 1, CMDLINE_STRESS_MAX, &opts->stress_steps, err, errlen);
	if (word_value(w, "swap_stress=", &val))
		return parse_number(w, val, 1, CMDLINE_STRESS_MAX, &opts->swap_stress, err, errlen);
	if (word_value(w, "model_bug=", &val))
		return parse_model_bug(w, val, opts, err, errlen);
	if (word_is(w, "tests") || word_is(w, "loglevel") || word_is(w, "inject") ||
	    word_is(w, "swap") || word_is(w, "swap_mib") || word_is(w, "seed") ||
	    word_is(w, "stress") || word_is(w, "swap_stress") || word_is(w, "model_bug"))
		return bad_word(err, errlen, w, "missing value in %s: write it as option=value");
	return bad_word(err, errlen, w, "unknown option %s");
}

/* Returns true if w is the kernel's file name: it contains '/' or ends in ".elf". */
static bool is_kernel_name(struct word w)
{
	size_t i;

	for (i = 0; i < w.len; i++)
		if (w.s[i] == '/')
			return true;
	return w.len >= 4 && !strncmp(w.s + w.len - 4, ".elf", 4);
}

/*
 * Parses cmdline into opts after setting the defaults.  Returns false at the
 * first bad word, with a message naming it in err; err is "" on success.
 */
bool cmdline_parse(const char *cmdline, struct boot_options *opts, char *err, size_t errlen)
{
	const char *p = cmdline ? cmdline : "";
	bool first = true;
	struct word w;

	memset(opts, 0, sizeof(*opts));
	opts->loglevel = LOGLEVEL_DEFAULT;
	opts->inject = INJECT_NONE;
	opts->swap = SWAP_AUTO;
	opts->swap_mib = 0;
	if (err && errlen)
		err[0] = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			return true;
		w.s = p;
		while (*p && !is_blank(*p))
			p++;
		w.len = (size_t)(p - w.s);
		if (first && is_kernel_name(w)) {
			first = false;
			continue;
		}
		first = false;
		if (!parse_word(w, opts, err, errlen))
			return false;
	}
}
