// Every channel of the page's store: peer, deposit, paid or earned, phase, the chain's view (holdings, a standing
// challenge and its countdown, payouts), with the buttons that apply: close on chain (an open channel whose peer is
// gone) and withdraw (a finalized one), and the switch that lets the page withdraw finalized channels by itself.
import { useEffect, useState } from "preact/hooks";
import type { PiecepayClient } from "../../../../sdk/index.js";
import { type ChannelView, closeOnChain, listChannels, withdraw } from "../channels.js";
import type { TokenInfo } from "../config.js";
import { formatAmount, formatDuration, shortHex } from "../format.js";

export function ChannelsPanel(props: {
  client: PiecepayClient;
  tokens: TokenInfo[];
  onError: (e: unknown) => void;
  autoWithdraw: boolean;
  onAutoWithdraw: (on: boolean) => void;
}) {
  const [rows, setRows] = useState<ChannelView[] | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());

  const refresh = async () => {
    try {
      setRows(await listChannels(props.client));
    } catch (error) {
      props.onError(error);
    }
  };
  useEffect(() => {
    void refresh();
    const timer = setInterval(refresh, 3000);
    const clock = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      clearInterval(timer);
      clearInterval(clock);
    };
  }, [props.client]);

  const act = async (id: string, action: (client: PiecepayClient, id: string) => Promise<void>) => {
    setBusy(id);
    try {
      await action(props.client, id);
    } catch (error) {
      props.onError(error);
    } finally {
      setBusy(undefined);
      await refresh();
    }
  };

  if (rows === undefined) return <section class="panel">Reading the channels…</section>;
  return (
    <section class="panel">
      <h2>Channels</h2>
      <label class="muted">
        <input
          type="checkbox"
          checked={props.autoWithdraw}
          onChange={(e) => props.onAutoWithdraw((e.target as HTMLInputElement).checked)}
          data-testid="auto-withdraw"
        />{" "}
        Withdraw finalized channels by themselves while this page is open (it pays the gas)
      </label>
      {rows.length === 0 && <p class="muted">No channel yet.</p>}
      <table class="channels" data-testid="channels">
        <tbody>
          {rows.map((c) => {
            const amount = (v: bigint) => formatAmount(v, c.asset, props.tokens);
            const left = c.onChain?.challenged ? Number(c.onChain.finalizesAt) * 1000 - now : 0;
            return (
              <tr key={c.id} data-testid="channel" data-id={c.id} data-phase={c.phase} data-role={c.role}>
                <td>
                  <code title={c.id}>{shortHex(c.id)}</code>
                  <div class="muted">{c.role === "payer" ? `to ${c.peer}` : `from ${c.peer}`}</div>
                </td>
                <td>
                  deposit {amount(c.deposited)}
                  <div>
                    {c.role === "payer" ? "paid" : "earned"} {amount(c.vouchers)}
                  </div>
                </td>
                <td>
                  <b>{c.phase}</b>
                  {c.onChain && <div class="muted">holds {amount(c.onChain.holdings)} on chain</div>}
                  {c.onChain?.challenged && (
                    <div class="challenge" data-testid="challenge">
                      challenge standing: final in {formatDuration(left)}; the page answers it while it is open
                    </div>
                  )}
                  {c.onChain && c.onChain.paidToUs + c.onChain.paidToPeer > 0n && (
                    <div data-testid="payout">
                      paid out: {amount(c.onChain.paidToUs)} to us, {amount(c.onChain.paidToPeer)} to the peer
                    </div>
                  )}
                  {c.error && <div class="error-text">{c.error}</div>}
                </td>
                <td>
                  {(c.phase === "open" || c.phase === "closing") && !c.onChain?.challenged && (
                    <button
                      type="button"
                      class="secondary"
                      disabled={busy === c.id}
                      onClick={() => act(c.id, closeOnChain)}
                      title="Registers our best state on chain; it finalizes after the channel's challenge duration"
                      data-testid="close"
                    >
                      Close on chain
                    </button>
                  )}
                  {c.onChain?.finalized && c.onChain.holdings > 0n && (
                    <button
                      type="button"
                      disabled={busy === c.id}
                      onClick={() => act(c.id, withdraw)}
                      data-testid="withdraw"
                    >
                      Withdraw
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
