// Keys stay secret: a keystore round-trips, a wrong password is a clear error that does not echo it, and a full
// channel life (open, pay, close, dispute, watcher, payout) logged at the most verbose level shows no key,
// mnemonic or password anywhere.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { expect } from "chai";
import { parseEther, Wallet } from "ethers";
import {
  ChannelWatcher,
  loadKeystore,
  PiecepayClient,
  type PiecepayError,
  SqliteChannelStore,
  saveKeystore,
  sessionKey,
  walletFromEip1193,
} from "../../../sdk/node.js";
import { connection, deployFixture, ethers, networkHelpers } from "../helpers/fixtures.js";

const PASSWORD = "correct horse battery staple";

async function expectCode(promise: Promise<unknown>, code: string): Promise<PiecepayError> {
  try {
    await promise;
  } catch (error) {
    expect((error as PiecepayError).code).to.equal(code);
    return error as PiecepayError;
  }
  return expect.fail(`expected ${code}`);
}

describe("keys and logs", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "piecepay-keys-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a keystore round-trips, is readable only by its owner, and a wrong password is a clear error", async function () {
    const wallet = Wallet.createRandom();
    const path = join(dir, "keys", "payer.json");
    await saveKeystore(path, wallet, PASSWORD);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const file = readFileSync(path, "utf8");
    expect(file.toLowerCase()).to.not.include(wallet.privateKey.slice(2).toLowerCase());
    expect((await loadKeystore(path, PASSWORD)).address).to.equal(wallet.address);
    const wrong = await expectCode(loadKeystore(path, "not the password"), "WRONG_PASSWORD");
    expect(wrong.message).to.not.include("not the password");
    await expectCode(loadKeystore(join(dir, "missing.json"), PASSWORD), "KEYSTORE_NOT_FOUND");
    writeFileSync(join(dir, "junk.json"), "{}");
    await expectCode(loadKeystore(join(dir, "junk.json"), PASSWORD), "KEYSTORE_INVALID");
    await expectCode(saveKeystore(join(dir, "weak.json"), wallet, "short"), "WEAK_PASSWORD");
    // An existing keystore is never overwritten.
    let overwrote = true;
    await saveKeystore(path, Wallet.createRandom(), PASSWORD).catch(() => {
      overwrote = false;
    });
    expect(overwrote).to.equal(false);
    expect((await loadKeystore(path, PASSWORD)).address).to.equal(wallet.address);
  });

  it("a full channel life at the most verbose log level shows no key, mnemonic or password", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const payerWallet = Wallet.createRandom();
    const payeeWallet = Wallet.createRandom();
    for (const w of [payerWallet, payeeWallet]) {
      await (await f.deployer.sendTransaction({ to: w.address, value: parseEther("10") })).wait();
      await saveKeystore(join(dir, `${w.address}.json`), w, PASSWORD);
    }
    const lines: string[] = [];
    const log = (event: string, fields: Record<string, unknown>) =>
      lines.push(JSON.stringify({ event, ...fields }, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
    const clientFor = async (w: Wallet | typeof payerWallet) =>
      PiecepayClient.create({
        signer: await loadKeystore(join(dir, `${w.address}.json`), PASSWORD, ethers.provider),
        chainId: f.chainId,
        adjudicator: f.adjudicatorAddress,
        voucherApp: f.appAddress,
        store: new SqliteChannelStore(join(dir, `${w.address}.db`)),
        pollingIntervalMs: 20,
        blockTimeSeconds: 1,
        safetyMarginSeconds: 5,
        log,
      });
    const payer = await clientFor(payerWallet);
    const payee = await clientFor(payeeWallet);
    const watcher = new ChannelWatcher(payee, { log });

    const closed = await payer.open({ payee: payee.address, deposit: parseEther("1") }, (p) => payee.join(p));
    await payee.waitForFunding(closed.id);
    await payee.receive(await payer.pay(closed.id, 5n));
    await payee.close(await payer.offerClose(closed.id));

    const disputed = await payer.open({ payee: payee.address, deposit: parseEther("1") }, (p) => payee.join(p));
    await payee.waitForFunding(disputed.id);
    await payee.receive(await payer.pay(disputed.id, 7n));
    await payer.challenge(disputed.id);
    await watcher.scanOnce();
    await payee.redeem(disputed.id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });

    const output = lines.join("\n").toLowerCase();
    expect(lines.length).to.be.greaterThan(10);
    for (const w of [payerWallet, payeeWallet]) {
      expect(output).to.not.include(w.privateKey.slice(2).toLowerCase());
      expect(output).to.not.include(w.mnemonic?.phrase.split(" ").slice(0, 4).join(" ") ?? "no mnemonic");
    }
    expect(output).to.not.include(PASSWORD);
  });

  it("session keys never show: a life with wallets apart (open, pay, close, dispute, watcher, payout) logs neither key, and the key object prints no key", async function () {
    const f = await networkHelpers.loadFixture(deployFixture);
    const lines: string[] = [];
    const log = (event: string, fields: Record<string, unknown>) =>
      lines.push(JSON.stringify({ event, ...fields }, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
    const side = async (name: string, account: string) => {
      const store = new SqliteChannelStore(join(dir, `${name}.db`));
      const key = await sessionKey(store);
      const wallet = await walletFromEip1193(connection.provider, { account, cacheTimeout: -1 });
      const client = await PiecepayClient.create({
        signer: key,
        wallet,
        chainId: f.chainId,
        adjudicator: f.adjudicatorAddress,
        voucherApp: f.appAddress,
        store,
        pollingIntervalMs: 20,
        blockTimeSeconds: 1,
        safetyMarginSeconds: 5,
        log,
      });
      return { client, key, store };
    };
    const payer = await side("payer", f.alice.address);
    const payee = await side("payee", f.bob.address);
    const watcher = new ChannelWatcher(payee.client, { log });
    const open = () =>
      payer.client.open({ payee: payee.key.address, payeeDestination: f.bob.address, deposit: parseEther("1") }, (p) =>
        payee.client.join(p),
      );

    const closed = await open();
    await payee.client.waitForFunding(closed.id);
    await payee.client.receive(await payer.client.pay(closed.id, 5n));
    await payee.client.close(await payer.client.offerClose(closed.id));
    const disputed = await open();
    await payee.client.waitForFunding(disputed.id);
    await payee.client.receive(await payer.client.pay(disputed.id, 7n));
    await payer.client.challenge(disputed.id);
    await watcher.scanOnce();
    await payee.client.redeem(disputed.id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });

    const output = lines.join("\n").toLowerCase();
    expect(lines.length).to.be.greaterThan(10);
    for (const { key, client } of [payer, payee]) {
      const secret = key.privateKey.slice(2).toLowerCase();
      expect(output).to.not.include(secret);
      expect(inspect(key, { depth: 5 }).toLowerCase()).to.not.include(secret);
      expect(JSON.stringify(key).toLowerCase()).to.not.include(secret);
      expect(inspect(client, { depth: 3 }).toLowerCase()).to.not.include(secret);
    }
    for (const { store } of [payer, payee]) await store.close();
  });
});
