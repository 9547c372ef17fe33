/* vsnprintf: the kernel's one formatter (printk and the tests use it). */
#include "lib/printf.h"
#include "lib/string.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left, zero, plus, space;
	int width, prec;
};

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
	size_t n = strnlen(s, sp->prec >= 0 ? (size_t)sp->prec : ~0u);
	if (!sp->left)
		pad(o, ' ', sp->width - (int)n);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - (int)n);
}

static void put_num(struct out *o, u64 v, bool neg, unsigned base, bool upper,
		    const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	char sign = neg ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;

	do {
		/* 64-bit division by a small base without libgcc's __udivdi3. */
		u32 hi = (u32)(v >> 32), lo = (u32)v, r;
		u64 q = (u64)(hi / base) << 32;
		r = hi % base;
		u64 rest = ((u64)r << 32) | lo;
		u32 qlo = 0;
		__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"((u32)rest), "d"((u32)(rest >> 32)), "rm"(base));
		q |= qlo;
		tmp[n++] = digits[r];
		v = q;
	} while (v);
	int digits_n = n < sp->prec ? sp->prec : n;
	int total = digits_n + (sign ? 1 : 0);
	if (!sp->left && !(sp->zero && sp->prec < 0))
		pad(o, ' ', sp->width - total);
	if (sign)
		put(o, sign);
	if (!sp->left && sp->zero && sp->prec < 0)
		pad(o, '0', sp->width - total);
	pad(o, '0', digits_n - n);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - total);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		struct spec sp = { .prec = -1 };
		for (;; fmt++) {
			char c = fmt[1];
			if (c == '-') sp.left = true;
			else if (c == '0') sp.zero = true;
			else if (c == '+') sp.plus = true;
			else if (c == ' ') sp.space = true;
			else break;
		}
		fmt++;
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				sp.width = sp.width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			sp.prec = 0;
			if (*fmt == '*') {
				sp.prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					sp.prec = sp.prec * 10 + (*fmt++ - '0');
			}
		}
		int longs = 0;
		while (*fmt == 'l' || *fmt == 'h' || *fmt == 'z') {
			if (*fmt == 'l')
				longs++;
			else if (*fmt == 'h')
				longs--;
			fmt++;
		}
		u64 v;
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 s = longs >= 2 ? va_arg(ap, s64) : (s64)va_arg(ap, long);
			if (longs == -1)
				s = (short)s;
			else if (longs <= -2)
				s = (signed char)s;
			put_num(&o, s < 0 ? -(u64)s : (u64)s, s < 0, 10, false, &sp);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			v = longs >= 2 ? va_arg(ap, u64) : (u64)va_arg(ap, unsigned long);
			if (longs == -1)
				v = (u16)v;
			else if (longs <= -2)
				v = (u8)v;
			put_num(&o, v, false, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16,
				*fmt == 'X', &sp);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			sp.width = 8;
			sp.zero = true;
			put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, &sp);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			put_str(&o, s ? s : "(null)", &sp);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case 0:
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
