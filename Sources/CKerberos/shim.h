#ifndef CKERBEROS_SHIM_H
#define CKERBEROS_SHIM_H
/* MIT Kerberos: a login from a keytab into a credentials cache, and GSSAPI's choice of that cache. */
#include <krb5.h>
#include <gssapi/gssapi_krb5.h>
#endif
