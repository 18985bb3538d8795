/* SPDX-License-Identifier: Apache-2.0 */
/* The local cloud's text hygiene (apps/cloud/cloud_util.c; docs/security.md F20, F21): what a
 * device or an app sent is made valid UTF-8 before an event is printed or a row stored, and a
 * token is abbreviated to printable ASCII. Edge cases of RFC 3629: shortest form only, no
 * surrogates, nothing past U+10FFFF, a character cut at the end of a bounded copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../apps/cloud/cloud_util.c"

/* The console's stream is not under test here. */
void cloud_console_publish(const cJSON *ev)
{
    (void)ev;
}

static void fixed(const char *in, const char *want)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", in);
    cloud_utf8_fix(buf);
    assert_string_equal(buf, want);
}

static void test_utf8_fix(void **state)
{
    (void)state;
    fixed("plain ascii", "plain ascii");
    fixed("\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87");   /* 中文 */
    fixed("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");                   /* U+1F600 */
    fixed("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");                   /* U+10FFFF, the last */
    fixed("k\xff", "k?");                                            /* never a UTF-8 byte */
    fixed("\xc0\xaf", "??");                                         /* overlong '/' */
    fixed("\xe0\x80\xaf", "???");                                    /* overlong, 3 bytes */
    fixed("\xed\xa0\x80", "???");                                    /* a surrogate */
    fixed("\xf4\x90\x80\x80", "????");                               /* past U+10FFFF */
    fixed("x\xe4\xb8", "x??");                                       /* cut at the end */
    fixed("\xe4\xb8" "a", "??a");                                    /* cut, then more */
    fixed("\x80\xbf", "??");                                         /* lone continuations */
    cloud_utf8_fix(NULL);                                            /* nothing to do */
}

static void abbrev(const char *in, const char *want)
{
    char out[16];
    cloud_abbrev_token(in, out);
    assert_string_equal(out, want);
}

static void test_abbrev_token(void **state)
{
    (void)state;
    abbrev("0123456789abcdef0123456789abcdef", "0123\xe2\x80\xa6");
    abbrev("abc", "a\xe2\x80\xa6");                                   /* a third of the length */
    abbrev("\x1b[8mXXXXXXXX", "?[8m\xe2\x80\xa6");                    /* no escape sequence */
    abbrev("\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad", "????\xe2\x80\xa6"); /* never half a character */
    abbrev("tab\there!xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "tab?\xe2\x80\xa6");
    abbrev(NULL, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_fix),
        cmocka_unit_test(test_abbrev_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
