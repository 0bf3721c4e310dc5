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
static inline const char *cldap_control_sync(void) { return LDAP_CONTROL_SYNC; }
static inline const char *cldap_control_sync_state(void) { return LDAP_CONTROL_SYNC_STATE; }
static inline const char *cldap_control_sync_done(void) { return LDAP_CONTROL_SYNC_DONE; }
static inline const char *cldap_sync_info_oid(void) { return LDAP_SYNC_INFO; }
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

/* RFC 4533 (syncrepl) values, which liblber's variadic ber_printf and ber_scanf build and read
   (Swift cannot call a variadic C function). Each returns 0, or -1 for a value it cannot read. */

/* The Sync Request control's value: refreshOnly, from `cookie` (none when its length is 0). */
static inline int cldap_sync_request(const struct berval *cookie, struct berval *value) {
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    if (!ber) return -1;
    int rc = cookie->bv_len > 0
        ? ber_printf(ber, "{eO}", (ber_int_t)LDAP_SYNC_REFRESH_ONLY, cookie)
        : ber_printf(ber, "{e}", (ber_int_t)LDAP_SYNC_REFRESH_ONLY);
    if (rc < 0 || ber_flatten2(ber, value, 1) < 0) { ber_free(ber, 1); return -1; }
    ber_free(ber, 1);
    return 0;
}

/* A Sync State control's value: the entry's state (present, add, modify, delete) and entryUUID
   (16 bytes, pointing into `value`). */
static inline int cldap_sync_state(const struct berval *value, int *state, struct berval *uuid) {
    BerElement *ber = ber_init((struct berval *)value);
    if (!ber) return -1;
    ber_int_t read = -1;
    int rc = ber_scanf(ber, "{em", &read, uuid) == LBER_ERROR ? -1 : 0;
    ber_free(ber, 1);
    *state = read;
    return rc;
}

/* A Sync Done control's value: the new cookie (copied; free with ber_memfree) and refreshDeletes. */
static inline int cldap_sync_done(const struct berval *value, struct berval *cookie, int *refresh_deletes) {
    BerElement *ber = ber_init((struct berval *)value);
    if (!ber) return -1;
    ber_len_t len;
    ber_int_t deletes = 0;
    int rc = ber_scanf(ber, "{") == LBER_ERROR ? -1 : 0;
    if (rc == 0 && ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE && ber_scanf(ber, "o", cookie) == LBER_ERROR) rc = -1;
    if (rc == 0 && ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES && ber_scanf(ber, "b", &deletes) == LBER_ERROR)
        rc = -1;
    ber_free(ber, 1);
    *refresh_deletes = deletes ? 1 : 0;
    return rc;
}

/* A Sync Info message: `kind` is its tag (new cookie, refresh delete or present, syncIdSet); the
   cookie (copied; free with ber_memfree), refreshDeletes, and for a syncIdSet its UUIDs (free with
   ber_bvarray_free). */
static inline int cldap_sync_info(const struct berval *value, ber_tag_t *kind, struct berval *cookie,
                                  int *refresh_deletes, BerVarray *uuids) {
    BerElement *ber = ber_init((struct berval *)value);
    if (!ber) return -1;
    ber_len_t len;
    ber_int_t flag = 0;
    int rc = 0;
    *kind = ber_peek_tag(ber, &len);
    *uuids = NULL;
    switch (*kind) {
    case LDAP_TAG_SYNC_NEW_COOKIE:
        if (ber_scanf(ber, "o", cookie) == LBER_ERROR) rc = -1;
        break;
    case LDAP_TAG_SYNC_REFRESH_DELETE:
    case LDAP_TAG_SYNC_REFRESH_PRESENT:
    case LDAP_TAG_SYNC_ID_SET:
        if (ber_scanf(ber, "{") == LBER_ERROR) { rc = -1; break; }
        if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE && ber_scanf(ber, "o", cookie) == LBER_ERROR) { rc = -1; break; }
        if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES && ber_scanf(ber, "b", &flag) == LBER_ERROR) { rc = -1; break; }
        if (*kind == LDAP_TAG_SYNC_ID_SET && (ber_scanf(ber, "[W]}", uuids) == LBER_ERROR || *uuids == NULL)) rc = -1;
        break;
    default:
        rc = -1;
    }
    ber_free(ber, 1);
    *refresh_deletes = flag ? 1 : 0;
    return rc;
}
#endif
