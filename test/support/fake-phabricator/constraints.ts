// How a *.search method reads its `constraints` (and the parameters around them), with the texts of
// the errors a malformed one gets. Phorge and Mozilla's fork read them the same way except where noted
// (src/applications/conduit/parametertype/*.php; src/applications/search/engine/PhabricatorApplicationSearchEngine.php
// `buildConduitResponse`).
import { coreFault } from "./envelope.ts";

/** The Conduit parameter type of a search field (ConduitStringListParameterType and the like). */
export type ConstraintType = "strings" | "ints" | "string" | "bool" | "any";

/** A value as PHP's string conversion (`%s`, `(string)`) writes it. */
export function phpString(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "1" : "";
  return value === null || value === undefined ? "" : "Array";
}

/** `phutil_describe_type` of a JSON value, as the texts below print it. */
function describeType(value: unknown): string {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  return "wild";
}

/** ConduitParameterType::raiseValidationException. */
const invalid = (key: string, message: string) => coreFault(`Error while reading "${key}": ${message}`);

/** ConduitListParameterType::getParameterValue: a JSON list (PHP: an array with keys 0…n-1). */
function readList(key: string, value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === "object") throw invalid(key, "Expected a list, but value is an object.");
  throw invalid(key, "Expected a list, but value is not a list.");
}

/** ConduitParameterType::parseStringValue / parseIntValue / parseBoolValue, strict (a JSON `params`). */
function readScalar(key: string, value: unknown, type: "string" | "int" | "bool"): unknown {
  if (type === "string" && typeof value !== "string") throw invalid(key, "Expected string, got something else.");
  if (type === "int" && !Number.isInteger(value)) throw invalid(key, "Expected integer, got something else.");
  if (type === "bool" && typeof value !== "boolean") throw invalid(key, "Expected boolean (true or false), got something else.");
  return value;
}

function readValue(key: string, value: unknown, type: ConstraintType): unknown {
  switch (type) {
    case "strings":
      return readList(key, value).map((item, i) => readScalar(`${key}[${i}]`, item, "string"));
    case "ints":
      return readList(key, value).map((item, i) => readScalar(`${key}[${i}]`, item, "int"));
    case "string":
    case "bool":
      return readScalar(key, value, type);
    case "any":
      return value;
  }
}

/**
 * The constraints as the query gets them. Mozilla's fork: a `constraints` that is not a map and an
 * unknown constraint are plain Exceptions, so ERR-CONDUIT-CORE with its text
 * (mozilla-conduit/phabricator @69242983 PhabricatorApplicationSearchEngine.php lines 1158-1162 and
 * 1180-1186); Phorge answers ERR-INVALID-CONSTRAINTS-FORMAT and ERR-INVALID-CONSTRAINT
 * ("Parameter "constraints" includes an invalid key.", served/phorge/commit-search-unknown-constraint.json).
 */
export function readConstraints(raw: unknown, known: Record<string, ConstraintType>): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object") throw coreFault(`Parameter "constraints" must be a map of constraints, got "${describeType(raw)}".`);
  // A JSON list is a PHP array whose keys are 0, 1…: its items are constraints named "0", "1"…
  const entries = Object.entries(raw);
  for (const [key] of entries) {
    if (!Object.hasOwn(known, key)) throw coreFault(`Constraint "${key}" is not a valid constraint for this query.`);
  }
  const read: Record<string, unknown> = {};
  for (const [key, value] of entries) read[key] = readValue(key, value, known[key] as ConstraintType);
  return read;
}

/**
 * The page size (setPagerLimitForConduit): 100 when left out, else 1 to 100. Mozilla's fork throws
 * plain Exceptions here, ERR-CONDUIT-CORE, and words the lower bound differently
 * (mozilla-conduit/phabricator @69242983 PhabricatorApplicationSearchEngine.php lines 1380-1394); Phorge
 * answers ERR-INVALID-PAGE-SIZE (served/phorge/commit-search-limit-0.json, commit-search-limit-101.json).
 */
export function readLimit(raw: unknown): number {
  if (raw === undefined || raw === null) return 100;
  const limit = Number(raw);
  if (limit > 100) throw coreFault(`Maximum page size for Conduit API method calls is 100, but this call specified ${phpString(raw)}.`);
  if (!(limit >= 1)) throw coreFault(`Minimum page size for API searches is 1, but this call specified ${phpString(raw)}.`);
  return Math.floor(limit);
}

/**
 * `after`/`before` as the pager takes them: Mozilla's fork casts the value to a string and uses any
 * non-empty one (PhabricatorCursorPagedPolicyAwareQuery::executeWithCursorPager, `phutil_string_cast`,
 * @69242983); so `after: 26` pages like `after: "26"` (served/phorge/commit-search-after-as-number.json).
 */
export function readCursor(raw: unknown): string | null {
  const text = phpString(raw);
  return text === "" ? null : text;
}
