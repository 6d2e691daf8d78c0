// `piecepay simulate [scenario...|all]`: the adversarial stories of piecepay told on a real chain, with the real
// contracts, the real SDK and real signatures (and real torrent traffic where the story is about torrenting), each
// followed by a report: balances before and after, every transaction with its gas, the time to settle and the
// invariants checked. The library is client/simulate/.
import { MIN_CHALLENGE_DURATION, POKE_AFTER_MS, SimulationChain } from "../../simulate/context.js";
import { json, markdown } from "../../simulate/report.js";
import { exitStatus, runSimulation, selectScenarios } from "../../simulate/runner.js";
import { SCENARIOS } from "../../simulate/scenarios/index.js";
import { CliError, type Command, intOption, UsageError } from "../command.js";
import { connect, loadSigner, readDeployment } from "../context.js";

export const simulate: Command = {
  name: "simulate",
  summary: "run the adversarial scenarios on a real chain and check their invariants",
  usage: "simulate [scenario...|all] [--challenge-duration S] [--json] [--rpc URL [--key HEX] [--move-time]]",
  description: [
    "Runs each scenario with the real contracts, the real SDK and real signatures, on an embedded chain (Hardhat's",
    "in-process EVM, contracts deployed afresh, its clock moved on demand) or, with --rpc, on any node with a",
    "deployment record (the parties are fresh accounts funded from --key or --keystore, else from the node's first",
    "unlocked account). A node given with --rpc may be shared: its clock is never moved unless --move-time says so",
    "(evm_increaseTime finalizes every other pending challenge on that node sooner), and the simulation really",
    "waits out each challenge: set --challenge-duration short. The node must then make blocks on its own, as a",
    "public chain does; one that mines only when a transaction arrives is sent 0 ETH from the funding account once",
    `a wait is ${POKE_AFTER_MS / 1000} s overdue. The scenarios about torrenting move real torrent traffic between webtorrent`,
    "peers over loopback. The hub scenarios (10 to 16) run a hub in process (its API on loopback, its store in a",
    "scratch directory) and its users through the SDK; with --rpc the deployment record must name the hub's apps.",
    "",
    "Scenarios:",
    ...SCENARIOS.map((s) => `  ${s.id.padStart(2)} ${s.name.padEnd(22)}${s.title}`),
    "",
    "For each: every party's balances before and after (on chain and in the channel), every transaction with its",
    "gas, the time to settle, and the invariants: total paid out equals total deposited; nothing is paid twice;",
    "each party ends with exactly its entitlement; the honest party loses at most its credit window. Markdown on",
    "stdout (--json: one JSON document). Exit status 1 when an invariant fails.",
  ].join("\n"),
  positionals: true,
  options: { "challenge-duration": { type: "string" }, "move-time": { type: "boolean" } },
  optionHelp: [
    ["scenario...", "ids or names (default: all)"],
    [
      "--move-time",
      "with --rpc: move the node's clock forward (evm_increaseTime) instead of waiting; only on a node of your own",
    ],
    [
      "--challenge-duration S",
      `every channel's challenge duration (the torrent leecher's too), ${MIN_CHALLENGE_DURATION} s or more (default 3600 where time moves, else ${MIN_CHALLENGE_DURATION})`,
    ],
  ],
  examples: [
    "piecepay simulate all",
    "piecepay simulate 5 --json",
    "piecepay simulate stale-challenge watcher-offline",
    "piecepay simulate hub-vanishes hub-crowd",
    "piecepay simulate all --rpc http://127.0.0.1:8545 --challenge-duration 10",
    "piecepay simulate all --rpc http://127.0.0.1:8545 --move-time   # a node of your own: its clock jumps",
    "PIECEPAY_KEY=0x... piecepay simulate 2 5 --rpc https://rpc.example --challenge-duration 10",
    "npm run simulate",
  ],

  async run({ globals, values, positionals, out }) {
    let scenarios: ReturnType<typeof selectScenarios>;
    try {
      scenarios = selectScenarios(positionals);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const challengeDuration =
      values["challenge-duration"] === undefined
        ? undefined
        : BigInt(intOption(values, "challenge-duration", Number(MIN_CHALLENGE_DURATION), 365 * 24 * 3600));
    if (values["move-time"] === true && globals.rpc === undefined) {
      throw new UsageError("--move-time is for --rpc: the embedded chain's clock is always moved (it is ours)");
    }
    let chain: SimulationChain;
    if (globals.rpc === undefined) {
      chain = await SimulationChain.embedded();
    } else {
      const { provider, chainId } = await connect(globals.rpc);
      try {
        const deployment = readDeployment(globals, chainId);
        const bank =
          globals.key !== undefined || globals.keystore !== undefined || process.env.PIECEPAY_KEY
            ? await loadSigner(globals, provider)
            : await provider.getSigner(0).catch((error) => {
                throw new CliError("the node has no unlocked account to fund the parties", "pass --key or --keystore", {
                  cause: error,
                });
              });
        const moveTime = values["move-time"] === true;
        chain = await SimulationChain.rpc(globals.rpc, provider, chainId, deployment, bank, { moveTime });
        if (moveTime && chain.canMoveTime) {
          out.note(
            `warning: --move-time: the clock of the node at ${globals.rpc} will be moved forward (evm_increaseTime) for each dispute; every other pending challenge on that node finalizes sooner`,
          );
        } else if (moveTime)
          out.note(`warning: --move-time: ${globals.rpc} refuses evm_increaseTime; waiting in real time`);
      } catch (error) {
        provider.destroy();
        throw error;
      }
    }
    out.note(
      `chain ${chain.chainId} (${chain.kind}${chain.canMoveTime ? "" : ", real time: each challenge is waited out"}): ${scenarios.length} scenario(s)`,
    );
    let report: Awaited<ReturnType<typeof runSimulation>>;
    try {
      report = await runSimulation(chain, scenarios, { challengeDuration, note: (text) => out.note(text) });
    } finally {
      await chain.close();
    }
    if (out.json) out.stdout.write(`${json(report)}\n`);
    else out.stdout.write(`${markdown(report)}\n`);
    if (exitStatus(report) !== 0) {
      const failed = report.scenarios.filter((s) => !s.passed).map((s) => s.id);
      throw new CliError(`scenario(s) ${failed.join(", ")} failed an invariant`, "the report above says which", {
        exitCode: exitStatus(report),
      });
    }
  },
};
