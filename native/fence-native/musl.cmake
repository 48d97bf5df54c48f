# fence-launch with musl where musl-gcc is installed (Debian: musl-tools), static. The helper starts
# at every sandbox start, once more before bwrap for a policy with allowed domains, and glibc's
# static start-up alone costs about a millisecond on a virtual machine: it asks the CPU about its
# features and caches over a hundred times (cpuid), and each question traps to the hypervisor.
# musl asks nothing at start-up. Without musl-gcc (or cross-compiling) the helper is built with
# the system's C library, as before; the build says which.
find_program(FENCE_MUSL_GCC musl-gcc)
set(FENCE_MUSL_USABLE FALSE)
if(FENCE_MUSL_GCC AND NOT CMAKE_CROSSCOMPILING)
  # musl-gcc searches only musl's own headers: the kernel's (linux/, asm/) come from the system,
  # through a directory that holds nothing else (the rest of /usr/include is glibc's).
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch OUTPUT_VARIABLE FENCE_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  set(FENCE_KERNEL_HEADERS "${CMAKE_BINARY_DIR}/musl-kernel-headers")
  file(MAKE_DIRECTORY "${FENCE_KERNEL_HEADERS}")
  foreach(dir linux asm-generic)
    file(CREATE_LINK "/usr/include/${dir}" "${FENCE_KERNEL_HEADERS}/${dir}" SYMBOLIC)
  endforeach()
  if(EXISTS "/usr/include/${FENCE_MULTIARCH}/asm")
    file(CREATE_LINK "/usr/include/${FENCE_MULTIARCH}/asm" "${FENCE_KERNEL_HEADERS}/asm" SYMBOLIC)
  else()
    file(CREATE_LINK "/usr/include/asm" "${FENCE_KERNEL_HEADERS}/asm" SYMBOLIC)
  endif()
  set(FENCE_MUSL_FLAGS -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE -static -isystem "${FENCE_KERNEL_HEADERS}")
  file(WRITE "${CMAKE_BINARY_DIR}/musl-probe.c" "#include <linux/landlock.h>\n#include <linux/seccomp.h>\nint main(void) { return 0; }\n")
  execute_process(COMMAND ${FENCE_MUSL_GCC} ${FENCE_MUSL_FLAGS} -o "${CMAKE_BINARY_DIR}/musl-probe" "${CMAKE_BINARY_DIR}/musl-probe.c"
    RESULT_VARIABLE FENCE_MUSL_PROBE OUTPUT_QUIET ERROR_VARIABLE FENCE_MUSL_ERROR)
  if(FENCE_MUSL_PROBE EQUAL 0)
    set(FENCE_MUSL_USABLE TRUE)
    message(STATUS "fence-launch: built with musl (${FENCE_MUSL_GCC})")
  else()
    message(STATUS "fence-launch: musl-gcc cannot build it (${FENCE_MUSL_ERROR}); built with the system's C library")
  endif()
else()
  message(STATUS "fence-launch: built with the system's C library (musl-gcc not found: install musl-tools for a faster start)")
endif()

# The helper from `sources` (relative to this directory), written to `out`.
function(fence_launch_with_musl sources out)
  list(TRANSFORM sources PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/")
  file(GLOB headers "${CMAKE_CURRENT_SOURCE_DIR}/src/*.h")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${FENCE_MUSL_GCC} ${FENCE_MUSL_FLAGS} -o "${out}" ${sources}
    DEPENDS ${sources} ${headers}
    COMMENT "Building fence-launch with musl"
    VERBATIM)
  add_custom_target(fence-launch ALL DEPENDS "${out}")
endfunction()
