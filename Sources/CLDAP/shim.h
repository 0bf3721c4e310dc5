#ifndef CLDAP_SHIM_H
#define CLDAP_SHIM_H
/* <sys/time.h> first, so that struct timeval imports with its type. */
#include <sys/time.h>
#include <lber.h>
#include <ldap.h>

/* Macros Swift cannot import. */
static inline void *cldap_opt_on(void) { return LDAP_OPT_ON; }
static inline const char *cldap_control_paged_results(void) { return LDAP_CONTROL_PAGEDRESULTS; }
/* liblber's read-ahead layer, a global Swift would count as shared mutable state. */
static inline Sockbuf_IO *cldap_readahead_io(void) { return &ber_sockbuf_io_readahead; }
#endif
