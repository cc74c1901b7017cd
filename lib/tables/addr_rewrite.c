/*
 * addr_rewrite.c - canonical mapping, masquerading and relocated lookups
 * of envelope addresses; see addr_rewrite.h.
 *
 * Parameters: canonical_maps, sender_canonical_maps,
 * recipient_canonical_maps, canonical_classes, sender_canonical_classes,
 * recipient_canonical_classes, masquerade_domains, masquerade_exceptions,
 * masquerade_classes, relocated_maps, propagate_unmatched_extensions,
 * myorigin.
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "address.h"
#include "dict.h"
#include "resolve.h"
#include "addr_rewrite.h"

#define REWRITE_MAX	10		/* canonical mapping rounds */
#define LIST_SEP	", \t\r\n"

static MAPS *canonical_maps;
static MAPS *sender_maps;
static MAPS *recipient_maps;
static MAPS *relocated_maps;
static int rewrite_ready;

/* maps_for - the tables of PARAM, or NULL when it is empty */

static MAPS *maps_for(const char *param)
{
    const char *spec = conf_str(param);

    return (*spec ? maps_create(param, spec, DICT_FLAG_FOLD_KEY) : 0);
}

void    addr_rewrite_init(void)
{
    MAPS  **all[] = {&canonical_maps, &sender_maps, &recipient_maps, &relocated_maps};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
	if (*all[i])
	    maps_free(*all[i]);
	*all[i] = 0;
    }
    rewrite_ready = 1;
    canonical_maps = maps_for("canonical_maps");
    sender_maps = maps_for("sender_canonical_maps");
    recipient_maps = maps_for("recipient_canonical_maps");
    relocated_maps = maps_for("relocated_maps");
}

/*
 * map_once - ADDR through MAPS: 1 with the result in OUT, 0 no match,
 * -1 a table failed.
 */
static int map_once(MAPS *maps, const char *addr, VSTRING *out)
{
    VSTRING *ext = vstring_alloc(10);
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    const char *value;
    int     ret = 0;

    value = resolve_addr_find(maps, addr, ext,
		resolve_list_has("propagate_unmatched_extensions", "canonical"));
    if (value == 0) {
	ret = maps->error ? -1 : 0;
    } else if (*value == '@' && addr_split(addr, local, domain) == 0) {
	addr_quote_local(STR(local), out);	/* the same user elsewhere */
	vstring_sprintf_append(out, "%s", value);
	ret = 1;
    } else {
	vstring_strcpy(out, value);
	if (LEN(ext) && addr_split(value, local, domain) == 0) {
	    vstring_strcat(local, STR(ext));	/* the unmatched extension */
	    vstring_reset(out);
	    addr_quote_local(STR(local), out);
	    if (addr_domain(value))
		vstring_sprintf_append(out, "@%s", STR(domain));
	}
	if (addr_domain(STR(out)) == 0)
	    vstring_sprintf_append(out, "@%s", conf_str("myorigin"));
	ret = 1;
    }
    vstring_free(ext);
    vstring_free(local);
    vstring_free(domain);
    return (ret);
}

/* map_all - ADDR through MAPS until it stops changing; 0 or -1 */

static int map_all(MAPS *maps, const char *addr, VSTRING *out)
{
    VSTRING *next = vstring_alloc(100);
    int     ret = 0;

    vstring_strcpy(out, addr);
    for (int round = 0; maps && round < REWRITE_MAX; round++) {
	if ((ret = map_once(maps, STR(out), next)) <= 0)
	    break;
	if (strcasecmp(STR(next), STR(out)) == 0)
	    break;				/* maps to itself: done */
	vstring_strcpy(out, STR(next));
    }
    vstring_free(next);
    return (ret < 0 ? -1 : 0);
}

/* masquerade - strip the subdomains masquerade_domains names, in place */

