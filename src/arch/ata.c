/*
 * ATA PIO driver (see ata.h).  References are to ATA/ATAPI-6, T13/1410D
 * revision 3b ("ATA-6" below), by the titles of its register descriptions
 * (clause 7), command descriptions (clause 8) and protocols (clause 9).
 *
 * Registers of a channel (ATA-6, "I/O register descriptions"), from its
 * command block base:
 *
 *   +0 Data (16 bits)       +4 LBA Mid
 *   +1 Error / Features     +5 LBA High
 *   +2 Sector Count         +6 Device: bit 6 LBA, bit 4 DEV (1 = slave),
 *   +3 LBA Low                 bits 3:0 LBA 27:24 (28-bit commands)
 *                           +7 Status / Command
 *
 * and from its control block: Alternate Status (read: Status without
 * clearing a pending interrupt) / Device Control (write: bit 2 SRST, bit 1
 * nIEN).  Status bits (ATA-6, "Status register"): BSY 7, DRDY 6, DF 5,
 * DRQ 3, ERR 0; while BSY is set no other bit is valid.
 */
#include "arch/ata.h"
#include "arch/io.h"
#include "arch/platform.h"
#include "arch/switch.h"
#include "arch/timer.h"
#include "kernel/printk.h"
#include "lib/printf.h"
#include "lib/string.h"

#define REG_DATA 0
#define REG_ERROR 1
#define REG_FEATURES 1
#define REG_COUNT 2
#define REG_LBA_LOW 3
#define REG_LBA_MID 4
#define REG_LBA_HIGH 5
#define REG_DEVICE 6
#define REG_STATUS 7
#define REG_COMMAND 7

#define ST_BSY 0x80
#define ST_DRDY 0x40
#define ST_DF 0x20
#define ST_DRQ 0x08
#define ST_ERR 0x01

#define DC_SRST 0x04
#define DC_NIEN 0x02

#define DEV_LBA 0x40
#define DEV_OBSOLETE 0xa0 /* bits 7 and 5: set by every host since ATA-1 */

#define CMD_READ_SECTORS 0x20
#define CMD_READ_SECTORS_EXT 0x24
#define CMD_WRITE_SECTORS 0x30
#define CMD_WRITE_SECTORS_EXT 0x34
#define CMD_READ_MULTIPLE 0xc4
#define CMD_READ_MULTIPLE_EXT 0x29
#define CMD_WRITE_MULTIPLE 0xc5
#define CMD_WRITE_MULTIPLE_EXT 0x39
#define CMD_SET_MULTIPLE_MODE 0xc6
#define CMD_IDENTIFY_DEVICE 0xec

#define PROBE_TIMEOUT_MS 1000u
#define IO_TIMEOUT_MS 10000u
#define LBA28_LIMIT (1ull << 28)

struct ata_channel {
	u16 cmd, ctl; /* command and control block bases */
};
static const struct ata_channel channels[2] = { { 0x1f0, 0x3f6 }, { 0x170, 0x376 } };

static const struct ata_channel *chan(enum ata_pos pos) { return &channels[pos >> 1]; }
static bool is_slave(enum ata_pos pos) { return pos & 1; }

const char *ata_pos_name(enum ata_pos pos)
{
	static const char *const names[ATA_NR_POS] = { "ata0-master", "ata0-slave", "ata1-master",
						       "ata1-slave" };
	return pos < ATA_NR_POS ? names[pos] : "ata?";
}

const char *ata_error_bits(u8 err)
{
	/* Error register (ATA-6, "Error register"): the bits the READ/WRITE/IDENTIFY commands use. */
	static const char *const bits[8] = { "AMNF", "NM", "ABRT", "MCR", "IDNF", "MC", "UNC", "ICRC" };
	static char buf[48];
	int n = 0;

	buf[0] = 0;
	for (int b = 7; b >= 0; b--)
		if (err & (1u << b))
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "", bits[b]);
	return n ? buf : "none";
}

/* The Alternate Status register: reading it clears nothing (ATA-6, "Alternate Status register"). */
static u8 alt_status(const struct ata_channel *c) { return inb(c->ctl); }

/* Status is valid 400 ns after a command or a device selection (ATA-6,
 * the protocols' host waits): four reads of the control block, each an
 * ISA-timed cycle. */
static void delay_400ns(const struct ata_channel *c)
{
	for (int i = 0; i < 4; i++)
		alt_status(c);
}

/*
 * Polls until BSY is clear; returns 0 with the status in *st, or
 * -ATA_ETIMEOUT.  A floating bus (0xff: no device, no pull-down) counts as
 * busy so that it ends in a timeout unless the caller tested for it first.
 * Time is jiffies when interrupts are on, else status reads (at least a
 * microsecond each on ISA timing).
 */
