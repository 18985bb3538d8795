# SPDX-License-Identifier: Apache-2.0
# Tests (make test), benchmarks (make bench) and fuzzers (SC_FUZZ=ON). Unit tests are
# tests/unit/test_<name>.c (cmocka, one program each); integration tests are
# tests/integration/<name>.sh, run with SC_BUILD (this build) and SC_SRC (the sources).
include_guard(GLOBAL)

smartcfg_find_host_libs("CMOCKA|cmocka|libcmocka-dev")
enable_testing()
set(SC_TOP ${CMAKE_CURRENT_SOURCE_DIR})
set(SC_BIN ${CMAKE_CURRENT_BINARY_DIR})

file(GLOB SC_UNIT_TESTS CONFIGURE_DEPENDS ${SC_TOP}/tests/unit/test_*.c)
file(GLOB SC_TEST_SUPPORT CONFIGURE_DEPENDS ${SC_TOP}/tests/support/*.c)
if(SC_TEST_SUPPORT)
  add_library(sc_testsupport STATIC ${SC_TEST_SUPPORT})
  target_compile_definitions(sc_testsupport PRIVATE _GNU_SOURCE)
  target_include_directories(sc_testsupport PUBLIC ${SC_TOP}/tests/support)
  target_link_libraries(sc_testsupport PUBLIC smartcfg_posix PkgConfig::CMOCKA)
endif()
# sc_unit_tests builds only the unit tests (and what they link): the sanitizer phase of
# make test needs nothing else, and skipping the programs, benchmarks and plugin saves a
# whole clang build on a 2-core machine.
add_custom_target(sc_unit_tests)
foreach(t ${SC_UNIT_TESTS})
  get_filename_component(n ${t} NAME_WE)
  add_executable(${n} ${t})
  add_dependencies(sc_unit_tests ${n})
  target_compile_definitions(${n} PRIVATE _GNU_SOURCE)
  target_link_libraries(${n} PRIVATE smartcfg_posix PkgConfig::CMOCKA PkgConfig::SQLITE PkgConfig::MHD)
  if(SC_TEST_SUPPORT)
    target_link_libraries(${n} PRIVATE sc_testsupport)
  endif()
  # the PostgreSQL backend's cases, run against a real server by integ.cloud_pg
  if((n STREQUAL "test_cloud_store_pg" OR n STREQUAL "test_cloud_revoke") AND PQ_FOUND)
    target_compile_definitions(${n} PRIVATE SMARTCFG_HAVE_LIBPQ)
    target_link_libraries(${n} PRIVATE PkgConfig::PQ)
  endif()
  set_target_properties(${n} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${SC_BIN}/tests)
  # (test_cloud_store_pg needs a server: integ.cloud_pg runs it, a unit run would only skip it)
  if(NOT n STREQUAL "test_cloud_store_pg")
    add_test(NAME unit.${n} COMMAND ${n} WORKING_DIRECTORY ${SC_BIN})
    set_tests_properties(unit.${n} PROPERTIES LABELS unit TIMEOUT 300)
    # "/* ctest-cost: SECONDS */", as the integration tests' line below: a unit test that waits
    # out timeouts (test_posix_station, 22 s) started last in the ASan phase and ended it alone
    file(STRINGS ${t} _cost REGEX "^/\\* ctest-cost: [0-9]+ \\*/$" LIMIT_COUNT 1)
    if(_cost)
      string(REGEX REPLACE "^/\\* ctest-cost: ([0-9]+) \\*/$" "\\1" _cost "${_cost}")
      set_tests_properties(unit.${n} PROPERTIES COST ${_cost})
    endif()
  endif()
endforeach()

file(GLOB SC_INTEG_TESTS CONFIGURE_DEPENDS ${SC_TOP}/tests/integration/*.sh)
foreach(t ${SC_INTEG_TESTS})
  get_filename_component(n ${t} NAME_WE)
  add_test(NAME integ.${n} COMMAND bash ${t})
  set_tests_properties(integ.${n} PROPERTIES LABELS integration TIMEOUT 600
    ENVIRONMENT "SC_BUILD=${SC_BIN};SC_SRC=${SC_TOP}")
  # A long test says so in a line "# ctest-cost: SECONDS" (its time on an idle machine): ctest
  # starts the costliest first, so on a fresh checkout (no timing history yet) a 90 s test
  # does not start last and leave one core idle at the end of the run.
  file(STRINGS ${t} _cost REGEX "^# ctest-cost: [0-9]+$" LIMIT_COUNT 1)
  if(_cost)
    string(REGEX REPLACE "^# ctest-cost: " "" _cost "${_cost}")
    set_tests_properties(integ.${n} PROPERTIES COST ${_cost})
  endif()
endforeach()

# integ.device_wpa_real's driver of the wpa: station backend (one join against a real
# wpa_supplicant per run)
add_executable(wpa_real_drive ${SC_TOP}/tests/integration/wpa_real/drive.c)
target_compile_definitions(wpa_real_drive PRIVATE _GNU_SOURCE)
target_link_libraries(wpa_real_drive PRIVATE smartcfg_posix)
set_target_properties(wpa_real_drive PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${SC_BIN}/tests)

# integ.cloud_wallclock's wall clock for one process (LD_PRELOAD): a step of it, and the waits
# it moves, without moving the machine's
add_library(sc_wallclock SHARED ${SC_TOP}/tests/preload/wallclock.c)
target_link_libraries(sc_wallclock PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(sc_wallclock PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${SC_BIN}/tests)

# --- benchmarks: bench/bench_<name>.c -----------------------------------------------
file(GLOB SC_BENCH CONFIGURE_DEPENDS ${SC_TOP}/bench/bench_*.c)
foreach(b ${SC_BENCH})
  get_filename_component(n ${b} NAME_WE)
  add_executable(${n} ${b})
  target_compile_definitions(${n} PRIVATE _GNU_SOURCE)
  target_link_libraries(${n} PRIVATE smartcfg_posix PkgConfig::SQLITE PkgConfig::MHD)
  set_target_properties(${n} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${SC_BIN}/bench)
endforeach()

# --- fuzzers: fuzz/fuzz_<name>.c (libFuzzer; clang -DSC_FUZZ=ON) ----------------------
# With SC_SANITIZE=ON as well, one clang build serves both the unit tests under
# ASan+UBSan and the fuzzers (the libraries carry the fuzzer's coverage hooks, which the
# sanitizer runtime answers in a program without libFuzzer): that is what make test does.
if(SC_FUZZ)
  file(GLOB SC_FUZZERS CONFIGURE_DEPENDS ${SC_TOP}/fuzz/fuzz_*.c)
  add_custom_target(sc_fuzzers)
  foreach(f ${SC_FUZZERS})
    get_filename_component(n ${f} NAME_WE)
    add_executable(${n} ${f})
    add_dependencies(sc_fuzzers ${n})
    target_compile_definitions(${n} PRIVATE _GNU_SOURCE)
    target_compile_options(${n} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${n} PRIVATE -fsanitize=fuzzer,address,undefined)
    # fuzz_cloud_auth compiles the broker plugin with the registry's SQLite backend in
    target_link_libraries(${n} PRIVATE smartcfg_posix PkgConfig::SQLITE)
    set_target_properties(${n} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${SC_BIN}/fuzz)
  endforeach()
endif()
