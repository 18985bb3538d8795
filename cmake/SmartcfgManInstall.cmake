# SPDX-License-Identifier: Apache-2.0
# Install-time part of the man pages' rule (SmartcfgInstall.cmake): copies each generated page
# (_sc_pages) to <mandir>/man1, with its FILES section's docs directory, written for the
# configured prefix (_sc_conf_docdir), changed to the docs directory of the prefix this install
# uses (cmake --install --prefix P). Paths are matched and written the way man/help2man.py
# escapes them for roff ("-" as "\-").
set(_sc_docdir "${_sc_docdir_rel}")
if(NOT IS_ABSOLUTE "${_sc_docdir}")
  set(_sc_docdir "${CMAKE_INSTALL_PREFIX}/${_sc_docdir}")
endif()
set(_sc_mandir "${_sc_mandir_rel}")
if(NOT IS_ABSOLUTE "${_sc_mandir}")
  set(_sc_mandir "${CMAKE_INSTALL_PREFIX}/${_sc_mandir}")
endif()
set(_sc_mandir "$ENV{DESTDIR}${_sc_mandir}")
string(REPLACE "-" "\\-" _sc_from "${_sc_conf_docdir}/docs/")
string(REPLACE "-" "\\-" _sc_to "${_sc_docdir}/docs/")
# the example units' directory (device and cloud pages), likewise
set(_sc_unitdir "${_sc_unitdir_rel}")
if(NOT IS_ABSOLUTE "${_sc_unitdir}")
  set(_sc_unitdir "${CMAKE_INSTALL_PREFIX}/${_sc_unitdir}")
endif()
string(REPLACE "-" "\\-" _sc_ufrom "${_sc_conf_unitdir}/")
string(REPLACE "-" "\\-" _sc_uto "${_sc_unitdir}/")
file(MAKE_DIRECTORY "${_sc_mandir}")
foreach(_p IN LISTS _sc_pages)
  get_filename_component(_n "${_p}" NAME)
  file(READ "${_p}" _sc_text)
  string(REPLACE "${_sc_from}" "${_sc_to}" _sc_text "${_sc_text}")
  string(REPLACE "${_sc_ufrom}" "${_sc_uto}" _sc_text "${_sc_text}")
  message(STATUS "Installing: ${_sc_mandir}/${_n}")
  file(WRITE "${_sc_mandir}/${_n}" "${_sc_text}")
endforeach()
