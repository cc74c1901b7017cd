/*
 * test_dict_pgsql.c - unit tests for lib/tables/dict_pgsql.c (pgsql: tables,
 * Postfix's pgsql_table(5), over libpq): the tests that need no server,
 * shared with the other database tables (sql_fixture.h).
 */
#include "sys_defs.h"
#include <setjmp.h>
#include <cmocka.h>
#include "msg.h"
#include "vstring.h"
#include "dict.h"
#include "dict_fixture.h"
#include "sql_fixture.h"

static int setup(void **state)
{
    sql_kind = "pgsql";
    return (fixture_setup("test_dict_pgsql"));
}

static int teardown(void **state)
{
    return (fixture_teardown());
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_bad_configuration),
	cmocka_unit_test(test_no_server_answers),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
