/* SPDX-License-Identifier: Apache-2.0 */
/* SC_API marks every function of the public API (the headers in include/smartcfg/). The shared
 * library (libsmartcfg.so) is compiled with -fvisibility=hidden and SMARTCFG_BUILDING_SHARED:
 * there SC_API makes a public function visible, and everything else of the core (helpers
 * shared between its sources) stays inside the library, neither ABI nor a name that could
 * clash with a firmware's own. Everywhere else (libsmartcfg.a, a firmware, a program using
 * the shared library: an ELF caller needs no import marking) SC_API is empty. A build may
 * define SC_API itself before including a smartcfg header. */
#ifndef SMARTCFG_EXPORT_H
#define SMARTCFG_EXPORT_H

#ifndef SC_API
#if defined(SMARTCFG_BUILDING_SHARED) && (defined(__GNUC__) || defined(__clang__))
#define SC_API __attribute__((visibility("default")))
#else
#define SC_API
#endif
#endif

#endif
