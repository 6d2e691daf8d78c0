// Errors as a person reads them: what happened and what to do, never a stack trace. The SDK's errors carry a code
// (PiecepayError); the rest (a wallet's JSON-RPC error, a fetch that failed) are recognised by their shape.
import { isError } from "ethers";
import { PiecepayError, rejectionError } from "../../../sdk/index.js";

/** An error the page made itself, already worded for a person. */
export class AppError extends Error {
  override readonly name = "AppError";
}

/** A sentence for `error`, for the page's error banner. */
export function explain(error: unknown, context = ""): string {
  const prefix = context === "" ? "" : `${context}: `;
  if (error instanceof AppError) return prefix + error.message;
  const rejected = rejectionError(error, "the request");
  if (rejected !== undefined) return `${prefix}you rejected the request in your wallet; nothing was sent.`;
  if (error instanceof PiecepayError) {
    switch (error.code) {
      case "INSUFFICIENT_FUNDS":
        return `${prefix}your wallet has too little for the deposit plus gas. ${error.shortMessage}`;
      case "WRONG_CHAIN":
        return `${prefix}your wallet is on another chain: switch it to the app's chain and try again.`;
      case "RPC_UNAVAILABLE":
        return `${prefix}the chain does not answer (${error.shortMessage}); your channels are kept and resume when it is back.`;
      default:
        return prefix + error.shortMessage;
    }
  }
  if (isError(error, "INSUFFICIENT_FUNDS")) return `${prefix}your wallet has too little ETH for the deposit plus gas.`;
  if (isError(error, "NETWORK_ERROR") || isError(error, "SERVER_ERROR") || isError(error, "TIMEOUT")) {
    return `${prefix}the chain does not answer; your channels are kept and resume when it is back.`;
  }
  if (error instanceof TypeError && /fetch/i.test(error.message)) {
    return `${prefix}the chain does not answer (the page's server is unreachable).`;
  }
  const message = (error as { shortMessage?: string; message?: string })?.shortMessage ?? String(error);
  return prefix + message.replace(/\n[\s\S]*$/, "");
}
