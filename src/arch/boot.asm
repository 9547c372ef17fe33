; ia32mm entry: Multiboot v1 header, copy of the boot information, early
; page tables, and the jump to C at the kernel's high virtual address.
;
; The loader (syslinux mboot.c32, QEMU -kernel, GRUB) enters _start in 32-bit
; protected mode with paging off, EAX = 0x2BADB002 and EBX = the physical
; address of the Multiboot information (Multiboot spec 0.6.96, section 3.2).

%include "layout.inc"

MB_MAGIC     equ 0x1BADB002
MB_FLAGS     equ 0x00000003          ; page-align modules, give memory info
MB_BOOTED    equ 0x2BADB002
MBI_COPY     equ 52                  ; flags .. mmap_addr: the fields we use
EARLY_PT     equ 4                   ; early tables map physical 0..16 MiB

section .multiboot progbits alloc noexec nowrite align=4
align 4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

section .boot.text progbits alloc exec nowrite align=16
global _start
_start:
    cli
    cld
    mov esp, boot_stack_top - KERNEL_BASE
    mov [boot_magic - KERNEL_BASE], eax
    cmp eax, MB_BOOTED
    jne .paging

    ; The information lives wherever the loader put it, possibly outside the
    ; early mapping: copy the part we use now, while paging is off.
    mov esi, ebx
    mov edi, boot_mbi - KERNEL_BASE
    mov ecx, MBI_COPY / 4
    rep movsd

    test dword [boot_mbi - KERNEL_BASE], 1 << 2     ; cmdline valid
    jz .nocmdline
    mov esi, [boot_mbi - KERNEL_BASE + 16]
    mov edi, boot_cmdline - KERNEL_BASE
    mov ecx, BOOT_CMDLINE_MAX - 1
.cmd:
    lodsb
    stosb
    test al, al
    jz .nocmdline
    loop .cmd
    mov byte [edi], 0
    mov dword [boot_cmdline_truncated - KERNEL_BASE], 1
.nocmdline:
    test dword [boot_mbi - KERNEL_BASE], 1 << 6     ; mmap valid
    jz .paging
    mov esi, [boot_mbi - KERNEL_BASE + 48]
    mov ecx, [boot_mbi - KERNEL_BASE + 44]
    mov [boot_mmap_len - KERNEL_BASE], ecx
    cmp ecx, BOOT_MMAP_MAX
    jbe .copymmap
    mov ecx, BOOT_MMAP_MAX          ; C reports the truncation
.copymmap:
    mov edi, boot_mmap - KERNEL_BASE
    rep movsb

.paging:
    ; Identity-map and high-map physical 0..16 MiB with 4 KiB pages (no PSE
    ; needed: SDM vol. 3 4.3, 32-bit paging, PDE -> page table -> 4 KiB page).
    mov edi, boot_pt - KERNEL_BASE
    mov eax, 0x003                  ; present | writable (SDM 4.3 table 4-6)
    mov ecx, EARLY_PT * 1024
.pte:
    stosd
    add eax, 0x1000
    loop .pte
    mov edi, boot_pgdir - KERNEL_BASE
    mov eax, (boot_pt - KERNEL_BASE) + 0x003
    mov ecx, EARLY_PT
    xor ebx, ebx
.pde:
    mov [edi + ebx * 4], eax                        ; identity
    mov [edi + ebx * 4 + (KERNEL_BASE >> 22) * 4], eax  ; at 0xC0000000
    add eax, 0x1000
    inc ebx
    loop .pde
    mov eax, boot_pgdir - KERNEL_BASE
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000              ; CR0.PG | CR0.WP (SDM vol. 3 2.5)
    mov cr0, eax
    lea eax, [high_entry]
    jmp eax

; void paging_enter_pae(u32 pdpt_phys, u32 cr4): called from C once the PAE
; tables exist.  Runs at its physical address, which both the boot tables and
; the new tables identity-map.  With CR0.PG clear no memory is touched;
; setting CR0.PG again loads the four PDPTEs (SDM vol. 3 4.4.1), and RET
; returns through the high stack, mapped by the new direct map.
global paging_enter_pae
paging_enter_pae:
    mov ecx, [esp + 4]
    mov edx, [esp + 8]
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax                    ; paging off
    mov cr4, edx                    ; CR4.PAE (SDM vol. 3 4.1.2)
    mov cr3, ecx                    ; the PDPT
    or eax, 0x80000000
    mov cr0, eax                    ; paging on, PAE
    ret

section .text
extern kmain
high_entry:
    mov esp, boot_stack_top
    xor ebp, ebp                    ; ends every backtrace
    push ebp
    call kmain
.halt:
    cli
    hlt
    jmp .halt

section .bss.pagealigned nobits alloc write align=4096
global boot_pgdir, boot_pt, boot_stack_guard, boot_stack, boot_stack_top
boot_pgdir:       resb 4096
boot_pt:          resb 4096 * EARLY_PT
boot_stack_guard: resb 4096         ; unmapped by arch_early_init: overflow faults
boot_stack:       resb BOOT_STACK_SIZE
boot_stack_top:

section .bss nobits alloc write align=4
global boot_magic, boot_mbi, boot_cmdline, boot_cmdline_truncated
global boot_mmap, boot_mmap_len
boot_magic:             resd 1
boot_mbi:               resb MBI_COPY
boot_cmdline_truncated: resd 1
boot_mmap_len:          resd 1
boot_cmdline:           resb BOOT_CMDLINE_MAX
boot_mmap:              resb BOOT_MMAP_MAX
