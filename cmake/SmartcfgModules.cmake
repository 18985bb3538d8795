# SPDX-License-Identifier: Apache-2.0
# The core's modules: which sources under src/ each one owns and which switch turns it off.
# One list for the CMake build and for scripts/cross-build.sh, which runs this file in script
# mode (cmake -DSMARTCFG_LIST_MODULES=SRC_DIR -P cmake/SmartcfgModules.cmake prints
# "module switch file..." lines) so that the size table measures exactly what CMake builds.
#
# A module is a list of globs relative to src/. A source no module claims belongs to "core"
# and is always built, so a new file is never silently left out (it only shows up under the
# wrong name in the size table until it is listed here).

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.18)
endif()

# The first module whose glob matches a file owns it.
# "name|switch|globs": switch ALWAYS = cannot be turned off, several switches separated by
# commas = built when any is on; globs separated by spaces.
set(SMARTCFG_MODULES
  "common|ALWAYS|common/*.c"
  "receiver|ALWAYS|rx/*.c esptouch/rx.c esptouch/chansearch.c esptouch/crc8.c esptouch/common.c"
  "tc8266|ALWAYS|tc8266/*.c"
  "diag|ALWAYS|diag/*.c"
  "device|ALWAYS|device/*.c"
  "dynreg|SMARTCFG_WITH_DYNREG|cloud/dynreg.c"
  "binder|SMARTCFG_WITH_CLOUD|cloud/*.c"
  "at|SMARTCFG_WITH_AT|at/*.c"
  "encoder|SMARTCFG_WITH_SENDER,SMARTCFG_WITH_SIM|esptouch/encoder.c esptouch/schedule.c"
  "sender|SMARTCFG_WITH_SENDER|sender/*.c"
  "sim|SMARTCFG_WITH_SIM|sim/*.c"
  # The v2 and AirKiss sources hold encoders as well as receivers: the sender and the
  # simulator need them even when the device's receiver front leaves the decoder out.
  "esptouch_v2|SMARTCFG_WITH_ESPTOUCH_V2,SMARTCFG_WITH_SENDER,SMARTCFG_WITH_SIM|esptouch/v2*.c"
  "airkiss|SMARTCFG_WITH_AIRKISS,SMARTCFG_WITH_SENDER,SMARTCFG_WITH_SIM|airkiss/*.c"
)

# smartcfg_module_files(<src dir> <out prefix>): sets <out>_NAMES (module names in order,
# "core" last), <out>_<name>_FILES (absolute paths) and <out>_<name>_SWITCH.
function(smartcfg_module_files src out)
  if(CMAKE_SCRIPT_MODE_FILE)
    file(GLOB_RECURSE all RELATIVE ${src} ${src}/*.c)
  else()
    # CONFIGURE_DEPENDS: a new or renamed source re-runs the configure step.
    file(GLOB_RECURSE all RELATIVE ${src} CONFIGURE_DEPENDS ${src}/*.c)
  endif()
  list(SORT all)
  set(claimed "")
  set(names "")
  foreach(m IN LISTS SMARTCFG_MODULES)
    string(REPLACE "|" ";" parts "${m}")
    list(GET parts 0 name)
    list(GET parts 1 sw)
    list(GET parts 2 globs)
    separate_arguments(globs)
    set(files "")
    foreach(g IN LISTS globs)
      file(GLOB hits RELATIVE ${src} ${src}/${g})
      foreach(h IN LISTS hits)
        if(NOT h IN_LIST claimed)
          list(APPEND claimed ${h})
          list(APPEND files ${src}/${h})
        endif()
      endforeach()
    endforeach()
    list(SORT files)
    list(APPEND names ${name})
    set(${out}_${name}_FILES "${files}" PARENT_SCOPE)
    set(${out}_${name}_SWITCH "${sw}" PARENT_SCOPE)
  endforeach()
  set(rest "")
  foreach(f IN LISTS all)
    if(NOT f IN_LIST claimed)
      list(APPEND rest ${src}/${f})
    endif()
  endforeach()
  list(APPEND names core)
  set(${out}_core_FILES "${rest}" PARENT_SCOPE)
  set(${out}_core_SWITCH ALWAYS PARENT_SCOPE)
  set(${out}_NAMES "${names}" PARENT_SCOPE)
endfunction()

# A module is built when its switch is ALWAYS or when any of its switches is ON.
function(smartcfg_module_enabled sw out)
  set(on FALSE)
  if(sw STREQUAL "ALWAYS")
    set(on TRUE)
  else()
    string(REPLACE "," ";" sws "${sw}")
    foreach(s IN LISTS sws)
      if(${s})
        set(on TRUE)
      endif()
    endforeach()
  endif()
  set(${out} ${on} PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND DEFINED SMARTCFG_LIST_MODULES)
  smartcfg_module_files(${SMARTCFG_LIST_MODULES} M)
  foreach(n IN LISTS M_NAMES)
    if(M_${n}_FILES)
      string(REPLACE ";" " " files "${M_${n}_FILES}")
      execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${n} ${M_${n}_SWITCH} ${files}")
    endif()
  endforeach()
endif()
