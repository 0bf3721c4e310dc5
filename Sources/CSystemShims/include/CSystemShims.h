#ifndef C_SYSTEM_SHIMS_H
#define C_SYSTEM_SHIMS_H

#include <spawn.h>

/// glibc's posix_spawn_file_actions_addchdir_np (2.29 and later): the child starts in
/// `path`. Glibc's Swift module leaves it out, as it is declared only under _GNU_SOURCE.
int cshims_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// pipe2(fds, O_CLOEXEC): a pipe whose ends no spawned program inherits.
int cshims_pipe_cloexec(int fds[2]);

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later): the child closes every
/// descriptor from `from` up, so it inherits nothing it was not given on purpose.
int cshims_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