static int wait_not_busy(const struct ata_channel *c, u32 timeout_ms, u8 *st)
{
	bool ticks = irqs_enabled();
	u32 start = jiffies, spins = 0, limit_ticks = timeout_ms * HZ / 1000 + 1;

	for (;;) {
		u8 s = alt_status(c);
		if (!(s & ST_BSY)) {
			*st = inb(c->cmd + REG_STATUS); /* the real one: acknowledges the device */
			return 0;
		}
		spins++;
		if (ticks ? jiffies - start > limit_ticks : spins > timeout_ms * 1000u) {
			*st = s;
			return -ATA_ETIMEOUT;
		}
	}
}

/*
 * Soft reset of a channel after a timeout (ATA-6, "Software reset
 * protocol"): SRST for at least 5 us, then released; both devices of the
 * channel come back with their signatures and nIEN stays set.
 */
static void channel_reset(const struct ata_channel *c)
{
	u8 st;

	outb(c->ctl, DC_SRST | DC_NIEN);
	for (int i = 0; i < 20; i++)
		io_delay();
	outb(c->ctl, DC_NIEN);
	for (int i = 0; i < 2000; i++)
		io_delay(); /* 2 ms before BSY is meaningful */
	wait_not_busy(c, IO_TIMEOUT_MS, &st);
}

/* "Device selection protocol" (ATA-6): no command in progress, write
 * Device, 400 ns, not busy again.  dev: the Device register value. */
static int select_device(const struct ata_channel *c, u8 dev)
{
	u8 st;
	int err = wait_not_busy(c, IO_TIMEOUT_MS, &st);

	if (err)
		return err;
	outb(c->cmd + REG_DEVICE, dev);
	delay_400ns(c);
	return wait_not_busy(c, IO_TIMEOUT_MS, &st);
}

/* Remembers and prints why a command failed; returns err. */
static int report(struct ata_disk *d, const char *what, u64 lba, u32 count, int err, u8 st)
{
	const struct ata_channel *c = chan(d->pos);
	u8 e = (err == -ATA_EDEVICE) ? inb(c->cmd + REG_ERROR) : 0;

	d->last_status = st;
	d->last_error = e;
	d->errors++;
	if (err == -ATA_ETIMEOUT)
		printk("ata: %s: %s of %u sectors at LBA %llu: timeout, status 0x%02x\n",
		       ata_pos_name(d->pos), what, count, lba, st);
	else
		printk("ata: %s: %s of %u sectors at LBA %llu: error, status 0x%02x%s, "
		       "error 0x%02x (%s)\n", ata_pos_name(d->pos), what, count, lba, st,
		       (st & ST_DF) ? " (device fault)" : "", e, ata_error_bits(e));
	if (err == -ATA_ETIMEOUT) {
		channel_reset(c);
		d->multiple = 0; /* a reset may have cleared the mode: single sectors from now on */
	}
	return err;
}

/* The string of IDENTIFY words [first, first + n): two characters per
 * word, the first in the high byte (ATA-6, IDENTIFY DEVICE, model
 * number), trailing blanks cut. */
static void ident_string(const u16 *id, int first, int n, char *out)
{
	int len = 0;

	for (int i = 0; i < n; i++) {
		out[len++] = (char)(id[first + i] >> 8);
		out[len++] = (char)(id[first + i] & 0xff);
	}
	while (len && (out[len - 1] == ' ' || out[len - 1] == 0))
		len--;
	out[len] = 0;
}

/* Signatures of devices that abort IDENTIFY DEVICE (ATA-6, "Signature
 * and persistence"; SATA 1.0 for the SATA bridge ones). */
static bool packet_signature(u8 mid, u8 high)
{
	return (mid == 0x14 && high == 0xeb) || (mid == 0x69 && high == 0x96) ||
	       (mid == 0x3c && high == 0xc3);
}

