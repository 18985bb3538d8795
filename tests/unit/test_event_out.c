/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON line printer (sc_posix_event_print) on strings that came from outside: every
 * line is valid UTF-8 with no raw C0, C1 or bidirectional control (security F63, F66), and a
 * string that was valid UTF-8 reads back unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sc_posix_event.h"

/* Prints {"s": <bytes>} through the printer; the line, malloc'd, without its newline. */
static char *print_string(const uint8_t *b, size_t n)
{
    char *in = calloc(1, n + 1);
    memcpy(in, b, n);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "s", in);
    free(in);
    FILE *f = tmpfile();
    assert_non_null(f);
    sc_posix_event_print(f, o);
    long len = ftell(f);
    rewind(f);
    char *line = calloc(1, (size_t)len + 1);
    assert_int_equal(fread(line, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    assert_true(len > 0 && line[len - 1] == '\n');
    line[len - 1] = '\0';
    return line;
}

/* The line is UTF-8 and shows no control raw. */
static void assert_clean(const char *line)
{
    const uint8_t *u = (const uint8_t *)line;
    size_t n = strlen(line);
    for (size_t i = 0; i < n;) {
        size_t k = sc_posix_utf8_seq(u + i, n - i);
        assert_true(k > 0);
        assert_false(sc_posix_utf8_control(u + i, k));
        i += k;
    }
}

static void test_controls_escaped(void **state)
{
    (void)state;
    /* "a" CSI "8m" RLO "b" LRI "c" ALM U+0085 "é☕" */
    const char *in = "a\xc2\x9b" "8m\xe2\x80\xae" "b\xe2\x81\xa6" "c\xd8\x9c\xc2\x85\xc3\xa9\xe2\x98\x95";
    char *line = print_string((const uint8_t *)in, strlen(in));
    assert_clean(line);
    assert_non_null(strstr(line, "\"a\\u009b8m\\u202eb\\u2066c\\u061c\\u0085\xc3\xa9\xe2\x98\x95\""));
    cJSON *back = cJSON_Parse(line);
    assert_string_equal(cJSON_GetObjectItem(back, "s")->valuestring, in);
    cJSON_Delete(back);
    free(line);
    /* U+2028, U+2029: line breaks to Python's str.splitlines() and editors, which cut a JSON
     * line with them raw in two (F87) */
    in = "a\xe2\x80\xa8" "1\xe2\x80\xa9" "b";
    line = print_string((const uint8_t *)in, strlen(in));
    assert_clean(line);
    assert_non_null(strstr(line, "\"a\\u20281\\u2029b\""));
    free(line);
    /* stray bytes: each is U+FFFD; a character cut short too */
    line = print_string((const uint8_t *)"x\xff" "y\xe2\x80" "z", 6);
    assert_clean(line);
    assert_non_null(strstr(line, "\"x\\ufffdy\\ufffd\\ufffdz\""));
    free(line);
}

static void test_random_strings(void **state)
{
    (void)state;
    srand(7);
    for (int it = 0; it < 20000; it++) {
        uint8_t b[24];
        size_t n = (size_t)(rand() % (int)sizeof b);
        for (size_t i = 0; i < n; i++) {
            b[i] = (uint8_t)(rand() & 0xff);
            if (!b[i])
                b[i] = 0x9b;
        }
        if (it & 1) /* half of them built from real characters, controls among them */
            for (size_t i = 0; i + 3 <= n; i += 3) {
                static const char *const ch[] = { "\xc2\x9b", "\xe2\x80\xae", "\xc3\xa9", "\xe2\x98\x95", "A\x1b",
                                                  "\xd8\x9c" };
                const char *c = ch[rand() % 6];
                memcpy(b + i, c, strlen(c));
                n = i + strlen(c) > n ? i + strlen(c) : n;
            }
        char *line = print_string(b, n);
        assert_clean(line);
        cJSON *back = cJSON_Parse(line);
        assert_non_null(back);
        const char *s = cJSON_GetObjectItem(back, "s")->valuestring;
        bool valid = true;
        for (size_t i = 0; i < n && valid;) {
            size_t k = sc_posix_utf8_seq(b + i, n - i);
            valid = k > 0;
            i += k;
        }
        if (valid) {
            assert_int_equal(strlen(s), n);
            assert_memory_equal(s, b, n);
        }
        cJSON_Delete(back);
        free(line);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_controls_escaped),
        cmocka_unit_test(test_random_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
