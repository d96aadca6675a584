// One repository's web commands: Mercurial 6.3's hgweb/hgweb_mod.py `_runwsgi` turns the path after
// the repository into a command, a style (what precedes the command's last `-`), a `node` (the next
// segment) and a `file` (the rest); then the command runs and its errors are answered in its style.
import type { Changelog } from "./changelog.ts";
import { jsonRev } from "./json-rev.ts";
import { pushesBody } from "./pushes-answer.ts";
import { pythonInt, runPushlogQuery } from "./pushlog-query.ts";
import { rawFile } from "./raw-file.ts";
import { HgErrorResponse } from "./errors.ts";
import { FakeUnsupported, failure, json, type HgResponse, type Style } from "./responses.ts";

/** webcommands.__all__ with version-control-tools' pushlog and hgmo commands: others are `method not found`. */
const COMMANDS = new Set(
  (
    "log rawfile file changelog shortlog changeset rev manifest tags bookmarks branches summary filediff diff comparison annotate " +
    "filelog archive static graph help pushlog pushloghtml pushes info headdivergence automationrelevance pushchangedfiles isancestor repoinfo"
  ).split(" "),
);

export interface WebRequest {
  repository: string;
  /** The path after the repository's, without its leading `/`. */
  dispatch: string;
  params: URLSearchParams;
  now: number;
}

export interface ParsedCommand {
  cmd: string;
  style: Style;
  node: string | undefined;
  file: string | undefined;
}

/** `args = query.split('/', 2)`: the command, then the node, then the file path whole. */
export function parseCommand(dispatch: string, params: URLSearchParams): ParsedCommand {
  const [first = "", node, ...rest] = dispatch.split("/");
  const dash = first.lastIndexOf("-");
  const styleName = dash === -1 ? (params.getAll("style").at(-1) ?? "paper") : first.slice(0, dash);
  const style: Style = styleName === "json" || styleName === "raw" ? styleName : "paper";
  return { cmd: first.slice(dash + 1), style, node: node || undefined, file: rest.length > 0 ? rest.join("/") : undefined };
}

export function answerRepository(log: Changelog, request: WebRequest): HgResponse {
  const command = parseCommand(request.dispatch, request.params);
  try {
    return runCommand(log, command, request);
  } catch (error) {
    return failure(error, command.style, request.repository);
  }
}

function runCommand(log: Changelog, { cmd, style, node, file }: ParsedCommand, request: WebRequest): HgResponse {
  // No command is the `default` one, the HTML shortlog, which the fake does not draw.
  if (cmd === "") throw new FakeUnsupported("the repository's HTML pages are not modelled");
  if (!COMMANDS.has(cmd)) throw new HgErrorResponse(400, "method not found");
  if (cmd === "pushes" && style === "json") {
    // feed.py `pushlog_setup`: the page is `int(node)`, 1 when that fails.
    let page = 1;
    try {
      page = pythonInt(node ?? "1");
    } catch {
      page = 1;
    }
    const answer = runPushlogQuery(log, request.params, page, request.now);
    return json(200, pushesBody(log, answer, request.params.has("full")));
  }
  if ((cmd === "rev" || cmd === "changeset") && style === "json") return json(200, jsonRev(log, node ?? "tip"));
  if ((cmd === "file" && style === "raw") || cmd === "rawfile") {
    if (!file) throw new FakeUnsupported("the manifest listing (raw-file without a path) is not modelled");
    const { body, disposition } = rawFile(log, node, file);
    return { status: 200, headers: { "content-type": "application/binary", "content-disposition": disposition }, body };
  }
  throw new FakeUnsupported(`${style}-${cmd} is not modelled`);
}
