// Memory: giving freed memory back to the system after heavy work on the pool and reader
// threads, and asking for huge pages at start.
#ifndef CASEWATCH_DAEMON_MEMORY_H_
#define CASEWATCH_DAEMON_MEMORY_H_

namespace service {

// Gives the heap's free pages back to the system (glibc's malloc_trim). A cycle or a review
// over a million records frees a few hundred MB in small blocks, which glibc otherwise keeps:
// measured, the service stayed at 285 MB resident after rendering this week's review of 1M
// records, and went down to 128 MB once trimmed (issue 16). Call on the pool or the reader
// thread after heavy work, not on the loop thread: it takes each malloc arena's lock in turn.
void return_free_memory() noexcept;

// Runs this program again (execv of /proc/self/exe, the same process and arguments) with
// glibc's malloc asked to use transparent huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1),
// when the kernel gives them only to programs that ask ("[madvise]" in
// /sys/kernel/mm/transparent_hugepage/enabled, Debian's default) and the environment does not
// already say: a GLIBC_TUNABLES naming glibc.malloc.hugetlb (=0 keeps them off) is left as it
// is. Measured (issue 16), a first --once over 1M records touched fresh memory 58,000 times
// (a page fault each) without, 10,000 with, and ran in 2.5 s instead of 3.0 s, at 10 MB more
// resident. Returns when it does not run the program again, or when exec fails (no /proc: the
// program goes on as it is). Call first thing in main, before any thread starts.
void use_huge_pages(char* argv[]);

}  // namespace service

#endif  // CASEWATCH_DAEMON_MEMORY_H_
