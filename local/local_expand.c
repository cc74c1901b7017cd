/*
 * local_expand.c - from one recipient to its destinations, as local(8).
 *
 * local_expand_rcpt() first bounces a recipient already named in a
 * Delivered-To: header ("mail forwarding loop for ..."), then expands it:
 *
 *   address in another domain  -> forwarded (local_resubmit.c)
 *   virtual mailbox domain     -> that mailbox
 *   local name (local part, lower case; with, then without extension):
 *     alias_maps entry         -> its elements, recursively (local_alias.c)
 *     user                     -> ~/.forward if any (local_forward.c),
 *                                 else mailbox_transport
 *                                 (local_transport.c), else
 *                                 mailbox_command_maps or
 *                                 mailbox_command (run as the user,
 *                                 $names expanded as in forward_path),
 *                                 else the user's mailbox
 *     no such user             -> mailbox_transport, else
 *                                 fallback_transport, else bounced (5.1.1)
 *   element "|command", "/file", ":include:/file", "\user" (mailbox only)
 *
 * As Postfix: a name found in its own alias expansion (or a user in their
 * own .forward) goes to the user's mailbox.  An alias or .forward that
 * reappears among its own ancestors is a loop: that branch is bounced
 * ("mail forwarding loop for NAME", 5.4.6) and logged, never followed;
 * expansion depth is limited to LOCAL_MAX_LEVEL and destinations to
 * LOCAL_MAX_LEAVES.  A destination reached twice is delivered once.
 * Names without a domain get @$myorigin.
 *
 * Every destination ("leaf") records its outcome with local_leaf(); the
 * recipient's result is the worst of them (defer > bounce > sent).
 */
#include "sys_defs.h"
#include <ctype.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "address.h"
#include "resolve.h"
#include "mailbox_find.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "local.h"

/* local_rank - how bad a status is */

static int local_rank(int status)
{
    return (status == DELIVER_STAT_DEFER ? 2 :
	    status == DELIVER_STAT_BOUNCE ? 1 : 0);
}

/* local_leaf_add - record one destination's outcome; LOGGED: not by us */

static void local_leaf_add(LOCAL_DELIVERY *d, const char *to,
			           const LOCAL_RESULT *res, int logged)
{
    LOCAL_LOG *log;

    if (d->log_count == d->log_size) {
	d->log_size = d->log_size ? 2 * d->log_size : 4;
	d->logs = (LOCAL_LOG *) myrealloc(d->logs, d->log_size * sizeof(*d->logs));
    }
    log = d->logs + d->log_count++;
    log->to = mystrdup(to);
    log->status = res->status;
    log->dsn = mystrdup(res->dsn);
    log->reason = mystrdup(STR(res->reason));
    log->logged = logged;
    if (d->result->status < 0
	|| local_rank(res->status) > local_rank(d->result->status))
	local_result(d->result, res->status, log->dsn, "%s", STR(res->reason));
}

void    local_leaf_result(LOCAL_DELIVERY *d, const char *to, const LOCAL_RESULT *res)
{
    local_leaf_add(d, to, res, 0);
}

void    local_leaf_passed(LOCAL_DELIVERY *d, const char *to, const LOCAL_RESULT *res)
{
    local_leaf_add(d, to, res, 1);
}

void    local_leaf(LOCAL_DELIVERY *d, const char *to, int status, const char *dsn,
		           const char *fmt,...)
{
    LOCAL_RESULT res;
    va_list ap;

    res.status = status;
    res.dsn = dsn;
    res.reason = vstring_alloc(100);
    va_start(ap, fmt);
    vstring_vsprintf_append(res.reason, fmt, ap);
    va_end(ap);
    local_leaf_result(d, to, &res);
    vstring_free(res.reason);
}

int     local_seen(LOCAL_DELIVERY *d, const char *kind, const char *name)
{
    VSTRING *key = vstring_alloc(100);
    int     found = 0;

    vstring_sprintf(key, "%s:%s", kind, name);
    for (int i = 0; i < d->seen.count && !found; i++)
	found = (strcmp(d->seen.addrs[i], STR(key)) == 0);
    if (!found)
	addr_list_add(&d->seen, STR(key));
    vstring_free(key);
    return (found);
}

int     local_allowed(const char *param, const LOCAL_EXP *exp)
{
    static const char *names[] = {"", "alias", "forward", "include"};
    char   *list = mystrdup(conf_str(param));
    char   *cp = list;
    char   *word;
    int     found = 0;

    while (!found && (word = strsep(&cp, ", \t\r\n")) != 0)
	found = (*word && strcasecmp(word, names[exp->type]) == 0);
    myfree(list);
    return (found);
}

