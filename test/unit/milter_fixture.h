/*
 * milter_fixture.h - what the unit tests of the milter client share: a
 * RESULT that keeps what a command's callback got, with the end-of-message
 * edits flattened to text lines for comparing.
 *
 * Include after <cmocka.h>, "vstring.h" and "milter_clnt.h":
 *   RESULT r;                       done, action, text, mods
 *   milter_fixture_keep(result, &r) count the callback, keep its result
 */
#ifndef MILTER_FIXTURE_H
#define MILTER_FIXTURE_H

typedef struct RESULT {
    int     done;
    int     action;
    char    text[300];
    char    mods[4000];
} RESULT;

/* milter_fixture_mods - the edits as "type index name|value|data" lines */

static inline void milter_fixture_mods(const MILTER_MOD *mod, char *buf, size_t size)
{
    VSTRING *out = vstring_alloc(100);

    for (; mod; mod = mod->next) {
	vstring_sprintf_append(out, "%d %ld %s|%s|", mod->type, mod->index,
			       mod->name ? mod->name : "-", mod->value ? mod->value : "-");
	if (mod->data)
	    vstring_memcat(out, mod->data, mod->len);
	vstring_strcat(out, "\n");
    }
    snprintf(buf, size, "%s", STR(out));
    vstring_free(out);
}

static inline void milter_fixture_keep(const MILTER_RESULT *result, RESULT *r)
{
    r->done++;
    r->action = result->action;
    snprintf(r->text, sizeof(r->text), "%s", result->text ? result->text : "");
    milter_fixture_mods(result->mods, r->mods, sizeof(r->mods));
}

#endif
