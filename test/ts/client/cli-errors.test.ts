// client/cli/errors.ts turns the errors ethers and the RPC throw into words. Every error here is a real one: a real
// provider against a closed port or a node that stopped, an empty account on anvil, contracts on anvil reverting
// with custom errors, a JSON-RPC error payload, an HTTP error page. None of their raw text (ethers' "could not
// coalesce error", a raw transaction's hex, a JSON-RPC payload, `code=`/`version=` suffixes) may reach the output.
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { expect } from "chai";
import { HDNodeWallet, isError, JsonRpcProvider, parseEther, Wallet, ZeroAddress, ZeroHash } from "ethers";
import { connect } from "../../../client/cli/context.js";
import { explainError } from "../../../client/cli/errors.js";
import { watcherLine } from "../../../client/cli/watcher-log.js";
import { Adjudicator__factory, TestToken__factory } from "../../../typechain-types/index.js";
import { freePort, type LocalNode, root, startAnvil } from "../helpers/nodes.js";
import { BIN, cleanEnv } from "./cli-process.js";

const PHRASE = "test test test test test test test test test test test junk";
const devKey = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`);

/** A library's raw text: ethers' suffixes and wrappers, a JSON-RPC payload, a raw transaction or calldata, HTML. */
const RAW =
  /could not coalesce|transaction=|info=|payload=|request=|code=[A-Z_]+|version=6|"jsonrpc"|\{ "|0x[0-9a-fA-F]{65,}|<html|<body/i;

/** The error `run` throws; fails the test if it does not throw. */
async function thrown(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  expect.fail("it did not throw");
}

/** `explainError(error)` as the CLI prints it, after checking that the raw error did carry raw text. */
function printed(error: unknown, rawToo = true): string {
  if (rawToo) expect(String((error as Error).message), "the raw error has raw text to hide").to.match(RAW);
  const { message, hint } = explainError(error);
  const text = `error: ${message}${hint ? `\nhint: ${hint}` : ""}`;
  expect(text).to.not.match(RAW);
  return text;
}

describe("the CLI's error explanations, against real ethers errors", function () {
  this.timeout(60_000);
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let funded: Wallet;

  before(async function () {
    node = await startAnvil();
    provider = new JsonRpcProvider(node.url, 31337, { cacheTimeout: -1 });
    funded = new Wallet(devKey(0).privateKey, provider);
  });
  after(async () => {
    provider?.destroy();
    await node?.stop();
  });

  it("a provider against a closed port: 'the RPC did not answer', with the --rpc hint", async function () {
    const dead = new JsonRpcProvider(`http://127.0.0.1:${await freePort()}`, 31337, { staticNetwork: true });
    try {
      const error = await thrown(() => dead.getBalance(ZeroAddress));
      const text = printed(error, false);
      expect(text).to.equal("error: the RPC did not answer\nhint: check --rpc, or start a chain with `piecepay chain`");
    } finally {
      dead.destroy();
    }
  });

  it("a node that stops after `connect`: the next call is 'the RPC did not answer', and ethers prints nothing of its own", async function () {
    const own = await startAnvil();
    // The CLI rides out an outage for PIECEPAY_RPC_PATIENCE seconds (120 by default): 2 here, then it says so.
    process.env.PIECEPAY_RPC_PATIENCE = "2";
    const { provider: connected } = await connect(own.url).finally(() => {
      delete process.env.PIECEPAY_RPC_PATIENCE;
    });
    const printedByEthers: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => {
      printedByEthers.push(args.join(" "));
    };
    try {
      await own.stop();
      const error = await thrown(() => connected.getBlockNumber());
      expect(printed(error, false)).to.match(/^error: the RPC did not answer/m);
      // ethers' retry loop would print within a second if the network was not learned at `connect`
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    } finally {
      console.log = log;
      connected.destroy();
    }
    expect(printedByEthers).to.deep.equal([]);
  });

  it("an empty account's transfer on anvil (INSUFFICIENT_FUNDS with the raw signed transaction): says it cannot pay, with the funding hint", async function () {
    const empty = Wallet.createRandom(provider);
    const error = await thrown(() => empty.sendTransaction({ to: ZeroAddress, value: 1n }));
    expect(isError(error, "INSUFFICIENT_FUNDS")).to.equal(true);
    const text = printed(error);
    expect(text).to.match(/^error: the account cannot pay this transaction and its gas$/m);
    expect(text).to.match(/^hint: fund the account first/m);
  });

  it("an empty account's contract call on anvil (the calldata in the error): the same words", async function () {
    const adjudicator = await (await new Adjudicator__factory(funded).deploy()).waitForDeployment();
    const empty = Wallet.createRandom(provider);
    const error = await thrown(() =>
      adjudicator.connect(empty).deposit(ZeroAddress, ZeroHash, 0n, parseEther("1"), { value: parseEther("1") }),
    );
    expect(printed(error)).to.match(/^error: the account cannot pay this transaction and its gas$/m);
  });

  it("a revert with one of our custom errors: named with its arguments, decoded through the ABI", async function () {
    const adjudicator = await (await new Adjudicator__factory(funded).deploy()).waitForDeployment();
    const error = await thrown(() => adjudicator.deposit(ZeroAddress, ZeroHash, 0n, 10n, { value: 10n }));
    expect(isError(error, "CALL_EXCEPTION")).to.equal(true);
    expect(printed(error)).to.equal(`error: the contract refused: DepositToExternalDestination(${ZeroHash})`);
  });

  it("a revert with a custom error we do not know (an ERC-20's): 'the contract refused the transaction', no data", async function () {
    const token = await (await new TestToken__factory(funded).deploy()).waitForDeployment();
    const error = await thrown(() => token.transfer(devKey(1).address, 1n)); // we hold none of it
    expect(isError(error, "CALL_EXCEPTION")).to.equal(true);
    expect(printed(error)).to.equal(
      "error: the contract refused the transaction (execution reverted (unknown custom error))",
    );
  });

  it("a JSON-RPC error payload ('could not coalesce error'): the RPC's own message only", async function () {
    const error = await thrown(() => provider.send("piecepay_noSuchMethod", []));
    expect(String((error as Error).message)).to.include("could not coalesce error");
    expect(printed(error)).to.match(/^error: the RPC refused the request: Method not found$/m);
  });

  it("an RPC that answers with an HTTP error page: 'the RPC refused the request', no HTML", async function () {
    const server = createServer((_request, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end("<html><body><h1>502 Bad Gateway</h1></body></html>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const proxy = new JsonRpcProvider(`http://127.0.0.1:${port}`, 31337, { staticNetwork: true });
    try {
      const error = await thrown(() => proxy.getBlockNumber());
      expect(printed(error)).to.match(/^error: the RPC refused the request/m);
    } finally {
      proxy.destroy();
      server.close();
    }
  });

  it("the watcher's log of a failed defence (String(error) of a real insufficient-funds error): in words", async function () {
    const empty = Wallet.createRandom(provider);
    const error = await thrown(() => empty.sendTransaction({ to: ZeroAddress, value: 1n }));
    const line = watcherLine("defend-failed", { channelId: `0x${"ab".repeat(32)}`, error: String(error) });
    expect(String(error)).to.match(RAW);
    expect(line).to.equal("watcher: defend-failed 0xabab…abab: the account cannot pay this transaction and its gas");
  });

  it("an error thrown outside any await of the CLI (a library's stray throw): `error:` in words, exit 1, no stack trace", async function () {
    const port = await freePort();
    // A preloaded module throws an ethers-shaped error 300 ms into a running `piecepay tracker`.
    const stray = `setTimeout(() => { throw Object.assign(new Error('could not coalesce error (error={ "code": -32000 }, payload={ "jsonrpc": "2.0" }, code=UNKNOWN_ERROR, version=6.17.0)'), { code: 'UNKNOWN_ERROR', error: { message: 'boom' } }) }, 300)`;
    const run = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ["--import", `data:text/javascript,${encodeURIComponent(stray)}`, BIN, "tracker", "--port", String(port)],
        { cwd: root, env: cleanEnv({}) },
        (error, _stdout, stderr) => resolve({ code: typeof error?.code === "number" ? error.code : 0, stderr }),
      ),
    );
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.match(/^error: the RPC refused the request: boom$/m);
    expect(run.stderr).to.not.match(RAW);
    expect(run.stderr).to.not.match(/^\s+at /m);
  });
});
