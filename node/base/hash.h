/* hash.h: non-cryptographic hashes of bytes (MurmurHash3, x64 variant).
 * Seeds are fixed: every replica computes the same values. */
#ifndef MQ_HASH_H
#define MQ_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hash128 {
    uint64_t lo, hi;
};

struct hash128 hash128(const void *data, size_t len);
uint64_t hash64(const void *data, size_t len);
/* Mixes one 64-bit value (for integer keys). */
uint64_t hash_u64(uint64_t x);

#endif
