// The functions glibc declares only under _GNU_SOURCE, for Swift.
#define _GNU_SOURCE
#include <spawn.h>
#include "CSystemShims.h"

int cshims_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}
