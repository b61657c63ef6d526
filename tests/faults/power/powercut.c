/* powercut.so: an LD_PRELOAD shim that keeps what a power cut would keep.
 *
 * For every regular file under $POWERCUT_DIR, each successful fsync or
 * fdatasync also copies the file, as it is then, to FILE.durable (written
 * to a temporary name and renamed, so a copy is always whole). A test that
 * "cuts the power" kills the process and then puts back every FILE.durable
 * over FILE, and removes every file that was never synced: all that was
 * written but not yet synced is gone, which the page cache a `kill -9`
 * leaves behind would otherwise hide. Directory syncs are not modelled (a
 * file counts from its first sync on, and an unlink, which takes the copy
 * with it, counts at once: a file made again under the same name never
 * gets an old life's copy back).
 *
 * While the file named by $POWERCUT_LIE exists, syncs succeed and keep
 * nothing: a server that skips its fsyncs, for the test's control run.
 *
 *   gcc -shared -fPIC -O2 -o powercut.so powercut.c -ldl
 *   LD_PRELOAD=./powercut.so POWERCUT_DIR=/data longrun serve ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);

static int under_dir(const char *path) {
  const char *dir = getenv("POWERCUT_DIR");
  size_t n;
  if (dir == NULL || *dir == '\0') return 0;
  n = strlen(dir);
  if (strncmp(path, dir, n) != 0 || path[n] != '/') return 0;
  n = strlen(path);
  /* Never copy our own copies. */
  return !(n > 8 && strcmp(path + n - 8, ".durable") == 0);
}

/* Copies the file open on fd to PATH.durable; returns 0 or -1 (errno set). */
static int keep(int fd) {
  char link[64], path[PATH_MAX], tmp[PATH_MAX + 64], durable[PATH_MAX + 16];
  char buf[1 << 16];
  struct stat st;
  ssize_t len, got;
  off_t at = 0;
  int in, out, saved;

  const char *lie = getenv("POWERCUT_LIE");
  if (lie != NULL && *lie != '\0' && access(lie, F_OK) == 0) return 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  len = readlink(link, path, sizeof path - 1);
  if (len < 0) return -1;
  path[len] = '\0';
  if (!under_dir(path)) return 0;
  snprintf(tmp, sizeof tmp, "%s.durable.%ld.tmp", path, (long)syscall(SYS_gettid));
  snprintf(durable, sizeof durable, "%s.durable", path);
  /* By path: fd may be open for writing only. */
  in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    saved = errno;
    close(in);
    errno = saved;
    return -1;
  }
  while ((got = pread(in, buf, sizeof buf, at)) > 0) {
    char *p = buf;
    ssize_t left = got;
    while (left > 0) {
      ssize_t put = write(out, p, (size_t)left);
      if (put < 0) {
        if (errno == EINTR) continue;
        goto fail;
      }
      p += put;
      left -= put;
    }
    at += got;
  }
  if (got < 0) goto fail;
  close(in);
  in = -1;
  if (close(out) != 0) {
    out = -1;
    goto fail;
  }
  return rename(tmp, durable);
fail:
  saved = errno;
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  unlink(tmp);
  errno = saved;
  return -1;
}

int fsync(int fd) {
  if (real_fsync == NULL) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (real_fsync(fd) != 0) return -1;
  return keep(fd) == 0 ? 0 : (errno = EIO, -1);
}

int fdatasync(int fd) {
  if (real_fdatasync == NULL) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  if (real_fdatasync(fd) != 0) return -1;
  return keep(fd) == 0 ? 0 : (errno = EIO, -1);
}

/* The copy of a file that is unlinked goes with it (SQLite deletes its
 * journal, and its WAL on a clean close, then makes them anew). */
static void forget(int dirfd, const char *name) {
  char path[2 * PATH_MAX + 2], durable[2 * PATH_MAX + 16];
  if (name[0] == '/') {
    snprintf(path, sizeof path, "%s", name);
  } else {
    char link[64], dir[PATH_MAX];
    ssize_t len;
    if (dirfd == AT_FDCWD) {
      if (getcwd(dir, sizeof dir) == NULL) return;
    } else {
      snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
      len = readlink(link, dir, sizeof dir - 1);
      if (len < 0) return;
      dir[len] = '\0';
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
  }
  if (!under_dir(path)) return;
  snprintf(durable, sizeof durable, "%s.durable", path);
  real_unlink(durable);
}

int unlink(const char *path) {
  int saved = errno;
  if (real_unlink == NULL) real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
  if (real_unlink(path) != 0) return -1;
  forget(AT_FDCWD, path);
  errno = saved;
  return 0;
}

int unlinkat(int dirfd, const char *path, int flags) {
  int saved = errno;
  if (real_unlinkat == NULL) real_unlinkat = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
  if (real_unlink == NULL) real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
  if (real_unlinkat(dirfd, path, flags) != 0) return -1;
  if ((flags & AT_REMOVEDIR) == 0) forget(dirfd, path);
  errno = saved;
  return 0;
}
