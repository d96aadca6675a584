// The three ways a request to hgweb fails, as Mercurial 6.3's hgweb_mod.py `_runwsgi` and
// hgweb/server.py tell them apart. Each answer builder throws one; fake-hg.ts turns it into a response.

/**
 * A revision or file that is not there: `_runwsgi` catches error.LookupError and
 * error.RepoLookupError and answers 404 with the `error` template of the command's style. A
 * LookupError with a `name` (not a ManifestLookupError) is worded `revision not found: <name>`.
 */
export class HgLookupError extends Error {}

/** A hgweb `ErrorResponse(code, message)`: that status, the `error` template of the command's style. */
export class HgErrorResponse extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * A Python exception nobody catches (ValueError, IndexError, AttributeError...): hgweb/server.py's
 * `do_write` answers `500 Internal Server Error` with that text as the body and no content type.
 */
export class HgUncaught extends Error {}

/** `unknown revision '<symbol>'`: scmutil.revsymbol's RepoLookupError. */
export const unknownRevision = (symbol: string) => new HgLookupError(`unknown revision '${symbol}'`);
