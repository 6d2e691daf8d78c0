// Node only: installs libsecp256k1 (the `secp256k1` package's prebuilt N-API binary) as the signature backend of
// recover.ts, on import. Where the binary cannot load (an exotic platform, a missing prebuild), @noble/curves stays:
// slower, same answers.
import { createRequire } from "node:module";
import { installNativeRecover } from "./recover.js";

interface Binding {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
}

function loadBinding(): Binding | undefined {
  try {
    return createRequire(import.meta.url)("secp256k1/bindings") as Binding;
  } catch {
    return undefined;
  }
}

const binding = loadBinding();
if (binding) installNativeRecover((sig, recid, digest) => binding.ecdsaRecover(sig, recid, digest, false));