/* local_ancestor - is TYPE:NAME being expanded above EXP? */

static int local_ancestor(const LOCAL_EXP *exp, int type, const char *name)
{
    for (; exp; exp = exp->parent)
	if (exp->type == type && exp->name && strcmp(exp->name, name) == 0)
	    return (1);
    return (0);
}

/* local_loop - bounce a loop at ADDR */

static void local_loop(LOCAL_DELIVERY *d, const char *addr)
{
    msg_warn("%s: mail forwarding loop for %s", d->state->req->queue_id, addr);
    local_leaf(d, addr, DELIVER_STAT_BOUNCE, "5.4.6",
	       "mail forwarding loop for %s", addr);
}

/* local_owner_sender - owner-NAME@$myorigin if that alias exists */

static const char *local_owner_sender(const LOCAL_EXP *parent, const char *name,
				              VSTRING *buf)
{
    LOCAL_PRIV priv;
    VSTRING *value = vstring_alloc(100);
    int     found;

    if (*parent->sender == 0 || strncmp(name, "owner-", 6) == 0) {
	vstring_free(value);
	return (parent->sender);
    }
    vstring_sprintf(buf, "owner-%s", name);
    memset(&priv, 0, sizeof(priv));
    found = local_alias_find(STR(buf), value, &priv);
    local_priv_free(&priv);
    vstring_free(value);
    if (found <= 0)
	return (parent->sender);
    vstring_sprintf_append(buf, "@%s", conf_str("myorigin"));
    return (STR(buf));
}

/* local_alias - expand alias NAME (of ADDR) into VALUE's elements */

static void local_alias(LOCAL_DELIVERY *d, const LOCAL_EXP *parent,
			        const char *addr, const char *name,
			        const char *value, const LOCAL_PRIV *priv)
{
    LOCAL_EXP exp;
    VSTRING *owner = vstring_alloc(100);

    if (local_ancestor(parent, LOCAL_EXP_ALIAS, name)) {
	local_loop(d, addr);
    } else if (!local_seen(d, "alias", name)) {
	exp.parent = parent;
	exp.type = LOCAL_EXP_ALIAS;
	exp.name = name;
	exp.addr = addr;
	exp.priv = priv;
	exp.sender = local_owner_sender(parent, name, owner);
	exp.level = parent->level + 1;
	local_expand_list(d, &exp, value);
    }
    vstring_free(owner);
}

/* local_try_alias - 1 when NAME (or BARE) is an alias and was expanded */

static int local_try_alias(LOCAL_DELIVERY *d, const LOCAL_EXP *parent,
			           const char *addr, const char *name,
			           const char *bare)
{
    const char *keys[2] = {name, strcmp(name, bare) ? bare : 0};
    VSTRING *value = vstring_alloc(100);
    LOCAL_PRIV priv;
    int     found = 0;

    memset(&priv, 0, sizeof(priv));
    for (int i = 0; i < 2 && keys[i] && found == 0; i++) {
	/* "alias expands to itself": deliver to the user instead */
	if (parent->type == LOCAL_EXP_ALIAS && strcmp(parent->name, keys[i]) == 0)
	    break;
	if ((found = local_alias_find(keys[i], value, &priv)) > 0)
	    local_alias(d, parent, addr, keys[i], STR(value), &priv);
    }
    if (found < 0)
	local_leaf(d, addr, DELIVER_STAT_DEFER, "4.3.0",
		   "alias database unavailable");
    local_priv_free(&priv);
    vstring_free(value);
    return (found != 0);
}

/*
 * local_mailbox_cmd - USER's mailbox_command_maps entry, else
 * mailbox_command, with its $names expanded into CMD; 1: there is one,
 * 0: none, -1: the table failed
 */
static int local_mailbox_cmd(const char *addr, const char *name,
			             const USER_INFO *user, VSTRING *cmd)
{
    static MAPS *maps;
    const char *command = 0;

    if (*conf_str("mailbox_command_maps")) {
	if (maps == 0)
	    maps = maps_create("mailbox_command_maps",
			       conf_str("mailbox_command_maps"), DICT_FLAG_FOLD_KEY);
	if ((command = maps_find(maps, name)) == 0 && maps->error)
	    return (-1);
    }
    if (command == 0)
	command = conf_raw("mailbox_command") ? conf_raw("mailbox_command") : "";
    if (*command == 0)
	return (0);
    local_user_expand(cmd, command, addr, user);
    return (1);
}

/* local_mailbox_run - mailbox_command CMD as USER */

