// Conduit's answer: `{result, error_code, error_info}` as JSON, HTTP 200 even for an error
// (conduit/protocol/ConduitAPIResponse.php `toDictionary`; conduit/controller/PhabricatorConduitAPIController.php
// `handleRequest` answers with an AphrontJSONResponse whatever happened).
import type { ServerResponse } from "node:http";

export interface ConduitAnswer {
  result: unknown;
  error_code: string | null;
  error_info: string | null;
}

/**
 * An error a Conduit call answers with: a ConduitException's code (ERR-CONDUIT-CALL, ERR-INVALID-AUTH…)
 * or, for any other exception the method throws, ERR-CONDUIT-CORE with the exception's message
 * (PhabricatorConduitAPIController::handleRequest).
 */
export class ConduitFault extends Error {
  readonly code: string;
  constructor(code: string, info: string) {
    super(info);
    this.code = code;
  }
}

/** ERR-CONDUIT-CORE: what a plain PHP Exception thrown by the method becomes. */
export const coreFault = (info: string) => new ConduitFault("ERR-CONDUIT-CORE", info);

export function writeConduit(res: ServerResponse, answer: ConduitAnswer): void {
  const text = JSON.stringify(answer);
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    // Mozilla's fork adds this header to every Conduit answer (mozilla-conduit/phabricator @69242983
    // src/applications/conduit/controller/PhabricatorConduitAPIController.php line 155); Phorge does not.
    "access-control-allow-origin": "*",
  });
  res.end(text);
}
