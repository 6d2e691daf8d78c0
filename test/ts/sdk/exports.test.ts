// The SDK has three entry points: sdk/index.ts (`piecepay/sdk`, universal), sdk/node.ts (`piecepay/sdk/node`, the
// same plus what only Node has) and sdk/actions/index.ts (`piecepay/sdk/actions`, universal: each action as a
// function of a context). Adding or removing an export is a decision, so it must show up here; and an app reaches
// them by package name, through package.json "exports".
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import * as byName from "piecepay/sdk";
import * as byNameActions from "piecepay/sdk/actions";
import * as byNameHub from "piecepay/sdk/hub";
import * as byNameNode from "piecepay/sdk/node";
import * as actions from "../../../sdk/actions/index.js";
import { PiecepayClient } from "../../../sdk/client.js";
import * as hubEntry from "../../../sdk/hub/index.js";
import * as sdk from "../../../sdk/index.js";
import * as node from "../../../sdk/node.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const UNIVERSAL = [
  "adjudicatorInterface",
  "assetBalance",
  "describeAsset",
  "ETH_ASSET",
  "challengeHash",
  "channelId",
  "abiChannelId",
  "checksumAddress",
  "abiStateHash",
  "computePayouts",
  "ChannelWatcher",
  "ContractRevertError",
  "CONTRACT_ERROR_CODES",
  "SDK_ERROR_CODES",
  "toContractErrorCode",
  "decodeContractError",
  "defaultConfirmations",
  "LOCAL_DEV_CHAINS",
  "TESTNETS",
  "settlementOf",
  "destinationsOf",
  "sessionKey",
  "SESSION_KEY_SECRET",
  "walletFromEip1193",
  "rejectionError",
  "WrongChainError",
  "InsufficientFundsError",
  "PiecepayClient",
  "createVoucher",
  "PiecepayError",
  "recoverPersonalSigner",
  "RetryingJsonRpcProvider",
  "signatureBackend",
  "splitOutcome",
  "useSignatureBackend",
  "VoucherError",
  "verifyVoucher",
  "voucherMoveError",
  "voucherStateSupportError",
  "VirtualVoucherError",
  "decodeVoucher",
  "encodeVoucher",
  "fingerprint",
  "fromJson",
  "MemoryChannelStore",
  "IndexedDbChannelStore",
  "committedEthCandidates",
  "matchRegistration",
  "NO_REGISTRATION",
  "registrationOf",
  "readEthHoldings",
  "findRegistration",
  "fixedPartType",
  "fundingState",
  "gasSpentSince",
  "isExternalDestination",
  "outcomeHash",
  "outcomeType",
  "packStatus",
  "signBy",
  "signChallenge",
  "signState",
  "signVoucher",
  "signedVariablePartType",
  "stateHash",
  "toDestination",
  "toJson",
  "toSigned",
  "unpackStatus",
  "variablePartFromEvent",
  "variablePartType",
  "voucherHash",
  "VOUCHER_LENGTH",
];

/** The actions, one per method of `PiecepayClient`, and what makes and checks the context they take. */
const ACTIONS = [
  "answer",
  "bestState",
  "canPayGas",
  "challenge",
  "checkFundingNow",
  "checkpoint",
  "close",
  "countersign",
  "defend",
  "followDeposit",
  "fund",
  "join",
  "minChallengeDuration",
  "offerClose",
  "onChain",
  "open",
  "paid",
  "pay",
  "payout",
  "propose",
  "receive",
  "recoverFunding",
  "redeem",
  "registeredState",
  "registration",
  "respond",
  "settlement",
  "settlementIn",
  "syncPhase",
  "waitForFunding",
];
const CONTEXT = ["createPiecepayContext", "withChainChecked"];

/** `piecepay/sdk/hub`: what an app needs to use a hub, apart from `piecepay/sdk` (the universal bundle's budget). */
const HUB = [
  "HUB_API_VERSION",
  "HUB_ERROR_REASONS",
  "HubConnection",
  "HubError",
  "HubRpcClient",
  "challengeLedger",
  "challengeVirtual",
  "applyLedgerChange",
  "checkLedgerUpdate",
  "checkVirtualVoucher",
  "checkVirtualVoucherSupported",
  "defendHubChannel",
  "encodeHubJson",
  "exitLedger",
  "feeBpsOf",
  "finalLedger",
  "foldTopUp",
  "fundGuarantee",
  "hubFee",
  "maxVirtualVoucher",
  "ledgerBalances",
  "ledgerOutcome",
  "loginSigner",
  "loginText",
  "proposeTopUp",
  "readField",
  "readFixedPart",
  "readOutcome",
  "readSignature",
  "readSignedVariablePart",
  "readVariablePart",
  "reclaimEffects",
  "reclaimGuarantee",
  "settleGuarantee",
  "signLogin",
  "virtualChannelOutcome",
  "virtualNonce",
  "virtualVoucherState",
];

