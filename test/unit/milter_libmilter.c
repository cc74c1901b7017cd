/*
 * milter_libmilter.c - a small filter on Sendmail's libmilter (Debian's
 * libmilter-dev), the reference implementation of the milter protocol,
 * for test_milter_libmilter.c to drive through lib/global/milter_clnt.c.
 *
 *   milter_libmilter unix:/path/to/socket [-n]
 *
 * What it does, decided by what it gets:
 *   connect from "reject.example"	SMFIS_REJECT
 *   sender containing "tempfail"	451 4.7.1 Try again later please
 *   recipient containing "reject"	550 5.7.1 No such user here
 *   Subject containing "reject"	550 5.7.1 Content rejected (at the end)
 *   Subject containing "quarantine"	smfi_quarantine("suspicious")
 *   at the end of every message	adds X-Filtered, inserts X-First on top,
 *	changes Subject, deletes X-Remove, adds two recipients (one with
 *	ESMTP args), deletes <bob@example.net>, changes the sender, replaces
 *	the body, and adds X-Seen with the macros and the Subject it saw and
 *	the number of body bytes
 * With -n it negotiates: no reply per header (SMFIP_NR_HDR), header
 * values with their leading space (SMFIP_HDR_LEADSPC), and only
 * "{auth_authen}" at MAIL FROM (smfi_setsymlist); it skips the body after
 * the first chunk (SMFIS_SKIP).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmilter/mfapi.h>

typedef struct PRIV {
    char    subject[200];		/* as received */
    char    macros[200];
    size_t  body_bytes;
} PRIV;

static int negotiate_flags;

static PRIV *priv(SMFICTX *ctx)
{
    PRIV   *p = smfi_getpriv(ctx);

    if (p == 0) {
	p = calloc(1, sizeof(*p));
	smfi_setpriv(ctx, p);
    }
    return (p);
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    return (strcmp(host, "reject.example") == 0 ? SMFIS_REJECT : SMFIS_CONTINUE);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    PRIV   *p = priv(ctx);
    const char *authen = smfi_getsymval(ctx, "{auth_authen}");
    const char *queue_id = smfi_getsymval(ctx, "i");

    memset(p, 0, sizeof(*p));
    snprintf(p->macros, sizeof(p->macros), "auth=%s i=%s args=%s",
	     authen ? authen : "(none)", queue_id ? queue_id : "(none)",
	     argv[1] ? argv[1] : "(none)");
    if (strstr(argv[0], "tempfail")) {
	smfi_setreply(ctx, "451", "4.7.1", "Try again later please");
	return (SMFIS_TEMPFAIL);
    }
    return (SMFIS_CONTINUE);
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    if (strstr(argv[0], "reject")) {
	smfi_setreply(ctx, "550", "5.7.1", "No such user here");
	return (SMFIS_REJECT);
    }
    return (SMFIS_CONTINUE);
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    if (strcasecmp(name, "Subject") == 0)
	snprintf(priv(ctx)->subject, sizeof(priv(ctx)->subject), "%s", value);
    return (negotiate_flags ? SMFIS_NOREPLY : SMFIS_CONTINUE);
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    priv(ctx)->body_bytes += len;
    return (negotiate_flags ? SMFIS_SKIP : SMFIS_CONTINUE);
}

/* edit - every modification the protocol has */

static int edit(SMFICTX *ctx, PRIV *p)
{
    static char body[] = "new body\r\nsecond line\r\n";
    char    seen[500];

    snprintf(seen, sizeof(seen), "%s subject=[%s] body=%lu", p->macros,
	     p->subject, (unsigned long) p->body_bytes);
    if (smfi_addheader(ctx, "X-Filtered", "yes") != MI_SUCCESS
	|| smfi_addheader(ctx, "X-Seen", seen) != MI_SUCCESS
	|| smfi_insheader(ctx, 0, "X-First", "at the top") != MI_SUCCESS
	|| smfi_chgheader(ctx, "Subject", 1, "changed subject") != MI_SUCCESS
	|| smfi_chgheader(ctx, "X-Remove", 1, (char *) 0) != MI_SUCCESS
	|| smfi_addrcpt(ctx, "<added@example.org>") != MI_SUCCESS
	|| smfi_addrcpt_par(ctx, "<added2@example.org>", "NOTIFY=NEVER") != MI_SUCCESS
	|| smfi_delrcpt(ctx, "<bob@example.net>") != MI_SUCCESS
	|| smfi_chgfrom(ctx, "<changed@example.org>", (char *) 0) != MI_SUCCESS
	|| smfi_replacebody(ctx, (unsigned char *) body, (int) strlen(body)) != MI_SUCCESS)
	return (-1);
    return (0);
}

static sfsistat on_eom(SMFICTX *ctx)
{
    PRIV   *p = priv(ctx);

    if (strstr(p->subject, "reject")) {
	smfi_setreply(ctx, "550", "5.7.1", "Content rejected");
	return (SMFIS_REJECT);
    }
    if (strstr(p->subject, "quarantine") && smfi_quarantine(ctx, "suspicious") != MI_SUCCESS)
	return (SMFIS_TEMPFAIL);
    return (edit(ctx, p) < 0 ? SMFIS_TEMPFAIL : SMFIS_CONTINUE);
}

static sfsistat on_close(SMFICTX *ctx)
{
    free(smfi_getpriv(ctx));
    smfi_setpriv(ctx, 0);
    return (SMFIS_CONTINUE);
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			             unsigned long f2, unsigned long f3,
			             unsigned long *pf0, unsigned long *pf1,
			             unsigned long *pf2, unsigned long *pf3)
{
    *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT
		 | SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT | SMFIF_CHGFROM
		 | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
    *pf1 = 0;
    *pf2 = 0;
    *pf3 = 0;
    if (negotiate_flags) {
	*pf1 = f1 & (SMFIP_NR_HDR | SMFIP_HDR_LEADSPC | SMFIP_SKIP);
	if (smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen}") != MI_SUCCESS)
	    return (SMFIS_REJECT);
    }
    return (SMFIS_CONTINUE);
}

int     main(int argc, char **argv)
{
    struct smfiDesc desc;

    if (argc < 2) {
	fprintf(stderr, "usage: %s unix:/path [-n]\n", argv[0]);
	return (2);
    }
    negotiate_flags = argc > 2 && strcmp(argv[2], "-n") == 0;
    memset(&desc, 0, sizeof(desc));
    desc.xxfi_name = "posthorn-test";
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT
	| SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT | SMFIF_CHGFROM | SMFIF_QUARANTINE
	| SMFIF_SETSYMLIST;
    desc.xxfi_connect = on_connect;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_envrcpt = on_envrcpt;
    desc.xxfi_header = on_header;
    desc.xxfi_body = on_body;
    desc.xxfi_eom = on_eom;
    desc.xxfi_close = on_close;
    desc.xxfi_negotiate = on_negotiate;
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
	fprintf(stderr, "%s: cannot set up %s\n", argv[0], argv[1]);
	return (1);
    }
    return (smfi_main() == MI_SUCCESS ? 0 : 1);
}