static void masquerade(VSTRING *addr)
{
    char   *saved, *cp, *entry;
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    size_t  dlen, elen;
    int     negate;

    if (*conf_str("masquerade_domains") == 0
	|| addr_split(STR(addr), local, domain) < 0 || LEN(domain) == 0) {
	vstring_free(local);
	vstring_free(domain);
	return;
    }
    resolve_strip_extension(local);
    saved = mystrdup(conf_str("masquerade_exceptions"));
    for (cp = saved; (entry = strsep(&cp, LIST_SEP)) != 0;)
	if (*entry && strcasecmp(entry, STR(local)) == 0)
	    break;
    if (entry == 0) {				/* not an exception */
	myfree(saved);
	saved = mystrdup(conf_str("masquerade_domains"));
	dlen = LEN(domain);
	for (cp = saved; (entry = strsep(&cp, LIST_SEP)) != 0;) {
	    if ((negate = (*entry == '!')) != 0)
		entry++;
	    if (*entry == 0)
		continue;
	    if (strcasecmp(entry, STR(domain)) == 0)
		break;				/* that domain itself */
	    elen = strlen(entry);
	    if (dlen > elen && STR(domain)[dlen - elen - 1] == '.'
		&& strcasecmp(STR(domain) + dlen - elen, entry) == 0) {
		if (!negate) {
		    vstring_truncate(addr, LEN(addr) - dlen);
		    vstring_strcat(addr, entry);
		}
		break;
	    }
	}
    }
    myfree(saved);
    vstring_free(local);
    vstring_free(domain);
}

/*
 * rewrite - CLASS ("envelope_sender" or "envelope_recipient") of ADDR:
 * OWN (the class's own tables, when OWN_CLASSES has CLASS), then
 * canonical_maps (when canonical_classes has it), then masquerading.
 */
static int rewrite(const char *class, MAPS *own, const char *own_classes,
		           const char *addr, VSTRING *out)
{
    VSTRING *step = vstring_alloc(100);
    int     ret = 0;

    if (!rewrite_ready)
	addr_rewrite_init();
    vstring_strcpy(out, addr);
    if (*addr && own && resolve_list_has(own_classes, class)) {
	if (map_all(own, STR(out), step) < 0)
	    ret = -1;
	else
	    vstring_strcpy(out, STR(step));
    }
    if (ret == 0 && *addr && canonical_maps
	&& resolve_list_has("canonical_classes", class)) {
	if (map_all(canonical_maps, STR(out), step) < 0)
	    ret = -1;
	else
	    vstring_strcpy(out, STR(step));
    }
    if (ret == 0 && *addr && *conf_str("masquerade_domains")
	&& resolve_list_has("masquerade_classes", class))
	masquerade(out);
    vstring_free(step);
    return (ret);
}

int     addr_rewrite_class(const char *class, const char *addr, VSTRING *out)
{
    if (strstr(class, "_sender"))
	return (rewrite(class, sender_maps, "sender_canonical_classes", addr, out));
    return (rewrite(class, recipient_maps, "recipient_canonical_classes", addr, out));
}

int     addr_rewrite_active(void)
{
    if (!rewrite_ready)
	addr_rewrite_init();
    return (canonical_maps || sender_maps || recipient_maps
	    || *conf_str("masquerade_domains"));
}

int     addr_rewrite_sender(const char *addr, VSTRING *out)
{
    return (rewrite("envelope_sender", sender_maps, "sender_canonical_classes",
		    addr, out));
}

int     addr_rewrite_recipient(const char *addr, VSTRING *out)
{
    return (rewrite("envelope_recipient", recipient_maps,
		    "recipient_canonical_classes", addr, out));
}

int     addr_rewrite_relocated(const char *addr, VSTRING *where)
{
    VSTRING *ext = vstring_alloc(10);
    const char *value;

    if (!rewrite_ready)
	addr_rewrite_init();
    if (relocated_maps == 0) {
	vstring_free(ext);
	return (0);
    }
    value = resolve_addr_find(relocated_maps, addr, ext, 0);
    vstring_free(ext);
    if (value == 0)
	return (relocated_maps->error ? -1 : 0);
    vstring_strcpy(where, value);
    return (1);
}
