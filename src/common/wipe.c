/* SPDX-License-Identifier: Apache-2.0 */
#include "smartcfg/common.h"

void sc_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n-- > 0)
        *v++ = 0;
}
