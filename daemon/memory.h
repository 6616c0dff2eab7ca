// Giving freed memory back to the system after heavy work on the pool and reader threads.
#ifndef CASEWATCH_DAEMON_MEMORY_H_
#define CASEWATCH_DAEMON_MEMORY_H_

namespace service {

// Gives the heap's free pages back to the system (glibc's malloc_trim). A cycle or a review
// over a million records frees a few hundred MB in small blocks, which glibc otherwise keeps:
// measured, the service stayed at 285 MB resident after rendering this week's review of 1M
// records, and went down to 128 MB once trimmed (issue 16). Call on the pool or the reader
// thread after heavy work, not on the loop thread: it takes each malloc arena's lock in turn.
void return_free_memory() noexcept;

}  // namespace service

#endif  // CASEWATCH_DAEMON_MEMORY_H_
