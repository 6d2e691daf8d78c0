// A property test of the leecher's ledger modules alone (docs/security.md row 42): SeederLedger, Budget, PieceOwnership
// and GrantedPieces, driven directly, with no wire or torrent, by a seeded random interleaving of grants (vouchers
// and the pieces they buy), blocks, verifications, pieces a free peer delivers, bad pieces, disconnects and a
// close, for one to three paid seeders sharing one budget. A model of each seeder and of the chain says what each
// is paid: an honest seeder closes at our offer if it covers what it served; any other (silent at the close,
// greedy, gone, sending bad data) takes its largest voucher. Properties, for every run:
// - an honest seeder is paid exactly delivered x price, and that is what it served;
// - any seeder is paid at most (delivered + maxWindow) x price, at every step and at the end;
// - no piece is counted as delivered by two seeders; the deposits never exceed the budget.
// (leecher-ledger-model.test.ts checks the same through the whole PaidLeecher session.) fast-check is not a
// dependency, so the schedules come from the seeded generator the other property tests use; a failing run prints
// its seed. PIECEPAY_LEDGER_PROPERTY_RUNS sets the number of runs (default 2000, a few seconds).
import { expect } from "chai";
import { Budget, type Reservation, SeederLedger } from "../../../client/session/leecher-ledger.js";
import { GrantedPieces, PieceOwnership } from "../../../client/session/piece-ownership.js";
import { Random } from "../helpers/random.js";

const RUNS = Number(process.env.PIECEPAY_LEDGER_PROPERTY_RUNS ?? 2000);

type Kind = "honest" | "silent at the close" | "greedy" | "vanishes" | "bad pieces";
const KINDS: Kind[] = ["honest", "silent at the close", "greedy", "vanishes", "bad pieces"];

/** One paid seeder: our side (ledger, grants) and its side (vouchers received, pieces admitted and served). */
interface Seeder {
  id: string;
  kind: Kind;
  ledger: SeederLedger;
  grants: GrantedPieces;
  reservation: Reservation | undefined;
  connected: boolean;
  /** Its largest voucher received. */
  vouchers: bigint;
  admitted: Set<number>;
  served: Set<number>;
  /** Blocks on their way to us, in order. */
  inFlight: number[];
  /** What the chain paid it, once settled. */
  payout?: bigint;
}

