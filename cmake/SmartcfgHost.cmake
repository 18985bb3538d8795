# SPDX-License-Identifier: Apache-2.0
# Linux only: the POSIX port of the HAL (smartcfg::posix), the smartcfg program and the
# mosquitto plugin of the local cloud. Everything here needs the host libraries.
include_guard(GLOBAL)

find_package(PkgConfig REQUIRED)   # directory scope: ports/*/CMakeLists.txt use pkg_check_modules too
smartcfg_find_mbedtls()
smartcfg_find_host_libs(
  "PCAP|libpcap|libpcap-dev"
  "NL|libnl-3.0 libnl-genl-3.0|libnl-3-dev libnl-genl-3-dev"
  "MOSQ|libmosquitto|libmosquitto-dev"
  "MHD|libmicrohttpd|libmicrohttpd-dev"
  "CURL|libcurl|libcurl4-openssl-dev"
  "SSL|libssl libcrypto|libssl-dev"
  "SQLITE|sqlite3|libsqlite3-dev"
  "RMQ|librabbitmq|librabbitmq-dev")
# libpq: the cloud's PostgreSQL registry backend (`--db postgresql://`, docs/scale.md). Optional:
# without it that backend says so at start and SQLite remains.
pkg_check_modules(PQ IMPORTED_TARGET libpq)
if(NOT PQ_FOUND)
  message(STATUS "libpq not found (Debian: libpq-dev): smartcfg cloud without the PostgreSQL backend")
endif()

# --- POSIX port: HAL implementations over sockets, libpcap, libmosquitto ... --
file(GLOB_RECURSE SC_POSIX_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ports/posix/*.c)
add_library(smartcfg_posix STATIC ${SC_POSIX_SRC})
target_compile_definitions(smartcfg_posix PRIVATE _GNU_SOURCE)
target_include_directories(smartcfg_posix PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/ports/posix> $<INSTALL_INTERFACE:include/smartcfg/posix>)
target_link_libraries(smartcfg_posix PUBLIC smartcfg_core PkgConfig::PCAP PkgConfig::NL
  PkgConfig::MOSQ PkgConfig::CURL PkgConfig::SSL smartcfg::dep_mbedtls m)
set_target_properties(smartcfg_posix PROPERTIES OUTPUT_NAME smartcfg-posix EXPORT_NAME posix
  ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_library(smartcfg::posix ALIAS smartcfg_posix)

# --- the smartcfg command (send, device, decode, air, cloud, demo) -------------
file(GLOB SC_APP_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/apps/smartcfg/*.c
                                       ${CMAKE_CURRENT_SOURCE_DIR}/apps/cloud/*.c)
add_executable(smartcfg ${SC_APP_SRC})
target_compile_definitions(smartcfg PRIVATE _GNU_SOURCE)
target_include_directories(smartcfg PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/apps/smartcfg ${CMAKE_CURRENT_SOURCE_DIR}/apps/cloud)
target_link_libraries(smartcfg PRIVATE smartcfg_posix PkgConfig::MHD PkgConfig::SQLITE PkgConfig::RMQ)
if(PQ_FOUND)
  target_compile_definitions(smartcfg PRIVATE SMARTCFG_HAVE_LIBPQ)
  target_link_libraries(smartcfg PRIVATE PkgConfig::PQ)
endif()
set_target_properties(smartcfg PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
# The cloud console's pages (apps/cloud/console_assets) embedded as C arrays (docs/cloud.md "Console").
file(GLOB SC_CONSOLE_ASSETS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/apps/cloud/console_assets/*)
add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/console_assets.c
  COMMAND ${CMAKE_COMMAND} -DOUT=${CMAKE_CURRENT_BINARY_DIR}/console_assets.c
          -DDIR=${CMAKE_CURRENT_SOURCE_DIR}/apps/cloud/console_assets -P ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed.cmake
  DEPENDS ${SC_CONSOLE_ASSETS} ${CMAKE_CURRENT_SOURCE_DIR}/cmake/embed.cmake VERBATIM)
target_sources(smartcfg PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/console_assets.c)

# --- man pages: each made from its subcommand's --help at build time (man/help2man.py) -----
# Their FILES section names the installed docs (SmartcfgInstall.cmake installs README.md and
# docs/ in <docdir>; the install rewrites this configured path to the prefix it installs to).
find_package(Python3 COMPONENTS Interpreter REQUIRED)
include(GNUInstallDirs)
set(SC_MAN_DOCDIR ${CMAKE_INSTALL_FULL_DOCDIR})
set(SC_MAN_UNITDIR ${CMAKE_INSTALL_FULL_DATADIR}/smartcfg/systemd)  # SmartcfgInstall.cmake's units
set(SC_MAN_PAGES)
foreach(sub "" send device decode air cloud)
  if(sub)
    set(page ${CMAKE_CURRENT_BINARY_DIR}/man/smartcfg-${sub}.1)
  else()
    set(page ${CMAKE_CURRENT_BINARY_DIR}/man/smartcfg.1)
  endif()
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/man
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/man/help2man.py --docdir ${SC_MAN_DOCDIR} --unitdir ${SC_MAN_UNITDIR} $<TARGET_FILE:smartcfg> ${sub} > ${page}
    DEPENDS smartcfg ${CMAKE_CURRENT_SOURCE_DIR}/man/help2man.py VERBATIM)
  list(APPEND SC_MAN_PAGES ${page})
endforeach()
add_custom_target(smartcfg_man ALL DEPENDS ${SC_MAN_PAGES})

# --- mosquitto broker plugin of the local cloud ----------------------------------
file(GLOB SC_PLUGIN_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/apps/cloud/plugin/*.c)
if(SC_PLUGIN_SRC)
  # The registry interface (cloud_store*.c) and the device rules (cloud_acl.c) are shared with
  # the cloud: the plugin reads devices through the one and decides with the other.
  file(GLOB SC_STORE_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/apps/cloud/cloud_store*.c)
  add_library(smartcfg_auth MODULE ${SC_PLUGIN_SRC} ${SC_STORE_SRC} ${CMAKE_CURRENT_SOURCE_DIR}/apps/cloud/cloud_acl.c)
  set_target_properties(smartcfg_auth PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
    POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET default)
  target_include_directories(smartcfg_auth PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/apps/cloud)
  # The core (PIC objects) supplies the credential code the plugin checks, not a copy of it.
  target_link_libraries(smartcfg_auth PRIVATE smartcfg_core PkgConfig::SQLITE smartcfg::dep_cjson smartcfg::dep_mbedcrypto)
  target_compile_definitions(smartcfg_auth PRIVATE _GNU_SOURCE)
  if(PQ_FOUND)
    target_compile_definitions(smartcfg_auth PRIVATE SMARTCFG_HAVE_LIBPQ)
    target_link_libraries(smartcfg_auth PRIVATE PkgConfig::PQ)
  endif()
endif()
