// The mirror port: where a repository's commits are looked for, and how. A repository names its mirror
// as a spec (a kind and what that kind needs); the composition root holds one factory per kind and
// builds one Mirror per repository. Today every kind is Phabricator, reached through Conduit with a
// token or through one commit page per commit without one; a Git mirror is a new kind here, not a new
// parameter threaded through the checks.

export type MirrorKind = "phabricator-conduit" | "phabricator-page";

export interface MirrorSpec {
  readonly kind: MirrorKind;
  /** Phabricator's name of the repository (Diffusion's callsign, e.g. MOZILLACENTRAL). */
  readonly callsign: string;
  /**
   * Which identity of each pushed changeset the mirror is asked for: its hg node (the default), or the
   * Git commit it came from (`<CALLSIGN>:git` in REPOSITORIES; the pushlog's git_changesets).
   */
  readonly vcs?: "hg" | "git";
}

/** One repository's mirror, as the checks ask it. */
export interface Mirror {
  /** The name on the printed line and in the contract's `callsign` label. */
  readonly name: string;
  /** How it is asked, for the start-up line. */
  readonly how: string;
  /** Resolves when the mirror has the repository; throws UnknownRepositoryError when it does not. */
  exists(signal?: AbortSignal): Promise<void>;
  /** The subset of `nodes` the mirror has. Throws when it cannot tell. */
  has(nodes: readonly string[], signal?: AbortSignal): Promise<Set<string>>;
}

/** The value of the contract's `callsign` label and of the printed line's second word. */
export function mirrorName(spec: MirrorSpec): string {
  return spec.callsign;
}

/** A callsign that names no repository: the configuration is wrong, not the mirror late. */
export class UnknownRepositoryError extends Error {
  constructor(callsign: string, evidence = "diffusion.repository.search found none") {
    super(`REPOSITORIES: Phabricator has no repository with the callsign ${callsign} (${evidence})`);
    this.name = "UnknownRepositoryError";
  }
}

export type MirrorFactory = (spec: MirrorSpec) => Mirror;

/** The factories the composition root can offer; a kind it cannot offer is absent. */
export type MirrorKinds = Partial<Record<MirrorKind, MirrorFactory>>;

/** One Mirror per repository path, each from its spec's kind. */
export function createMirrors(repositories: ReadonlyArray<{ path: string; mirror: MirrorSpec }>, kinds: MirrorKinds): Map<string, Mirror> {
  const mirrors = new Map<string, Mirror>();
  for (const { path, mirror } of repositories) {
    const factory = kinds[mirror.kind];
    // The configuration chooses only kinds the root offers, so this is a wiring mistake, not input.
    if (factory === undefined) throw new Error(`no mirror of kind ${mirror.kind} is offered (repository ${path})`);
    mirrors.set(path, factory(mirror));
  }
  return mirrors;
}
