// What the code-review check carries from one run to the next, as one value: the reviews in flight
// (reviews.ts), whether the start-up read-back is done, how far the Try pushlog has been read, and how
// the last runs ended. Pure.
import { EMPTY_BOOK, type ReviewBook, type ReviewView } from "./reviews.ts";

export interface ReviewState {
  book: ReviewBook;
  /** False until the reviews in flight before this process started have been read back from Phabricator. */
  recovered: boolean;
  /** When (ms) build targets were last polled successfully: the in-flight gauges vouch for no more. */
  polledAt: number | undefined;
  /** The highest Try push id the pushlog listed: where the next search for lost Try pushes starts. */
  lastSeenPushId: number | undefined;
  /** The newest code-review bot's push read, for /status. */
  lastCodeReviewPush: { pushId: number; pushTime: number } | undefined;
  /** Try push ids json-pushes did not list yet, and in how many runs in a row. */
  absences: ReadonlyMap<number, number>;
  /**
   * False while the last read of the Try queue was partial (another consumer held part of it, or
   * every message was unusable): the in-flight gauges would count only what this process saw.
   */
  wholeView: boolean;
  /** The reviews in flight already logged as over 2 h (stuck.ts), so that each is logged once. */
  stuckSaid: ReadonlySet<string>;
  lastCheckAt: number | undefined;
  lastSuccessAt: number | undefined;
  lastError: string | undefined;
}

export const NEW_REVIEW_STATE: ReviewState = {
  book: EMPTY_BOOK,
  recovered: false,
  polledAt: undefined,
  lastSeenPushId: undefined,
  lastCodeReviewPush: undefined,
  absences: new Map(),
  wholeView: true,
  stuckSaid: new Set(),
  lastCheckAt: undefined,
  lastSuccessAt: undefined,
  lastError: undefined,
};

/** What the scrape-time collectors and /status read. */
export function reviewView(state: ReviewState): ReviewView {
  return {
    book: state.book,
    whole: state.recovered && state.wholeView,
    polledAt: state.polledAt,
    lastCodeReviewPush: state.lastCodeReviewPush,
    lastCheckAt: state.lastCheckAt,
    lastSuccessAt: state.lastSuccessAt,
    lastError: state.lastError,
  };
}
