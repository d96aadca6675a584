// The one stale rule: what a run found is believed for three intervals of CHECK_SCHEDULE, and no
// longer. The lag gauges, the reviews in flight and /__heartbeat__ all ask it here.

/** How long a successful run vouches for what it found. */
export function staleAfterMs(checkIntervalMs: number): number {
  return 3 * checkIntervalMs;
}

/** Whether a success at `lastSuccessAt` (ms) still vouches at `nowMs`. */
export function isFresh(lastSuccessAt: number | undefined, nowMs: number, staleAfter: number): boolean {
  return lastSuccessAt !== undefined && nowMs - lastSuccessAt <= staleAfter;
}
