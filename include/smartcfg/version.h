/* SPDX-License-Identifier: Apache-2.0 */
/* The release of smartcfg these headers belong to. This file is the one source of truth:
 * CMake reads the three numbers from it (project VERSION, the shared library's SOVERSION,
 * smartcfg.pc, smartcfgConfigVersion.cmake) and `smartcfg --version` prints the string.
 * Semantic versioning: MAJOR changes break the API or the size constants (SC_*_SIZE) a port
 * compiled against; while MAJOR is 0, MINOR does. CHANGELOG.md says what each release holds. */
#ifndef SMARTCFG_VERSION_H
#define SMARTCFG_VERSION_H

#define SMARTCFG_VERSION_MAJOR 0
#define SMARTCFG_VERSION_MINOR 1
#define SMARTCFG_VERSION_PATCH 0

#define SMARTCFG_VERSION_STR_(x) #x
#define SMARTCFG_VERSION_STR(x) SMARTCFG_VERSION_STR_(x)
/* "0.1.0" */
#define SMARTCFG_VERSION_STRING                                                                  \
    SMARTCFG_VERSION_STR(SMARTCFG_VERSION_MAJOR) "." SMARTCFG_VERSION_STR(SMARTCFG_VERSION_MINOR) "." \
    SMARTCFG_VERSION_STR(SMARTCFG_VERSION_PATCH)
/* One number for #if comparisons: 0x00MMmmpp. */
#define SMARTCFG_VERSION_NUMBER                                                                  \
    ((SMARTCFG_VERSION_MAJOR << 16) | (SMARTCFG_VERSION_MINOR << 8) | SMARTCFG_VERSION_PATCH)

#endif