int ata_identify(enum ata_pos pos, struct ata_disk *d, u16 *ident)
{
	const struct ata_channel *c = chan(pos);
	u16 id[256];
	u8 st;

	memset(d, 0, sizeof(*d));
	d->pos = pos;
	if (alt_status(c) == 0xff)
		return -ATA_ENODEV; /* floating bus: no channel, or no device on it */
	outb(c->ctl, DC_NIEN); /* polled: no interrupts from this channel */
	outb(c->cmd + REG_DEVICE, DEV_OBSOLETE | (is_slave(pos) ? 0x10 : 0));
	delay_400ns(c);
	if (wait_not_busy(c, PROBE_TIMEOUT_MS, &st) || st == 0 || st == 0xff)
		return -ATA_ENODEV; /* a missing slave reads 0 while its master answers */
	outb(c->cmd + REG_COUNT, 0);
	outb(c->cmd + REG_LBA_LOW, 0);
	outb(c->cmd + REG_LBA_MID, 0);
	outb(c->cmd + REG_LBA_HIGH, 0);
	outb(c->cmd + REG_COMMAND, CMD_IDENTIFY_DEVICE);
	delay_400ns(c);
	if (alt_status(c) == 0)
		return -ATA_ENODEV;
	int err = wait_not_busy(c, PROBE_TIMEOUT_MS, &st);
	if (err)
		return err;
	if (packet_signature(inb(c->cmd + REG_LBA_MID), inb(c->cmd + REG_LBA_HIGH)) ||
	    (st & (ST_ERR | ST_DF)) || !(st & ST_DRQ))
		return -ATA_ENODEV; /* ATAPI or SATA bridge, or IDENTIFY refused */
	/* "PIO data-in command protocol" (ATA-6): one DRQ block of 256 words. */
	u16 *q = id;
	u32 n = 256;
	__asm__ __volatile__("rep insw" : "+D"(q), "+c"(n) : "d"(c->cmd + REG_DATA) : "memory");
	wait_not_busy(c, PROBE_TIMEOUT_MS, &st);
	if (ident)
		memcpy(ident, id, sizeof(id));
	/* Word 0 bit 15 clear: an ATA device; word 49 bit 9: LBA supported (ATA-6, IDENTIFY DEVICE). */
	if ((id[0] & 0x8000) || !(id[49] & 0x0200))
		return -ATA_ENODEV;
	d->sectors = id[60] | (u32)id[61] << 16;
	if (id[83] & 0x0400) { /* 48-bit Address feature set */
		u64 s48 = id[100] | (u64)id[101] << 16 | (u64)id[102] << 32 | (u64)id[103] << 48;
		d->lba48 = true;
		if (s48)
			d->sectors = s48;
	}
	ident_string(id, 27, 20, d->model);
	d->present = d->sectors != 0;
	d->io32 = platform != PLATFORM_PC;
	d->max_multiple = id[47] & 0xff; /* the largest DRQ block of READ/WRITE MULTIPLE */
	return d->present ? 0 : -ATA_ENODEV;
}

/* Writes the task-file registers for lba and count and the command. */
static void issue(const struct ata_channel *c, bool ext, u64 lba, u32 count, u8 cmd)
{
	if (ext) {
		/* 48-bit: each register takes the high byte first, then the low
		 * byte (ATA-6, "48-bit Address feature set"). */
		outb(c->cmd + REG_COUNT, (u8)(count >> 8));
		outb(c->cmd + REG_LBA_LOW, (u8)(lba >> 24));
		outb(c->cmd + REG_LBA_MID, (u8)(lba >> 32));
		outb(c->cmd + REG_LBA_HIGH, (u8)(lba >> 40));
	}
	outb(c->cmd + REG_COUNT, (u8)count); /* 0 = 256 sectors (65536 with EXT) */
	outb(c->cmd + REG_LBA_LOW, (u8)lba);
	outb(c->cmd + REG_LBA_MID, (u8)(lba >> 8));
	outb(c->cmd + REG_LBA_HIGH, (u8)(lba >> 16));
	outb(c->cmd + REG_COMMAND, cmd);
	delay_400ns(c);
}

/* Moves bytes (a multiple of 4) through the data register. */
static void move_data(const struct ata_disk *d, const struct ata_channel *c, void *buf, u32 bytes,
		      bool write)
{
	u32 n = bytes / (d->io32 ? 4 : 2);

	if (d->io32 && write)
		__asm__ __volatile__("rep outsl" : "+S"(buf), "+c"(n) : "d"(c->cmd + REG_DATA) : "memory");
	else if (d->io32)
		__asm__ __volatile__("rep insl" : "+D"(buf), "+c"(n) : "d"(c->cmd + REG_DATA) : "memory");
	else if (write)
		__asm__ __volatile__("rep outsw" : "+S"(buf), "+c"(n) : "d"(c->cmd + REG_DATA) : "memory");
	else
		__asm__ __volatile__("rep insw" : "+D"(buf), "+c"(n) : "d"(c->cmd + REG_DATA) : "memory");
}

/*
 * One PIO command of count sectors: the "PIO data-in" protocol (ATA-6) for reads,
 * "PIO data-out" for writes.  For each DRQ block (one sector, or d->multiple sectors
 * with READ/WRITE MULTIPLE): wait for BSY to clear, stop on ERR or DF,
 * expect DRQ, move the block's words.  A write ends when BSY clears after
 * the last block, with ERR and DF checked once more.
 */
