// Several repositories behind one server, as `hg serve --web-conf` runs them: Mercurial 6.3's
// hgweb/hgwebdir_mod.py `_runwsgi` (the index, a repository found by its path or a parent of it, a
// directory's index, and the 404 page of a path it does not serve) and `rawindexentries`.
import type { Changelog } from "./changelog.ts";
import { answerRepository } from "./hgweb.ts";
import { html, json, type HgResponse } from "./responses.ts";

export interface ServerContext {
  repositories: ReadonlyMap<string, Changelog>;
  /** `web.contact`, else `ui.username`: the index shows "unknown" without either. */
  contact: string;
  now: number;
}

export function answerHgwebdir(context: ServerContext, path: string, params: URLSearchParams): HgResponse {
  const virtual = path.replace(/^\/+|\/+$/g, "");
  const { repositories } = context;
  if ((virtual === "" || virtual === "index") && !repositories.has(virtual)) return index(context, params, "");
  if (virtual.endsWith("/index") && !repositories.has(virtual)) {
    const subdir = virtual.slice(0, -"index".length);
    if ([...repositories.keys()].some((r) => r.startsWith(subdir))) return index(context, params, subdir);
  }
  // The path itself, then each parent directory (pathutil.finddirs), is looked up as a repository.
  const parts = virtual.split("/");
  for (let n = parts.length; n > 0; n--) {
    const repository = parts.slice(0, n).join("/");
    const log = repositories.get(repository);
    if (log) return answerRepository(log, { repository, dispatch: parts.slice(n).join("/"), params, now: context.now });
  }
  if ([...repositories.keys()].some((r) => r.startsWith(`${virtual}/`))) return index(context, params, `${virtual}/`);
  // The `notfound` template: a page whatever the command, titled so.
  return html(404, "Mercurial repository not found", `The specified repository "${virtual}" is unknown, sorry.`);
}

/** `makeindex`: the repositories under `subdir` in the configuration's order (json style: `entries`). */
function index(context: ServerContext, params: URLSearchParams, subdir: string): HgResponse {
  const entries = [...context.repositories]
    .filter(([name]) => name.startsWith(subdir))
    .map(([name, log]) => ({
      name: name.slice(subdir.length),
      description: "unknown",
      contact: context.contact || "unknown",
      // get_mtime: when the store's changelog last changed.
      lastchange: [log.lastChange, 0],
      labels: [],
    }));
  if (params.getAll("style").at(-1) === "json") return json(200, { entries });
  return html(200, "Mercurial repositories index", entries.map((e) => e.name).join(" "));
}
