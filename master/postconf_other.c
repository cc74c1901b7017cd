/*
 * postconf_other.c - postconf -m, -l, -a, -A and -T: what this build
 * supports, one name per line, as Postfix's postconf prints it.
 *
 *   -m  the table types dict_open() knows, asked of the table layer at
 *       run time (dict_type_names(), lib/tables/dict.c), sorted
 *   -l  the mailbox locks local delivery takes: fcntl and dotlock, always
 *       both (lib/store/mailbox.c, mbox_lock(); there is no flock and no
 *       mailbox_delivery_lock to choose with)
 *   -a  SASL server types (smtpd_sasl_type): cyrus
 *   -A  SASL client types: cyrus
 *   -T  compile-version, run-version (OpenSSL's version texts) or
 *       public-key-algorithms (what OpenSSL was built with)
 * -b and -t (bounce templates) are refused: Posthorn's notifications have
 * built-in texts and no bounce_template_file.
 */
#include "sys_defs.h"
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include "dict.h"
#include "msg.h"
#include "postconf.h"

static const char *pc_lock_names[] = {"fcntl", "dotlock", 0};
static const char *pc_sasl_server_types[] = {"cyrus", 0};
static const char *pc_sasl_client_types[] = {"cyrus", 0};

static const char *pc_pkey_algorithms[] = {
#ifndef OPENSSL_NO_DSA
    "dsa",
#endif
#ifndef OPENSSL_NO_EC
    "ecdsa",
#endif
    "rsa",
    0,
};

static void pc_show_names(VSTREAM *out, const char *const *names)
{
    for (; *names; names++)
	vstream_fprintf(out, "%s\n", *names);
}

void    pc_show_maps(VSTREAM *out)
{
    PC_LIST list = {0, 0, 0};
    const char *const *names;
    size_t  i;

    for (names = dict_type_names(); *names; names++)
	pc_list_add(&list, *names);
    pc_list_sort(&list);
    for (i = 0; i < list.len; i++)
	vstream_fprintf(out, "%s\n", list.item[i]);
    pc_list_free(&list);
}

void    pc_show_locks(VSTREAM *out)
{
    pc_show_names(out, pc_lock_names);
}

void    pc_show_sasl(VSTREAM *out, int mode)
{
    pc_show_names(out, (mode & PC_SHOW_SASL_SERV) ?
		  pc_sasl_server_types : pc_sasl_client_types);
}

void    pc_show_tls(VSTREAM *out, const char *what)
{
    if (strcmp(what, "compile-version") == 0) {
	vstream_fprintf(out, "%s\n", OPENSSL_VERSION_TEXT);
    } else if (strcmp(what, "run-version") == 0) {
	vstream_fprintf(out, "%s\n", OpenSSL_version(OPENSSL_VERSION));
    } else if (strcmp(what, "public-key-algorithms") == 0) {
	pc_show_names(out, pc_pkey_algorithms);
    } else {
	msg_warn("unknown 'postconf -T' mode: %s", what);
	exit(1);
    }
}

NORETURN pc_no_templates(void)
{
    msg_fatal("bounce templates (-b, -t) are not supported: "
	      "delivery status notifications have built-in texts");
}
