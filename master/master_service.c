/*
 * master_service.c - services from master.cf, their listeners, and reload.
 *
 * master_config() parses master.cf and makes the service list match it.
 * A service whose (type, listen address) is unchanged keeps its listening
 * socket across a reload; its settings are replaced, its generation
 * bumped, and its status socket closed and reopened, so that the old
 * children notice and exit once idle.  Removed services lose their
 * listener; new ones get one.  Listeners are opened while master is
 * still root, so low ports work; UNIX sockets are created (and removed)
 * with the effective ids of mail_owner, who owns public/ and private/.
 * A bad master.cf on reload is logged and the old configuration kept.
 *
 * Parameters: default_process_limit, inet_interfaces, mail_owner,
 * daemon_directory (and service_throttle_time in master_spawn.c).
 */
#include "sys_defs.h"
#include <ctype.h>
#include <pwd.h>
#include "events.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_owner.h"
#include "set_eugid.h"
#include "master.h"

#define MASTER_LISTEN_BACKLOG	65535	/* the kernel caps it at net.core.somaxconn */

MASTER_SERV *master_services;
unsigned master_generation;

/* master_interface - the first inet_interfaces address, as host for host:port */
static void master_interface(VSTRING *host)
{
    static int warned;
    char   *list = mystrdup(conf_str("inet_interfaces"));
    char   *save = 0;
    char   *first = strtok_r(list, ", \t\n", &save);

    vstring_reset(host);
    if (first == 0 || strcmp(first, "all") == 0) {
	/* wildcard */
    } else if (strcmp(first, "loopback-only") == 0 || strcmp(first, "localhost") == 0) {
	vstring_strcpy(host, "127.0.0.1");
    } else if (strchr(first, ':') && first[0] != '[') {
	vstring_sprintf(host, "[%s]", first);
    } else {
	vstring_strcpy(host, first);
    }
    if (first && strtok_r((char *) 0, ", \t\n", &save) && !warned++)
	msg_warn("inet_interfaces: only the first address (%s) is used", first);
    myfree(list);
}

/* master_listen_addr - where ENT listens: "host:port", ":port" or public/NAME */
static char *master_listen_addr(const MASTER_CF_ENT *ent)
{
    VSTRING *addr = vstring_alloc(64);
    VSTRING *err = vstring_alloc(64);

    if (ent->type == MASTER_CF_UNIX) {
	vstring_sprintf(addr, "%s/%s", ent->private_ ? MAIL_QUEUE_PRIVATE :
			MAIL_QUEUE_PUBLIC, ent->name);
    } else {
	if (master_cf_inet_addr(ent->name, addr, err) < 0)
	    msg_panic("%s: %s", __func__, STR(err));	/* checked by the parser */
	if (STR(addr)[0] == ':') {
	    master_interface(err);
	    vstring_strcat(err, STR(addr));
	    vstring_strcpy(addr, STR(err));
	}
    }
    vstring_free(err);
    return (vstring_export(addr));
}

/* master_open_listener - bind SERV's address; -1 with errno on failure */
static int master_open_listener(MASTER_SERV *serv, int private_)
{
    uid_t   uid;
    gid_t   gid;
    int     fd, saved;

    if (serv->type == MASTER_CF_INET) {
	fd = inet_listen(serv->addr, MASTER_LISTEN_BACKLOG);
    } else {
	/* As mail_owner, as Postfix: public/ and private/ are that account's */
	mail_owner_ids(&uid, &gid);
	set_eugid(uid, gid);
	fd = unix_listen(serv->addr, MASTER_LISTEN_BACKLOG, private_ ? 0600 : 0666);
	saved = errno;
	set_eugid(0, 0);
	errno = saved;
    }
    if (fd >= 0) {
	non_blocking(fd, NON_BLOCKING);
	close_on_exec(fd, 1);
    }
    return (fd);
}

/* master_set_fields - copy ENT's settings into SERV */
static void master_set_fields(MASTER_SERV *serv, const MASTER_CF_ENT *ent)
{
    const char *cmd = ent->argv[0];
    VSTRING *path = vstring_alloc(100);
    int     i;

    if (serv->argv) {
	for (i = 0; serv->argv[i]; i++)
	    myfree(serv->argv[i]);
	myfree(serv->argv);
	myfree(serv->name);
	myfree(serv->path);
    }
    serv->name = mystrdup(ent->name);
    serv->type = ent->type;
    serv->unpriv = ent->unpriv;
    serv->chroot = ent->chroot;
    serv->wakeup = ent->wakeup;
    serv->wakeup_cond = ent->wakeup_cond;
    serv->maxproc = ent->maxproc;
    serv->argv = mymalloc(sizeof(char *) * (ent->argc + 1));
    for (i = 0; i < ent->argc; i++)
	serv->argv[i] = mystrdup(ent->argv[i]);
    serv->argv[ent->argc] = 0;
    if (strchr(cmd, '/'))
	vstring_strcpy(path, cmd);
    else
	vstring_sprintf(path, "%s/%s", conf_str("daemon_directory"), cmd);
    serv->path = vstring_export(path);
}

/* master_unlink_socket - remove a UNIX socket, as mail_owner */
static void master_unlink_socket(const char *path)
{
    uid_t   uid;
    gid_t   gid;

    mail_owner_ids(&uid, &gid);
    set_eugid(uid, gid);
    (void) unlink(path);
    set_eugid(0, 0);
}

