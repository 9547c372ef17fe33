/*
 * ATA disks through programmed I/O (PIO), polled: the swap device's driver.
 *
 * Four positions on the two legacy channels of a PC (primary: ports
 * 0x1f0-0x1f7 and 0x3f6; secondary: 0x170-0x177 and 0x376), a master and a
 * slave on each.  The driver speaks the ATA/ATAPI-6 standard (T13/1410D
 * revision 3b): IDENTIFY DEVICE to find a disk and its size, READ SECTORS /
 * WRITE SECTORS with 28-bit LBAs (and the EXT commands with 48-bit LBAs on
 * disks that have the 48-bit feature set), READ/WRITE MULTIPLE with 8-sector
 * (4 KiB) DRQ blocks when the disk has them (SET MULTIPLE MODE: one data
 * block per 4 KiB instead of per sector), the PIO data-in and data-out
 * protocols, status polled with a timeout, interrupts masked (nIEN).
 * The data register is 16 bits wide (ATA-6, "Data register"); under Bochs and QEMU,
 * whose controllers also take 32-bit accesses to it (as PCI IDE
 * controllers do), the driver moves 32 bits at a time: half the port
 * accesses, which is what an emulated PIO transfer costs.
 *
 * Every call waits for the device (no interrupts, no queue): it may be made
 * from any context that may spin for a while, with or without interrupts
 * (timeouts are counted in jiffies when interrupts are on, in status reads
 * otherwise).  Errors come back as a negative code and one line printed
 * with the command, the LBA, and the status and error registers decoded.
 *
 * Locking: callers hold the kernel lock (kernel/task.h) and own the channel
 * for the whole command.
 */
#ifndef ARCH_ATA_H
#define ARCH_ATA_H
#include "lib/types.h"

#define ATA_SECTOR_SIZE 512u
#define ATA_MAX_SECTORS 256u /* per command: a sector count of 0 means 256 (LBA28) */
#define ATA_BLOCK_SECTORS 8u /* 4 KiB: the unit of ata_buffers, and the multiple-mode block */

/* Positions: channel * 2 + (slave ? 1 : 0). */
enum ata_pos { ATA_PRIMARY_MASTER, ATA_PRIMARY_SLAVE, ATA_SECONDARY_MASTER,
	       ATA_SECONDARY_SLAVE, ATA_NR_POS };

/* Errors (negated in return values). */
#define ATA_ENODEV 1   /* nothing there, or not an ATA disk (ATAPI, SATA bridge signatures) */
#define ATA_ETIMEOUT 2 /* BSY or DRQ never came as the protocol says */
#define ATA_EDEVICE 3  /* the device set ERR or DF: see last_error / last_status */
#define ATA_ERANGE 4   /* LBA or count outside the disk */

struct ata_disk {
	enum ata_pos pos;
	bool present;          /* IDENTIFY DEVICE succeeded: an ATA disk */
	bool lba48;            /* 48-bit feature set (IDENTIFY word 83 bit 10) */
	u8 max_multiple;       /* the largest DRQ block READ/WRITE MULTIPLE allow (word 47), 0 = none */
	u8 multiple;           /* sectors per DRQ block of READ/WRITE MULTIPLE, 0 = not used */
	bool io32;             /* 32-bit data-port accesses (emulators; 16-bit on a real PC) */
	u64 sectors;           /* user-addressable sectors (words 60-61, or 100-103) */
	char model[41];        /* words 27-46, trimmed */
	u8 last_status;        /* after the last failed command */
	u8 last_error;
	u32 reads, writes;     /* sectors transferred */
	u32 errors;            /* commands that failed */
};

/* "ata0-master" ... */
const char *ata_pos_name(enum ata_pos pos);

/*
 * Probes the position: selects the device, issues IDENTIFY DEVICE and
 * fills disk (present = false if there is no ATA disk there).  Returns 0,
 * or -ATA_ENODEV / -ATA_ETIMEOUT.  The raw 256 words go to ident if not NULL.
 */
int ata_identify(enum ata_pos pos, struct ata_disk *disk, u16 *ident);

/*
 * Where a transfer's data is, 4 KiB (ATA_BLOCK_SECTORS) at a time: block b
 * is at map(ctx, b) until unmap(ctx, b, buf).  This lets a caller move one
 * frame after the other through a single kmap_atomic slot.
 */
struct ata_buffers {
	void *(*map)(void *ctx, u32 block);
	void (*unmap)(void *ctx, u32 block, void *buf);
	void *ctx;
};
/* Reads or writes count (1..ATA_MAX_SECTORS) sectors at lba, one command;
 * 0 or a negative error. */
int ata_transfer(struct ata_disk *disk, u64 lba, u32 count, const struct ata_buffers *bufs,
		 bool write);

/* Switches the disk to ATA_BLOCK_SECTORS-sector DRQ blocks (SET MULTIPLE
 * MODE) if it has them; later transfers use READ/WRITE MULTIPLE.  Returns
 * true if it did.  (Probing changes nothing on a disk: only its user calls this.) */
bool ata_set_multiple(struct ata_disk *disk);

/* Reads count (1..ATA_MAX_SECTORS) sectors at lba into buf; 0 or a negative error. */
int ata_read(struct ata_disk *disk, u64 lba, u32 count, void *buf);
/* Writes count sectors from buf at lba; 0 or a negative error. */
int ata_write(struct ata_disk *disk, u64 lba, u32 count, const void *buf);

/*
 * Sends a raw command whose LBA lies beyond the disk (a test of the error
 * path: the device must answer with ERR, IDNF or ABRT).  Returns what the
 * command returned: -ATA_EDEVICE when the device refused it.
 */
int ata_write_beyond_end(struct ata_disk *disk, const void *buf);

/* Text for the error register bits set in err ("IDNF ABRT"), in a static buffer. */
const char *ata_error_bits(u8 err);

#endif
