// The table of check kinds: what buildApp builds, and what /status, /__heartbeat__, --once and --json
// loop over, in this order (replication first: Try and Lando traffic are on queues of their own and
// wait their turn, so they never hold it up). A new check is a folder exporting a CheckKind
// (src/run/check-kind.ts) and a line here.
import type { CheckKind } from "../run/check-kind.ts";
import { replicationKind } from "../replication/kind.ts";
import { reviewKind } from "../review/kind.ts";
import { gitSyncKind } from "../git-sync/kind.ts";
import { queueDepthsKind } from "../pulse/queue-depths-kind.ts";

export const CHECK_KINDS: readonly CheckKind[] = [replicationKind, reviewKind, gitSyncKind, queueDepthsKind];
