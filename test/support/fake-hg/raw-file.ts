// raw-file/<symbol>/<path>: Mercurial 6.3's hgweb/webcommands.py `rawfile` (reached as `file` in the
// `raw` style) through hgweb/webutil.py `filectx`.
import type { Changelog } from "./changelog.ts";
import { HgErrorResponse, HgLookupError } from "./errors.ts";
import { revsymbol } from "./lookup.ts";

export interface RawFile {
  body: string;
  /** `inline; filename="…"`: the last path component, `\` and `"` escaped. */
  disposition: string;
}

/**
 * A symbol that is no revision of the served view falls back to `repo.filectx(path, fileid=symbol)`,
 * whose lookup fails when the text is read: `revision not found: <symbol>`. A path the changeset's
 * manifest lacks is a ManifestLookupError, `<path>@<full node>: not found in manifest` (the fake has
 * no directory listing, which hgweb shows for a directory's path).
 */
export function rawFile(log: Changelog, symbol: string | undefined, path: string): RawFile {
  if (symbol === undefined) throw new HgErrorResponse(404, "node or filenode not given");
  let node: string;
  try {
    node = revsymbol(log, symbol).node;
  } catch (error) {
    if (error instanceof HgLookupError) throw new HgLookupError(`revision not found: ${symbol}`);
    throw error;
  }
  const text = log.manifest(node).get(path);
  if (text === undefined) throw new HgLookupError(`${path}@${node}: not found in manifest`);
  const filename = (path.split("/").at(-1) as string).replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return { body: text, disposition: `inline; filename="${filename}"` };
}
