/* The pin of the HTTPS certificate's key, as the agent checks it
 * (pxed.pin= on its kernel command line, libcurl's PINNEDPUBLICKEY):
 * "sha256//" and the base64 of the SHA-256 of the DER SubjectPublicKeyInfo. */
#ifndef PXED_HTTP_PIN_H
#define PXED_HTTP_PIN_H

#include <stddef.h>

#define TLS_PIN_MAX 64                  /* "sha256//" + 44 + NUL */

/* The pin of the first certificate in cert_pem into out; 0, or -EINVAL
 * when there is no certificate to read. */
int tls_key_pin(const char *cert_pem, char *out, size_t size);

#endif
