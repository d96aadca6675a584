// Diffusion's pages, as served/phorge/*-page-*.json recorded them (phorgeit/phorge @07c1a513; the same
// code in mozilla-conduit/phabricator @69242983). Each is a small HTML document whose <title> is the
// real page's; a HEAD gets the GET's status and headers and no body (Node leaves the body out).
// - Routes (src/applications/diffusion/application/PhabricatorDiffusionApplication.php `getRoutes`):
//   `/r<CALLSIGN><hash>` and `/R<id>:<hash>`, `/diffusion/<CALLSIGN>/…`, `/source/<short name>/…`;
//   any other path is Phabricator404Controller's 404, which needs no login.
// - On an instance anonymous users may not see, every routed page asked without a session is the 200
//   login form, for known, unknown and nonexistent repositories and commits alike
//   (PhabricatorController::willBeginExecution; *-anonymous-private-*.json).
// - DiffusionController::loadContext: an unknown repository is a 404; a request off the repository's
//   canonical path (`/source/<short name>/…` when it has a short name, else `/diffusion/<CALLSIGN>/…`;
//   PhabricatorRepository::getCanonicalPath) is a 302 there, before the commit is looked up
//   (repository-page-anonymous-public-*.json, commit-page-diffusion-unknown-anonymous-public-*.json).
//   The location is absolute, on the instance's own origin.
// - DiffusionCommitController::handleRequest: `/source/<short>/commit/<hash>/` is a 302 to the commit's
//   canonical `/r<CALLSIGN><hash>`; one commit row is its page, titled `r<CALLSIGN><first 12 hex>`
//   (PhabricatorRepository::formatCommitName) whether or not its import has finished (the page then
//   says "Still Importing..."); more than one is "Ambiguous Commit"; none is "Commit Still Parsing"
//   when the working copy has the commit (commit-page-r-null-node-*.json) and a 404 when it does not.
import type { CommitRecord, RepositoryRecord, RepositoryStore } from "./store.ts";

export interface Page {
  status: number;
  title?: string;
  location?: string;
}

export interface Site {
  origin(): string;
  anonymous(): "public" | "private";
  /** The `phsid` cookie of a signed-in user. */
  session(): string;
  repositories: RepositoryStore;
}

const NOT_FOUND: Page = { status: 404, title: "404 Not Found" };
const LOGIN: Page = { status: 200, title: "Login" };
const MINIMUM_QUALIFIED_HASH = 5;

function signedIn(site: Site, cookie: string | undefined): boolean {
  return (cookie ?? "").split(";").some((part) => part.trim() === `phsid=${site.session()}`);
}

/** The repository a routed path names and the rest of the path, or undefined for a path no route takes. */
function route(site: Site, path: string): { repository: RepositoryRecord | undefined; suffix: string; viaSource: boolean } | undefined {
  const commit = /^\/(?:r([A-Z]+)|R([1-9]\d*):)([a-f0-9]+)$/.exec(path);
  if (commit) {
    const repository = site.repositories.byIdentifier((commit[1] ?? commit[2]) as string);
    return { repository, suffix: `/commit/${commit[3] as string}`, viaSource: false };
  }
  const diffusion = /^\/diffusion\/([A-Z]+|[1-9]\d*)(\/.*)$/.exec(path);
  if (diffusion) return { repository: site.repositories.byIdentifier(diffusion[1] as string), suffix: diffusion[2] as string, viaSource: false };
  const source = /^\/source\/([^/]+)(\/.*)?$/.exec(path);
  if (source) {
    const repository = site.repositories.byIdentifier((source[1] as string).replace(/\.git$/, ""));
    return { repository, suffix: source[2] ?? "", viaSource: true };
  }
  return undefined;
}

/** PhabricatorRepository::getCanonicalPath of a routed path. */
function canonicalPath(repository: RepositoryRecord, path: string, suffix: string): string {
  if (/^\/[rR]/.test(path)) return `/r${repository.callsign}${suffix.slice("/commit/".length)}`;
  return repository.shortName !== null ? `/source/${repository.shortName}${suffix}` : `/diffusion/${repository.callsign}${suffix}`;
}

export function answerPage(site: Site, path: string, cookie: string | undefined): Page {
  const routed = route(site, path);
  if (!routed) return NOT_FOUND;
  if (site.anonymous() === "private" && !signedIn(site, cookie)) return LOGIN;
  const { repository, suffix, viaSource } = routed;
  if (!repository) return NOT_FOUND;
  const canonical = canonicalPath(repository, path, suffix);
  if (canonical !== path) return { status: 302, location: `${site.origin()}${canonical}` };
  if (suffix === "/") return { status: 200, title: `${repository.name} · r${repository.callsign}` };
  const commit = /^\/commit\/([a-z0-9]+)\/?$/.exec(suffix);
  if (!commit) return NOT_FOUND;
  const identifier = commit[1] as string;
  if (viaSource) return { status: 302, location: `${site.origin()}/r${repository.callsign}${identifier}` };
  return commitPage(site.repositories, repository, identifier);
}

function commitPage(repositories: RepositoryStore, repository: RepositoryRecord, identifier: string): Page {
  // A full hash is looked up by node rather than by a scan: a mirror without a token asks one page per commit.
  const candidates = identifier.length === 40 ? repositories.commitsOf(identifier) : repositories.allCommits(repository);
  const rows = identifier.length < MINIMUM_QUALIFIED_HASH ? [] : candidates.filter((c) => c.repository === repository && c.node.startsWith(identifier));
  if (rows.length === 1) return { status: 200, title: `r${repository.callsign}${(rows[0] as CommitRecord).node.slice(0, 12)}` };
  if (rows.length > 1) return { status: 200, title: "Ambiguous Commit" };
  // No row: DiffusionCommitController::loadCommitState asks the working copy whether the commit exists.
  return repositories.inWorkingCopy(repository, identifier).length === 1 ? { status: 200, title: "Commit Still Parsing" } : NOT_FOUND;
}

const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The page as HTTP: a redirect has an empty body (AphrontRedirectResponse), the others a document. */
export function pageResponse(page: Page): { status: number; headers: Record<string, string>; body: string } {
  const body =
    page.title === undefined ? "" : `<!DOCTYPE html><html><head><meta charset="UTF-8" /><title>${escapeHtml(page.title)}</title></head><body></body></html>`;
  const headers: Record<string, string> = { "content-type": "text/html; charset=UTF-8", "content-length": String(Buffer.byteLength(body)) };
  if (page.location !== undefined) headers.location = page.location;
  return { status: page.status, headers, body };
}
