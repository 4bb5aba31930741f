/* The summaries of ended sessions (server/history.c): newest first, one per
 * id (the same session served again replaces its older summary), at most
 * cap of them with the oldest dropped, and every reference given back. */
#include <stdio.h>

#include "server/history.h"
#include "tests/unit/unit.h"

static json_t *session(const char *id, const char *state)
{
    return json_pack("{s:s, s:s}", "id", id, "state", state);
}

static json_t *machines(int n)
{
    json_t *a = json_array();
    int i;

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:i}", "id", i));
    return a;
}

static const char *state_of(const struct fc_summary *e)
{
    return json_string_value(json_object_get(e->session, "state"));
}

START_TEST(test_newest_first_and_get)
{
    struct fc_history *h = fc_history_new(10);

    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(fc_history_count(h), 0);
    ck_assert_ptr_null(fc_history_at(h, 0));
    ck_assert_int_eq(fc_history_add(h, "0000000a", session("0000000a", "finished"), machines(2)),
                     0);
    ck_assert_int_eq(fc_history_add(h, "0000000b", session("0000000b", "aborted"), machines(0)), 0);
    ck_assert_uint_eq(fc_history_count(h), 2);
    ck_assert_str_eq(fc_history_at(h, 0)->id, "0000000b");
    ck_assert_str_eq(fc_history_at(h, 1)->id, "0000000a");
    ck_assert_ptr_null(fc_history_at(h, 2));
    ck_assert_str_eq(state_of(fc_history_get(h, "0000000a")), "finished");
    ck_assert_uint_eq(json_array_size(fc_history_get(h, "0000000a")->machines), 2);
    ck_assert_ptr_null(fc_history_get(h, "0000000c"));
    fc_history_free(h);
}
END_TEST

START_TEST(test_same_id_replaces)
{
    struct fc_history *h = fc_history_new(10);

    fc_history_add(h, "0000000a", session("0000000a", "aborted"), machines(0));
    fc_history_add(h, "0000000b", session("0000000b", "finished"), machines(1));
    fc_history_add(h, "0000000a", session("0000000a", "finished"), machines(3));
    ck_assert_uint_eq(fc_history_count(h), 2);
    ck_assert_str_eq(fc_history_at(h, 0)->id, "0000000a"); /* now the newest */
    ck_assert_str_eq(state_of(fc_history_at(h, 0)), "finished");
    ck_assert_uint_eq(json_array_size(fc_history_at(h, 0)->machines), 3);
    fc_history_free(h);
}
END_TEST

START_TEST(test_bounded_oldest_dropped)
{
    struct fc_history *h = fc_history_new(3);
    json_t *first = session("00000000", "finished");
    char id[9];
    int i;

    json_incref(first); /* held, as a published snapshot holds it */
    fc_history_add(h, "00000000", first, machines(1));
    for (i = 1; i < 8; i++) {
        snprintf(id, sizeof(id), "%08x", i);
        ck_assert_int_eq(fc_history_add(h, id, session(id, "finished"), machines(1)), 0);
        ck_assert_uint_le(fc_history_count(h), 3);
    }
    ck_assert_uint_eq(fc_history_count(h), 3);
    ck_assert_str_eq(fc_history_at(h, 0)->id, "00000007");
    ck_assert_str_eq(fc_history_at(h, 2)->id, "00000005");
    ck_assert_ptr_null(fc_history_get(h, "00000004"));
    /* Dropped from the history, still whole for whoever holds it. */
    ck_assert_int_eq(first->refcount, 1);
    ck_assert_str_eq(json_string_value(json_object_get(first, "state")), "finished");
    json_decref(first);
    fc_history_free(h);
}
END_TEST

START_TEST(test_add_without_json_fails_cleanly)
{
    struct fc_history *h = fc_history_new(3);

    ck_assert_int_lt(fc_history_add(h, "0000000a", NULL, machines(2)), 0);
    ck_assert_int_lt(fc_history_add(h, "0000000a", session("0000000a", "x"), NULL), 0);
    ck_assert_uint_eq(fc_history_count(h), 0);
    fc_history_free(h);
}
END_TEST

FC_TEST_MAIN("history", test_newest_first_and_get, test_same_id_replaces,
             test_bounded_oldest_dropped, test_add_without_json_fails_cleanly)
