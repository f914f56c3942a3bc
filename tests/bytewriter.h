/* bytewriter.h: a fixed buffer of little-endian fields, for the tests that
 * write vendor binary files (OMNIC, OPUS) byte by byte. */
#ifndef CALCSPEC_BYTEWRITER_H
#define CALCSPEC_BYTEWRITER_H

#include <stdint.h>
#include <string.h>

typedef struct bw {
  unsigned char b[1 << 16];
  size_t n; /* one past the last byte written */
} bw;
static inline void put16(bw *w, size_t o, unsigned v) {
  w->b[o] = (unsigned char)v;
  w->b[o + 1] = (unsigned char)(v >> 8);
  if (o + 2 > w->n)
    w->n = o + 2;
}
static inline void put32(bw *w, size_t o, uint32_t v) {
  put16(w, o, v & 0xffff);
  put16(w, o + 2, v >> 16);
}
static inline void putf(bw *w, size_t o, float f) {
  uint32_t v;
  memcpy(&v, &f, 4);
  put32(w, o, v);
}
static inline void putd(bw *w, size_t o, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  put32(w, o, (uint32_t)v);
  put32(w, o + 4, (uint32_t)(v >> 32));
}

#endif
