import { describe, expect, it } from "vitest";
import { planCheck, settleCheck, type DeliveredMessage } from "../../src/hgpush/check-plan.ts";
import type { Push } from "../../src/hgpush/hgpush-message.ts";

const A = "integration/autoland";
const B = "mozilla-central";
const push = (repository: string, pushId: number): Push => ({ repository, pushId, pushTime: pushId, user: "u" });
const carrier = (index: number, repository: string, ...ids: number[]): DeliveredMessage => ({
  index,
  decoded: { kind: "pushes", repository, pushes: ids.map((id) => push(repository, id)) },
});

describe("planCheck", () => {
  it("orders each repository's pushes by push id, whatever the delivery order", () => {
    const plan = planCheck([carrier(0, A, 3), carrier(1, B, 1), carrier(2, A, 1, 2)], new Set([A, B]));
    expect(plan.pushesByRepository.get(A)?.map((p) => p.pushId)).toEqual([1, 2, 3]);
    expect(plan.pushesByRepository.get(B)?.map((p) => p.pushId)).toEqual([1]);
  });

  it("treats a message whose pushes all came before as a duplicate, and one with something new as a carrier", () => {
    const plan = planCheck([carrier(0, A, 1, 2), carrier(1, A, 2), carrier(2, A, 2, 3)], new Set([A]));
    expect(plan.setAside).toEqual([{ index: 1, outcome: "duplicate", repository: A }]);
    expect([...plan.carriers.keys()]).toEqual([0, 2]);
  });

  it("sets aside rejected, skipped and unmonitored messages", () => {
    const plan = planCheck(
      [
        { index: 0, decoded: { kind: "rejected", reason: "not_json", detail: "x" } },
        { index: 1, decoded: { kind: "skipped", reason: "other_type" } },
        carrier(2, "try", 5),
      ],
      new Set([A]),
    );
    expect(plan.setAside.map((s) => [s.index, s.outcome])).toEqual([
      [0, "rejected"],
      [1, "skipped"],
      [2, "rejected"],
    ]);
    expect(plan.pushesByRepository.size).toBe(0);
  });
});

describe("settleCheck", () => {
  it("acks a carrier only when all its pushes are verified, and requeues the rest in delivery order", () => {
    const plan = planCheck(
      [carrier(0, A, 1), carrier(1, A, 2, 3), { index: 2, decoded: { kind: "skipped", reason: "empty_push" } }, carrier(3, A, 4), carrier(4, A, 1)],
      new Set([A]),
    );
    const settlement = settleCheck(plan, new Map([[A, new Set([1, 2])]]), 5);
    expect(settlement).toEqual({ ack: [0, 2, 4], requeue: [1, 3] });
  });

  it("requeues everything carrying pushes when nothing is verified", () => {
    const plan = planCheck([carrier(0, A, 1), carrier(1, B, 1)], new Set([A, B]));
    expect(settleCheck(plan, new Map(), 2)).toEqual({ ack: [], requeue: [0, 1] });
  });
});
