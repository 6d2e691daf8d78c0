// What the page learns from the server that serves it (`piecepay web` writes it at ./piecepay.json): the chain, the
// contracts, the trackers, and whether the chain is a local development one, whose faucet funds a development key
// of the page's own, so that the demo needs no wallet extension.

/** An ERC-20 token the chain has, offered as a price's asset. */
export interface TokenInfo {
  address: string;
  symbol: string;
  decimals: number;
}

export interface AppConfig {
  /** Decimal chain id. */
  chainId: string;
  chainName: string;
  /** The chain's JSON-RPC URL as a wallet reaches it (for `wallet_addEthereumChain`). */
  rpcUrl: string;
  /** The same chain through the page's server (same origin): what the development account reads and sends through. */
  rpcPath: string;
  adjudicator: string;
  voucherApp: string;
  /** WebSocket trackers the page announces to. */
  trackers: string[];
  /** ICE servers for WebRTC (none on one machine or a LAN). */
  iceServers: RTCIceServer[];
  tokens: TokenInfo[];
  /** Blocks a deposit needs before a seeder serves more than a few pieces (the SDK's default when absent). */
  confirmations?: number;
  /** A local development chain: the server's ./faucet sends test ETH to the page's development key. */
  devChain: boolean;
}

/** Reads ./piecepay.json next to the page; a clear error when the server did not provide it. */
export async function loadConfig(base: string = document.baseURI): Promise<AppConfig> {
  const url = new URL("piecepay.json", base);
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    throw new Error(`cannot reach ${url.origin}: is \`piecepay web\` still running?`);
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}: serve the app with \`piecepay web\``);
  const config = (await response.json()) as AppConfig;
  for (const key of ["chainId", "adjudicator", "voucherApp", "rpcPath"] as const) {
    if (typeof config[key] !== "string") throw new Error(`${url} has no ${key}`);
  }
  return config;
}
