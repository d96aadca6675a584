// Which json-pushes ranges to ask for a set of push ids: every check that reads the pushlog by id
// (replication, the Try read, the Git sync, display-lag) asks this way. Pure.

/**
 * Push id ranges for the pushlog, one per run of consecutive ids, each at most `maxPushes` long.
 * `startId` is exclusive and `endId` inclusive, as json-pushes reads them.
 */
export function pushIdRanges(pushIds: readonly number[], maxPushes: number): Array<{ startId: number; endId: number }> {
  const ranges: Array<{ startId: number; endId: number }> = [];
  let first: number | undefined;
  let last = 0;
  for (const id of [...pushIds].sort((a, b) => a - b)) {
    if (first !== undefined && id === last) continue;
    if (first !== undefined && id === last + 1 && id - first < maxPushes) {
      last = id;
      continue;
    }
    if (first !== undefined) ranges.push({ startId: first - 1, endId: last });
    first = id;
    last = id;
  }
  if (first !== undefined) ranges.push({ startId: first - 1, endId: last });
  return ranges;
}
