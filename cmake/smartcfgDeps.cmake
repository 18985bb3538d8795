# SPDX-License-Identifier: Apache-2.0
# Finds the libraries smartcfg links and wraps each in one stable target name, so the build
# tree, a parent project and the installed package (smartcfgConfig.cmake includes this file)
# all resolve them the same way:
#   smartcfg::dep_cjson        cJSON (the core's JSON parsing and emitting)
#   smartcfg::dep_mbedcrypto   mbedTLS crypto (HMAC, SHA, base64, AES: the cloud module)
#   smartcfg::dep_mbedtls      mbedTLS TLS + X.509 + crypto (the POSIX port's MQTT/HTTP)
# Where each comes from, first match wins:
#   1. a target the parent names: SMARTCFG_CJSON_TARGET, SMARTCFG_MBEDCRYPTO_TARGET,
#      SMARTCFG_MBEDTLS_TARGETS (e.g. its own add_subdirectory(cJSON) / (mbedtls));
#   2. a target the parent already has: cjson (what cJSON's own build and its cJSONConfig.cmake
#      define: a parent that ran find_package(cJSON) gets it used); MbedTLS::mbedcrypto or
#      mbedcrypto (smartcfg runs find_package(MbedTLS CONFIG) itself, mbedTLS 3's CMake package);
#   3. pkg-config (libcjson.pc; mbedcrypto.pc from mbedTLS 3), then a plain header + library
#      search (Debian's mbedTLS 2.28 ships neither .pc nor CMake files). smartcfg does not call
#      find_package(cJSON) itself: cJSON's own install writes libcjson.pc beside its CMake files.
include_guard(GLOBAL)

function(_smartcfg_wrap name)  # _smartcfg_wrap(<dep name> <link items...>)
  add_library(smartcfg::dep_${name} INTERFACE IMPORTED GLOBAL)
  set_target_properties(smartcfg::dep_${name} PROPERTIES INTERFACE_LINK_LIBRARIES "${ARGN}")
endfunction()

# _smartcfg_parent(<dep name> <variable> <found var>): the parent named its own target(s) in
# <variable>: wrap them (each must exist) and set <found var> TRUE.
function(_smartcfg_parent dep var found)
  set(${found} FALSE PARENT_SCOPE)
  if(TARGET smartcfg::dep_${dep})
    set(${found} TRUE PARENT_SCOPE)
  elseif(${var})
    foreach(t IN LISTS ${var})
      if(NOT TARGET ${t})
        message(FATAL_ERROR "smartcfg: ${var} names '${t}', which is not a target")
      endif()
    endforeach()
    _smartcfg_wrap(${dep} ${${var}})
    set(${found} TRUE PARENT_SCOPE)
  endif()
endfunction()

# _smartcfg_no_host_libs(<dep> <what to set>): a cross build (CMAKE_CROSSCOMPILING) without a
# sysroot must not take the build machine's cJSON / mbedTLS: pkg-config and find_library would
# hand over the host's x86-64 library and its include directory, and the core then fails to
# compile (<cjson/cJSON.h> not found) or to link, far from the cause. Stop here and say what to
# set instead. A toolchain with a sysroot (CMAKE_SYSROOT, CMAKE_FIND_ROOT_PATH) or a pkg-config
# pointed at the target's .pc files (PKG_CONFIG_LIBDIR, PKG_CONFIG_SYSROOT_DIR) is searched.
function(_smartcfg_no_host_libs dep var)
  if(CMAKE_CROSSCOMPILING AND NOT CMAKE_SYSROOT AND NOT CMAKE_FIND_ROOT_PATH
     AND NOT DEFINED ENV{PKG_CONFIG_LIBDIR} AND NOT DEFINED ENV{PKG_CONFIG_SYSROOT_DIR})
    message(FATAL_ERROR "smartcfg: cross-compiling for ${CMAKE_SYSTEM_NAME}/${CMAKE_SYSTEM_PROCESSOR} "
      "and no ${dep} built for that target was named. Set ${var} to your firmware's own ${dep} "
      "target before adding smartcfg (docs/porting.md, \"Getting the core into a firmware "
      "build\"); the build machine's ${dep} (pkg-config, /usr/lib) is not searched for a cross "
      "build without CMAKE_SYSROOT, CMAKE_FIND_ROOT_PATH or PKG_CONFIG_LIBDIR.")
  endif()
