/*
 * env_int.h — the hooks env.c calls into the power-loss simulator (env_loss.c).
 * Not for use outside engine/env*.c.
 *
 * While tracking is on (env_loss_track), every change to a file that has not
 * been made durable is remembered with what it replaced, so that a simulated
 * power cut (env_power_loss) can take it back.
 */
#ifndef SL_ENV_INT_H
#define SL_ENV_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/env.h"

typedef struct env_loss env_loss_t;

/* NULL while tracking is off. */
env_loss_t *env_loss_of(env_t *env);

/* Before fd (of path, now old_size bytes) has [off, off+len) changed by a write or truncate. */
void env_loss_before_change(env_loss_t *l, const char *path, int fd, uint64_t off, uint64_t len,
			    uint64_t old_size);
/* path was fsynced: its changes so far are durable. */
void env_loss_synced(env_loss_t *l, const char *path);
/* path was just created. */
void env_loss_created(env_loss_t *l, const char *path);
/* dir was fsynced: the names in it are durable. */
void env_loss_dir_synced(env_loss_t *l, const char *dir);
/* true once env_power_loss has cut the power: writes, syncs and renames fail with EIO. */
bool env_loss_power_off(const env_loss_t *l);
/*
 * A change in flight — from the power check to the system call that makes it —
 * holds the gate shared (l may be NULL: no tracking, no gate); env_power_loss
 * holds it alone. So a cut never lands between a change being recorded and its
 * bytes reaching the file: a write is either before the cut (and subject to it)
 * or refused, as on a real machine whose power goes.
 */
void env_loss_enter(env_loss_t *l);
void env_loss_leave(env_loss_t *l);
/* path was unlinked. */
void env_loss_unlinked(env_loss_t *l, const char *path);
/* from was renamed to to. */
void env_loss_renamed(env_loss_t *l, const char *from, const char *to);

env_loss_t *env_loss_new(void);
void env_loss_free(env_loss_t *l);

#endif
