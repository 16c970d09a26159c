/* sha256.h — SHA-256 for policy content hashes (identity and cache keys). */
#ifndef RG_SHA256_H
#define RG_SHA256_H
#include <stddef.h>
#include <stdint.h>
typedef struct rg__sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t nbuf;
} rg__sha256;
void rg__sha256_init(rg__sha256 *s);
void rg__sha256_update(rg__sha256 *s, const void *data, size_t n);
void rg__sha256_final(rg__sha256 *s, uint8_t out[32]);
/* out: 65 bytes, lowercase hex + NUL */
void rg__hex(const uint8_t *in, size_t n, char *out);
#endif
