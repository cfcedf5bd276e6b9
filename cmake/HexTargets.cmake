# Small wrappers so that each target reads in three lines, and the layering
# (common <- server <- client) is enforced in one place.

set(HEX_WARNINGS -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)

# hex_add_test(NAME tst_foo SOURCES tst_foo.cpp LIBS hexcommon [LABELS x] [TIMEOUT s])
# One Qt Test executable per unit, registered with CTest.
function(hex_add_test)
    cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ENV" ${ARGN})
    qt_add_executable(${T_NAME} ${T_SOURCES})
    set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    target_compile_options(${T_NAME} PRIVATE ${HEX_WARNINGS})
    target_link_libraries(${T_NAME} PRIVATE Qt6::Test ${T_LIBS})
    target_compile_definitions(${T_NAME} PRIVATE
        HEX_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
        HEX_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 300)
    endif()
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT})
    if(T_LABELS)
        set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
    endif()
    if(T_ENV)
        set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "${T_ENV}")
    endif()
endfunction()

# hex_add_bench(NAME bench_foo SOURCES bench_foo.cpp LIBS hexcommon)
function(hex_add_bench)
    cmake_parse_arguments(B "" "NAME" "SOURCES;LIBS" ${ARGN})
    qt_add_executable(${B_NAME} ${B_SOURCES})
    target_compile_options(${B_NAME} PRIVATE ${HEX_WARNINGS})
    target_link_libraries(${B_NAME} PRIVATE ${B_LIBS})
endfunction()