static void local_mailbox_run(LOCAL_DELIVERY *d, const char *addr, const char *name,
			              const USER_INFO *user, const char *cmd)
{
    LOCAL_PRIV priv;
    LOCAL_EXP exp;

    memset(&priv, 0, sizeof(priv));
    local_priv_user(&priv, user);
    memset(&exp, 0, sizeof(exp));
    exp.type = LOCAL_EXP_NONE;
    exp.name = name;
    exp.addr = addr;
    exp.priv = &priv;
    exp.sender = d->state->req->sender;
    local_mailbox_command(d, &exp, cmd);
    local_priv_free(&priv);
}

/*
 * local_mailbox - deliver to USER's mailbox, or hand it to
 * mailbox_transport (as Postfix, also for a NAME that is no local user:
 * USER is null then), or to mailbox_command.
 */
static void local_mailbox(LOCAL_DELIVERY *d, const char *addr, const char *name,
			          const USER_INFO *user)
{
    const char *transport = conf_str("mailbox_transport");
    LOCAL_DEST dest;
    LOCAL_RESULT res;
    VSTRING *cmd;
    int     has_cmd;

    if (local_seen(d, "mailbox", name))
	return;
    if (*transport) {
	local_transport(d, addr, transport);
	return;
    }
    if (user) {
	cmd = vstring_alloc(100);
	if ((has_cmd = local_mailbox_cmd(addr, name, user, cmd)) < 0)
	    local_leaf(d, addr, DELIVER_STAT_DEFER, "4.3.0",
		       "mailbox_command_maps lookup failure");
	else if (has_cmd > 0)
	    local_mailbox_run(d, addr, name, user, STR(cmd));
	vstring_free(cmd);
	if (has_cmd != 0)
	    return;
    }
    memset(&dest, 0, sizeof(dest));
    dest.path = vstring_alloc(100);
    res.reason = vstring_alloc(100);
    if (local_user_dest(name, user, &dest, &res) == 0
	&& local_deliver(d->state, d->rcpt, &dest, &res) == 0)
	local_result(&res, DELIVER_STAT_OK, "2.0.0", "delivered to %s",
		     dest.kind == LOCAL_MAILBOX_MAILDIR ? "maildir" : "mailbox");
    local_leaf_result(d, addr, &res);
    vstring_free(res.reason);
    vstring_free(dest.path);
}

/* local_fallback - NAME is no local user: fallback_transport takes it */

static void local_fallback(LOCAL_DELIVERY *d, const char *addr, const char *name)
{
    if (!local_seen(d, "fallback", name))
	local_transport(d, addr, conf_str("fallback_transport"));
}

/* local_expand_user - a local name: alias, user, .forward, mailbox */

static void local_expand_user(LOCAL_DELIVERY *d, const LOCAL_EXP *parent,
			              const char *addr, VSTRING *local, int direct)
{
    VSTRING *bare = vstring_alloc(100);
    USER_INFO user;
    int     found;

    vstring_lowercase(local);
    vstring_strcpy(bare, STR(local));
    resolve_strip_extension(bare);
    if (!direct && local_try_alias(d, parent, addr, STR(local), STR(bare))) {
	vstring_free(bare);
	return;
    }
    memset(&user, 0, sizeof(user));
    found = mailbox_name_ok(STR(bare)) ? user_by_name(STR(bare), &user) : 0;
    if (found < 0)
	local_leaf(d, addr, DELIVER_STAT_DEFER, "4.3.0",
		   "user lookup error for \"%s\": %s", STR(bare), strerror(errno));
    else if (found == 0 && *conf_str("mailbox_transport"))
	local_mailbox(d, addr, STR(bare), (USER_INFO *) 0);
    else if (found == 0 && *conf_str("fallback_transport"))
	local_fallback(d, addr, STR(bare));
    else if (found == 0)
	local_leaf(d, addr, DELIVER_STAT_BOUNCE, "5.1.1",
		   "unknown user: \"%s\"", STR(bare));
    else if (direct
	     || (parent->type == LOCAL_EXP_FORWARD && strcmp(parent->name, STR(bare)) == 0)
	     || local_forward(d, parent, addr, &user) == 0)
	local_mailbox(d, addr, STR(bare), &user);
    if (found > 0)
	user_info_free(&user);
    vstring_free(bare);
}

/* local_virtual - a virtual mailbox */

static void local_virtual(LOCAL_DELIVERY *d, const char *addr)
{
    LOCAL_DEST dest;
    LOCAL_RESULT res;
    VSTRING *key = vstring_lowercase(vstring_strcpy(vstring_alloc(100), addr));

    if (!local_seen(d, "virtual", STR(key))) {
	memset(&dest, 0, sizeof(dest));
	dest.path = vstring_alloc(100);
	res.reason = vstring_alloc(100);
	if (local_virtual_dest(addr, &dest, &res) == 0
	    && local_deliver(d->state, d->rcpt, &dest, &res) == 0)
	    local_result(&res, DELIVER_STAT_OK, "2.0.0", "delivered to %s",
		     dest.kind == LOCAL_MAILBOX_MAILDIR ? "maildir" : "mailbox");
	local_leaf_result(d, addr, &res);
	vstring_free(res.reason);
	vstring_free(dest.path);
    }
    vstring_free(key);
}

