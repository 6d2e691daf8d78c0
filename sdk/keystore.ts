import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type HDNodeWallet, type Provider, Wallet } from "ethers";
import { PiecepayError } from "./errors.js";

/**
 * Writes `wallet` to `path` as an encrypted JSON keystore (the Web3 Secret Storage format that geth and ethers read:
 * scrypt + AES-128-CTR), readable only by the owner. The key never touches the disk in the clear.
 * @example await saveKeystore(".piecepay/key.json", Wallet.createRandom(), password)
 */
export async function saveKeystore(path: string, wallet: Wallet | HDNodeWallet, password: string): Promise<void> {
  if (password.length < 8) throw new PiecepayError("WEAK_PASSWORD", "a keystore password needs at least 8 characters");
  const json = await wallet.encrypt(password);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, json, { mode: 0o600, flag: "wx" });
}

/**
 * Reads an encrypted JSON keystore and returns its wallet, connected to `provider` if given.
 * @throws PiecepayError KEYSTORE_NOT_FOUND, KEYSTORE_INVALID or WRONG_PASSWORD
 * @example const signer = await loadKeystore(".piecepay/key.json", password, provider)
 */
export async function loadKeystore(path: string, password: string, provider?: Provider): Promise<Wallet> {
  let json: string;
  try {
    json = readFileSync(path, "utf8");
  } catch (error) {
    throw new PiecepayError("KEYSTORE_NOT_FOUND", `no keystore at ${path}`, { cause: error });
  }
  let wallet: Wallet | HDNodeWallet;
  try {
    wallet = await Wallet.fromEncryptedJson(json, password);
  } catch (error) {
    const wrong = String((error as Error).message).includes("incorrect password");
    throw wrong
      ? new PiecepayError("WRONG_PASSWORD", `the password does not open the keystore ${path}`)
      : new PiecepayError("KEYSTORE_INVALID", `${path} is not an encrypted JSON keystore`, { cause: error });
  }
  return new Wallet(wallet.privateKey, provider);
}
