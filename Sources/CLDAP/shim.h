#ifndef CLDAP_SHIM_H
#define CLDAP_SHIM_H
/* <sys/time.h> first, so that struct timeval imports with its type. */
#include <sys/time.h>
#include <lber.h>
#include <ldap.h>
#include <sasl/sasl.h>
#include <string.h>

/* Macros Swift cannot import. */
static inline void *cldap_opt_on(void) { return LDAP_OPT_ON; }
static inline const char *cldap_control_paged_results(void) { return LDAP_CONTROL_PAGEDRESULTS; }
/* liblber's read-ahead layer, a global Swift would count as shared mutable state. */
static inline Sockbuf_IO *cldap_readahead_io(void) { return &ber_sockbuf_io_readahead; }
/* The interaction a SASL bind with no questions to ask needs (GSSAPI: the ticket answers for the
   user): every prompt takes its default, or nothing, as `ldapsearch -Q` does. */
static inline int cldap_sasl_defaults(LDAP *ld, unsigned flags, void *defaults, void *prompts) {
    (void)ld; (void)flags; (void)defaults;
    for (sasl_interact_t *prompt = prompts; prompt && prompt->id != SASL_CB_LIST_END; prompt++) {
        const char *value = prompt->defresult ? prompt->defresult : "";
        prompt->result = value;
        prompt->len = (unsigned)strlen(value);
    }
    return LDAP_SUCCESS;
}
#endif
