// The operator's documents link to each other and into the repository: every relative link of the README,
// docs/*.md and bench/README.md must name a file that exists, and every `#anchor` a heading of the file it
// points into, so a moved section or a renamed file fails here rather than in front of someone on call.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const DOCUMENTS = [
  "README.md",
  "bench/README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** The text outside fenced code blocks, with each inline code span reduced to a neutral word. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`\n]*`/g, "code");
  });
}

/**
 * A heading's anchor as GitHub makes it (github-slugger, which github.com follows): the rendered text
 * lower-cased, every character that is not a letter, a mark, a digit, a connector such as `_`, a hyphen
 * or a space removed, each space turned into `-`; a repeated anchor gets `-1`, `-2` … in order.
 */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/<[^>]+>/g, "");
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor the headings of `markdown` make (fenced code is not a heading). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = githubSlug(heading[1] as string);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The targets of the inline links `[text](target)` of a document, with their line numbers. */
function linksOf(markdown: string): Array<{ target: string; line: number }> {
  const links: Array<{ target: string; line: number }> = [];
  prose(markdown).forEach((text, index) => {
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ target: match[1] as string, line: index + 1 });
  });
  return links;
}

/** What is wrong with one link of `from` (a path below ROOT), or undefined when it resolves. */
function problemOf(from: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const [path = "", anchor] = target.split("#", 2);
  const file = path === "" ? join(ROOT, from) : resolve(dirname(join(ROOT, from)), decodeURIComponent(path));
  const name = relative(ROOT, file);
  if (name.startsWith("..")) return `${target} leaves the repository`;
  if (!existsSync(file)) return `${target}: no file ${name}`;
  if (anchor === undefined || anchor === "") return undefined;
  if (statSync(file).isDirectory() || !name.endsWith(".md")) return `${target}: an anchor into ${name}, which has no headings`;
  return anchorsOf(readFileSync(file, "utf8")).has(anchor) ? undefined : `${target}: ${name} has no heading with the anchor #${anchor}`;
}

describe("GitHub's heading anchors", () => {
  it("are the lower-cased text with punctuation removed and spaces as hyphens", () => {
    expect(githubSlug("A repository's status")).toBe("a-repositorys-status");
    expect(githubSlug("PHABRICATOR_API_TOKEN, the Conduit token")).toBe("phabricator_api_token-the-conduit-token");
    expect(githubSlug("The status page (`/`)")).toBe("the-status-page-");
    expect(githubSlug("/__heartbeat__")).toBe("__heartbeat__");
    expect(githubSlug("Preboot: leave it off")).toBe("preboot-leave-it-off");
    expect(githubSlug("Git → hg sync")).toBe("git--hg-sync");
    expect([...anchorsOf("# A\n## A\n```\n# B\n```\n## A")]).toEqual(["a", "a-1", "a-2"]);
  });
});

describe("the documents' relative links", () => {
  it("are found in every document", () => {
    expect(DOCUMENTS).toEqual(
      expect.arrayContaining([
        "README.md",
        "bench/README.md",
        "docs/configuration.md",
        "docs/metrics.md",
        "docs/runbooks.md",
        "docs/http.md",
        "docs/operations.md",
        "docs/design.md",
      ]),
    );
    expect(linksOf(readFileSync(join(ROOT, "README.md"), "utf8")).length).toBeGreaterThan(5);
  });

  it.each(DOCUMENTS)("of %s each resolve to a file, and each anchor to a heading of it", (document) => {
    const problems = linksOf(readFileSync(join(ROOT, document), "utf8"))
      .map(({ target, line }) => ({ line, problem: problemOf(document, target) }))
      .filter(({ problem }) => problem !== undefined)
      .map(({ line, problem }) => `${document}:${line}: ${problem}`);
    expect(problems).toEqual([]);
  });

  it("catch a missing file and a missing anchor", () => {
    expect(problemOf("docs/http.md", "nowhere.md")).toBe("nowhere.md: no file docs/nowhere.md");
    expect(problemOf("docs/http.md", "#no-such-heading")).toBe("#no-such-heading: docs/http.md has no heading with the anchor #no-such-heading");
    expect(problemOf("docs/http.md", "configuration.md#the-recommended-production-configuration")).toBeUndefined();
    expect(problemOf("README.md", "https://example.org/x.md#y")).toBeUndefined();
  });
});
