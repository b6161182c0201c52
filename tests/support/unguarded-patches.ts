/**
 * The workflow API with `patched()` always taking the new path and recording
 * nothing: the order workflow bundled against it behaves as if its change had
 * been made without a patch. tests/replay.test.ts uses it to show that the
 * histories recorded before the change would then fail to replay.
 */
export * from '@temporalio/workflow/lib/index.js';

export function patched(_patchId: string): boolean {
  return true;
}
