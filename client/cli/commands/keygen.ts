// `piecepay keygen`: a new account in an encrypted JSON keystore. Prints the address only.
import { existsSync } from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import { saveKeystore } from "../../../sdk/node.js";
import { CliError, type Command, UsageError } from "../command.js";
import { readPassword } from "../password.js";

export const keygen: Command = {
  name: "keygen",
  summary: "create an account in an encrypted keystore and print its address",
  usage: "keygen --keystore PATH",
  description: [
    "Creates a random account and writes it to PATH as an encrypted JSON keystore (scrypt + AES, the format geth",
    "and ethers read; readable only by its owner). The password comes from PIECEPAY_PASSWORD, else it is asked",
    "twice on the terminal; at least 8 characters. Prints the address only: the key never leaves the file in the",
    "clear. Never overwrites a file. Fund the address before using it as a payer.",
  ].join("\n"),
  options: {},
  optionHelp: [],
  examples: [
    "piecepay keygen --keystore ~/.piecepay/key.json",
    "PIECEPAY_PASSWORD=... piecepay keygen --keystore key.json --json",
  ],

  async run({ globals, out }) {
    if (globals.keystore === undefined) {
      throw new UsageError("keygen needs --keystore PATH: where to write the new keystore");
    }
    if (globals.key !== undefined) throw new UsageError("keygen creates a key: --key does not apply");
    const file = path.resolve(globals.keystore);
    if (existsSync(file)) {
      throw new CliError(`${file} already exists`, "keygen never overwrites a keystore: choose another path");
    }
    const password = await readPassword(`password for the new keystore ${globals.keystore}`, { confirm: true });
    const wallet = Wallet.createRandom();
    await saveKeystore(file, wallet, password);
    out.result({ address: wallet.address, keystore: file }, wallet.address);
    out.note(`keystore written to ${file}`);
  },
};
