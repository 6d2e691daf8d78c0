// The hub's transport over a real WebSocket on loopback: every request is answered, refusals with a reason, and no
// connection can make the hub read huge messages or answer without limit.
import { expect } from "chai";
import { WebSocket } from "ws";
import { type RpcServer, startRpcServer } from "../../../client/hub/rpc-server.js";
import { HubError, HubRpcClient } from "../../../sdk/hub/index.js";

/** Sends raw text on a fresh socket and resolves to the first answer (parsed), or to the close code. */
async function raw(url: string, ...messages: (string | Buffer)[]): Promise<unknown[]> {
  const socket = new WebSocket(url);
  await new Promise((resolve) => socket.once("open", resolve));
  const answers: unknown[] = [];
  return new Promise((resolve) => {
    socket.on("message", (data) => {
      answers.push(JSON.parse(String(data)));
      if (answers.length === messages.length) {
        socket.close();
        resolve(answers);
      }
    });
    socket.on("close", (code) => resolve([...answers, { closed: code }]));
    for (const message of messages) socket.send(message);
  });
}

describe("the hub's JSON-RPC transport", () => {
  let server: RpcServer;
  const logged: string[] = [];
  let release: () => void = () => {};

  before(async () => {
    server = await startRpcServer({
      host: "127.0.0.1",
      port: 0,
      limits: { maxMessageBytes: 1024, ratePerSecond: 1, burst: 6, maxRateRefusals: 8 },
      log: (line) => logged.push(line),
      handlers: {
        echo: (params) => params,
        refuse: () => {
          throw new HubError("INSUFFICIENT_BALANCE", "you have 3 wei, asked for 5");
        },
        boom: () => {
          throw new Error("secret internal detail");
        },
        slow: () => new Promise((resolve) => setTimeout(() => resolve("slow"), 100)),
        never: () => new Promise<void>((resolve) => (release = resolve)),
      },
    });
  });
  after(async () => {
    release();
    await server.close();
  });

  it("answers a call, keeps a refusal's reason, and hides an unexpected failure's details (logging them)", async () => {
    const rpc = await HubRpcClient.connect(server.url);
    try {
      expect(await rpc.call("echo", { amount: 10n ** 30n })).to.deep.equal({
        amount: "1000000000000000000000000000000",
      });
      const refused = await rpc.call("refuse", {}).catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(HubError);
      expect((refused as HubError).reason).to.equal("INSUFFICIENT_BALANCE");
      expect((refused as HubError).message).to.equal("hub refused (INSUFFICIENT_BALANCE): you have 3 wei, asked for 5");
      const failed = (await rpc.call("boom", {}).catch((e: unknown) => e)) as HubError;
      expect(failed.reason).to.equal("INTERNAL");
      expect(failed.message).not.to.contain("secret");
      expect(logged.join("\n")).to.contain("secret internal detail");
    } finally {
      rpc.close();
    }
  });

  it("answers each malformed request with its JSON-RPC error, and the connection goes on", async () => {
    const answers = (await raw(
      server.url,
      "not json",
      JSON.stringify({ id: 1, method: "echo" }),
      JSON.stringify({ jsonrpc: "2.0", id: 2, method: "nope" }),
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "__proto__" }),
      JSON.stringify({ jsonrpc: "2.0", id: { evil: true }, method: "echo" }),
      JSON.stringify({ jsonrpc: "2.0", id: 4, method: "echo", params: { ok: 1 } }),
    )) as { id: unknown; error?: { code: number; data: { reason: string } }; result?: unknown }[];
    expect(answers.map((a) => [a.id, a.error?.data.reason ?? "ok", a.error?.code])).to.deep.equal([
      [null, "PARSE_ERROR", -32700],
      [1, "INVALID_REQUEST", -32600],
      [2, "METHOD_NOT_FOUND", -32601],
      [3, "METHOD_NOT_FOUND", -32601],
      [null, "INVALID_REQUEST", -32600],
      [4, "ok", undefined],
    ]);
    expect(answers[5].result).to.deep.equal({ ok: 1 });
  });

  it("closes a connection that sends a message over the size cap (1009) before reading it", async () => {
    const answers = await raw(
      server.url,
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "echo", params: { pad: "x".repeat(2_000) } }),
    );
    expect(answers).to.deep.equal([{ closed: 1009 }]);
  });

  it("refuses requests over the rate (RATE_LIMITED), then closes a connection that keeps on (1008)", async () => {
    const request = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "echo", params: {} });
    const answers = (await raw(server.url, ...Array.from({ length: 20 }, (_, i) => request(i)))) as {
      error?: { data: { reason: string } };
      closed?: number;
    }[];
    const reasons = answers.map((a) => a.closed ?? a.error?.data.reason ?? "ok");
    expect(reasons.filter((r) => r === "ok")).to.have.length(6);
    expect(reasons.filter((r) => r === "RATE_LIMITED")).to.have.length(8);
    expect(reasons.at(-1)).to.equal(1008);
  });

  it("answers one connection's requests in the order they came, whatever each takes", async () => {
    const answers = (await raw(
      server.url,
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "slow" }),
      JSON.stringify({ jsonrpc: "2.0", id: 2, method: "echo", params: "fast" }),
    )) as { id: number }[];
    expect(answers.map((a) => a.id)).to.deep.equal([1, 2]);
  });

  it("a call the hub never answers times out with RPC_UNAVAILABLE; a closed hub fails pending calls at once", async () => {
    const rpc = await HubRpcClient.connect(server.url, { timeoutMs: 300 });
    const timedOut = (await rpc.call("never", {}).catch((e: unknown) => e)) as { code: string };
    expect(timedOut.code).to.equal("RPC_UNAVAILABLE");
    rpc.close();
    const refused = (await HubRpcClient.connect("ws://127.0.0.1:1", { timeoutMs: 2_000 }).catch((e: unknown) => e)) as {
      code: string;
    };
    expect(refused.code).to.equal("RPC_UNAVAILABLE");
  });
});