function run(seed: number): string {
  const random = new Random(seed);
  const pieceCount = 1 + random.int(40);
  const price = 1n + BigInt(random.int(1000));
  const maxWindow = 1 + random.int(16);
  const initialWindow = 1 + random.int(4);
  const freePeer = random.int(3) !== 0;
  // Sometimes too small for every seeder's full deposit: some get less, or none.
  const budget = new Budget(BigInt(random.int(3 * pieceCount + 2)) * price);
  const pieces = new PieceOwnership<string>(2);
  const seeders: Seeder[] = [];
  for (let n = 0, count = 1 + random.int(3); n < count; n++) {
    const ledger = new SeederLedger({ initialWindow, maxWindow });
    ledger.priceAt(price);
    const deposit = BigInt(pieceCount) * price < budget.left ? BigInt(pieceCount) * price : budget.left;
    const reservation = deposit < price ? undefined : budget.reserve(deposit);
    if (reservation) ledger.depositOf(deposit);
    const kind = KINDS[random.int(KINDS.length)];
    const seeder: Seeder = {
      id: `seeder ${n}`,
      kind,
      ledger,
      grants: new GrantedPieces(),
      reservation,
      connected: reservation !== undefined,
      vouchers: 0n,
      admitted: new Set(),
      served: new Set(),
      inFlight: [],
    };
    seeders.push(seeder);
  }
  const verifying = new Set<number>();
  const piecesLeft = () => pieceCount - pieces.verifiedCount;
  const describe = () =>
    `seed ${seed}: ${pieceCount} pieces at ${price}, window ${initialWindow}..${maxWindow}, free peer ${freePeer}, ` +
    `budget ${budget.total}; ${seeders
      .map(
        (s) =>
          `${s.id} ${s.kind}: deposit ${s.ledger.deposit}, paid ${s.ledger.paid}, delivered ${s.ledger.deliveredCount}, ` +
          `served ${s.served.size}, payout ${s.payout}`,
      )
      .join("; ")}`;

  const grant = (s: Seeder) => {
    if (!s.connected) return;
    s.grants.fill(
      s.ledger.grantable,
      pieceCount,
      (index) => !pieces.isVerified(index),
      (index) => pieces.claim(index, s.id),
    );
  };
  const bySender = (id: string) => seeders.find((s) => s.id === id) as Seeder;
  const verify = (index: number) => {
    verifying.delete(index);
    if (pieces.isVerified(index)) return;
    const { senders, idleOwner } = pieces.verified(index);
    for (const id of senders) {
      bySender(id).ledger.delivered();
    }
    if (idleOwner !== undefined && bySender(idleOwner).grants.remove(index)) grant(bySender(idleOwner));
  };
  const disconnect = (s: Seeder) => {
    s.connected = false;
    pieces.discardUnverified(s.id);
    pieces.forget(s.id);
    s.inFlight = [];
    for (const other of seeders) {
      other.grants.rewind();
      grant(other);
    }
  };
  const invariants = () => {
    let delivered = 0;
    let deposits = 0n;
    for (const s of seeders) {
      delivered += s.ledger.deliveredCount;
      deposits += s.ledger.deposit;
      expect(s.ledger.paid, `${describe()}: a voucher above the deposit`).to.be.at.most(s.ledger.deposit);
      expect(s.ledger.paid, `${describe()}: more than one window ahead`).to.be.at.most(
        BigInt(s.ledger.deliveredCount + maxWindow) * price,
      );
    }
    expect(delivered, `${describe()}: a piece counted twice`).to.be.at.most(pieceCount);
    expect(deposits, `${describe()}: deposits above the budget`).to.be.at.most(budget.total);
  };

  for (let step = 0; step < 5_000; step++) {
    const actions: (() => void)[] = [];
    for (const s of seeders) {
      if (!s.connected) continue;
      // A voucher, and the pieces it buys.
      const amount = s.ledger.topUp(piecesLeft());
      if (amount > 0n) {
        actions.push(() => {
          s.ledger.vouched(s.ledger.paid + amount);
          if (s.ledger.paid > s.vouchers) s.vouchers = s.ledger.paid;
          grant(s);
        });
      }
      // The seeder serves a granted piece we asked for, if its credit covers it (as the real seeder's gate does).
      const asked = [...Array(pieceCount).keys()].filter(
        (i) => s.grants.has(i) && !s.served.has(i) && !pieces.isVerified(i),
      );
      const credit = Number(s.vouchers / price);
      const coverable = asked.filter((i) => s.admitted.has(i) || credit > s.admitted.size);
      if (coverable.length > 0) {
        actions.push(() => {
          const index = coverable[random.int(coverable.length)];
          s.admitted.add(index);
          s.served.add(index); // owed from its first block, as the real seeder counts
          s.inFlight.push(index);
        });
      }
      if (s.inFlight.length > 0) {
        actions.push(() => {
          const index = s.inFlight.shift() as number;
          if (pieces.block(index, s.id))
            s.ledger.delivered(); // late: the piece verified meanwhile
          else if (!pieces.isVerified(index)) verifying.add(index);
        });
      }
      if (s.kind === "bad pieces" && [...verifying].some((i) => pieces.startedBy(i, s.id))) {
        actions.push(() => {
          const index = [...verifying].find((i) => pieces.startedBy(i, s.id)) as number;
          verifying.delete(index);
          const senders = pieces.failed(index);
          if (senders.length === 1) {
            pieces.countFailure([senders[0]]);
            disconnect(bySender(senders[0]));
          }
        });
      }
      if ((s.kind === "vanishes" || s.kind === "bad pieces") && random.int(30) === 0) actions.push(() => disconnect(s));
    }
    if (verifying.size > 0) {
      const list = [...verifying];
      actions.push(() => verify(list[random.int(list.length)]));
    }
    if (freePeer && piecesLeft() > 0) {
      const missing = [...Array(pieceCount).keys()].filter((i) => !pieces.isVerified(i));
      actions.push(() => verify(missing[random.int(missing.length)]));
    }
    if (actions.length === 0 || random.int(60) === 0) break; // the close: done, stalled, or at a random point
    actions[random.int(actions.length)]();
    invariants();
  }

  // The close. We wait for the blocks on their way and for the pieces being verified (PaidLeecher's #drained), then
  // offer what each delivered; the chain pays the offer if the seeder takes it, otherwise its largest voucher.
  for (const s of seeders) {
    if (!s.connected) continue;
    s.grants.retain((index) => pieces.startedBy(index, s.id));
    for (const index of s.inFlight.splice(0)) {
      if (pieces.block(index, s.id)) s.ledger.delivered();
      else if (!pieces.isVerified(index)) verifying.add(index);
    }
  }
  for (const index of [...verifying]) {
    const failing = seeders.find((s) => s.kind === "bad pieces" && s.connected && pieces.startedBy(index, s.id));
    if (failing) {
      pieces.failed(index);
      verifying.delete(index);
      disconnect(failing);
    } else verify(index);
  }
  invariants();
  for (const s of seeders) {
    if (!s.reservation) continue;
    const offer = s.ledger.closeOffer();
    const served = BigInt(s.served.size) * price;
    const minimum = served < s.vouchers ? served : s.vouchers;
    const takesOffer = s.connected && (s.kind === "honest" || s.kind === "vanishes") && offer >= minimum;
    s.payout = takesOffer ? offer : s.vouchers;
    if (takesOffer) s.ledger.closedAt(offer);
  }

  const what = describe();
  for (const s of seeders) {
    if (s.payout === undefined) continue;
    const delivered = BigInt(s.ledger.deliveredCount) * price;
    expect(s.payout, `${what}: ${s.id} paid more than delivered and one window`).to.be.at.most(
      delivered + BigInt(maxWindow) * price,
    );
    expect(s.ledger.spent, `${what}: ${s.id}: we report less than the chain paid`).to.be.at.least(s.payout);
    if (s.kind === "honest") {
      expect(s.payout, `${what}: honest ${s.id} paid delivered x price`).to.equal(delivered);
      expect(s.ledger.deliveredCount, `${what}: honest ${s.id}: both sides count the same`).to.equal(s.served.size);
      expect(s.ledger.spent, `${what}: honest ${s.id}: we report what it was paid`).to.equal(s.payout);
    }
  }
  return what;
}

