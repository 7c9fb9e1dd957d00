// SPDX-License-Identifier: GPL-2.0-only
/*
 * Why the guests run with "-cpu max,-cx16" (scripts/guest-run.sh).
 *
 * QEMU 7.2's x86 TCG translates CMPXCHG16B into a helper that starts from
 * the flags of the condition-code state stored in the CPU structure.  The
 * translator keeps that state lazily and does not store it before the
 * helper, so when an arithmetic instruction in the same translation block
 * precedes the cmpxchg16b, the helper combines a stale cc_op with the new
 * operands.  After a block that ended with cc_op "EFLAGS" (a popf, an
 * iret, another cmpxchg16b), the flags become the earlier instruction's
 * source operand: arbitrary bits, system flags among them.  CMPXCHG8B has
 * the same flaw; a 64-bit kernel does not use it.
 *
 * This program builds exactly that sequence and checks the flags with
 * pushf.  On hardware (or a fixed QEMU) it prints 0 rounds and exits 0;
 * under qemu-x86_64 7.2 (Debian's qemu-user-static, or a 7.2 TCG guest)
 * every round shows the operand 0xbfe3a2e2 in EFLAGS and it exits 1.  On
 * a CPU without CMPXCHG16B (such as our guests') it says so and exits 0.
 *
 *   cc -O2 -static -o /tmp/cx16 <this file>
 *   qemu-x86_64-static -cpu max /tmp/cx16
 */
#include <cpuid.h>
#include <stdio.h>

/* cmpxchg16b needs 16-byte alignment: the x86-64 ABI's for __int128 */
static unsigned __int128 target;

int main(void)
{
	/* CF PF AF ZF SF OF, the reserved bit 1 and IF: all pushf may show */
	const unsigned long long allowed = 0x8d5 | 0x2 | 0x200;
	unsigned int eax, ebx, ecx, edx;
	int round, bad = 0;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_CMPXCHG16B)) {
		printf("no CMPXCHG16B on this CPU: nothing to probe\n");
		return 0;
	}
	for (round = 0; round < 1000; round++) {
		unsigned long long flags, lo = 0, hi = 0;
		unsigned long long operand = 0xbfe3a2e2;

		target = 0;
		asm volatile("pushq $0x202\n\t"
			     "popfq\n\t"		/* ends the block, cc_op EFLAGS */
			     "movq %[op], %%rsi\n\t"
			     "movl $0, %%ebx\n\t"	/* no flags touched */
			     "movl $0, %%ecx\n\t"
			     "subq %%rsi, %%r8\n\t"	/* cc_op SUB, not yet stored */
			     "cmpxchg16b %[mem]\n\t"
			     "pushfq\n\t"
			     "popq %[flags]\n\t"
			     : [flags] "=r"(flags), [mem] "+m"(target), "+a"(lo), "+d"(hi)
			     : [op] "r"(operand)
			     : "rbx", "rcx", "rsi", "r8", "cc", "memory");
		if (flags & ~allowed && !bad++)
			printf("round %d: EFLAGS after cmpxchg16b %#llx\n", round, flags);
	}
	printf("%d of 1000 rounds had EFLAGS bits that no instruction set\n", bad);
	return bad ? 1 : 0;
}