/* master_serv_free - stop a service that is gone from master.cf */
static void master_serv_free(MASTER_SERV *serv)
{
    int     i;

    master_wakeup_cancel(serv);
    master_throttle_cancel(serv);
    if (serv->listening)
	event_disable_readwrite(serv->listen_fd);
    if (serv->listen_fd >= 0)
	close(serv->listen_fd);
    if (serv->type == MASTER_CF_UNIX && !master_stopping)
	master_unlink_socket(serv->addr);
    master_status_close(serv);
    master_detach_children(serv);
    for (i = 0; serv->argv[i]; i++)
	myfree(serv->argv[i]);
    myfree(serv->argv);
    myfree(serv->name);
    myfree(serv->path);
    myfree(serv->addr);
    myfree(serv);
}

/* master_find_unclaimed - a current service with the same type and address */
static MASTER_SERV *master_find_unclaimed(int type, const char *addr)
{
    MASTER_SERV *serv;

    for (serv = master_services; serv; serv = serv->next)
	if (!serv->claimed && serv->type == type && strcmp(serv->addr, addr) == 0)
	    return (serv);
    return (0);
}

/* master_serv_new - a service with its own listener; NULL if it can't listen */
static MASTER_SERV *master_serv_new(const MASTER_CF_ENT *ent, char *addr, int reload)
{
    MASTER_SERV *serv = mycalloc(1, sizeof(*serv));

    serv->addr = addr;
    serv->type = ent->type;
    serv->status_fd = serv->child_status_fd = -1;
    if ((serv->listen_fd = master_open_listener(serv, ent->private_)) < 0) {
	if (!reload)
	    msg_fatal("bind %s service %s: %m", master_cf_type_name(ent->type), addr);
	msg_warn("bind %s service %s: %m -- service skipped",
		 master_cf_type_name(ent->type), addr);
	myfree(addr);
	myfree(serv);
	return (0);
    }
    master_set_fields(serv, ent);
    return (serv);
}

/* master_serv_restart - new settings and a new generation for SERV */
static void master_serv_restart(MASTER_SERV *serv, const MASTER_CF_ENT *ent)
{
    master_wakeup_cancel(serv);
    master_status_close(serv);
    master_detach_children(serv);
    master_set_fields(serv, ent);
}

/* master_merge - make the service list match CF */
static void master_merge(const MASTER_CF *cf, int reload)
{
    MASTER_SERV **match = mycalloc(cf->count + 1, sizeof(*match));
    MASTER_SERV *head = 0;
    MASTER_SERV **tail = &head;
    MASTER_SERV *serv;
    MASTER_SERV *next;
    char  **addrs = mycalloc(cf->count + 1, sizeof(*addrs));
    int     i;

    /* Pair entries with current services while the old list is intact. */
    for (serv = master_services; serv; serv = serv->next)
	serv->claimed = 0;
    for (i = 0; i < cf->count; i++) {
	addrs[i] = master_listen_addr(cf->ents + i);
	if ((match[i] = master_find_unclaimed(cf->ents[i].type, addrs[i])) != 0)
	    match[i]->claimed = 1;
    }
    for (serv = master_services; serv; serv = next) {
	next = serv->next;
	if (!serv->claimed)
	    master_serv_free(serv);
    }
    for (i = 0; i < cf->count; i++) {
	if ((serv = match[i]) != 0) {
	    myfree(addrs[i]);
	    master_serv_restart(serv, cf->ents + i);
	} else if ((serv = master_serv_new(cf->ents + i, addrs[i], reload)) == 0) {
	    continue;
	}
	*tail = serv;
	tail = &serv->next;
    }
    *tail = 0;
    master_services = head;
    myfree(match);
    myfree(addrs);
}

int     master_config(int reload)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *err = vstring_alloc(100);
    MASTER_CF *cf;
    MASTER_SERV *serv;

    if (reload)
	mail_conf_read(0);
    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    cf = master_cf_parse(STR(path), conf_int("default_process_limit"), err);
    vstring_free(path);
    if (cf == 0) {
	if (!reload)
	    msg_fatal("%s", STR(err));
	msg_warn("%s -- keeping the old master.cf settings", STR(err));
	vstring_free(err);
	return (-1);
    }
    vstring_free(err);
    master_generation++;
    master_merge(cf, reload);
    master_cf_free(cf);
    for (serv = master_services; serv; serv = serv->next) {
	serv->gen = master_generation;
	master_status_open(serv);
	master_wakeup_start(serv);
	master_avail_listen(serv);
    }
    return (0);
}

void    master_reload(void)
{
    if (master_config(1) == 0) {
	/* posthorn logrotate renamed the log: our lines go to a new one */
	msg_hostname(conf_str("myhostname"));
	if (*conf_str("maillog_file"))
	    msg_logfile(conf_str("maillog_file"));
	msg_info("reload -- version %s, configuration %s",
		 conf_str("mail_version"), mail_conf_dir());
    }
}

void    master_close_listeners(void)
{
    MASTER_SERV *serv;

    for (serv = master_services; serv; serv = serv->next) {
	master_wakeup_cancel(serv);
	if (serv->listening)
	    event_disable_readwrite(serv->listen_fd);
	serv->listening = 0;
	if (serv->listen_fd >= 0)
	    close(serv->listen_fd);
	serv->listen_fd = -1;
	master_status_close(serv);
    }
}