/** What only Node has: the SQLite store and the keystore on disk. */
const NODE_ONLY = [
  "SqliteChannelStore",
  "loadKeystore",
  "saveKeystore",
  "fastChannelId",
  "fastSignState",
  "fastStateHash",
  "stateHashBytes",
  "useStateSignerBackend",
];

/** Runs an ES module in a fresh Node process at the repository's root (tsx loads the TypeScript). */
function runModule(source: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", source],
      { cwd: ROOT },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim())),
    ),
  );
}

describe("sdk/index.ts", function () {
  it("exports exactly the documented names", function () {
    expect(Object.keys(sdk).sort()).to.deep.equal([...UNIVERSAL].sort());
  });
});

describe("sdk/hub/index.ts", function () {
  it("exports exactly the hub's names, none of which sdk/index.ts repeats", function () {
    expect(Object.keys(hubEntry).sort()).to.deep.equal([...HUB].sort());
    expect(Object.keys(byNameHub).sort()).to.deep.equal([...HUB].sort());
    expect(byNameHub.HubConnection).to.equal(hubEntry.HubConnection);
    expect(HUB.filter((name) => name in sdk)).to.deep.equal([]);
  });
});

describe("sdk/node.ts", function () {
  it("exports everything of sdk/index.ts, the same objects, plus exactly the Node-only names", function () {
    expect(Object.keys(node).sort()).to.deep.equal([...UNIVERSAL, ...NODE_ONLY].sort());
    const shared = new Map(Object.entries(sdk));
    for (const [name, value] of Object.entries(node))
      if (shared.has(name)) expect(value, name).to.equal(shared.get(name));
  });
});

describe("sdk/actions/index.ts", function () {
  it("exports exactly the actions and the context's two functions", function () {
    expect(Object.keys(actions).sort()).to.deep.equal([...ACTIONS, ...CONTEXT].sort());
  });

  it("has one action per method of PiecepayClient, of the same name: the client is the actions bound to a context", function () {
    const prototype = PiecepayClient.prototype as unknown as Record<string, unknown>;
    const methods = Object.getOwnPropertyNames(prototype).filter(
      (name) => name !== "constructor" && typeof Object.getOwnPropertyDescriptor(prototype, name)?.value === "function",
    );
    expect(methods.sort()).to.deep.equal([...ACTIONS].sort());
  });
});

describe('package.json "exports"', function () {
  this.timeout(60_000);

  it('resolves "piecepay/sdk" and "piecepay/sdk/node" by name to the entry points\' very objects', function () {
    expect(Object.keys(byName).sort()).to.deep.equal([...UNIVERSAL].sort());
    expect(Object.keys(byNameNode).sort()).to.deep.equal([...UNIVERSAL, ...NODE_ONLY].sort());
    expect(Object.keys(byNameActions).sort()).to.deep.equal([...ACTIONS, ...CONTEXT].sort());
    expect(byName.PiecepayClient).to.equal(sdk.PiecepayClient);
    expect(byNameActions.pay).to.equal(actions.pay);
    expect(byNameNode.SqliteChannelStore).to.equal(node.SqliteChannelStore);
  });

  // Fresh processes: this one has loaded the Node entry point already.
  it('lets the runtime pick the verifier: sdk/index.ts alone checks with @noble, "piecepay/sdk" in Node with libsecp256k1', async function () {
    const steps = await runModule(
      [
        'const universal = await import("./sdk/index.ts");',
        "const seen = [universal.signatureBackend()];",
        'try { universal.useSignatureBackend("native"); seen.push("selected"); }',
        "catch (error) { seen.push(error.code, universal.signatureBackend()); }",
        'const byName = await import("piecepay/sdk");',
        "seen.push(byName.signatureBackend(), byName.PiecepayClient === universal.PiecepayClient);",
        'console.log(seen.join(" "));',
      ].join("\n"),
    );
    // @noble first; selecting libsecp256k1 before it is installed is refused and changes nothing; Node's resolver
    // then loads sdk/index.node.ts, which installs it for the very same SDK.
    expect(steps).to.equal("js NATIVE_BACKEND_UNAVAILABLE js native true");
  });

  it('installs libsecp256k1 with "piecepay/sdk/node" alone, and refuses the modules it does not name', async function () {
    const steps = await runModule(
      [
        'const node = await import("piecepay/sdk/node");',
        "const seen = [node.signatureBackend()];",
        'try { await import("piecepay/sdk/recover.ts"); seen.push("imported"); } catch (error) { seen.push(error.code); }',
        'console.log(seen.join(" "));',
      ].join("\n"),
    );
    expect(steps).to.equal("native ERR_PACKAGE_PATH_NOT_EXPORTED");
  });
});
