/* core/builtin.h - the one name core takes from the layer above it.
 *
 * Core's registry (core/registry.c) holds policies of every kind by name
 * but names none: the built-in ones reach it through this descriptor, of
 * the same type a plug-in exports, which the policies layer defines
 * (policies/builtin.c lists them).  Core refers to the descriptor's name
 * only, never to a policy; so a static link that uses the registry (any
 * configuration does) pulls policies/builtin.o in, and with it every
 * built-in policy, and the order of its lists is the order of `vmlab
 * policies` and of the contract tests.  tests/e2e/layers.sh allows this
 * one symbol, and no other, to go from core upwards.
 */
#ifndef VMLAB_CORE_BUILTIN_H
#define VMLAB_CORE_BUILTIN_H

#include "vmlab/policy.h"

extern const struct vl_plugin vl_builtin_policies;

#endif
