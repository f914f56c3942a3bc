/* fuzz.h: shared pieces of the libFuzzer targets (tests/fuzz, `make fuzz`).
 * Readers and CLI parsers take file names, so an input goes into an
 * in-memory file (memfd) opened by its /proc/self/fd path: a regular file,
 * no disk I/O. */
#ifndef CALCSPEC_FUZZ_H
#define CALCSPEC_FUZZ_H

#define _GNU_SOURCE
#include "calcspec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Replace the content of memory file `slot` (0 or 1) with data; returns its
 * path (static). */
static inline const char *fuzz_file(int slot, const void *data, size_t n) {
  static int fd[2] = {-1, -1};
  static char path[2][64];
  if (fd[slot] < 0) {
    fd[slot] = memfd_create("calcspec-fuzz", 0);
    if (fd[slot] < 0)
      abort();
    snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d", fd[slot]);
  }
  if (ftruncate(fd[slot], 0))
    abort();
  const char *p = data;
  for (size_t off = 0; off < n;) {
    ssize_t w = pwrite(fd[slot], p + off, n - off, (off_t)off);
    if (w <= 0)
      abort();
    off += (size_t)w;
  }
  return path[slot];
}

/* data as a malloc'd NUL-terminated string (embedded NULs end it early, as
 * they would for a caller holding a C string). */
static inline char *fuzz_cstr(const uint8_t *data, size_t n) {
  char *s = malloc(n + 1);
  if (!s)
    abort();
  memcpy(s, data, n);
  s[n] = '\0';
  return s;
}

/* A failed call's message is one printable line (cs_escape_message). */
static inline void fuzz_check_error(const cs_error *err) {
  for (const unsigned char *p = (const unsigned char *)err->msg; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      abort();
}

/* Every value of every spectrum is finite (io.c's promise). */
static inline void fuzz_check_dataset(const cs_dataset *ds) {
  for (size_t i = 0; i < cs_dataset_count(ds); i++) {
    const cs_spectrum *s = cs_dataset_get(ds, i);
    size_t n = cs_spectrum_n(s);
    const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
    if (n == 0)
      abort();
    for (size_t k = 0; k < n; k++)
      if (x[k] - x[k] != 0 || y[k] - y[k] != 0) /* NaN or Inf */
        abort();
  }
}

#endif
