#include "CSpindle.h"

#include <malloc.h>
#include <signal.h>

int spindle_malloc_arena_max(int arenas) { return mallopt(M_ARENA_MAX, arenas); }

int spindle_wake_signal(void) { return SIGRTMIN + 3; }
