// A Conduit call, in the order PhabricatorConduitAPIController::handleRequest takes it
// (src/applications/conduit/controller/PhabricatorConduitAPIController.php, phorgeit/phorge @07c1a513;
// the same in mozilla-conduit/phabricator @69242983 except where noted):
// 1. `decodeConduitParams`: a body sent as `Content-Type: application/json` is refused before anything
//    else (served/phorge/commit-search-json-body.json); otherwise the form field `params` is the JSON of
//    the parameters, whose `__conduit__` holds the token;
// 2. ConduitCall: an unknown method is ERR-CONDUIT-CALL (served/phorge/unknown-method.json), and so is a
//    parameter the method does not define;
// 3. `authenticateUser`, for a token (below);
// 4. the method itself: every method this fake serves is a *.search (search-engine.ts).
import { ConduitFault, coreFault, type ConduitAnswer } from "./envelope.ts";
import { phpString } from "./constraints.ts";
import { SEARCH_PARAMETERS, type SearchRequest } from "./search-engine.ts";

export interface ConduitCall {
  /** The parameters as decoded, without `__conduit__`; undefined when they could not be read. */
  params: Record<string, unknown> | undefined;
  answer: ConduitAnswer;
}

interface Decoded {
  metadata: Record<string, unknown>;
  params: Record<string, unknown>;
}

const isMap = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * `decodeConduitParams`: PHP reads form fields from the query string and, for a form-encoded body, from
 * the body; the JSON check compares the whole header with `application/json`.
 */
function decodeParams(method: string, contentType: string | undefined, body: string, query: URLSearchParams): Decoded {
  if (contentType === "application/json") {
    throw coreFault(
      "Use form-encoded data to submit parameters to Conduit endpoints. Sending a JSON-encoded body and setting 'Content-Type': 'application/json' is not currently supported.",
    );
  }
  const form = new URLSearchParams(query);
  if ((contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    for (const [key, value] of new URLSearchParams(body)) form.set(key, value);
  }
  const text = form.get("params");
  if (text === null || text === "") return { metadata: {}, params: {} };
  let params: unknown;
  try {
    params = JSON.parse(text);
  } catch {
    throw coreFault(`Invalid parameter information was passed to method '${method}'.`);
  }
  if (!isMap(params)) return { metadata: {}, params: {} };
  const { __conduit__: metadata, ...rest } = params;
  return { metadata: isMap(metadata) ? metadata : {}, params: rest };
}

/**
 * `authenticateUser` for a Conduit token, and with none the session-key fallback. The refusal texts
 * repeat the token as it was sent: whoever logs Phabricator's error_info logs the token.
 */
function authenticate(metadata: Record<string, unknown>, token: string): void {
  const sent = phpString(metadata.token);
  if (sent !== "") {
    if (Buffer.byteLength(sent) !== 32) {
      throw new ConduitFault("ERR-INVALID-AUTH", `API token "${sent}" has the wrong length. API tokens should be 32 characters long.`);
    }
    // PhabricatorConduitToken::getAllTokenTypes, the text before the first "-".
    if (!["api", "cli", "clr"].includes(sent.split("-")[0] as string)) {
      throw new ConduitFault(
        "ERR-INVALID-AUTH",
        `API token "${sent}" has the wrong format. API tokens should be 32 characters long and begin with one of these prefixes: api, cli, clr.`,
      );
    }
    if (sent !== token) throw new ConduitFault("ERR-INVALID-AUTH", `API token "${sent}" is not valid.`);
    return;
  }
  // No token, no OAuth access token, no certificate: the legacy session key is all that is left.
  if (metadata.sessionKey === undefined || metadata.sessionKey === null || metadata.sessionKey === "") {
    throw new ConduitFault("ERR-INVALID-SESSION", "Session key is not present.");
  }
  throw new ConduitFault("ERR-INVALID-SESSION", "Session key is invalid.");
}

export interface ConduitServer {
  token: string;
  /** Each method's search (runSearch over its engine). */
  methods: ReadonlyMap<string, (params: SearchRequest) => unknown>;
  /** A fault a test injects once the call is authenticated. */
  injectedFault(): ConduitFault | undefined;
}

function call(server: ConduitServer, method: string, decoded: Decoded): unknown {
  const search = server.methods.get(method);
  if (!search) throw new ConduitFault("ERR-CONDUIT-CALL", `Conduit API method "${method}" does not exist.`);
  const undefinedParams = Object.keys(decoded.params).filter((k) => !SEARCH_PARAMETERS.includes(k));
  if (undefinedParams.length > 0) {
    throw new ConduitFault("ERR-CONDUIT-CALL", `API Method "${method}" does not define these parameters: '${undefinedParams.join("', '")}'.`);
  }
  authenticate(decoded.metadata, server.token);
  const fault = server.injectedFault();
  if (fault) throw fault;
  return search(decoded.params);
}

export function answerConduit(server: ConduitServer, method: string, contentType: string | undefined, body: string, query: URLSearchParams): ConduitCall {
  let decoded: Decoded | undefined;
  try {
    decoded = decodeParams(method, contentType, body, query);
    return { params: decoded.params, answer: { result: call(server, method, decoded), error_code: null, error_info: null } };
  } catch (error) {
    if (!(error instanceof ConduitFault)) throw error;
    return { params: decoded?.params, answer: { result: null, error_code: error.code, error_info: error.message } };
  }
}
