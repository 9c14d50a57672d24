#include "CSpindle.h"

#include <malloc.h>

int spindle_malloc_arena_max(int arenas) { return mallopt(M_ARENA_MAX, arenas); }
