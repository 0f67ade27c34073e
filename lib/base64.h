/*
 * Base64 (RFC 4648, standard alphabet) for kubeconfig "-data" fields and
 * Kubernetes Secrets. Decoding is strict: anything but the alphabet, padding
 * and line breaks is an error.
 */
#ifndef FO_BASE64_H
#define FO_BASE64_H

#include <stddef.h>

/* Decode `len` characters into a new NUL-terminated buffer; -1 on bad input. */
int fo_base64_decode(const char *in, size_t len, char **out, size_t *outlen);
/* Encode; caller frees. */
char *fo_base64_encode(const void *in, size_t len);

#endif
