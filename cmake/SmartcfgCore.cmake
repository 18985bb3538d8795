# SPDX-License-Identifier: Apache-2.0
# The portable core: smartcfg::core. One set of objects archived as libsmartcfg.a and, with
# SMARTCFG_BUILD_SHARED, the same sources compiled again with hidden visibility and linked as
# libsmartcfg.so.<major>.<minor>, which exports the public API only (SC_API, export.h).
# Needs cJSON, and mbedTLS when the cloud module is in.
include_guard(GLOBAL)

smartcfg_module_files(${CMAKE_CURRENT_SOURCE_DIR}/src SMARTCFG_MOD)
set(SMARTCFG_CORE_SOURCES "")
set(SMARTCFG_MODULES_BUILT "")
foreach(_m IN LISTS SMARTCFG_MOD_NAMES)
  smartcfg_module_enabled("${SMARTCFG_MOD_${_m}_SWITCH}" _on)
  if(_on AND SMARTCFG_MOD_${_m}_FILES)
    list(APPEND SMARTCFG_CORE_SOURCES ${SMARTCFG_MOD_${_m}_FILES})
    list(APPEND SMARTCFG_MODULES_BUILT ${_m})
  endif()
endforeach()
if(NOT SMARTCFG_CORE_SOURCES)
  message(FATAL_ERROR "smartcfg: no core sources under ${CMAKE_CURRENT_SOURCE_DIR}/src")
endif()

smartcfg_find_cjson()
# mbedTLS crypto: the cloud module (HMAC, base64, AES) and the ESP-TOUCH v2 sources (AES).
if(SMARTCFG_WITH_CLOUD OR "esptouch_v2" IN_LIST SMARTCFG_MODULES_BUILT)
  set(SMARTCFG_NEEDS_MBEDCRYPTO ON)
  smartcfg_find_mbedcrypto()
endif()

# Usage requirements every consumer of the core gets: the headers and the module switches
# (they change sizes in the headers, so library and user must agree on them).
add_library(smartcfg_config INTERFACE)
target_include_directories(smartcfg_config INTERFACE
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
set(SMARTCFG_DEFINES "")
foreach(_s IN LISTS SMARTCFG_SWITCHES)
  if(${_s})
    list(APPEND SMARTCFG_DEFINES ${_s}=1)
  else()
    list(APPEND SMARTCFG_DEFINES ${_s}=0)
  endif()
endforeach()
target_compile_definitions(smartcfg_config INTERFACE ${SMARTCFG_DEFINES})
set(SMARTCFG_CORE_DEPS smartcfg::dep_cjson)
if(SMARTCFG_NEEDS_MBEDCRYPTO)
  list(APPEND SMARTCFG_CORE_DEPS smartcfg::dep_mbedcrypto)
endif()

add_library(smartcfg_core_obj OBJECT ${SMARTCFG_CORE_SOURCES})
set_target_properties(smartcfg_core_obj PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
# Position-independent only when a shared object may be made of these objects (the broker
# plugin, which links the static core; with SMARTCFG_BUILD_SHARED a user may link libsmartcfg.a
# into a shared object of their own as well): a firmware (a core-only subproject, a cross
# build) gets plain code (-fPIC costs a Cortex-M4 2-4 % of flash and a GOT load per global
# access); a parent linking the static core into its own shared library sets
# CMAKE_POSITION_INDEPENDENT_CODE, which this then follows.
if(SMARTCFG_BUILD_SHARED OR NOT SMARTCFG_CORE_ONLY)
  set_target_properties(smartcfg_core_obj PROPERTIES POSITION_INDEPENDENT_CODE ON)
endif()
target_link_libraries(smartcfg_core_obj PUBLIC smartcfg_config ${SMARTCFG_CORE_DEPS})

add_library(smartcfg_core STATIC $<TARGET_OBJECTS:smartcfg_core_obj>)
target_link_libraries(smartcfg_core PUBLIC smartcfg_config ${SMARTCFG_CORE_DEPS})
set_target_properties(smartcfg_core PROPERTIES OUTPUT_NAME smartcfg EXPORT_NAME core_static
  ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_library(smartcfg::core ALIAS smartcfg_core)
add_library(smartcfg::core_static ALIAS smartcfg_core)

if(SMARTCFG_BUILD_SHARED)
  # Objects of its own, compiled with -fvisibility=hidden and SMARTCFG_BUILDING_SHARED: the
  # library exports exactly the functions the public headers mark SC_API (export.h); the
  # helpers the core's sources share (sc_sb_*, sc_logf, ...) stay inside it. libsmartcfg.a
  # keeps its objects as they were (a firmware, the tests and the benches link it and call
  # some of those helpers). tests/integration/package_install.sh checks the exported set.
  add_library(smartcfg_core_shared SHARED ${SMARTCFG_CORE_SOURCES})
  target_compile_definitions(smartcfg_core_shared PRIVATE SMARTCFG_BUILDING_SHARED)
  target_link_libraries(smartcfg_core_shared PUBLIC smartcfg_config ${SMARTCFG_CORE_DEPS})
  set_target_properties(smartcfg_core_shared PROPERTIES OUTPUT_NAME smartcfg EXPORT_NAME core_shared
    C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF C_VISIBILITY_PRESET hidden
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  add_library(smartcfg::core_shared ALIAS smartcfg_core_shared)
endif()

string(REPLACE ";" " " _mods "${SMARTCFG_MODULES_BUILT}")
message(STATUS "smartcfg ${PROJECT_VERSION}: core modules: ${_mods}")
