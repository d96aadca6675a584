// The reviews in flight for over 2 h (STUCK_REVIEW_S): the list /status and the page show, and which
// of them crossed the mark since the last check, for one warn line each. Their age counts from the
// same start as phabmon_oldest_review_in_flight_seconds, and "stuck" is phabmon_reviews_stuck's rule.
// Pure: the book, what was already said and the time in.
import type { Note } from "../run/check.ts";
import { isStuck, reviewStartSeconds, type Review, type ReviewBook } from "./reviews.ts";

export interface StuckReview {
  /** "D123"; null when the bot's commit names no revision (`try_task_config for code-review`). */
  revision: string | null;
  diff: string;
  /** null while the review's Try push is not known. */
  tryPushId: number | null;
  ageSeconds: number;
}

function entry(review: Review, nowMs: number): StuckReview {
  return {
    revision: review.revisionId === undefined ? null : `D${review.revisionId}`,
    diff: review.diffPHID,
    tryPushId: review.tryPush?.pushId ?? null,
    ageSeconds: Math.max(0, Math.floor(nowMs / 1000 - reviewStartSeconds(review))),
  };
}

/** The reviews in flight for over 2 h at `nowMs`, oldest first (then by diff, so the order is stable). */
export function stuckReviews(book: ReviewBook, nowMs: number): StuckReview[] {
  return [...book.inFlight.values()]
    .filter((review) => isStuck(review, nowMs))
    .sort((a, b) => reviewStartSeconds(a) - reviewStartSeconds(b) || (a.diffPHID < b.diffPHID ? -1 : a.diffPHID > b.diffPHID ? 1 : 0))
    .map((review) => entry(review, nowMs));
}

/**
 * The reviews that crossed 2 h since they were last looked at: those stuck now that `said` does not
 * hold yet, and `said` for the next check (kept only while a review is in flight). Whether a review
 * is still in flight is known only when its target was polled this run (`polled`): without that, a
 * review that has just finished would be called stuck, so nothing is said and it waits for a poll.
 * A review already over 2 h when the process starts is not in `said`, so it is said at the first check.
 */
export function crossedStuck(
  book: ReviewBook,
  said: ReadonlySet<string>,
  nowMs: number,
  polled: boolean,
): { crossed: StuckReview[]; said: ReadonlySet<string> } {
  const kept = new Set([...said].filter((diff) => book.inFlight.has(diff)));
  if (!polled) return { crossed: [], said: kept };
  const crossed = stuckReviews(book, nowMs).filter((s) => !kept.has(s.diff));
  for (const s of crossed) kept.add(s.diff);
  return { crossed, said: kept };
}

export const STUCK_MESSAGE = "review in flight for over 2 h";

/** One warn line per review that crossed, with the fields of its /status entry. */
export function stuckNotes(crossed: readonly StuckReview[]): Note[] {
  return crossed.map((s) => ({ level: "warn", msg: STUCK_MESSAGE, fields: { ...s } }));
}