static int pio(struct ata_disk *d, u64 lba, u32 count, const struct ata_buffers *b, bool write)
{
	const struct ata_channel *c = chan(d->pos);
	bool ext = lba + count > LBA28_LIMIT, mult = d->multiple != 0;
	const char *what = write ? "write" : "read";
	u8 dev = DEV_OBSOLETE | DEV_LBA | (is_slave(d->pos) ? 0x10 : 0);
	u8 cmd = write ? (mult ? (ext ? CMD_WRITE_MULTIPLE_EXT : CMD_WRITE_MULTIPLE)
			       : (ext ? CMD_WRITE_SECTORS_EXT : CMD_WRITE_SECTORS))
		       : (mult ? (ext ? CMD_READ_MULTIPLE_EXT : CMD_READ_MULTIPLE)
			       : (ext ? CMD_READ_SECTORS_EXT : CMD_READ_SECTORS));
	u32 per_drq = mult ? d->multiple : 1;
	u8 st = 0;

	if (!ext)
		dev |= (u8)((lba >> 24) & 0x0f);
	int err = select_device(c, dev);
	if (err)
		return report(d, what, lba, count, err, alt_status(c));
	issue(c, ext, lba, count, cmd);
	for (u32 s = 0; s < count; s += ATA_BLOCK_SECTORS) {
		u32 n = MIN(count - s, ATA_BLOCK_SECTORS);
		u8 *buf = b->map(b->ctx, s / ATA_BLOCK_SECTORS);
		for (u32 done = 0; done < n && !err; done += per_drq) {
			err = wait_not_busy(c, IO_TIMEOUT_MS, &st);
			if (!err && (st & (ST_ERR | ST_DF)))
				err = -ATA_EDEVICE;
			else if (!err && !(st & ST_DRQ))
				err = -ATA_ETIMEOUT; /* not busy, no error, no data: the protocol broke */
			else if (!err)
				move_data(d, c, buf + done * ATA_SECTOR_SIZE,
					  MIN(per_drq, n - done) * ATA_SECTOR_SIZE, write);
		}
		b->unmap(b->ctx, s / ATA_BLOCK_SECTORS, buf);
		if (err)
			return report(d, what, lba, count, err, st);
	}
	err = wait_not_busy(c, IO_TIMEOUT_MS, &st);
	if (!err && (st & (ST_ERR | ST_DF)))
		err = -ATA_EDEVICE;
	if (err)
		return report(d, what, lba, count, err, st);
	if (write)
		d->writes += count;
	else
		d->reads += count;
	return 0;
}

/*
 * SET MULTIPLE MODE (ATA-6, command descriptions), a non-data command: READ/WRITE MULTIPLE
 * then move ATA_BLOCK_SECTORS sectors per DRQ block.  Left off if the
 * device refuses.
 */
bool ata_set_multiple(struct ata_disk *d)
{
	const struct ata_channel *c = chan(d->pos);
	u8 st;

	d->multiple = 0;
	if (!d->present || d->max_multiple < ATA_BLOCK_SECTORS ||
	    select_device(c, DEV_OBSOLETE | (is_slave(d->pos) ? 0x10 : 0)))
		return false;
	outb(c->cmd + REG_COUNT, ATA_BLOCK_SECTORS);
	outb(c->cmd + REG_COMMAND, CMD_SET_MULTIPLE_MODE);
	delay_400ns(c);
	if (!wait_not_busy(c, PROBE_TIMEOUT_MS, &st) && !(st & (ST_ERR | ST_DF)))
		d->multiple = ATA_BLOCK_SECTORS;
	return d->multiple != 0;
}

static int check_range(const struct ata_disk *d, u64 lba, u32 count)
{
	if (!d->present)
		return -ATA_ENODEV;
	if (!count || count > ATA_MAX_SECTORS || lba + count > d->sectors ||
	    (!d->lba48 && lba + count > LBA28_LIMIT))
		return -ATA_ERANGE;
	return 0;
}

int ata_transfer(struct ata_disk *d, u64 lba, u32 count, const struct ata_buffers *b, bool write)
{
	int err = check_range(d, lba, count);
	return err ? err : pio(d, lba, count, b, write);
}

/* A flat buffer as ata_buffers: block b is 4 KiB further on. */
static void *flat_map(void *ctx, u32 block)
{
	return (u8 *)ctx + block * ATA_BLOCK_SECTORS * ATA_SECTOR_SIZE;
}

static void flat_unmap(void *ctx, u32 block, void *buf)
{
}

int ata_read(struct ata_disk *d, u64 lba, u32 count, void *buf)
{
	struct ata_buffers b = { flat_map, flat_unmap, buf };
	return ata_transfer(d, lba, count, &b, false);
}

int ata_write(struct ata_disk *d, u64 lba, u32 count, const void *buf)
{
	struct ata_buffers b = { flat_map, flat_unmap, (void *)buf };
	return ata_transfer(d, lba, count, &b, true);
}

int ata_write_beyond_end(struct ata_disk *d, const void *buf)
{
	struct ata_buffers b = { flat_map, flat_unmap, (void *)buf };

	if (!d->present)
		return -ATA_ENODEV;
	return pio(d, d->sectors, 1, &b, true);
}
