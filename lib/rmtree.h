/*
 * rmtree: remove a temporary directory and everything in it, as rm -rf
 * would, never following a symbolic link out of it: the directory format's
 * dump (pgbak-run) and a restore's unpacked archive (pgbak-restore).
 */
#ifndef PGBAK_RMTREE_H
#define PGBAK_RMTREE_H

#include "log.h"

/* 0 when path is gone (or never was), -1 with e naming what stayed. */
int rmtree(const char *path, struct log_err *e);

#endif
