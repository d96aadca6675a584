// The generic *.search method (src/applications/search/engine/PhabricatorApplicationSearchEngine.php
// `buildConduitResponse`; the same in phorgeit/phorge @07c1a513 and mozilla-conduit/phabricator
// @69242983 except where constraints.ts says): `ids` and `phids` beside each engine's own constraints,
// 1-100 rows a page in the query's first builtin order, and cursor paging
// (src/infrastructure/query/policy/PhabricatorCursorPagedPolicyAwareQuery.php `executeWithCursorPager`):
// `after` is the id of the last row when more rows follow it, or whenever the call paged backwards;
// `before` the id of the first row whenever the call paged forwards with `after`
// (served/phorge/commit-search-repository-page-2.json), or backwards with more rows before it.
import { coreFault } from "./envelope.ts";
import { phpString, readConstraints, readCursor, readLimit, type ConstraintType } from "./constraints.ts";

export interface SearchSpec<T> {
  /** The query class, named in the error for a cursor that names no row. */
  queryClass: string;
  /** Each constraint the engine knows (besides `ids` and `phids`) and its Conduit parameter type. */
  constraints: Record<string, ConstraintType>;
  /** The rows the constraints select; [] where the query throws PhabricatorEmptyQueryException. */
  select(constraints: Record<string, unknown>): T[];
  /** Every row, for the cursor: any row the viewer can see may be one. */
  all(): T[];
  id(row: T): number;
  phid(row: T): string;
  /** The builtin order's sort key, compared from the first number; highest first. Default: the id. */
  orderKey?(row: T): number[];
  fields(row: T): Record<string, unknown>;
}

export interface SearchRequest {
  queryKey?: unknown;
  constraints?: unknown;
  order?: unknown;
  before?: unknown;
  after?: unknown;
  limit?: unknown;
}

/** The parameters every *.search method defines (PhabricatorSearchEngineAPIMethod::defineParamTypes). */
export const SEARCH_PARAMETERS = ["queryKey", "constraints", "attachments", "order", "before", "after", "limit"];

const compare = (a: number[], b: number[]) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
};

/** PHP's (int) of a cursor string: its leading digits, 0 when there are none. */
const phpInt = (text: string) => Number(/^\s*[+-]?\d+/.exec(text)?.[0] ?? 0);

export function runSearch<T>(spec: SearchSpec<T>, params: SearchRequest): unknown {
  const queryKey = readQueryKey(params.queryKey);
  const constraints = readConstraints(params.constraints, { ids: "ints", phids: "strings", ...spec.constraints });
  const limit = readLimit(params.limit);
  const after = readCursor(params.after);
  const before = after === null ? readCursor(params.before) : null;
  const key = (row: T) => spec.orderKey?.(row) ?? [spec.id(row)];
  const ids = constraints.ids as number[] | undefined;
  const phids = constraints.phids as string[] | undefined;
  const rows = spec
    .select(constraints)
    .filter((r) => (!ids || ids.includes(spec.id(r))) && (!phids || phids.includes(spec.phid(r))))
    .sort((a, b) => compare(key(b), key(a)));
  const cursorKey = (cursor: string) => {
    const row = spec.all().find((r) => spec.id(r) === phpInt(cursor));
    if (row === undefined) throw coreFault(`Cursor "${cursor}" does not identify a valid object in query "${spec.queryClass}".`);
    return key(row);
  };
  const cursor = after !== null ? { forwards: true, at: cursorKey(after) } : before !== null ? { forwards: false, at: cursorKey(before) } : null;
  const page = pageOf(rows, limit, key, cursor);
  const sliced = page.rows;
  return {
    data: sliced.map((row) => ({ id: spec.id(row), type: spec.phid(row).split("-")[1], phid: spec.phid(row), fields: spec.fields(row), attachments: {} })),
    maps: {},
    query: { queryKey },
    cursor: {
      limit,
      after: sliced.length > 0 && (before !== null || page.more) ? String(spec.id(sliced.at(-1) as T)) : null,
      before: sliced.length > 0 && (after !== null || (before !== null && page.more)) ? String(spec.id(sliced[0] as T)) : null,
      order: params.order ?? null,
    },
  };
}

/**
 * Rows past the cursor (below it paging forwards, above it backwards), `limit` of them, highest first:
 * the query loads `limit + 1` rows from the cursor on, and the pager keeps the `limit` nearest it.
 */
function pageOf<T>(rows: T[], limit: number, key: (row: T) => number[], cursor: { forwards: boolean; at: number[] } | null): { rows: T[]; more: boolean } {
  if (!cursor) return { rows: rows.slice(0, limit), more: rows.length > limit };
  if (cursor.forwards) {
    const rest = rows.filter((r) => compare(key(r), cursor.at) < 0);
    return { rows: rest.slice(0, limit), more: rest.length > limit };
  }
  const newer = rows.filter((r) => compare(key(r), cursor.at) > 0);
  return { rows: newer.slice(-limit), more: newer.length > limit };
}

/**
 * `queryKey`: none, or a builtin query ("all"); Mozilla's fork answers any other key with a plain
 * Exception, ERR-CONDUIT-CORE (mozilla-conduit/phabricator @69242983 PhabricatorApplicationSearchEngine.php
 * lines 1139-1155; Phorge: ERR-BAD-QUERYKEY). Saved queries are not kept by this fake.
 */
function readQueryKey(raw: unknown): string | null {
  if (raw === undefined || raw === null || raw === "") return null;
  if (raw === "all") return "all";
  throw coreFault(`Query key "${phpString(raw)}" does not correspond to a valid query.`);
}
