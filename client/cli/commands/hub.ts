// `piecepay hub`: a long-running hub (ADR 0021). Users open one ledger channel each with it; through it a leecher
// pays any seeder that also has a ledger here, by vouchers on a virtual channel that no transaction opens or closes.
// The hub's store (<data-dir>/hub/<address>.db) keeps every state it signed, written before the signature leaves,
// so a restart, even after SIGKILL, resumes where it stopped.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { Contract, parseEther, ZeroAddress } from "ethers";
import type { AssetInfo } from "../../../sdk/index.js";
import { SqliteChannelStore } from "../../../sdk/node.js";
import { Hub } from "../../hub/hub.js";
import { startRpcServer } from "../../hub/rpc-server.js";
import { parseAmount } from "../amounts.js";
import { assetOption, resolveAsset } from "../asset-option.js";
import { CliError, type Command, intOption, UsageError } from "../command.js";
import { connectClient, hubApps } from "../context.js";
import { formatAmount, writesPerTurn } from "../output.js";
import { listenError } from "../ports.js";

export const hub: Command = {
  name: "hub",
  summary: "run a hub: one deposit pays any number of seeders, off chain (until Ctrl-C)",
  usage:
    "hub [--port N] [--host ADDR] [--fee-bps N] [--capacity ETH] [--asset TOKEN --token-capacity AMOUNT] (--keystore PATH | --key HEX) [--rpc URL]",
  description: [
    "Runs a hub on the chain at --rpc, with our account as the hub's key. Leechers and seeders each open one ledger",
    "channel with it (a leecher deposits; for a seeder the hub deposits up to --capacity); after that a leecher pays",
    "any seeder of the same hub through a virtual channel that no transaction opens or closes, and the hub moves",
    "the money between the two ledgers off chain. The hub can never take more than the states its users signed:",
    "each of them can leave on chain with what its latest states say (docs/adr/0021-hub-ledger-and-virtual-channels.md).",
    "",
    "The hub earns --fee-bps basis points of what each leecher pays, on top of the seeder's price; leechers see it",
    "before they pay. It serves JSON-RPC over WebSocket at ws://HOST:PORT (docs/hub.md lists the methods), with a",
    "size cap and a rate limit per connection, and logs what it signs. Its store is <data-dir>/hub/<address>.db.",
    "With --asset TOKEN it also keeps ledgers in that ERC-20 token (virtual channels between two ledgers of it), and",
    "deposits up to --token-capacity of it (in the token's units) into a seeder's token ledger; ETH ledgers stay.",
    'With --json it prints {"event":"ready",...} and then one line per thing it does.',
  ].join("\n"),
  options: {
    port: { type: "string", default: "8600" },
    host: { type: "string", default: "127.0.0.1" },
    "fee-bps": { type: "string", default: "10" },
    capacity: { type: "string", default: "1" },
    asset: { type: "string" },
    "token-capacity": { type: "string" },
  },
  optionHelp: [
    ["--port N", "the WebSocket port (default 8600; 0 picks a free one)"],
    ["--host ADDR", "the address to listen on (default 127.0.0.1; 0.0.0.0 to serve the LAN)"],
    ["--fee-bps N", "the hub's fee, in basis points of what leechers pay (default 10 = 0.1 %, at most 10000)"],
    ["--capacity ETH", "the most the hub deposits into one seeder's ledger (default 1)"],
    ["--asset TOKEN", "also keep ledgers in this ERC-20 token (its address)"],
    ["--token-capacity AMOUNT", "with --asset: the most the hub deposits into one seeder's token ledger, in the token"],
  ],
  examples: [
    "piecepay hub --keystore hub.json",
    "piecepay hub --key 0x... --port 8601 --fee-bps 25 --capacity 0.5 --rpc http://127.0.0.1:8545",
  ],

  async run({ globals, values, out, signal }) {
    const port = intOption(values, "port", 0, 65_535);
    const host = values.host as string;
    const feeBps = BigInt(intOption(values, "fee-bps", 0, 10_000));
    const capacity = parseAmount(values.capacity as string, "--capacity");
    if (capacity <= 0n || capacity > parseEther("1000000")) {
      throw new CliError("--capacity must be above 0", "e.g. --capacity 0.5 (ETH per seeder ledger)");
    }
    const token = assetOption(values);
    if ((token === undefined) !== (values["token-capacity"] === undefined)) {
      throw new UsageError("--asset TOKEN and --token-capacity AMOUNT go together");
    }
    const connected = await connectClient(globals, {}, (line) => out.note(line));
    const { client, chainId, deployment } = connected;
    let apps: { ledgerApp: string; virtualApp: string };
    let tokenUnit: AssetInfo | undefined;
    let tokenCapacity = 0n;
    try {
      apps = hubApps(deployment);
      if (token !== undefined) {
        tokenUnit = await resolveAsset(connected.provider, token);
        tokenCapacity = parseAmount(String(values["token-capacity"]), "--token-capacity", tokenUnit);
        if (tokenCapacity <= 0n) throw new UsageError("--token-capacity must be above 0");
      }
    } catch (error) {
      connected.close();
      throw error;
    }
    const { ledgerApp, virtualApp } = apps;
    const context = client.context;
    const dir = path.join(globals.dataDir, "hub");
    mkdirSync(dir, { recursive: true });
    // Group commit: the writes of every request served in one turn of the event loop share one fsync.
    const store = new SqliteChannelStore(path.join(dir, `${context.address}.db`), { commit: "group" });
    // Until the ready line is out, what the hub does (resuming after a restart) goes to stderr: the ready line is
    // the first on stdout.
    let ready = false;
    // A few lines per request at hundreds of requests a second: one write per turn, not per line (writesPerTurn).
    const batch = writesPerTurn(out.stdout);
    const say = (line: string) => {
      if (!ready) return out.note(line);
      batch();
      out.result({ event: "log", line }, line);
    };
    const hubEngine = new Hub({
      signer: context.signer,
      chainId,
      adjudicator: deployment.adjudicator,
      ledgerApp,
      virtualApp,
      feeBps,
      challengeDuration: client.minChallengeDuration() * 2n,
      maxCapacity: capacity,
      ...(tokenUnit
        ? { assets: [ZeroAddress, tokenUnit.address], capacities: { [tokenUnit.address]: tokenCapacity } }
        : {}),
      store,
      log: say,
      chain: {
        holdings: (asset, id) => context.adjudicator.holdings(asset, id),
        deposit: async (asset, id, expectedHeld, amount) => {
          if (asset !== ZeroAddress) {
            // A token: the adjudicator takes it by transferFrom, so it is approved first.
            const erc20 = new Contract(asset, ["function approve(address, uint256) returns (bool)"], context.wallet);
            await (await erc20.approve(context.adjudicator.target, amount)).wait(context.confirmations);
          }
          const value = asset === ZeroAddress ? amount : 0n;
          const tx = await context.adjudicator.deposit(asset, id, expectedHeld, amount, { value });
          await tx.wait(context.confirmations);
        },
      },
    });
    let server: Awaited<ReturnType<typeof startRpcServer>> | undefined;
    try {
      await hubEngine.start();
      try {
        server = await startRpcServer({
          host,
          port,
          handlers: hubEngine.handlers(),
          log: say,
          onClose: (connection) => hubEngine.disconnected(connection),
        });
      } catch (error) {
        throw listenError(error, port, "--port", host);
      }
      out.result({
        event: "ready",
        url: server.url,
        hub: hubEngine.address,
        feeBps: Number(feeBps),
        capacity: capacity.toString(),
        ...(tokenUnit ? { asset: tokenUnit.address, tokenCapacity: tokenCapacity.toString() } : {}),
        chainId: chainId.toString(),
        store: store.path,
      });
      ready = true;
      out.line(`piecepay hub ${hubEngine.address} at ${server.url}`);
      out.line(`  fee       ${feeBps} bps of what leechers pay`);
      out.line(`  capacity  up to ${formatAmount(capacity)} per seeder ledger`);
      if (tokenUnit)
        out.line(
          `            up to ${formatAmount(tokenCapacity, tokenUnit)} per seeder ledger in ${tokenUnit.address}`,
        );
      out.line(`  store     ${store.path}`);
      out.line("Ctrl-C stops it.");
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      out.note("stopping the hub");
    } finally {
      await server?.close();
      await store.close();
      connected.close();
    }
  },
};