endfunction()

function(smartcfg_find_cjson)
  _smartcfg_parent(cjson SMARTCFG_CJSON_TARGET done)
  if(done)
    return()
  endif()
  if(TARGET cjson AND NOT SMARTCFG_CJSON_FROM_SYSTEM)
    _smartcfg_wrap(cjson cjson)   # cJSON's own CMake build, added by the parent
    return()
  endif()
  _smartcfg_no_host_libs(cJSON SMARTCFG_CJSON_TARGET)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(SMARTCFG_PC_CJSON QUIET IMPORTED_TARGET GLOBAL libcjson)
    if(SMARTCFG_PC_CJSON_FOUND)
      _smartcfg_wrap(cjson PkgConfig::SMARTCFG_PC_CJSON)
      return()
    endif()
  endif()
  find_path(SMARTCFG_CJSON_INCLUDE_DIR cJSON.h PATH_SUFFIXES cjson)
  find_library(SMARTCFG_CJSON_LIBRARY cjson)
  if(NOT SMARTCFG_CJSON_INCLUDE_DIR OR NOT SMARTCFG_CJSON_LIBRARY)
    message(FATAL_ERROR "smartcfg: cJSON not found. The core needs it (Debian: libcjson-dev). A parent "
      "project may supply its own: set SMARTCFG_CJSON_TARGET to a target whose include directories "
      "make <cjson/cJSON.h> resolve (the core includes it by that name).")
  endif()
  _smartcfg_wrap(cjson ${SMARTCFG_CJSON_LIBRARY})
  set_property(TARGET smartcfg::dep_cjson PROPERTY INTERFACE_INCLUDE_DIRECTORIES ${SMARTCFG_CJSON_INCLUDE_DIR})
endfunction()

# _smartcfg_mbed(<dep name> <libs...>): the named mbedTLS libraries, each resolved to a parent
# target, a pkg-config module or a library file.
function(_smartcfg_mbed dep)
  if(TARGET smartcfg::dep_${dep})
    return()
  endif()
  set(items "")
  set(incdir "")
  foreach(lib IN LISTS ARGN)
    if(TARGET MbedTLS::${lib})
      list(APPEND items MbedTLS::${lib})
    elseif(TARGET ${lib})
      list(APPEND items ${lib})
    else()
      if(dep STREQUAL "mbedcrypto")
        _smartcfg_no_host_libs(mbedTLS SMARTCFG_MBEDCRYPTO_TARGET)
      else()
        _smartcfg_no_host_libs(mbedTLS SMARTCFG_MBEDTLS_TARGETS)
      endif()
      find_package(PkgConfig QUIET)
      if(PKG_CONFIG_FOUND)
        pkg_check_modules(SMARTCFG_PC_${lib} QUIET IMPORTED_TARGET GLOBAL ${lib})
      endif()
      if(SMARTCFG_PC_${lib}_FOUND)
        list(APPEND items PkgConfig::SMARTCFG_PC_${lib})
      else()
        find_library(SMARTCFG_LIB_${lib} ${lib})
        find_path(SMARTCFG_MBEDTLS_INCLUDE_DIR mbedtls/md.h)
        if(NOT SMARTCFG_LIB_${lib} OR NOT SMARTCFG_MBEDTLS_INCLUDE_DIR)
          message(FATAL_ERROR "smartcfg: mbedTLS library '${lib}' not found (Debian: libmbedtls-dev). "
            "A parent project may supply it: set SMARTCFG_MBEDCRYPTO_TARGET (the cloud module) or "
            "SMARTCFG_MBEDTLS_TARGETS (the POSIX port), or build smartcfg without the cloud module "
            "(-DSMARTCFG_WITH_CLOUD=OFF -DSMARTCFG_WITH_AT=OFF).")
        endif()
        list(APPEND items ${SMARTCFG_LIB_${lib}})
        set(incdir ${SMARTCFG_MBEDTLS_INCLUDE_DIR})
      endif()
    endif()
  endforeach()
  _smartcfg_wrap(${dep} ${items})
  if(incdir)
    set_property(TARGET smartcfg::dep_${dep} PROPERTY INTERFACE_INCLUDE_DIRECTORIES ${incdir})
  endif()