void    local_expand_addr(LOCAL_DELIVERY *d, const LOCAL_EXP *parent, const char *addr)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    VSTRING *full = vstring_alloc(100);
    int     direct = (*addr == '\\' && parent->level > 0);

    if (direct)
	addr++;
    if (addr_split(addr, local, domain) < 0 || LEN(local) == 0) {
	local_leaf(d, addr, DELIVER_STAT_BOUNCE, "5.1.3",
		   "bad address syntax: \"%s\"", addr);
    } else {
	vstring_strcpy(full, addr);
	if (LEN(domain) == 0 && parent->level > 0) {
	    vstring_strcpy(domain, conf_str("myorigin"));
	    vstring_sprintf_append(full, "@%s", STR(domain));
	}
	switch (deliver_domain_class(STR(domain))) {
	case DELIVER_CLASS_ERROR:
	    local_leaf(d, STR(full), DELIVER_STAT_DEFER, "4.3.0",
		       "table lookup failure for domain \"%s\"", STR(domain));
	    break;
	case DELIVER_CLASS_VIRTUAL:
	    local_virtual(d, STR(full));
	    break;
	case DELIVER_CLASS_RELAY:
	    if (parent->level > 0) {
		local_resubmit_add(d, parent, STR(full));
		break;
	    }
	    /* As local(8): for the recipient itself only the local part counts */
	    __attribute__((fallthrough));
	default:
	    local_expand_user(d, parent, STR(full), local, direct);
	    break;
	}
    }
    vstring_free(local);
    vstring_free(domain);
    vstring_free(full);
}

/* local_expand_token - one element of an alias, .forward or include file */

static void local_expand_token(LOCAL_DELIVERY *d, const LOCAL_EXP *exp,
			               const char *elem)
{
    static const char include[] = ":include:";
    VSTRING *path;

    if (d->leaves++ >= LOCAL_MAX_LEAVES) {
	if (d->leaves == LOCAL_MAX_LEAVES + 1)
	    local_leaf(d, exp->addr, DELIVER_STAT_BOUNCE, "5.3.0",
		       "too many destinations in the expansion of %s", exp->addr);
    } else if (exp->level > LOCAL_MAX_LEVEL) {
	local_loop(d, exp->addr);
    } else if (*elem == '/') {
	local_file(d, exp, elem);
    } else if (*elem == '~' && elem[1] == '/' && *exp->priv->home) {
	path = vstring_alloc(100);
	vstring_sprintf(path, "%s%s", exp->priv->home, elem + 1);
	local_file(d, exp, STR(path));
	vstring_free(path);
    } else if (*elem == '|') {
	local_command(d, exp, elem + 1);
    } else if (strncasecmp(elem, include, sizeof(include) - 1) == 0) {
	local_include(d, exp, elem + sizeof(include) - 1);
    } else {
	local_expand_addr(d, exp, elem);
    }
}

void    local_expand_list(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, const char *text)
{
    ADDR_LIST list = {0, 0, 0};

    addr_parse_alias(text, &list);
    for (int i = 0; i < list.count; i++)
	local_expand_token(d, exp, list.addrs[i]);
    addr_list_free(&list);
}

void    local_expand_rcpt(LOCAL_DELIVERY *d)
{
    LOCAL_EXP top;
    VSTRING *why = vstring_alloc(100);
    const char *rcpt = d->rcpt->address;
    int     found;

    memset(&top, 0, sizeof(top));
    top.type = LOCAL_EXP_NONE;
    top.addr = rcpt;
    top.sender = d->state->req->sender;
    if ((found = local_delivered_find(d->state, rcpt, why)) < 0)
	local_leaf(d, rcpt, DELIVER_STAT_DEFER, "4.3.0",
		   "cannot read queue file: %s", STR(why));
    else if (found > 0)
	local_leaf(d, rcpt, DELIVER_STAT_BOUNCE, "5.4.6",
		   "mail forwarding loop for %s", rcpt);
    else
	local_expand_addr(d, &top, rcpt);
    if (d->result->status != DELIVER_STAT_DEFER)
	local_resubmit(d);
    if (d->result->status < 0)			/* every destination a duplicate */
	local_leaf(d, rcpt, DELIVER_STAT_OK, "2.0.0", "discarded");
    vstring_free(why);
}
