/*
 * milter_conf.c - configured filters: Postfix's milter_* defaults, one
 * filter's spec ("inet:host:port", "unix:/path", or the "{ endpoint,
 * name = value, ... }" form with connect_timeout, command_timeout,
 * content_timeout, default_action, protocol), and smtpd_milters-style
 * lists of them; see milter_clnt.h.  The address is resolved here, once
 * per process, so that sessions never wait for a name lookup.
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "milter_priv.h"

void    milter_limits_init(MILTER_LIMITS *limits)
{
    static const char *macros[MILTER_MACRO_STAGES] = {
	[MILTER_MACRO_CONNECT] = MILTER_CONNECT_MACROS,
	[MILTER_MACRO_HELO] = MILTER_HELO_MACROS,
	[MILTER_MACRO_MAIL] = MILTER_MAIL_MACROS,
	[MILTER_MACRO_RCPT] = MILTER_RCPT_MACROS,
	[MILTER_MACRO_DATA] = MILTER_DATA_MACROS,
	[MILTER_MACRO_EOD] = MILTER_EOD_MACROS,
	[MILTER_MACRO_EOH] = MILTER_EOH_MACROS,
	[MILTER_MACRO_UNKNOWN] = MILTER_UNKNOWN_MACROS,
    };

    memset(limits, 0, sizeof(*limits));
    limits->connect_timeout = 30;
    limits->command_timeout = 30;
    limits->content_timeout = 300;
    limits->edit_limit = 10240000;
    limits->default_action = "tempfail";
    limits->protocol = "6";
    memcpy(limits->macros, macros, sizeof(macros));
}

/* milter_trim - TEXT without white space around it (in place) */

static char *milter_trim(char *text)
{
    char   *end;

    text += strspn(text, " \t\r\n");
    for (end = text + strlen(text); end > text && strchr(" \t\r\n", end[-1]); end--)
	 /* void */ ;
    *end = 0;
    return (text);
}

/* milter_def_action - default_action by name; 0, or -1 */

static int milter_def_action(MILTER *m, const char *name)
{
    static const char *names[] = {
	[MILTER_DEF_TEMPFAIL] = "tempfail",
	[MILTER_DEF_ACCEPT] = "accept",
	[MILTER_DEF_REJECT] = "reject",
	[MILTER_DEF_QUARANTINE] = "quarantine",
    };

    for (int i = 0; i < (int) (sizeof(names) / sizeof(names[0])); i++) {
	if (strcasecmp(name, names[i]) == 0) {
	    m->def_action = i;
	    return (0);
	}
    }
    msg_warn("milter %s: unrecognized default action: %s", m->name, name);
    return (-1);
}

/* milter_protocol - milter_protocol: the version and what we offer; 0, or -1 */

static int milter_protocol(MILTER *m, const char *value)
{
    char   *copy = mystrdup(value);
    char   *cp = copy;
    char   *word;
    int     status = 0;

    m->version = 0;
    m->events = 0;
    while (status == 0 && (word = strsep(&cp, " ,\t")) != 0) {
	if (*word == 0)
	    continue;
	if (strcmp(word, "no_header_reply") == 0)
	    m->events |= SMFIP_NR_HDR;
	else if (m->version == 0 && strlen(word) == 1 && strchr("2346", *word))
	    m->version = *word - '0';
	else
	    status = -1;
    }
    myfree(copy);
    if (status < 0 || m->version == 0) {
	msg_warn("milter %s: bad protocol information: %s", m->name, value);
	return (-1);
    }
    m->events |= m->version == 2 ? MILTER_V2_EVENTS : m->version == 3 ? MILTER_V3_EVENTS
	: m->version == 4 ? MILTER_V4_EVENTS : MILTER_V6_EVENTS;
    m->actions = m->version == 6 ? MILTER_V6_ACTIONS : MILTER_V2_ACTIONS;
    return (0);
}

/* milter_timeout_setting - a "name=time" of the { ... } form; 0, or -1 */

static int milter_timeout_setting(MILTER *m, const char *name, const char *value,
				          int *result)
{
    long    secs;

    if (!conf_parse_time(value, 's', &secs) || secs < 1 || secs > 86400) {
	msg_warn("milter %s: bad %s value: %s", m->name, name, value);
	return (-1);
    }
    *result = (int) secs;
    return (0);
}

/* milter_setting - one "name = value" of the { ... } form; 0, or -1 */

