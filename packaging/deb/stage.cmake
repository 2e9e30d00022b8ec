# Run by cpack (CPACK_PRE_BUILD_SCRIPTS) on the staged tree, before it is packed: Debian 12
# keeps systemd units in /lib/systemd/system, and the unit must start the packaged
# /usr/bin/acmed whatever install prefix the build tree was configured with.
set(root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
file(GLOB_RECURSE staged LIST_DIRECTORIES false "${root}/*")
set(units ${staged})
list(FILTER units INCLUDE REGEX "/systemd/system/acmed(-fleet-agent)?\\.(service|timer)$")
if(NOT units)
  message(FATAL_ERROR "acmed: no systemd units in the staged package under ${root}")
endif()
file(MAKE_DIRECTORY "${root}/lib/systemd/system")
foreach(unit ${units})
  get_filename_component(name "${unit}" NAME)
  file(READ "${unit}" text)
  string(REGEX REPLACE "ExecStart=[^ \n]*/acmed" "ExecStart=/usr/bin/acmed" text "${text}")
  file(REMOVE "${unit}")
  file(WRITE "${root}/lib/systemd/system/${name}" "${text}")
endforeach()
# The directories the units left (usr/lib/systemd/system...), if nothing else is in them.
foreach(dir usr/lib/systemd/system usr/lib/systemd usr/lib usr/local/lib/systemd/system
            usr/local/lib/systemd usr/local/lib usr/local)
  file(GLOB left "${root}/${dir}/*")
  if(EXISTS "${root}/${dir}" AND NOT left)
    file(REMOVE_RECURSE "${root}/${dir}")
  endif()
endforeach()
