// What `--check-config` prints: only the problems when there is one, every one of them; what was
// found and the summary only when everything is right; what could not be checked, either way.
import { describe, expect, it } from "vitest";
import { verdict } from "../../src/cli/check-config.ts";

const SUMMARY = [
  "code-review pipeline metrics: off (CODE_REVIEW_TRY_REPOSITORY is not set)",
  "configuration is valid: queue queue/u/q on h:5671, repositories a=A",
];
const pulseOk = { problems: [], found: ['pulse: h:5671 accepted the login of user "u"'] };
const callsignsOk = { problems: [], found: ["callsign A: repository PHID-REPO-1"] };

describe("--check-config's verdict", () => {
  it("says what was found and then that the configuration is valid, exit 0, when nothing is wrong", () => {
    expect(verdict([pulseOk, callsignsOk], SUMMARY)).toEqual({
      out: ['pulse: h:5671 accepted the login of user "u"', "callsign A: repository PHID-REPO-1", ...SUMMARY],
      err: [],
      code: 0,
    });
  });

  it("says only the problems, every one of every check, with nothing that reads as valid, exit 2", () => {
    const refused = { problems: ['PULSE_PASSWORD: h:5671 refused the login of user "u": check PULSE_USERNAME and PULSE_PASSWORD'], found: [] };
    const unknown = {
      problems: ["REPOSITORIES: Phabricator has no repository with the callsign B", "REPOSITORIES: Phabricator has no repository with the callsign C"],
      found: ["callsign A: repository PHID-REPO-1"],
    };
    expect(verdict([refused, unknown], SUMMARY)).toEqual({
      out: [],
      err: [
        'configuration error: PULSE_PASSWORD: h:5671 refused the login of user "u": check PULSE_USERNAME and PULSE_PASSWORD',
        "configuration error: REPOSITORIES: Phabricator has no repository with the callsign B",
        "configuration error: REPOSITORIES: Phabricator has no repository with the callsign C",
      ],
      code: 2,
    });
  });

  it("says what could not be checked either way, and an upstream that did not answer is no configuration error", () => {
    const down = {
      problems: [],
      found: [],
      unchecked: "pulse login: not checked, Pulse did not answer (h:5671 refused the connection: check the host and port in PULSE_URL)",
    };
    expect(verdict([down, callsignsOk], SUMMARY)).toEqual({ out: [down.unchecked, "callsign A: repository PHID-REPO-1", ...SUMMARY], err: [], code: 0 });
    const unknown = { problems: ["REPOSITORIES: Phabricator has no repository with the callsign B"], found: [] };
    expect(verdict([down, unknown], SUMMARY)).toEqual({
      out: [down.unchecked],
      err: ["configuration error: REPOSITORIES: Phabricator has no repository with the callsign B"],
      code: 2,
    });
  });
});
