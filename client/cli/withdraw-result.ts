// What `piecepay withdraw` prints for one channel, apart from the command so that client/cli/ledger-withdraw.ts
// (which withdraw.ts imports) can build it too.

/** What `withdraw` did for one channel (one --json line). */
export interface WithdrawResult {
  id: string;
  /** A ledger channel with a hub, or a virtual channel through one; absent for a direct channel. */
  kind?: "ledger" | "virtual";
  /** Our role: payer or payee (direct and virtual channels), user (a ledger with a hub). */
  role: "payer" | "payee" | "user";
  /**
   * paid-out, answered (a challenge), waiting (a challenge runs), open, nothing (already paid out), covered (a
   * virtual channel: its ledger's exit pays it), failed.
   */
  action: "paid-out" | "answered" | "waiting" | "open" | "nothing" | "covered" | "failed";
  asset: string;
  /** With paid-out: what the payout sent us, and the counterparty (the hub, for a ledger). */
  paidToUs?: bigint;
  paidToPeer?: bigint;
  /** A ledger's paid-out: closed with the hub (one transaction) or exited on chain (with how many transactions). */
  via?: "hub" | "exit";
  transactions?: number;
  /** A virtual channel's ledger of ours, whose exit covers it. */
  ledger?: string;
  /** With waiting: when the challenge finalizes (unix seconds). */
  finalizesAt?: bigint;
  error?: string;
}
