// `piecepay fund ADDRESS --amount ETH`: sends test ETH from a development account of a local chain (the node's
// first unlocked account, eth_sendTransaction) to ADDRESS, e.g. an account `piecepay keygen` just made. Refused on
// any chain that is not a local development chain (client/cli/dev-chain.ts says how that is decided).
import { readFileSync } from "node:fs";
import { computeAddress, getAddress, isAddress } from "ethers";
import { parseAmount } from "../amounts.js";
import { CliError, type Command, type GlobalOptions, UsageError } from "../command.js";
import { connect, rpcUrl } from "../context.js";
import { assertDevChain } from "../dev-chain.js";
import { explainError } from "../errors.js";
import { formatAmount } from "../output.js";

export const fund: Command = {
  name: "fund",
  summary: "send test ETH to an address from a development account of a local chain",
  usage: "fund (ADDRESS | --keystore PATH) --amount ETH [--rpc URL]",
  description: [
    "Sends --amount ETH to ADDRESS from the first development account of the local chain at --rpc (the node's",
    "unlocked, prefunded account: test ETH only), waits for the transaction's block and prints the new balance.",
    "For a first run on `piecepay chain`: fund the accounts `piecepay keygen` made before they seed or get. Without",
    "ADDRESS, the address of --keystore PATH (read from the file: no password needed) or of --key is funded.",
    "",
    "Refused, before anything is sent, on any chain that is not a local development chain: its chain id must be",
    "31337 or 1337, its node must say it is Hardhat's node or anvil (web3_clientVersion), and it must hold",
    "development accounts (eth_accounts). Needs no key of ours.",
  ].join("\n"),
  positionals: true,
  options: {
    amount: { type: "string" },
  },
  optionHelp: [["--amount ETH", "how much to send, in ETH (required)"]],
  examples: [
    "piecepay fund 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 --amount 10",
    "piecepay fund --keystore .piecepay/leecher.json --amount 1",
    "piecepay fund 0x5B38Da6a701c568545dCfcB03FcB875f56beddC4 --amount 0.5 --rpc http://127.0.0.1:8546 --json",
  ],

  async run({ globals, values, positionals, out }) {
    const [address, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`fund takes one address, not also "${extra}"`);
    if (values.amount === undefined) throw new UsageError("fund needs --amount ETH (how much to send)");
    const value = parseAmount(String(values.amount), "--amount");
    const to = recipient(address, globals);
    const url = rpcUrl(globals);

    const { provider, chainId } = await connect(url);
    try {
      const { accounts } = await assertDevChain(url, chainId);
      const from = getAddress(accounts[0]);
      const held = await provider.getBalance(from);
      if (held <= value) {
        throw new CliError(
          `the development account ${from} holds ${formatAmount(held)}: not enough to send ${formatAmount(value)} and gas`,
          "ask for less with --amount",
        );
      }
      let hash: string;
      try {
        const signer = await provider.getSigner(from);
        const tx = await signer.sendTransaction({ to, value });
        out.note(`sent ${formatAmount(value)} from ${from} to ${to} (tx ${tx.hash}); waiting for its block`);
        const receipt = await tx.wait();
        if (receipt === null || receipt.status !== 1) throw new Error("the transfer did not succeed");
        hash = receipt.hash;
      } catch (error) {
        const { message, hint } = explainError(error);
        throw new CliError(`could not fund ${to}: ${message}`, hint, { cause: error });
      }
      const balance = await provider.getBalance(to);
      out.result(
        { event: "funded", address: to, amount: value, from, tx: hash, balance, chainId },
        `funded ${to} with ${formatAmount(value)} (tx ${hash}); it holds ${formatAmount(balance)}`,
      );
    } finally {
      provider.destroy();
    }
  },
};

/** ADDRESS, else the address of --keystore (its JSON's `address`: no password needed) or of --key. */
function recipient(address: string | undefined, globals: GlobalOptions): string {
  if (address !== undefined) {
    if (!isAddress(address)) throw new UsageError(`"${address}" is not an address (0x and 40 hex digits)`);
    return getAddress(address);
  }
  if (globals.keystore !== undefined) {
    let json: { address?: unknown };
    try {
      json = JSON.parse(readFileSync(globals.keystore, "utf8"));
    } catch (error) {
      throw new CliError(`cannot read the keystore ${globals.keystore}`, "check the path", { cause: error });
    }
    const inFile = typeof json.address === "string" ? json.address : "";
    const found = inFile.startsWith("0x") ? inFile : `0x${inFile}`;
    if (!isAddress(found)) throw new CliError(`${globals.keystore} does not say its address`, "pass ADDRESS instead");
    return getAddress(found);
  }
  const key = globals.key ?? (process.env.PIECEPAY_KEY || undefined);
  if (key !== undefined && /^(0x)?[0-9a-fA-F]{64}$/.test(key)) {
    return computeAddress(key.startsWith("0x") ? key : `0x${key}`);
  }
  throw new UsageError("fund needs the address to fund: piecepay fund ADDRESS --amount ETH (or --keystore PATH)");
}
