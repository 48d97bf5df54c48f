/** Refusals of the Linux layers that name the native helper and how to get it. */
import { FenceError } from '@fence/core';

/** `feature` cannot work without the native helper (fence-launch) or its addon. */
export const nativeMissing = (feature: string): FenceError =>
  new FenceError(
    'LAYER_UNAVAILABLE',
    `${feature} needs the native helper, prebuilt in @fence/cli-${process.platform}-${process.arch} (an optional dependency of @fence/cli: reinstall it without --omit=optional); or build it from source with: npm rebuild @fence/native (needs a C compiler and cmake)`,
  );
