// A value one part of the service publishes and another reads: the checks publish what they know after
// each run, and the scrape-time collectors read it, so a scrape never calls into a check and a check
// never knows who reads it. One value, replaced whole; no shared mutable structure.

export interface Board<T> {
  read(): T;
  publish(value: T): void;
}

export function createBoard<T>(initial: T): Board<T> {
  let value = initial;
  return {
    read: () => value,
    publish(next) {
      value = next;
    },
  };
}
