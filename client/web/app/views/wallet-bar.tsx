// The wallet: connect the injected one (the page asks it to switch chain when it is on another), or on a local
// development chain the development account, labelled as test money. Shows the address and its balance.
import { useEffect, useState } from "preact/hooks";
import type { AppConfig } from "../config.js";
import { formatAmount, shortHex } from "../format.js";
import { type Connection, hasInjectedWallet, type WalletKind } from "../wallet.js";

export function WalletBar(props: {
  config: AppConfig;
  connection: Connection | undefined;
  connecting: boolean;
  onConnect: (kind: WalletKind) => void;
}) {
  const { config, connection } = props;
  const [balance, setBalance] = useState<bigint | undefined>(undefined);
  useEffect(() => {
    if (connection === undefined) return;
    let stopped = false;
    const read = async () => {
      try {
        const provider = connection.client.context.wallet.provider;
        const value = await provider?.getBalance(connection.address);
        if (!stopped && value !== undefined) setBalance(value);
      } catch {
        // The chain is unreachable: the banner of the action that needs it says so.
      }
    };
    void read();
    const timer = setInterval(read, 4000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [connection]);

  if (connection !== undefined) {
    return (
      <div class="wallet" data-testid="wallet">
        <span class={connection.kind === "dev" ? "badge test-money" : "badge"}>
          {connection.kind === "dev" ? "development account · test money" : "wallet"}
        </span>
        <code title={connection.address}>{shortHex(connection.address)}</code>
        <span data-testid="balance">{balance === undefined ? "…" : formatAmount(balance, ZERO, [], 4)}</span>
        <span class="muted">
          {config.chainName} ({config.chainId})
        </span>
      </div>
    );
  }
  return (
    <div class="wallet">
      <button
        type="button"
        disabled={props.connecting}
        onClick={() => props.onConnect("injected")}
        data-testid="connect-wallet"
      >
        {hasInjectedWallet() ? "Connect wallet" : "Connect wallet (none found)"}
      </button>
      {config.devChain && (
        <button
          type="button"
          disabled={props.connecting}
          onClick={() => props.onConnect("dev")}
          data-testid="connect-dev"
          class="secondary"
        >
          Use the development account (test money)
        </button>
      )}
    </div>
  );
}

const ZERO = "0x0000000000000000000000000000000000000000";
