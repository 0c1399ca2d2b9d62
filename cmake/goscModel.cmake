# goscModel.cmake -- gosc_add_model(NAME MODEL [TARGET T] [OPTIONS opt...])
#
# Compiles MODEL (.gos, .gir or .onnx; relative to the current source
# directory) with gosc for target T (default host) into NAME.o and NAME.h
# under the build directory, and makes NAME a static library target that
# holds the object and carries the header's directory: a program does
#     gosc_add_model(net net.onnx TARGET armv8 OPTIONS -O3)
#     target_link_libraries(app PRIVATE net)
# and includes "net.h" (functions and macros take the model's name as
# prefix). OPTIONS are further gosc options (not -emit, -o or -target).
# gosc is GOSC_EXECUTABLE when set, else the gosc::gosc imported target.
function(gosc_add_model name model)
  cmake_parse_arguments(PARSE_ARGV 2 GOSC "" "TARGET" "OPTIONS")
  if(GOSC_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "gosc_add_model(${name}): unknown arguments ${GOSC_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT GOSC_TARGET)
    set(GOSC_TARGET host)
  endif()
  set(exe "${GOSC_EXECUTABLE}")
  if(NOT exe)
    set(exe gosc::gosc)
  endif()
  get_filename_component(src "${model}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${src}")
    message(FATAL_ERROR "gosc_add_model(${name}): no model file ${src}")
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/gosc_${name}")
  set(obj "${dir}/${name}.o")
  add_custom_command(OUTPUT "${obj}" "${dir}/${name}.h"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${dir}"
    COMMAND ${exe} "${src}" -target=${GOSC_TARGET} ${GOSC_OPTIONS} -emit=obj -o "${obj}"
    DEPENDS "${src}" ${exe}
    COMMENT "gosc: ${model} for ${GOSC_TARGET}"
    VERBATIM)
  set_source_files_properties("${obj}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${name} STATIC "${obj}" "${dir}/${name}.h")
  set_target_properties(${name} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${name} INTERFACE "${dir}")
  target_link_libraries(${name} INTERFACE m)
endfunction()
