// The code-review pipeline's part of /status and of the page. Pure.
import { iso, isoSeconds } from "../core/iso-time.ts";
import { reviewsInFlightAt, type ReviewView } from "./reviews.ts";
import { stuckReviews, type StuckReview } from "./stuck.ts";

export interface PipelineStatus {
  /** null while the service does not know (start-up recovery not done, another reader on the Try queue, or stale). */
  reviewsInFlight: number | null;
  oldestReviewSeconds: number | null;
  /** The reviews in flight for over 2 h, oldest first; [] when none, null when reviewsInFlight is. */
  stuck: StuckReview[] | null;
  lastCodeReviewPush: { pushId: number; pushTime: string | null } | null;
  lastCheck: string | null;
  lastSuccess: string | null;
  lastError: string | null;
}

export function pipelineSection(view: ReviewView, nowMs: number, staleAfterMs: number): PipelineStatus {
  const inFlight = reviewsInFlightAt(view, nowMs, staleAfterMs);
  return {
    reviewsInFlight: inFlight?.count ?? null,
    oldestReviewSeconds: inFlight?.oldestSeconds ?? null,
    stuck: inFlight === undefined ? null : stuckReviews(view.book, nowMs),
    lastCodeReviewPush: view.lastCodeReviewPush ? { pushId: view.lastCodeReviewPush.pushId, pushTime: isoSeconds(view.lastCodeReviewPush.pushTime) } : null,
    lastCheck: iso(view.lastCheckAt),
    lastSuccess: iso(view.lastSuccessAt),
    lastError: view.lastError ?? null,
  };
}
