/*
 * sys_defs.h - common system includes and compiler attributes.
 *
 * Every Posthorn source file includes this first.  It pulls in the POSIX
 * and GNU headers the project relies on and defines the attribute macros
 * used by the format-checked logging and no-return functions.
 */
#ifndef SYS_DEFS_H
#define SYS_DEFS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn)) void
#define UNUSED __attribute__((unused))

#define CHECK_VAL(x) ((x) ? 1 : 0)

#ifndef DEF_CONFIG_DIR
#define DEF_CONFIG_DIR "/etc/posthorn"
#endif

#endif
