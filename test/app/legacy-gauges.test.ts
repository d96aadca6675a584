import { describe, expect, it } from "vitest";
import { legacyLagGauges } from "../../src/app/legacy-gauges.ts";

const name = (callsign: string) => `phabricator.repository.${callsign}.seconds_behind_source_repo`;

describe("legacyLagGauges", () => {
  it("names the gauge as the earlier service did, with the callsign lower-cased", () => {
    expect(legacyLagGauges([{ callsign: "MOZILLACENTRAL", lagSeconds: 1500 }])).toEqual([{ name: name("mozillacentral"), value: 1500 }]);
    expect(legacyLagGauges([{ callsign: "AUTOLAND", lagSeconds: 0 }])).toEqual([{ name: name("autoland"), value: 0 }]);
  });

  it("never sends an unknown lag, as 0 or at all", () => {
    expect(legacyLagGauges([{ callsign: "AUTOLAND", lagSeconds: Number.NaN }])).toEqual([]);
  });

  it("sends the largest lag of a callsign serving several repositories, and no 0 that would vouch for an unknown one", () => {
    expect(
      legacyLagGauges([
        { callsign: "MOZILLACENTRAL", lagSeconds: 0 },
        { callsign: "MOZILLACENTRAL", lagSeconds: 600 },
      ]),
    ).toEqual([{ name: name("mozillacentral"), value: 600 }]);
    expect(
      legacyLagGauges([
        { callsign: "MOZILLACENTRAL", lagSeconds: Number.NaN },
        { callsign: "MOZILLACENTRAL", lagSeconds: 600 },
      ]),
    ).toEqual([{ name: name("mozillacentral"), value: 600 }]);
    expect(
      legacyLagGauges([
        { callsign: "MOZILLACENTRAL", lagSeconds: Number.NaN },
        { callsign: "MOZILLACENTRAL", lagSeconds: 0 },
      ]),
    ).toEqual([]);
  });
});
