# SPDX-License-Identifier: Apache-2.0
# Options, module switches and the checks that turn an unsupported setup into one clear
# message at configure time instead of a compiler error later.
include_guard(GLOBAL)

if(CMAKE_CURRENT_SOURCE_DIR STREQUAL CMAKE_SOURCE_DIR)
  set(SMARTCFG_TOP_LEVEL ON)
else()
  set(SMARTCFG_TOP_LEVEL OFF)
endif()

# A parent project that sets nothing gets the portable core only: it should not need
# libpcap or mosquitto to add a provisioning library to its firmware.
if(NOT DEFINED SMARTCFG_CORE_ONLY AND NOT SMARTCFG_TOP_LEVEL)
  message(STATUS "smartcfg: used as a subproject with SMARTCFG_CORE_ONLY unset: building only the "
    "portable core (target smartcfg::core). Set SMARTCFG_CORE_ONLY=OFF for the POSIX port and tools.")
endif()
if(SMARTCFG_TOP_LEVEL)
  set(_sc_core_only_default OFF)
else()
  set(_sc_core_only_default ON)
endif()
option(SMARTCFG_CORE_ONLY "Build only the portable core (no POSIX port, tools, tests; no host library needed)"
       ${_sc_core_only_default})
if(SMARTCFG_TOP_LEVEL AND NOT SMARTCFG_CORE_ONLY)
  set(_sc_full ON)
else()
  set(_sc_full OFF)
endif()
option(SMARTCFG_BUILD_TESTS "Build the tests, benchmarks and fuzzers (needs every module and the host libraries)" ${_sc_full})
option(SMARTCFG_INSTALL "Generate the install rules, smartcfg.pc and the CMake package" ${SMARTCFG_TOP_LEVEL})
option(SMARTCFG_WERROR "Treat warnings as errors" ${SMARTCFG_TOP_LEVEL})
get_property(_sc_shared_ok GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS)
if(SMARTCFG_TOP_LEVEL AND _sc_shared_ok)
  set(_sc_shared_default ON)
else()
  set(_sc_shared_default OFF)
