#ifndef C_SYSTEM_SHIMS_H
#define C_SYSTEM_SHIMS_H

#include <spawn.h>

/// glibc's posix_spawn_file_actions_addchdir_np (2.29 and later): the child starts in
/// `path`. Glibc's Swift module leaves it out, as it is declared only under _GNU_SOURCE.
int cshims_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