static int milter_setting(MILTER *m, char *item, const char **protocol,
			          const char **def_action)
{
    char   *value = strchr(item, '=');
    char   *name;

    if (value == 0) {
	msg_warn("milter %s: missing '=' in setting: %s", m->name, item);
	return (-1);
    }
    *value++ = 0;
    name = milter_trim(item);
    value = milter_trim(value);
    if (strcmp(name, "connect_timeout") == 0)
	return (milter_timeout_setting(m, name, value, &m->conn_timeout));
    if (strcmp(name, "command_timeout") == 0)
	return (milter_timeout_setting(m, name, value, &m->cmd_timeout));
    if (strcmp(name, "content_timeout") == 0)
	return (milter_timeout_setting(m, name, value, &m->content_timeout));
    if (strcmp(name, "default_action") == 0)
	*def_action = value;
    else if (strcmp(name, "protocol") == 0)
	*protocol = value;
    else {
	msg_warn("milter %s: unknown setting: %s", m->name, name);
	return (-1);
    }
    return (0);
}

/* milter_spec - the endpoint and the { ... } settings of SPEC; 0, or -1 */

static int milter_spec(MILTER *m, char *spec, const char **protocol,
		               const char **def_action)
{
    char   *item;
    size_t  len;

    spec = milter_trim(spec);
    if (*spec != '{') {
	m->name = mystrdup(spec);
	return (0);
    }
    if ((len = strlen(spec)) < 2 || spec[len - 1] != '}') {
	msg_warn("milter %s: missing '}'", spec);
	return (-1);
    }
    spec[len - 1] = 0;
    spec++;
    item = strsep(&spec, ",");
    m->name = mystrdup(milter_trim(item));
    while ((item = strsep(&spec, ",")) != 0)
	if (*milter_trim(item) && milter_setting(m, item, protocol, def_action) < 0)
	    return (-1);
    return (0);
}

MILTER *milter_create(const char *spec, const MILTER_LIMITS *limits)
{
    MILTER *m = (MILTER *) mycalloc(1, sizeof(*m));
    char   *copy = mystrdup(spec);
    const char *protocol = limits->protocol;
    const char *def_action = limits->default_action;
    int     status;

    m->conn_timeout = limits->connect_timeout;
    m->cmd_timeout = limits->command_timeout;
    m->content_timeout = limits->content_timeout;
    m->edit_limit = limits->edit_limit;
    for (int i = 0; i < MILTER_MACRO_STAGES; i++)
	m->macros[i] = mystrdup(limits->macros[i] ? limits->macros[i] : "");
    status = milter_spec(m, copy, &protocol, &def_action);
    if (status == 0 && endpoint_address(m->name, &m->addr, &m->addrlen) < 0) {
	msg_warn("malformed or unknown Milter service address: \"%s\"", m->name);
	status = -1;
    }
    if (status == 0)
	status = milter_protocol(m, protocol);
    if (status == 0)
	status = milter_def_action(m, def_action);
    myfree(copy);
    if (status < 0) {
	milter_free(m);
	return (0);
    }
    return (m);
}

void    milter_free(MILTER *m)
{
    for (int i = 0; i < MILTER_MACRO_STAGES; i++)
	myfree(m->macros[i]);
    if (m->name)
	myfree(m->name);
    myfree(m);
}

const char *milter_name(const MILTER *m)
{
    return (m->name);
}

/* milters_split - the next entry of LIST (a word or a { } group), or NULL */

static char *milters_split(char **list)
{
    char   *cp = *list + strspn(*list, ", \t\r\n");
    char   *start = cp;

    if (*cp == 0)
	return (0);
    if (*cp == '{') {
	if ((cp = strchr(cp, '}')) == 0) {
	    msg_warn("missing '}' in milter list: %s", start);
	    *list = start + strlen(start);
	    return (start);			/* milter_create() complains */
	}
	cp++;
    } else {
	cp += strcspn(cp, ", \t\r\n");
    }
    if (*cp)
	*cp++ = 0;
    *list = cp;
    return (start);
}

MILTERS *milters_create(const char *list, const MILTER_LIMITS *limits)
{
    MILTERS *milters = (MILTERS *) mycalloc(1, sizeof(*milters));
    char   *copy = mystrdup(list);
    char   *cp = copy;
    char   *entry;
    MILTER *milter;

    while ((entry = milters_split(&cp)) != 0) {
	if ((milter = milter_create(entry, limits)) == 0) {
	    myfree(copy);
	    milters_free(milters);
	    return (0);
	}
	milters->list = (MILTER **) myrealloc(milters->list,
				  sizeof(*milters->list) * (milters->count + 1));
	milters->list[milters->count++] = milter;
    }
    myfree(copy);
    return (milters);
}

void    milters_free(MILTERS *milters)
{
    for (int i = 0; i < milters->count; i++)
	milter_free(milters->list[i]);
    if (milters->list)
	myfree(milters->list);
    myfree(milters);
}

int     milters_count(const MILTERS *milters)
{
    return (milters->count);
}
