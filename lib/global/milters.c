/*
 * milters.c - several filters in a row (smtpd_milters, non_smtpd_milters);
 * see MILTERS in milter_clnt.h.  The list comes from milter_conf.c.
 *
 * A chain keeps its own copy of the command in progress and gives it to
 * one filter after the other, each through milter_command(); the next
 * filter gets it from the callback of the one before.  End-of-message
 * edits are taken from each filter's session as its result comes in.
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "events.h"
#include "milter_priv.h"

struct MILTERS_SESS {
    MILTERS *milters;
    MILTER_SESS **sess;
    MILTER_CMD cmd;			/* the command in progress, copied */
    char  **argv;
    int     next;			/* the filter it goes to next */
    int     in_call;			/* inside a milters_xxx() call */
    MILTER_FN done;
    void   *context;
    MILTER_RESULT result;		/* for the callback */
    MILTER_MOD *mods;			/* every filter's edits */
    MILTER_MOD **mods_tail;
};

static void milters_step(MILTERS_SESS *chain);

MILTERS_SESS *milters_session(MILTERS *milters, MILTER_MACRO_FN lookup, void *context)
{
    MILTERS_SESS *chain = (MILTERS_SESS *) mycalloc(1, sizeof(*chain));

    chain->milters = milters;
    chain->sess = (MILTER_SESS **) mycalloc(milters->count + 1, sizeof(*chain->sess));
    for (int i = 0; i < milters->count; i++)
	chain->sess[i] = milter_session(milters->list[i], lookup, context);
    chain->mods_tail = &chain->mods;
    return (chain);
}

MILTER_SESS *milters_member(MILTERS_SESS *chain, int index)
{
    if (index < 0 || index >= chain->milters->count)
	msg_panic("milters_member: no filter %d", index);
    return (chain->sess[index]);
}

/* milters_forget - drop the copy of the last command and its edits */

static void milters_forget(MILTERS_SESS *chain)
{
    if (chain->argv) {
	for (char **cpp = chain->argv; *cpp; cpp++)
	    myfree(*cpp);
	myfree(chain->argv);
	chain->argv = 0;
    }
    if (chain->cmd.data)
	myfree((char *) chain->cmd.data);
    memset(&chain->cmd, 0, sizeof(chain->cmd));
    milter_mods_free(chain->mods);
    chain->mods = 0;
    chain->mods_tail = &chain->mods;
}

static void milters_later(int event, void *context);

void    milters_session_free(MILTERS_SESS *chain)
{
    for (int i = 0; i < chain->milters->count; i++)
	milter_session_free(chain->sess[i]);
    event_cancel_timer(milters_later, chain);
    milters_forget(chain);
    myfree(chain->sess);
    myfree(chain);
}

/* milters_finish - the chain's result; its callback runs last */

static void milters_finish(MILTERS_SESS *chain, const MILTER_RESULT *result)
{
    MILTER_FN done = chain->done;

    chain->result = *result;
    chain->result.mods = chain->cmd.event == SMFIC_BODYEOB ? chain->mods : 0;
    if (chain->in_call) {			/* never inside the caller's call */
	event_request_timer(milters_later, chain, 0);
	return;
    }
    chain->done = 0;
    if (done)
	done(&chain->result, chain->context);
}

static void milters_later(int event, void *context)
{
    MILTERS_SESS *chain = context;
    MILTER_FN done = chain->done;

    chain->done = 0;
    if (done)
	done(&chain->result, chain->context);
}

/* milters_done - one filter's result: on to the next one, or the end */

static void milters_done(const MILTER_RESULT *result, void *context)
{
    MILTERS_SESS *chain = context;

    if (chain->cmd.event == SMFIC_BODYEOB) {
	*chain->mods_tail = milter_mods_take(chain->sess[chain->next]);
	while (*chain->mods_tail)
	    chain->mods_tail = &(*chain->mods_tail)->next;
    }
    if (!chain->cmd.rejected && result->action != MILTER_CONTINUE
	&& result->action != MILTER_ACCEPT) {
	milters_finish(chain, result);
	return;
    }
    chain->next++;
    milters_step(chain);
}

static void milters_step(MILTERS_SESS *chain)
{
    static const MILTER_RESULT all_continue = {MILTER_CONTINUE, 0, 0, 0};
    MILTER_SESS *sess;

    while (chain->next < chain->milters->count) {
	sess = chain->sess[chain->next];
	if (chain->cmd.rejected && !milter_rcpt_rejected_wanted(sess)) {
	    chain->next++;
	    continue;
	}
	milter_command(sess, &chain->cmd, milters_done, chain);
	return;
    }
    milters_finish(chain, &all_continue);
}

void    milters_command(MILTERS_SESS *chain, const MILTER_CMD *cmd,
			        MILTER_FN done, void *context)
{
    int     argc = 0;

    if (chain->done != 0)
	msg_panic("milters: %s request while another is in progress",
		  milter_cmd_name(cmd->event));
    milters_forget(chain);
    chain->cmd = *cmd;
    if (cmd->argv) {
	while (cmd->argv[argc])
	    argc++;
	chain->argv = (char **) mycalloc(argc + 1, sizeof(char *));
	for (int i = 0; i < argc; i++)
	    chain->argv[i] = mystrdup(cmd->argv[i]);
	chain->cmd.argv = (const char **) chain->argv;
    }
    if (cmd->data)
	chain->cmd.data = mymemdup(cmd->data, cmd->len);
    chain->done = done;
    chain->context = context;
    chain->next = 0;
    chain->in_call = 1;
    milters_step(chain);
    chain->in_call = 0;
}

void    milters_abort(MILTERS_SESS *chain)
{
    int     event = chain->cmd.event;

    if (chain->done && event != SMFIC_CONNECT && event != SMFIC_HELO
	&& event != SMFIC_UNKNOWN) {		/* a message command: cancelled */
	event_cancel_timer(milters_later, chain);
	chain->done = 0;
	milters_forget(chain);
    }
    for (int i = 0; i < chain->milters->count; i++)
	milter_abort(chain->sess[i]);
}
