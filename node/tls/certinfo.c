/* certinfo.c: the expiry of the certificates in a PEM file (certinfo.h). */
#include "certinfo.h"

#include <mbedtls/x509_crt.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "pemfile.h"

/* @t as ms since the epoch (UTC). */
static uint64_t x509_time_ms(const mbedtls_x509_time *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = t->year - 1900;
    tm.tm_mon = t->mon - 1;
    tm.tm_mday = t->day;
    tm.tm_hour = t->hour;
    tm.tm_min = t->min;
    tm.tm_sec = t->sec;
    time_t s = timegm(&tm);
    return s < 0 ? 0 : (uint64_t)s * 1000;
}

mq_err certinfo_not_after(const char *key, const char *path, uint64_t *ms,
                          struct errmsg *e)
{
    mbedtls_x509_crt crt;
    char *pem = NULL, why[128];
    mq_err rv = pemfile_read(key, path, &pem, e);
    int r;

    if (rv != MQ_OK) {
        return rv;
    }
    mbedtls_x509_crt_init(&crt);
    r = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem,
                               strlen(pem) + 1);
    if (r != 0 || crt.version == 0) {
        errmsg_set(e, "%s %s: not a PEM certificate: %s", key, path,
                   r < 0 ? pemfile_strerror(r, why, sizeof why)
                         : "some certificates do not parse");
        rv = MQ_ERR_INVALID;
    } else {
        uint64_t first = UINT64_MAX;
        for (const mbedtls_x509_crt *c = &crt; c != NULL && c->version != 0;
             c = c->next) {
            uint64_t t = x509_time_ms(&c->valid_to);
            first = t < first ? t : first;
        }
        *ms = first;
    }
    mbedtls_x509_crt_free(&crt);
    mq_free(pem);
    return rv;
}
