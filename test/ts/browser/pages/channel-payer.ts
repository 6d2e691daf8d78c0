// The page script of browser/channel-life.test.ts: a web app's payer. It bundles the SDK's universal entry point and
// keeps its channels and its session key in IndexedDB: the injected wallet (ethers' BrowserProvider over
// `window.ethereum`) sends the transactions and is paid, the session key signs the states and vouchers, so no
// voucher asks the wallet anything. The test drives it through `window.payer`; values cross as the SDK's JSON
// (bigints kept). The payee runs in Node and answers a proposal through `window.askPayee`, which the test exposes,
// as a web app would reach its peer over the wire.
import {
  type ChannelAcceptance,
  type CloseOffer,
  fromJson,
  type PiecepayClient,
  toJson,
} from "../../../../sdk/index.js";
import { walletClient } from "./wallet-client.js";

declare global {
  interface Window {
    ethereum: import("ethers").Eip1193Provider;
    payer: typeof api;
    askPayee(proposal: string): Promise<string>;
  }
}

/** What the app is configured with: the chain and the contracts, nothing about any channel. */
export interface PayerSettings {
  chainId: string;
  adjudicator: string;
  voucherApp: string;
}

const DATABASE = "piecepay-payer";

/** The one place that decides who the payer is: the wallet funds and is paid, the store's session key signs. */
function createPayer(settings: PayerSettings): Promise<PiecepayClient> {
  return walletClient(settings, DATABASE);
}

let client: PiecepayClient | undefined;

function payer(): PiecepayClient {
  if (client === undefined) throw new Error("the page's payer is not started: call window.payer.start first");
  return client;
}

const api = {
  /** Creates the payer (after every load of the page); resolves with its wallet's and its session key's addresses. */
  async start(settings: PayerSettings): Promise<{ wallet: string; sessionKey: string }> {
    client = await createPayer(settings);
    return { wallet: client.walletAddress, sessionKey: client.address };
  },

  /** Every channel the page's store holds. */
  async channels(): Promise<string> {
    return toJson(await payer().store.listChannels());
  },

  /** Proposes a channel to `payee`, has it joined in Node, and deposits through the wallet. */
  async open(payee: string, deposit: string, challengeDuration: string): Promise<string> {
    const record = await payer().open(
      { payee, deposit: BigInt(deposit), challengeDuration: BigInt(challengeDuration) },
      async (proposal) => fromJson(await window.askPayee(toJson(proposal))) as ChannelAcceptance,
    );
    return toJson({ id: record.id, deposited: record.deposited, txHash: record.funding?.txHash });
  },

  /** Signs the next voucher: `amount` more than the last one. */
  async pay(id: string, amount: string): Promise<string> {
    return toJson(await payer().pay(id, BigInt(amount)));
  },

  async paid(id: string): Promise<string> {
    return (await payer().paid(id)).toString();
  },

  /** Closes with the payee's offer; resolves with the transaction's hash. */
  async close(offer: string): Promise<string> {
    return (await payer().close(fromJson(offer) as CloseOffer)).hash;
  },

  async challenge(id: string): Promise<string> {
    return (await payer().challenge(id)).hash;
  },

  /** Pays out a finalized channel; resolves with the hash, or rejects with the SDK's error. */
  async payout(id: string): Promise<string> {
    return (await payer().payout(id)).hash;
  },

  /** The code of the SDK error that `payout` rejects with now, or "none". */
  async payoutRefusal(id: string): Promise<string> {
    return payer()
      .payout(id)
      .then(
        () => "none",
        (error: { code?: string }) => error.code ?? String(error),
      );
  },
};

window.payer = api;
