// The page script of bench-sdk.ts: the voucher rates, bundled with the SDK's universal entry point for Chromium
// (where the signature backend is @noble/curves: a page has no native code).
import { signatureBackend } from "../../sdk/index.js";
import { signaturesPerSecond, verificationsPerSecond } from "./voucher-rates.js";

declare global {
  interface Window {
    sdkBench: typeof bench;
  }
}

const bench = { signatureBackend, signaturesPerSecond, verificationsPerSecond };
window.sdkBench = bench;