describe("the leecher's ledger modules, driven directly", function () {
  it(`${RUNS} random interleavings of grants, blocks, bad pieces, disconnects and a close: an honest seeder is paid delivered x price, any seeder at most one window more`, function () {
    const kinds = new Set<string>();
    for (let n = 0; n < RUNS; n++) {
      const what = run(0x1ed9e7 + 104_729 * n);
      for (const kind of KINDS) if (what.includes(`${kind}: deposit`)) kinds.add(kind);
    }
    expect([...kinds].sort(), "every kind of seeder was drawn").to.deep.equal([...KINDS].sort());
  });

  describe("Budget", function () {
    it("holds a reservation until released, once, and refuses what it cannot cover", function () {
      const budget = new Budget(100n);
      const first = budget.reserve(60n);
      expect(first?.amount).to.equal(60n);
      expect(budget.reserve(41n), "41 of the 40 left").to.equal(undefined);
      first?.release();
      first?.release();
      expect(budget.left, "given back once").to.equal(100n);
      budget.count(30n);
      expect(budget.left, "a continued channel's deposit counts").to.equal(70n);
    });
  });

  describe("SeederLedger", function () {
    it("pays one window ahead, tops up at half a window, and never past the deposit or the pieces left", function () {
      const ledger = new SeederLedger({ initialWindow: 4, maxWindow: 8 });
      ledger.priceAt(10n);
      ledger.depositOf(75n);
      expect(ledger.topUp(100), "the first window").to.equal(40n);
      ledger.vouched(40n);
      ledger.delivered(); // window 8, credit ahead 3 of 8: top up
      expect(ledger.topUp(100), "up to delivered + window, within the deposit").to.equal(35n);
      ledger.vouched(75n);
      expect(ledger.topUp(100), "the deposit is spent").to.equal(0n);
      expect(ledger.closeOffer(), "the close offers what was delivered").to.equal(10n);
      const fresh = new SeederLedger({ initialWindow: 4 });
      fresh.priceAt(10n);
      fresh.depositOf(1000n);
      expect(fresh.topUp(1), "one piece left: one piece ahead").to.equal(10n);
      expect(fresh.receipt(11n), "a receipt above what we paid").to.equal(false);
    });
  });

  describe("GrantedPieces", function () {
    it("grants the urgent pieces first (a stream's seek), then the lowest, within the credit, each once", function () {
      const grants = new GrantedPieces();
      const owners = new PieceOwnership<string>();
      owners.claim(31, "other seeder");
      const eligible = (index: number) => index !== 2; // we hold piece 2
      const claim = (index: number) => owners.claim(index, "us");
      expect(grants.fill(2, 40, eligible, claim, [30, 31, 32, 33]), "30 and 32: 31 is another's").to.equal(2);
      expect([30, 31, 32].map((i) => grants.has(i))).to.deep.equal([true, false, true]);
      expect(
        grants.fill(5, 40, eligible, claim, [32, 33, 99, -1]),
        "33 (32 is already), then the lowest: 0, 1",
      ).to.equal(3);
      expect([33, 0, 1, 2, 3].map((i) => grants.has(i))).to.deep.equal([true, true, true, false, false]);
      expect(grants.fill(6, 40, eligible, claim), "then 3 (we hold 2)").to.equal(1);
      expect(grants.has(3)).to.equal(true);
    });
  });
});
