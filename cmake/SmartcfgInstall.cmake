# SPDX-License-Identifier: Apache-2.0
# Install rules: headers, libsmartcfg.a/.so, smartcfg.pc, the CMake package (smartcfg::core,
# smartcfg::posix), the smartcfg program, the broker plugin, man pages and shell completion.
# Everything installed is relocatable (the .pc and the CMake files find their prefix from
# their own location), so `cmake --install build --prefix P` works for any P.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SMARTCFG_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/smartcfg)

# First rule: refuse, with a message that says what to do, a prefix we cannot write to
# (instead of failing half-way through with a copy error).
install(CODE [[
  set(_sc_dest "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
  set(_sc_dir "${_sc_dest}")
  while(NOT EXISTS "${_sc_dir}")
    get_filename_component(_sc_dir "${_sc_dir}" DIRECTORY)
  endwhile()
  # an unpredictable name: the nearest existing directory may be a shared one like /tmp, where
  # a fixed name could be a planted symlink that root's touch would follow
  string(RANDOM LENGTH 16 _sc_rand)
  set(_sc_probe "${_sc_dir}/.smartcfg-install-probe-${_sc_rand}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E touch "${_sc_probe}" RESULT_VARIABLE _sc_rc
                  OUTPUT_QUIET ERROR_QUIET)
  if(NOT _sc_rc EQUAL 0 OR NOT EXISTS "${_sc_probe}")
    message(FATAL_ERROR "smartcfg: cannot write to ${_sc_dir} (installing to ${_sc_dest}); nothing was "
      "installed. Run as a user who may write there, or choose another prefix "
      "(cmake --install BUILD --prefix DIR, make install PREFIX=DIR).")
  endif()
  file(REMOVE "${_sc_probe}")
]])

# --- headers ---------------------------------------------------------------------------------
# A module's own headers only when the module is built: a program compiled against at.h of a
# core without the AT module got as far as the link ("undefined reference to sc_at_init").
# The headers other headers include stay (cloud.h, binder.h, esptouch.h, esptouch_v2.h,
# airkiss.h: device.h and receiver.h need their types and sizes); each says which of its
# functions a left-out module takes away ("Left-out modules:"; docs/porting.md).
set(_sc_module_headers
  "at|at.h at_device.h"
  "sender|sender.h send_stream.h"
  "sim|air.h"
  "binder|ota.h")
set(_sc_headers_out "")
foreach(_m IN LISTS _sc_module_headers)
  string(REPLACE "|" ";" _parts "${_m}")
  list(GET _parts 0 _name)
  list(GET _parts 1 _hs)
  if(NOT _name IN_LIST SMARTCFG_MODULES_BUILT)
    separate_arguments(_hs)
    list(APPEND _sc_headers_out ${_hs})
  endif()
endforeach()
set(_sc_exclude "")
foreach(_h IN LISTS _sc_headers_out)
  list(APPEND _sc_exclude PATTERN "${_h}" EXCLUDE)
endforeach()
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/smartcfg DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h" ${_sc_exclude})

# --- libraries and the CMake package -----------------------------------------------------------
set(_sc_export smartcfg_config smartcfg_core)
if(TARGET smartcfg_core_shared)
  list(APPEND _sc_export smartcfg_core_shared)
endif()
install(TARGETS ${_sc_export} EXPORT smartcfgTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT smartcfgTargets NAMESPACE smartcfg:: DESTINATION ${SMARTCFG_CMAKE_DIR})
# The POSIX port in an export set of its own: smartcfgConfig.cmake loads it only when its host
# libraries (libpcap, libnl, libmosquitto, libcurl, mbedTLS) are there, so a user of the core
# alone does not need them.
set(SMARTCFG_HAS_POSIX OFF)
if(TARGET smartcfg_posix)
  set(SMARTCFG_HAS_POSIX ON)
  file(GLOB _sc_posix_h ${CMAKE_CURRENT_SOURCE_DIR}/ports/posix/*.h)
  install(FILES ${_sc_posix_h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/smartcfg/posix)
  install(TARGETS smartcfg_posix EXPORT smartcfgPosixTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT smartcfgPosixTargets NAMESPACE smartcfg:: DESTINATION ${SMARTCFG_CMAKE_DIR})
endif()
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/smartcfgConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/smartcfgConfig.cmake INSTALL_DESTINATION ${SMARTCFG_CMAKE_DIR})
# 0.x: a new minor version may change the API and the state sizes.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/smartcfgConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/smartcfgConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/smartcfgConfigVersion.cmake
        ${CMAKE_CURRENT_SOURCE_DIR}/cmake/smartcfgDeps.cmake DESTINATION ${SMARTCFG_CMAKE_DIR})

# --- pkg-config ----------------------------------------------------------------------------------
# prefix relative to the .pc file's directory, so the file works wherever the tree is installed.
file(RELATIVE_PATH SMARTCFG_PC_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" SMARTCFG_PC_PREFIX "${SMARTCFG_PC_PREFIX}")
set(SMARTCFG_PC_CFLAGS "")
foreach(_d IN LISTS SMARTCFG_DEFINES)
  string(APPEND SMARTCFG_PC_CFLAGS " -D${_d}")
endforeach()
set(SMARTCFG_PC_LIBS_DEPS "")
if(SMARTCFG_NEEDS_MBEDCRYPTO)
  set(SMARTCFG_PC_LIBS_DEPS "-lmbedcrypto")
endif()
if(TARGET smartcfg_core_shared)   # the shared library carries its own dependencies
  set(SMARTCFG_PC_REQUIRES "Requires.private: libcjson")
  set(SMARTCFG_PC_LIBS_PRIVATE "Libs.private: ${SMARTCFG_PC_LIBS_DEPS}")
  set(SMARTCFG_PC_LIBS_DEPS "")
else()
  set(SMARTCFG_PC_REQUIRES "Requires: libcjson")
  set(SMARTCFG_PC_LIBS_PRIVATE "")
endif()
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/smartcfg.pc.in ${CMAKE_CURRENT_BINARY_DIR}/smartcfg.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/smartcfg.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# smartcfg-posix.pc: the Linux port (libsmartcfg-posix.a, a static archive, so its libraries are
# public: the host libraries by their .pc, mbedTLS by name as Debian's 2.28 has no .pc). With
# libsmartcfg.so installed, -lsmartcfg links the shared core; every core function the port
# calls is public API (tests/integration/package_install.sh checks both).
if(TARGET smartcfg_posix)
  set(SMARTCFG_POSIX_PC_LIBS "-lmbedtls -lmbedx509 -lmbedcrypto -lm")
  configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/smartcfg-posix.pc.in ${CMAKE_CURRENT_BINARY_DIR}/smartcfg-posix.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/smartcfg-posix.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()

# --- programs ---------------------------------------------------------------------------------
if(TARGET smartcfg)
  install(TARGETS smartcfg RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET smartcfg_auth)
  # `smartcfg cloud` looks for the plugin in <bin>/../lib/smartcfg/ (apps/cloud/cloud_main.c).
  install(TARGETS smartcfg_auth LIBRARY DESTINATION lib/smartcfg)
endif()

# --- the Wireshark dissector: Wireshark loads every .lua in its global Lua plugin folder,
# <libdir>/wireshark/plugins (what `tshark -G folders` calls "Global Lua Plugins" under /usr).
if(NOT SMARTCFG_CORE_ONLY)
  install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/extras/wireshark/smartcfg.lua
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/wireshark/plugins)
endif()

# --- documentation: README.md and docs/ (every *.md and figure, docs/protocol/ too) in
# <datadir>/doc/smartcfg, laid out as in the source tree so that README's links and the
# docs/... names in the man pages and --help hold; the core-only install carries them too
# (porting.md and its links are what a firmware engineer reads).
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md ${CMAKE_CURRENT_SOURCE_DIR}/CHANGELOG.md
        ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/docs DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- man pages and shell completion, once they exist -------------------------------------------
# man/<name>.<section> (or man/man<section>/<name>.<section>) -> share/man/man<section>/;
# completion/smartcfg.bash (or completion/smartcfg) -> bash-completion; completion/_smartcfg -> zsh.
file(GLOB_RECURSE _sc_man CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/man/*.[1-9])
if(SC_MAN_PAGES) # generated from --help (SmartcfgHost.cmake)
  # Each page's FILES section names the docs directory of the configured prefix; write the one
  # this install uses (cmake --install --prefix P), so `man smartcfg-cloud` points at P's docs.
  install(CODE "
    set(_sc_pages \"${SC_MAN_PAGES}\")
    set(_sc_conf_docdir \"${SC_MAN_DOCDIR}\")
    set(_sc_conf_unitdir \"${SC_MAN_UNITDIR}\")
    set(_sc_unitdir_rel \"${CMAKE_INSTALL_DATADIR}/smartcfg/systemd\")
    set(_sc_docdir_rel \"${CMAKE_INSTALL_DOCDIR}\")
    set(_sc_mandir_rel \"${CMAKE_INSTALL_MANDIR}/man1\")
    include(\"${CMAKE_CURRENT_SOURCE_DIR}/cmake/SmartcfgManInstall.cmake\")
  ")
endif()
foreach(_p IN LISTS _sc_man)
  string(REGEX MATCH "[1-9]$" _sec "${_p}")
  install(FILES ${_p} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_sec})
endforeach()
foreach(_c smartcfg.bash smartcfg)
  if(NOT TARGET smartcfg)   # a core-only build installs no program to complete
    break()
  endif()
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/completion/${_c} AND NOT IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/completion/${_c})
    install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/completion/${_c} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
            RENAME smartcfg)
    break()
  endif()
endforeach()
if(TARGET smartcfg AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/completion/_smartcfg)
  install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/completion/_smartcfg DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
endif()

# --- example systemd units (extras/systemd, docs/device-linux.md "Running as a service") -------
# <datadir>/smartcfg/systemd/smartcfg-{device,cloud}.service, beside the man pages, for a product
# to copy to /etc/systemd/system/ (not enabled: what a product runs is its choice). Written at
# install time, so ExecStart names the program where this install put it (cmake --install
# --prefix P included); a tree moved afterwards needs its ExecStart lines edited.
if(TARGET smartcfg)
  set(_sc_units_src ${CMAKE_CURRENT_SOURCE_DIR}/extras/systemd)
  set(_sc_units_rel ${CMAKE_INSTALL_DATADIR}/smartcfg/systemd)
  set(_sc_bindir ${CMAKE_INSTALL_BINDIR})
  install(CODE "
    set(_sc_bindir \"${_sc_bindir}\")
    if(NOT IS_ABSOLUTE \"\${_sc_bindir}\")
      set(_sc_bindir \"\${CMAKE_INSTALL_PREFIX}/\${_sc_bindir}\")
    endif()
    set(_sc_units_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${_sc_units_rel}\")
    if(IS_ABSOLUTE \"${_sc_units_rel}\")
      set(_sc_units_dir \"\$ENV{DESTDIR}${_sc_units_rel}\")
    endif()
    foreach(_u smartcfg-device.service smartcfg-cloud.service)
      file(READ \"${_sc_units_src}/\${_u}.in\" _sc_text)
      string(REPLACE \"@SMARTCFG_BINDIR@\" \"\${_sc_bindir}\" _sc_text \"\${_sc_text}\")
      message(STATUS \"Installing: \${_sc_units_dir}/\${_u}\")
      file(MAKE_DIRECTORY \"\${_sc_units_dir}\")
      file(WRITE \"\${_sc_units_dir}/\${_u}\" \"\${_sc_text}\")
    endforeach()
  ")
endif()
