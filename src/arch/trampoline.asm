; The application processors' start-up code.  A STARTUP IPI starts an AP in
; real mode at vector << 12 (SDM vol. 3 8.4.4.1); smpboot.c copies this blob
; to TRAMPOLINE_BASE and fills in its parameters first.  The AP enters
; protected mode with a flat GDT of its own, loads the BSP's CR4, EFER.NXE
; and the kernel's CR3, turns on paging (the kernel tables identity-map the
; first large page while APs start, so this code keeps running), and jumps
; to ap_entry at its high address on the stack it was given.

TRAMPOLINE_BASE equ 0x8000
%define T(label) (label - trampoline_start + TRAMPOLINE_BASE)

section .rodata
global trampoline_start, trampoline_end, trampoline_params
align 16
trampoline_start:
bits 16
    cli
    cld
    xor ax, ax
    mov ds, ax
    lgdt [T(t_gdt_desc)]
    mov eax, cr0
    or eax, 1                       ; CR0.PE
    mov cr0, eax
    jmp dword 0x08:T(t_pm32)
bits 32
t_pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, [T(t_cr4)]
    mov cr4, eax                    ; PAE/PSE/PGE as on the BSP, before CR3
    test dword [T(t_nx)], 1
    jz .no_nx
    mov ecx, 0xc0000080             ; IA32_EFER
    rdmsr
    or eax, 1 << 11                 ; NXE (SDM vol. 3 4.1.3)
    wrmsr
.no_nx:
    mov eax, [T(t_cr3)]
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000              ; CR0.PG | CR0.WP
    mov cr0, eax
    mov esp, [T(t_stack)]
    xor ebp, ebp
    mov eax, [T(t_entry)]
    jmp eax

align 8
t_gdt:
    dq 0
    dq 0x00cf9a000000ffff           ; flat 32-bit code
    dq 0x00cf92000000ffff           ; flat 32-bit data
t_gdt_desc:
    dw 23
    dd T(t_gdt)
align 4
trampoline_params:                  ; struct trampoline_params in smpboot.c
t_cr3:   dd 0
t_cr4:   dd 0
t_nx:    dd 0
t_stack: dd 0
t_entry: dd 0
trampoline_end:
