// A test bed for the SDK's hostile-counterparty suites: the fixture's chain, SDK clients each with its own SQLite
// store in a scratch directory (closed and removed after each test), a paid channel, and what the chain paid.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEther } from "ethers";
import { gasSpentSince, SqliteChannelStore } from "../../../sdk/node.js";
import { deployFixture, ethers, networkHelpers, type Signer, sdkClient } from "../helpers/fixtures.js";

export const DEPOSIT = parseEther("1");
export const PRICE = parseEther("0.01");
/** What `paidChannel` pays: seven vouchers of PRICE. */
export const PAID = 7n * PRICE;

/** Registers the hooks of a suite (call inside `describe`) and returns its helpers. */
export function sdkBed(prefix: string) {
  let dir = "";
  let fixture: Awaited<ReturnType<typeof deployFixture>> | undefined;
  const stores: SqliteChannelStore[] = [];
  beforeEach(async () => {
    fixture = await networkHelpers.loadFixture(deployFixture);
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bed = {
    /** The deployed contracts and accounts of the current test. */
    get f() {
      if (!fixture) throw new Error("the bed is used outside a test");
      return fixture;
    },
    /** An SDK client for `signer` with a fresh store. */
    async clientFor(signer: Signer) {
      const store = new SqliteChannelStore(join(dir, `${signer.address}-${stores.length}.db`));
      stores.push(store);
      return sdkClient(bed.f, signer, store);
    },
    /** A channel alice opened to bob through the SDK (funding state at turn 0), with vouchers for PAID. */
    async paidChannel() {
      const { f } = bed;
      const payer = await bed.clientFor(f.alice);
      const payee = await bed.clientFor(f.bob);
      const { id, fixedPart } = await payer.open({ payee: f.bob.address, deposit: DEPOSIT }, (p) => payee.join(p));
      await payee.waitForFunding(id);
      for (let i = 0; i < 7; i++) await payee.receive(await payer.pay(id, PRICE));
      const funding = await payer.store.getSupportedState(id);
      if (!funding) throw new Error("no funding state");
      return { payer, payee, id, fixedPart, funding, startBlock: await ethers.provider.getBlockNumber() };
    },
    /** What `account` gained on chain since `block`, gas added back: exactly what the adjudicator paid it. */
    async receivedSince(account: string, before: bigint, block: number): Promise<bigint> {
      const [gas] = await gasSpentSince(ethers.provider, [account], block);
      return (await ethers.provider.getBalance(account)) - before + gas;
    },
  };
  return bed;
}
