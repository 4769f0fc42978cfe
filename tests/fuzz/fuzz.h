/* What every fuzz target provides: the libFuzzer entry point, and its name
 * for the replay driver's TAP lines. */
#pragma once

#include <stddef.h>
#include <stdint.h>

extern const char fuzz_target[];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
