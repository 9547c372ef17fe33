#!/bin/bash
# genksyms.sh ELF: print an assembler file holding ELF's text symbols, sorted by
# address, as the kernel's own symbol table (.ksyms: count, then address and
# name-offset pairs, then the names).  genksyms.sh --text ELF prints the same
# symbols as "address name" lines, to compare two links.
set -eu
text_syms() {
    nm -n "$1" | awk '$2 ~ /^[tTW]$/ && $3 !~ /^\.|^\$/ { print $1, $3 }'
}
if [ "$1" = --text ]; then text_syms "$2"; exit 0; fi
text_syms "$1" | awk '
{ addr[NR] = $1; name[NR] = $2 }
END {
    print "\t.section .note.GNU-stack, \"\", @progbits"
    print "\t.section .ksyms, \"a\""
    print "\t.balign 4"
    print "\t.long " NR
    off = 0
    for (i = 1; i <= NR; i++) { print "\t.long 0x" addr[i] ", " off; off += length(name[i]) + 1 }
    for (i = 1; i <= NR; i++) print "\t.asciz \"" name[i] "\""
}'
