// A seeded generator of random test inputs, so that a failing parity case can be replayed from its seed.
import { getAddress, hexlify } from "ethers";
import type { Allocation, FixedPart, Outcome, VariablePart } from "../../../sdk/index.js";

export class Random {
  private state: bigint;

  constructor(seed: number) {
    this.state = BigInt(seed) | 1n;
  }

  /** 64 random bits (xorshift64*). */
  next64(): bigint {
    const mask = (1n << 64n) - 1n;
    let x = this.state;
    x ^= x >> 12n;
    x ^= (x << 25n) & mask;
    x ^= x >> 27n;
    this.state = x;
    return (x * 0x2545f4914f6cdd1dn) & mask;
  }

  /** A random integer of `bits` bits; small values and the maximum are drawn more often than uniform. */
  uint(bits: number): bigint {
    const max = (1n << BigInt(bits)) - 1n;
    const pick = this.int(8);
    if (pick === 0) return 0n;
    if (pick === 1) return max;
    if (pick === 2) return this.next64() % 1000n;
    let value = 0n;
    for (let i = 0; i < bits; i += 64) value = (value << 64n) | this.next64();
    return value & max;
  }

  int(below: number): number {
    return Number(this.next64() % BigInt(below));
  }

  bytes(length: number): string {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Number(this.next64() & 0xffn);
    return hexlify(out);
  }

  address(): string {
    return getAddress(this.bytes(20));
  }

  bool(): boolean {
    return (this.next64() & 1n) === 1n;
  }

  fixedPart(): FixedPart {
    return {
      participants: Array.from({ length: this.int(5) }, () => this.address()),
      channelNonce: this.uint(64),
      appDefinition: this.address(),
      challengeDuration: this.uint(48),
    };
  }

  allocation(): Allocation {
    const destination = this.bool() ? this.bytes(32) : `0x${"00".repeat(12)}${this.bytes(20).slice(2)}`;
    return { destination, amount: this.uint(256) };
  }

  outcome(): Outcome {
    return Array.from({ length: this.int(4) }, () => ({
      asset: this.address(),
      allocations: Array.from({ length: this.int(5) }, () => this.allocation()),
    }));
  }

  variablePart(): VariablePart {
    return {
      outcome: this.outcome(),
      appData: this.bytes(this.int(4) === 0 ? 97 : this.int(200)),
      turnNum: this.uint(48),
      isFinal: this.bool(),
    };
  }
}
