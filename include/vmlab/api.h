/* vmlab/api.h - the export mark every public header uses.
 *
 * libvmlab is compiled with -fvisibility=hidden: a function is exported
 * from libvmlab.so (and from a program that links libvmlab.a with
 * -rdynamic, which is how a dlopen'ed policy plug-in finds vl_err) only
 * when its declaration carries VL_API.  Every VL_API name starts with vl_
 * (tests/e2e/library.sh lists the shared library's dynamic symbols and
 * fails on any other name).  Internal functions shared between the
 * library's files carry no mark and stay inside it.
 *
 * Nothing here is compiler-specific for a user: other compilers see empty
 * macros.
 */
#ifndef VMLAB_API_H
#define VMLAB_API_H

#if defined(__GNUC__) || defined(__clang__)
#ifndef VL_API /* the capture runtimes define it empty: they export nothing */
#define VL_API __attribute__((visibility("default")))
#endif
/* printf-style checking of the arguments: f is the format's position, a
 * the first argument's */
#define VL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#ifndef VL_API
#define VL_API
#endif
#define VL_PRINTF(f, a)
#endif

#endif
