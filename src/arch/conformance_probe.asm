; The access probe of the paging conformance suite: see conformance_arch.h.
;
; cf_probe_run(p) is a setjmp; the four stubs the private IDT points at
; (cf_trap_ud, cf_trap_gp, cf_trap_pf, cf_trap_int80) and the ring-0 "done"
; path are the longjmps.  Everything the stubs need to get back is in .bss:
; the stack pointer of cf_probe_run's frame, the kernel's IDTR, TSS.ESP0/SS0.
; A probe never nests and runs with interrupts off, so one copy is enough.

%include "layout.inc"

extern cf_tss

USER_CS     equ 0x1b            ; gdt.c: entry 3, RPL 3
USER_DS     equ 0x23            ; entry 4, RPL 3
TSS_ESP0    equ 4               ; struct tss (traps.h)
TSS_SS0     equ 8

; struct cf_probe (conformance_arch.h)
P_OP        equ 0
P_USER      equ 4
P_ADDR      equ 8
P_VALUE     equ 12
P_USER_EIP  equ 16
P_VECTOR    equ 20
P_ERROR     equ 24
P_CR2       equ 28
P_EIP       equ 32
P_RESULT    equ 36

CF_READ     equ 0
CF_WRITE    equ 1
CF_FETCH    equ 2
CF_LOAD_CR3 equ 3
CF_NO_TRAP  equ 0xffffffff

PROBE_STACK_SIZE equ 4096

section .bss
align 16
probe_stack:        resb PROBE_STACK_SIZE   ; ring 3 -> ring 0 entries land here
probe_stack_top:
saved_esp:          resd 1
saved_esp0:         resd 1
saved_ss0:          resd 1
cur_probe:          resd 1
saved_idtr:         resb 8
global cf_idtr
cf_idtr:            resb 8                  ; limit (16 bits), base (32 bits)

section .text

; void cf_probe_run(struct cf_probe *p)
global cf_probe_run
cf_probe_run:
    push ebp
    push ebx
    push esi
    push edi
    push ds
    push es
    push fs
    push gs
    mov edx, [esp + 36]                     ; p: 8 saved words + return address
    mov [cur_probe], edx
    mov [saved_esp], esp
    mov ecx, [cf_tss]                       ; the running CPU's TSS (cf_idt_build)
    mov eax, [ecx + TSS_ESP0]
    mov [saved_esp0], eax
    mov eax, [ecx + TSS_SS0]
    mov [saved_ss0], eax
    mov dword [ecx + TSS_ESP0], probe_stack_top
    mov dword [ecx + TSS_SS0], KERNEL_DS
    sidt [saved_idtr]
    lidt [cf_idtr]
    mov ebx, [edx + P_ADDR]
    mov ecx, [edx + P_VALUE]
    mov eax, [edx + P_OP]
    cmp dword [edx + P_USER], 0
    jne .ring3
    cmp eax, CF_READ
    je .read
    cmp eax, CF_WRITE
    je .write
    cmp eax, CF_FETCH
    je .fetch
    mov cr3, ebx                            ; CF_LOAD_CR3: may #GP (PAE PDPTEs)
    jmp probe_done
.read:
    mov eax, [ebx]
    jmp probe_done
.write:
    mov [ebx], ecx
    jmp probe_done
.fetch:
    jmp ebx                                 ; the target's `int 0x80` comes back

; An inter-privilege iret (SDM vol. 3 6.14, IRET): EIP, CS, EFLAGS, ESP, SS.
; EFLAGS = 2: interrupts stay off in ring 3, IOPL 0.  The user code never
; touches its stack, so ESP only has to be a number.
.ring3:
    push dword USER_DS                      ; SS
    push dword 0                            ; ESP
    push dword 2                            ; EFLAGS
    push dword USER_CS
    push dword [edx + P_USER_EIP]
    mov ax, USER_DS
    mov ds, ax
    mov es, ax
    iretd

; Ring 0 access completed (EAX: the value for a read).
probe_done:
    mov edx, [cur_probe]
    mov [edx + P_RESULT], eax
    mov dword [edx + P_VECTOR], CF_NO_TRAP
    jmp probe_return

; int 0x80 from the ring-3 code or a fetched target: the access completed.
global cf_trap_int80
cf_trap_int80:
    mov edx, [cur_probe]                    ; DS may be USER_DS: flat, fine in ring 0
    mov [edx + P_RESULT], eax
    mov dword [edx + P_VECTOR], CF_NO_TRAP
    jmp probe_return

; Exceptions: vector, then the error code (the CPU pushes one for #GP and
; #PF, SDM vol. 3 6.13; the #UD stub pushes a zero), then EIP.
global cf_trap_ud
cf_trap_ud:
    push dword 0
    push dword 6
    jmp probe_trap
global cf_trap_gp
cf_trap_gp:
    push dword 13
    jmp probe_trap
global cf_trap_pf
cf_trap_pf:
    push dword 14
probe_trap:
    mov edx, [cur_probe]
    pop dword [edx + P_VECTOR]
    pop dword [edx + P_ERROR]
    mov eax, [esp]
    mov [edx + P_EIP], eax
    mov eax, cr2
    mov [edx + P_CR2], eax

; Back to cf_probe_run's caller, whatever ring and stack we came from.
probe_return:
    mov esp, [saved_esp]                    ; SS is KERNEL_DS in every path
    lidt [saved_idtr]
    mov ecx, [cf_tss]
    mov eax, [saved_esp0]
    mov [ecx + TSS_ESP0], eax
    mov eax, [saved_ss0]
    mov [ecx + TSS_SS0], eax
    pop gs
    pop fs
    pop es
    pop ds
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; The ring-3 code, copied by the suite into a user page.  EBX = address,
; ECX = value.  Position-independent, no instruction crosses a page.
section .rodata
global cf_user_code, cf_user_code_end, cf_user_read, cf_user_write, cf_user_fetch
cf_user_code:
cf_user_read:
    mov eax, [ebx]
    int 0x80
cf_user_write:
    mov [ebx], ecx
    int 0x80
cf_user_fetch:
    jmp ebx
cf_user_code_end:
