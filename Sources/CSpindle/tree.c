#define _GNU_SOURCE
#include "CSpindleTree.h"

#include <sys/prctl.h>

int spindle_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
}

int spindle_is_child_subreaper(void) {
    int value = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&value, 0UL, 0UL, 0UL) != 0) return -1;
    return value != 0;
}