endfunction()

# The parent's targets (SMARTCFG_MBEDCRYPTO_TARGET / SMARTCFG_MBEDTLS_TARGETS) or the named
# libraries: crypto for the cloud module, TLS + X.509 + crypto for the POSIX port.
function(_smartcfg_find_mbed dep var)
  _smartcfg_parent(${dep} ${var} done)
  if(NOT done)
    find_package(MbedTLS CONFIG QUIET)
    _smartcfg_mbed(${dep} ${ARGN})
  endif()
endfunction()
function(smartcfg_find_mbedcrypto)
  _smartcfg_find_mbed(mbedcrypto SMARTCFG_MBEDCRYPTO_TARGET mbedcrypto)
endfunction()
function(smartcfg_find_mbedtls)
  _smartcfg_find_mbed(mbedtls SMARTCFG_MBEDTLS_TARGETS mbedtls mbedx509 mbedcrypto)
endfunction()

# smartcfg_probe_host_libs(<out> "VAR|module...|debian package"...): looks each library up
# through pkg-config (PkgConfig::VAR) and sets <out> to the Debian packages of the missing
# ones (empty: all found; every package when pkg-config itself is missing). No error.
function(smartcfg_probe_host_libs out)
  find_package(PkgConfig QUIET)
  set(missing "")
  foreach(spec IN LISTS ARGN)  # "VAR|module...|debian package"
    string(REPLACE "|" ";" p "${spec}")
    list(GET p 0 var)
    list(GET p 1 mods)
    list(GET p 2 deb)
    separate_arguments(mods)
    if(NOT TARGET PkgConfig::${var})
      if(PKG_CONFIG_FOUND)
        pkg_check_modules(${var} QUIET IMPORTED_TARGET GLOBAL ${mods})
      endif()
      if(NOT ${var}_FOUND)
        list(APPEND missing "${deb}")
      endif()
    endif()
  endforeach()
  set(${out} "${missing}" PARENT_SCOPE)
endfunction()

# The POSIX port's and the tools' host libraries, all through pkg-config. Collects every
# missing one into one message instead of stopping at the first.
function(smartcfg_find_host_libs)
  find_package(PkgConfig QUIET)
  if(NOT PKG_CONFIG_FOUND)
    message(FATAL_ERROR "smartcfg: pkg-config not found; the POSIX port and the tools find their "
      "libraries with it (Debian: pkgconf). For the portable core alone: -DSMARTCFG_CORE_ONLY=ON.")
  endif()
  smartcfg_probe_host_libs(missing ${ARGN})
  if(missing)
    string(REPLACE ";" " " missing "${missing}")
    message(FATAL_ERROR "smartcfg: host libraries missing for the POSIX port / tools / tests: ${missing}\n"
      "Install them with `make deps` (scripts/deps.sh), or configure with -DSMARTCFG_CORE_ONLY=ON "
      "to build only the portable core (needs cJSON, and mbedTLS for the cloud module).")
  endif()
endfunction()

# smartcfg_probe_mbedtls(<out>): TRUE when mbedTLS's TLS and X.509 libraries (the POSIX port's)
# can be found the way smartcfg_find_mbedtls() finds them. No error.
function(smartcfg_probe_mbedtls out)
  set(ok TRUE)
  if(NOT TARGET smartcfg::dep_mbedtls AND NOT SMARTCFG_MBEDTLS_TARGETS)
    find_package(MbedTLS CONFIG QUIET)
    find_package(PkgConfig QUIET)
    foreach(lib mbedtls mbedx509)
      if(NOT TARGET MbedTLS::${lib} AND NOT TARGET ${lib})
        if(PKG_CONFIG_FOUND)
          pkg_check_modules(SMARTCFG_PC_${lib} QUIET IMPORTED_TARGET GLOBAL ${lib})
        endif()
        if(NOT SMARTCFG_PC_${lib}_FOUND)
          find_library(SMARTCFG_LIB_${lib} ${lib})
          if(NOT SMARTCFG_LIB_${lib})
            set(ok FALSE)
          endif()
        endif()
      endif()
    endforeach()
  endif()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()
