/**
 * The workflow API with one patch unguarded: `patched(id)` for the patch named
 * in this module's resource query (`unguarded-patches.ts?patch=<id>`) always
 * takes the new path and records nothing, as if that change had been made
 * without a patch; every other patch behaves as usual. tests/workflow/replay.test.ts
 * bundles the order workflow against it, one patch at a time, to show which
 * recorded histories would then fail to replay.
 */
import { patched as recordedPatched } from '@temporalio/workflow/lib/index.js';

export * from '@temporalio/workflow/lib/index.js';

/** Webpack's query string of the importing request, e.g. `?patch=commit-reservation-on-confirm`. */
declare const __resourceQuery: string;

const unguardedPatch = new URLSearchParams(__resourceQuery).get('patch');

export function patched(patchId: string): boolean {
  return patchId === unguardedPatch ? true : recordedPatched(patchId);
}
