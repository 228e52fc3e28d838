/* The pin of the HTTPS certificate's key (http/pin.h), with libcrypto. */
#include "http/pin.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

int
tls_key_pin(const char *cert_pem, char *out, size_t size)
{
	BIO *bio = BIO_new_mem_buf(cert_pem, -1);
	X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, sum[SHA256_DIGEST_LENGTH], b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
	int len = cert != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der) : -1;
	int rc = -EINVAL;

	if (len > 0 && size >= TLS_PIN_MAX) {
		SHA256(der, (size_t)len, sum);
		EVP_EncodeBlock(b64, sum, sizeof sum);
		snprintf(out, size, "sha256//%s", (const char *)b64);
		rc = 0;
	}
	OPENSSL_free(der);
	X509_free(cert);
	BIO_free(bio);
	return rc;
}
