// A JSON-RPC endpoint over HTTP for the embedded chain, so that a child process (a seeder killed and restarted in
// scenario 4) reaches the same in-process chain as the rest of the simulation. Loopback only.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** Serves `request` on 127.0.0.1 at a free port; `close()` stops it. */
export async function serveJsonRpc(
  request: (method: string, params: unknown[]) => Promise<unknown>,
): Promise<{ url: string; close(): Promise<void> }> {
  const answer = async (call: { id?: unknown; method: string; params?: unknown[] }) => {
    try {
      return { jsonrpc: "2.0", id: call.id ?? null, result: await request(call.method, call.params ?? []) };
    } catch (error) {
      const e = error as { code?: number; message?: string; data?: unknown };
      const code = typeof e.code === "number" ? e.code : -32603;
      return { jsonrpc: "2.0", id: call.id ?? null, error: { code, message: String(e.message), data: e.data } };
    }
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", async () => {
      let out: unknown;
      try {
        const parsed = JSON.parse(body);
        out = Array.isArray(parsed) ? await Promise.all(parsed.map(answer)) : await answer(parsed);
      } catch {
        out = { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } };
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(out, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