endif()
option(SMARTCFG_BUILD_SHARED "Build the core as a shared library too (libsmartcfg.so beside libsmartcfg.a)" ${_sc_shared_default})
option(SC_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(SC_TSAN "Build with ThreadSanitizer (clang; make test-tsan)" OFF)
option(SC_FUZZ "Build libFuzzer targets (clang only)" OFF)

# Module switches (include/smartcfg/features.h documents each one).
option(SMARTCFG_WITH_CLOUD "IoT Explorer MQTT binder, credentials, dynamic registration (needs mbedTLS)" ON)
option(SMARTCFG_WITH_DYNREG "Dynamic registration: fetch the device PSK with the product secret (needs SMARTCFG_WITH_CLOUD)" ${SMARTCFG_WITH_CLOUD})
option(SMARTCFG_WITH_AT "Tencent AT command front-end (needs SMARTCFG_WITH_CLOUD)" ON)
option(SMARTCFG_WITH_SENDER "Phone side: ESP-TOUCH encoder, ack collector, token handshake and API" ON)
option(SMARTCFG_WITH_SIM "Air simulator (synthetic captures)" ON)
option(SMARTCFG_WITH_ESPTOUCH_V2 "ESP-TOUCH v2 receiver in the device's receiver front (needs mbedTLS)" ON)
option(SMARTCFG_WITH_AIRKISS "AirKiss receiver in the device's receiver front" ON)
set(SMARTCFG_SWITCHES SMARTCFG_WITH_CLOUD SMARTCFG_WITH_DYNREG SMARTCFG_WITH_AT SMARTCFG_WITH_SENDER SMARTCFG_WITH_SIM
    SMARTCFG_WITH_ESPTOUCH_V2 SMARTCFG_WITH_AIRKISS)

if(SMARTCFG_WITH_DYNREG AND NOT SMARTCFG_WITH_CLOUD)
  message(FATAL_ERROR "smartcfg: SMARTCFG_WITH_DYNREG=ON needs SMARTCFG_WITH_CLOUD=ON.")
endif()
if(SMARTCFG_WITH_AT AND NOT SMARTCFG_WITH_CLOUD)
  message(FATAL_ERROR "smartcfg: SMARTCFG_WITH_AT=ON needs SMARTCFG_WITH_CLOUD=ON (AT+TCMQTTCONN and "
    "AT+TCDEVREG use the cloud module). Turn both off, or the cloud on.")
endif()
if(NOT SMARTCFG_CORE_ONLY OR SMARTCFG_BUILD_TESTS)
  foreach(_s IN LISTS SMARTCFG_SWITCHES)
    if(NOT ${_s})
      message(FATAL_ERROR "smartcfg: ${_s}=OFF only works with SMARTCFG_CORE_ONLY=ON and "
        "SMARTCFG_BUILD_TESTS=OFF: the POSIX port, the smartcfg program and the tests use every module.")
    endif()
  endforeach()
endif()

# --- toolchain and target ----------------------------------------------------------------
if(NOT CMAKE_C_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang)$")
  message(FATAL_ERROR "smartcfg: the C compiler '${CMAKE_C_COMPILER_ID}' (${CMAKE_C_COMPILER}) is not "
    "supported. smartcfg is C11 built and tested with GCC and Clang (including arm-none-eabi-gcc); "
    "set CMAKE_C_COMPILER to one of them.")
endif()
# (an empty feature list means CMake did not probe the compiler, e.g. CMAKE_C_COMPILER_FORCED
# in an embedded toolchain file: nothing is known, so nothing is refused; the build tells)
if(CMAKE_C_COMPILE_FEATURES AND NOT "c_std_11" IN_LIST CMAKE_C_COMPILE_FEATURES)
  message(FATAL_ERROR "smartcfg: ${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION} does not support "
    "C11, which smartcfg needs (_Static_assert, _Alignof).")
endif()
if(CMAKE_C_BYTE_ORDER STREQUAL "BIG_ENDIAN")
  message(FATAL_ERROR "smartcfg: the target is big-endian (${CMAKE_SYSTEM_PROCESSOR}, ${CMAKE_C_COMPILER}); "
    "the receiver's stream tables read their byte fields as little-endian words (src/esptouch/rx.c, "
    "src/rx/rxkey.h), so only little-endian targets are supported (Cortex-M, Xtensa, RISC-V, x86, "
    "little-endian ARM and MIPS).")
endif()
if(NOT SMARTCFG_CORE_ONLY AND NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  message(FATAL_ERROR "smartcfg: the POSIX port, the smartcfg program and the tests run on Linux only "
    "(target system here: '${CMAKE_SYSTEM_NAME}'). For a firmware or another OS configure with "
    "-DSMARTCFG_CORE_ONLY=ON and implement the HAL (docs/porting.md).")
endif()
if(SC_FUZZ AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "smartcfg: SC_FUZZ=ON needs clang (libFuzzer).")
endif()

# --- compile settings (this directory only: a parent's flags are its own business) --------
if(SMARTCFG_TOP_LEVEL)
  set(CMAKE_C_STANDARD 11)
  set(CMAKE_C_STANDARD_REQUIRED ON)
  set(CMAKE_C_EXTENSIONS OFF)
  set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
  if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
    set(CMAKE_BUILD_TYPE RelWithDebInfo)
  endif()
endif()
add_compile_options(-Wall -Wextra)
if(SMARTCFG_WERROR)
  add_compile_options(-Werror)
endif()
if(SC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
if(SC_TSAN)
  if(SC_SANITIZE OR SC_FUZZ)
    message(FATAL_ERROR "smartcfg: SC_TSAN=ON cannot be combined with SC_SANITIZE or SC_FUZZ (ASan).")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
if(SC_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
