// Process-tree helpers for spindled: becoming a child subreaper (prctl is variadic, which Swift
// cannot call).
#ifndef CSPINDLE_TREE_H
#define CSPINDLE_TREE_H

#ifdef __cplusplus
extern "C" {
#endif

/// Makes the calling process a child subreaper (prctl PR_SET_CHILD_SUBREAPER): orphaned
/// descendants are re-parented to it instead of init. Returns 0 or -1 with errno.
int spindle_set_child_subreaper(void);

/// Whether the calling process is a child subreaper: 1, 0, or -1 with errno.
int spindle_is_child_subreaper(void);

#ifdef __cplusplus
}
#endif
#endif
