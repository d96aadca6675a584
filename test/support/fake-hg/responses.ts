// What the fake sends: a status, headers and a body, with the content types of the hgweb styles the
// recorded server used (version-control-tools hgtemplates: json `application/json`; Mercurial's raw
// and paper `text/plain`/`text/html` with `charset={encoding}`, utf-8 there).
import { HgErrorResponse, HgLookupError, HgUncaught } from "./errors.ts";

export interface HgResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Style = "json" | "raw" | "paper";

export const CONTENT_TYPES: Record<Style, string> = {
  json: "application/json",
  raw: "text/plain; charset=utf-8",
  paper: "text/html; charset=utf-8",
};

export const json = (status: number, body: unknown): HgResponse => ({ status, headers: { "content-type": CONTENT_TYPES.json }, body: JSON.stringify(body) });

export const html = (status: number, title: string, text: string): HgResponse => ({
  status,
  headers: { "content-type": CONTENT_TYPES.paper },
  body: `<!DOCTYPE html>\n<html>\n<head>\n<title>${escapeHtml(title)}</title>\n</head>\n<body>\n<p>${escapeHtml(text)}</p>\n</body>\n</html>\n`,
});

/** hgweb/server.py `do_write` on an exception nobody caught: no content type. */
export const uncaught = (): HgResponse => ({ status: 500, headers: {}, body: "Internal Server Error" });

/** A request the real server answers but the fake does not model: a status no real answer has. */
export class FakeUnsupported extends Error {}

/** The `error` template of a style: json's `{"error": …}`, raw's `\nerror: …\n`, paper's page. */
export function errorPage(style: Style, status: number, message: string, repository: string): HgResponse {
  if (style === "json") return json(status, { error: message });
  if (style === "raw") return { status, headers: { "content-type": CONTENT_TYPES.raw }, body: `\nerror: ${message}\n` };
  return html(status, `${repository}: error`, message);
}

/** hgweb_mod.py `_runwsgi`'s handlers (404, ErrorResponse) and server.py's 500 for the rest. */
export function failure(error: unknown, style: Style, repository: string): HgResponse {
  if (error instanceof HgLookupError) return errorPage(style, 404, error.message, repository);
  if (error instanceof HgErrorResponse) return errorPage(style, error.status, error.message, repository);
  if (error instanceof FakeUnsupported) return { status: 501, headers: { "content-type": "text/plain" }, body: `fake hg: ${error.message}\n` };
  if (error instanceof HgUncaught) return uncaught();
  throw error;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
