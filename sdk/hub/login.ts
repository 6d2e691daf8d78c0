// Logging in to a hub: the hub hands out a fresh nonce per connection and the user signs a text naming the hub, the
// chain and the nonce (EIP-191), so that a login can be replayed neither on another connection, nor to another hub,
// nor on another chain. The connection then acts for that address: the hub only shows and changes its ledgers.
import { type Signer, verifyMessage } from "ethers";
import { checksumAddress as getAddress } from "../address.js";

/**
 * The text a user signs to log in to `hub` on `chainId` with `nonce`.
 * @example const text = loginText(hubAddress, 31337n, nonce)
 */
export function loginText(hub: string, chainId: bigint, nonce: string): string {
  return `piecepay hub login\nhub: ${getAddress(hub)}\nchain: ${chainId}\nnonce: ${nonce}`;
}

/**
 * Signs the login text with the user's key.
 * @example const signature = await signLogin(signer, hubAddress, chainId, nonce)
 */
export function signLogin(signer: Signer, hub: string, chainId: bigint, nonce: string): Promise<string> {
  return signer.signMessage(loginText(hub, chainId, nonce));
}

/**
 * Who signed a login text: the address, or undefined for a signature that recovers to nobody.
 * @example if (loginSigner(hub, chainId, nonce, signature) !== claimed) refuse()
 */
export function loginSigner(hub: string, chainId: bigint, nonce: string, signature: string): string | undefined {
  try {
    return verifyMessage(loginText(hub, chainId, nonce), signature);
  } catch {
    return undefined;
  }
}
