// What a failed connection to Pulse says, from the error shapes amqplib gives (the real ones are read
// against RabbitMQ in test/cli-errors.amqp.test.ts and test/cli/check-config-pulse.amqp.test.ts).
import { describe, expect, it } from "vitest";
import { connectFailureMessage, refusalOf } from "../../src/pulse/pulse-errors.ts";

const AT = { host: "pulse.example:5671", tls: true, username: "monitor", vhost: "/" };

describe("refusalOf", () => {
  it("reads a refused login and a refused virtual host as the broker's refusals", () => {
    const login = new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"');
    expect(refusalOf(login)).toBe("login");
    expect(refusalOf(new Error("Expected ConnectionOpenOk; got <ConnectionClose channel:0>"))).toBe("vhost");
    expect(refusalOf(Object.assign(new Error("closed"), { code: 530 }))).toBe("vhost");
  });

  it("reads no refusal in a network failure or a silent peer", () => {
    expect(refusalOf(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }))).toBeUndefined();
    expect(refusalOf(new Error("no AMQP handshake within 30 s"))).toBeUndefined();
    expect(refusalOf(new Error("Socket closed abruptly during opening handshake"))).toBeUndefined();
  });
});

describe("connectFailureMessage", () => {
  it("names the variables to check for each refusal", () => {
    expect(connectFailureMessage(new Error("Handshake terminated by server: 403 (ACCESS-REFUSED)"), AT)).toBe(
      'pulse.example:5671 refused the login of user "monitor": check PULSE_USERNAME and PULSE_PASSWORD',
    );
    expect(connectFailureMessage(new Error("Expected ConnectionOpenOk; got <ConnectionClose channel:0>"), { ...AT, vhost: "pulse" })).toBe(
      'pulse.example:5671 refused user "monitor" the virtual host "pulse": check the path of PULSE_URL (none means /) and PULSE_USERNAME',
    );
  });
});
