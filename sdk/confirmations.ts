// How deep a block must be before the client trusts what it says (a deposit, a close, a payout). A re-org can take a
// deposit off the chain after the payee saw it: the payee must not count it as final before it is this deep.

/**
 * Chain ids of local development nodes (Hardhat, anvil, ganache, geth --dev): nobody else mines there.
 * @example LOCAL_DEV_CHAINS.has(31337n) // true
 */
export const LOCAL_DEV_CHAINS: ReadonlySet<bigint> = new Set([31337n, 1337n]);

/**
 * Public test networks (Sepolia, Holesky, Hoodi): proof-of-stake like mainnet, with fewer validators.
 * @example TESTNETS.has(11155111n) // true
 */
export const TESTNETS: ReadonlySet<bigint> = new Set([11155111n, 17000n, 560048n]);

/**
 * The confirmations a client waits for by default on `chainId`:
 * - 1 on a local development chain (31337, 1337): one node mines every block, nothing re-orgs it.
 * - 5 on a public testnet (Sepolia 11155111, Holesky 17000, Hoodi 560048): re-orgs of 1-2 blocks happen there when
 *   proposers miss slots; 5 blocks (one minute at 12 s) covers them with room, and a testnet's ETH is worth
 *   little, so waiting for full finality (2 epochs, about 13 minutes) is not worth the delay.
 * - 12 on mainnet and any other chain: since the merge, re-orgs deeper than 2 blocks have not been seen on mainnet;
 *   12 blocks (2.4 minutes) is the depth exchanges have long used, and a chain we do not know gets the careful value.
 * A payee serves a deposit that has fewer confirmations only up to a bound (`PaidSeederOptions.unconfirmedPieces`).
 * @example defaultConfirmations(11155111n) // 5
 */
export function defaultConfirmations(chainId: bigint): number {
  if (LOCAL_DEV_CHAINS.has(chainId)) return 1;
  if (TESTNETS.has(chainId)) return 5;
  return 12;
}
