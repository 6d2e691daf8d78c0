// The paid extension's codec: every message round-trips, its bytes sit where PROTOCOL.md says, and hostile bytes
// (wrong lengths, unknown types, other versions, invalid UTF-8, random and mutated input) only ever raise WireError.
import { expect } from "chai";
import { getAddress, hexlify } from "ethers";
import {
  decodeMessage,
  encodeMessage,
  MESSAGE_LENGTHS,
  MESSAGE_TYPE_IDS,
  NO_SIGNATURE,
  NOTICE_MAX_REASON_BYTES,
  truncateReason,
} from "../../../client/wire/codec.js";
import { WireError, type WireErrorCode } from "../../../client/wire/errors.js";
import { decodeHandshake, encodeHandshake, MAX_HANDSHAKE_BYTES } from "../../../client/wire/handshake.js";
import {
  MAX_MESSAGE_BYTES,
  type NoticeCode,
  type PaidHandshake,
  type PaidMessage,
  PROTOCOL_VERSION,
} from "../../../client/wire/messages.js";
import { PiecepayError } from "../../../sdk/index.js";
import { Random } from "../helpers/random.js";

// bencode (what bittorrent-protocol decodes the extended handshake with) ships no types.
const bencodeModule: string = "bencode";
const { default: bencode } = (await import(bencodeModule)) as {
  default: { encode(value: unknown): Uint8Array; decode(bytes: Uint8Array): Record<string, unknown> };
};

const TYPES = [
  "propose",
  "accept",
  "voucher",
  "receipt",
  "close",
  "notice",
  "resume",
  "resumed",
  "vpropose",
  "vaccept",
  "vready",
  "vclose",
  "vclosed",
] as const;
const NOTICE_CODES: NoticeCode[] = ["refused", "closed", "bye"];

function expectWireError(fn: () => unknown, code: WireErrorCode): WireError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(WireError);
    expect((error as WireError).code).to.equal(code);
    return error as WireError;
  }
  expect.fail(`expected WireError ${code}`);
}

function bytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) =>
    typeof p === "string" ? Uint8Array.from(Buffer.from(p.replace(/^0x/, ""), "hex")) : Uint8Array.from(p),
  );
  return Uint8Array.from(Buffer.concat(chunks));
}

function word(value: bigint, size: number): string {
  return value.toString(16).padStart(2 * size, "0");
}

/** A seeded reason of at most `maxBytes` UTF-8 bytes, mixing 1-, 2-, 3- and 4-byte characters. */
function randomReason(random: Random, maxBytes: number): string {
  const target = random.int(maxBytes + 1);
  let out = "";
  let length = 0;
  for (;;) {
    const kind = random.int(4);
    let cp: number;
    if (kind === 0) cp = random.int(0x80);
    else if (kind === 1) cp = 0x80 + random.int(0x800 - 0x80);
    else if (kind === 2) {
      cp = 0x800 + random.int(0x10000 - 0x800);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfeff; // no surrogates; the BOM must survive too
    } else cp = 0x10000 + random.int(0x110000 - 0x10000);
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (length + size > target) return out;
    out += String.fromCodePoint(cp);
    length += size;
  }
}

function randomMessage(random: Random, type: PaidMessage["type"]): PaidMessage {
  switch (type) {
    case "propose":
      return {
        type,
        chainId: random.uint(256),
        adjudicator: random.address(),
        fixedPart: {
          participants: [random.address(), random.address()],
          channelNonce: random.uint(64),
          appDefinition: random.address(),
          challengeDuration: random.uint(48),
        },
        asset: random.address(),
        deposit: random.uint(256),
        payerDestination: random.address(),
        payeeDestination: random.address(),
        payerSignature: random.bytes(65),
      };
    case "accept":
      return { type, channelId: random.bytes(32), payeeSignature: random.bytes(65) };
    case "voucher":
      return { type, voucher: { channelId: random.bytes(32), amount: random.uint(256), signature: random.bytes(65) } };
    case "receipt":
      return { type, channelId: random.bytes(32), amount: random.uint(256) };
    case "close": {
      const base = { type, channelId: random.bytes(32), turnNum: random.uint(48), paid: random.uint(256) };
      return random.bool()
        ? { ...base, voucher: { amount: random.uint(256), signature: random.bytes(65) }, signature: random.bytes(65) }
        : { ...base, signature: random.bytes(65) };
    }
    case "notice":
      return { type, code: NOTICE_CODES[random.int(3)], reason: randomReason(random, NOTICE_MAX_REASON_BYTES) };
    case "resume": {
      const channelId = random.bytes(32);
      return random.bool()
        ? { type, voucher: { channelId, amount: 1n + random.uint(255), signature: random.bytes(65) } }
        : { type, voucher: { channelId, amount: 0n, signature: NO_SIGNATURE } };
    }
    case "resumed":
      return { type, channelId: random.bytes(32), amount: random.uint(256), served: random.uint(64) };
    case "vpropose":
      return {
        type,
        fixedPart: {
          participants: [random.address(), random.address(), random.address()],
          channelNonce: random.uint(64),
          appDefinition: random.address(),
          challengeDuration: random.uint(48),
        },
        asset: random.address(),
        amount: random.uint(256),
        payerLedger: random.bytes(32),
        payeeLedger: random.bytes(32),
        payerSignature: random.bytes(65),
        hubSignature: random.bytes(65),
      };
    case "vaccept":
    case "vclosed":
      return { type, channelId: random.bytes(32), payeeSignature: random.bytes(65) };
    case "vready":
      return { type, channelId: random.bytes(32) };
    case "vclose":
      return { type, channelId: random.bytes(32), paid: random.uint(256), signature: random.bytes(65) };
  }
}

/** mulberry32: a fast seeded generator for the fuzz loops (the bigint one in helpers is too slow for 10^7 bytes). */
function fastRandom(seed: number): (below: number) => number {
  let a = seed >>> 0;
  return (below) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below) | 0;
  };
}

const payer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const payee = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const adjudicator = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const app = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const asset = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const id = `0x${"ab".repeat(32)}`;
const sigA = `0x${"11".repeat(64)}1b`;
const sigB = `0x${"22".repeat(64)}1c`;

const vectors: { name: string; message: PaidMessage; expected: Uint8Array }[] = [
  {
    name: "propose",
    message: {
      type: "propose",
      chainId: 31337n,
      adjudicator,
      fixedPart: {
        participants: [payer, payee],
        channelNonce: 0x0102030405060708n,
        appDefinition: app,
        challengeDuration: 3600n,
      },
      asset,
      deposit: 10n ** 18n,
      payerDestination: app,
      payeeDestination: adjudicator,
      payerSignature: sigA,
    },
    expected: bytes(
      [2, 1], //                            0: version, type
      word(31337n, 32), //                  2: chainId
      adjudicator, //                      34: adjudicator
      payer, //                            54: participants[0]
      payee, //                            74: participants[1]
      "0102030405060708", //               94: channelNonce
      app, //                             102: appDefinition
      "000000000e10", //                  122: challengeDuration
      asset, //                           128: asset
      word(10n ** 18n, 32), //            148: deposit
      app, //                             180: payerDestination
      adjudicator, //                     200: payeeDestination
      sigA, //                            220: payerSignature .. 285
    ),
  },
  {
    name: "accept",
    message: { type: "accept", channelId: id, payeeSignature: sigB },
    expected: bytes([2, 2], id, sigB),
  },
  {
    name: "voucher",
    message: { type: "voucher", voucher: { channelId: id, amount: 0x0102n, signature: sigA } },
    expected: bytes([2, 3], id, `${"00".repeat(30)}0102`, sigA),
  },
  {
    name: "receipt",
    message: { type: "receipt", channelId: id, amount: 2n ** 256n - 1n },
    expected: bytes([2, 4], id, "ff".repeat(32)),
  },
  {
    name: "close with a voucher",
    message: {
      type: "close",
      channelId: id,
      turnNum: 5n,
      paid: 7n,
      voucher: { amount: 9n, signature: sigA },
      signature: sigB,
    },
    expected: bytes([2, 5], id, "000000000005", word(7n, 32), [1], word(9n, 32), sigA, sigB),
  },
  {
    name: "close without a voucher",
    message: { type: "close", channelId: id, turnNum: 2n ** 48n - 1n, paid: 0n, signature: sigB },
    expected: bytes([2, 5], id, "ffffffffffff", word(0n, 32), [0], "00".repeat(32 + 65), sigB),
  },
  {
    name: "notice",
    message: { type: "notice", code: "closed", reason: "né" },
    expected: bytes([2, 6, 2, 3], [0x6e, 0xc3, 0xa9]),
  },
  {
    name: "vpropose",
    message: {
      type: "vpropose",
      fixedPart: {
        participants: [payer, adjudicator, payee],
        channelNonce: 0x000a000000000007n,
        appDefinition: app,
        challengeDuration: 3600n,
      },
      asset,
      amount: 10n ** 15n,
      payerLedger: id,
      payeeLedger: `0x${"cd".repeat(32)}`,
      payerSignature: sigA,
      hubSignature: sigB,
    },
    expected: bytes(
      [2, 9], //                            0: version, type
      payer, //                             2: payer
      adjudicator, //                       22: hub
      payee, //                             42: payee
      "000a000000000007", //                62: channelNonce, fee 10 bps in the top 16 bits
      app, //                               70: appDefinition
      word(3600n, 6), //                    90: challengeDuration
      asset, //                             96: asset
      word(10n ** 15n, 32), //              116: amount
      id, //                                148: payerLedger
      "cd".repeat(32), //                   180: payeeLedger
      sigA, //                              212: payerSignature
      sigB, //                              277: hubSignature
    ),
  },
  {
    name: "vaccept",
    message: { type: "vaccept", channelId: id, payeeSignature: sigB },
    expected: bytes([2, 10], id, sigB),
  },
  { name: "vready", message: { type: "vready", channelId: id }, expected: bytes([2, 11], id) },
  {
    name: "vclose",
    message: { type: "vclose", channelId: id, paid: 258n, signature: sigA },
    expected: bytes([2, 12], id, word(258n, 32), sigA),
  },
  {
    name: "vclosed",
    message: { type: "vclosed", channelId: id, payeeSignature: sigB },
    expected: bytes([2, 13], id, sigB),
  },
  {
    name: "notice with an empty reason",
    message: { type: "notice", code: "bye", reason: "" },
    expected: bytes([2, 6, 3, 0]),
  },
];

describe("client/wire/codec", function () {
  describe("encodeMessage and decodeMessage", function () {
    for (const type of TYPES) {
      it(`round-trips 1,000 random ${type} messages (seeded)`, function () {
        const random = new Random(0x5eed + MESSAGE_TYPE_IDS[type]);
        for (let i = 0; i < 1_000; i++) {
          const message = randomMessage(random, type);
          const encoded = encodeMessage(message);
          if (type !== "notice") expect(encoded.length).to.equal(MESSAGE_LENGTHS[type]);
          expect(encoded[0]).to.equal(PROTOCOL_VERSION);
          expect(encoded[1]).to.equal(MESSAGE_TYPE_IDS[type]);
          expect(decodeMessage(encoded)).to.deep.equal(message);
        }
      });
    }

    describe("when given the known vectors", function () {
      for (const { name, message, expected } of vectors) {
        it(`lays out ${name} byte by byte`, function () {
          expect(hexlify(encodeMessage(message))).to.equal(hexlify(expected));
          expect(decodeMessage(expected)).to.deep.equal(message);
          expect(decodeMessage(Buffer.from(expected))).to.deep.equal(message); // what bittorrent-protocol hands over
        });
      }

      it("has the lengths of PROTOCOL.md", function () {
        expect(MESSAGE_LENGTHS).to.deep.equal({
          propose: 285,
          accept: 99,
          voucher: 131,
          receipt: 66,
          close: 235,
          notice: 4,
          resume: 131,
          resumed: 74,
          vpropose: 342,
          vaccept: 99,
          vready: 34,
          vclose: 131,
          vclosed: 99,
        });
      });

      it("decodes addresses checksummed and ids and signatures in lowercase", function () {
        const upper = {
          type: "accept",
          channelId: id.toUpperCase().replace("0X", "0x"),
          payeeSignature: sigB.toUpperCase().replace("0X", "0x"),
        } as const;
        expect(decodeMessage(encodeMessage(upper))).to.deep.equal({
          type: "accept",
          channelId: id,
          payeeSignature: sigB,
        });
        const lower = {
          ...(vectors[0].message as Extract<PaidMessage, { type: "propose" }>),
          adjudicator: adjudicator.toLowerCase(),
        };
        const decoded = decodeMessage(encodeMessage(lower));
        expect(decoded.type === "propose" && decoded.adjudicator).to.equal(adjudicator);
      });
    });

    describe("when the length is wrong", function () {
      for (const { name, expected } of vectors) {
        it(`rejects ${name} one byte short and one byte long`, function () {
          expectWireError(() => decodeMessage(expected.subarray(0, expected.length - 1)), "MALFORMED");
          expectWireError(() => decodeMessage(bytes(expected, [0])), "MALFORMED");
        });
      }

      it("rejects fewer than two bytes and a notice without its length byte", function () {
        expectWireError(() => decodeMessage(new Uint8Array(0)), "MALFORMED");
        expectWireError(() => decodeMessage(bytes([1])), "MALFORMED");
        expectWireError(() => decodeMessage(bytes([2, 6])), "MALFORMED");
        expectWireError(() => decodeMessage(bytes([2, 6, 1])), "MALFORMED");
      });

      it(`rejects more than MAX_MESSAGE_BYTES (${MAX_MESSAGE_BYTES}) as TOO_LONG before reading it`, function () {
        expectWireError(() => decodeMessage(new Uint8Array(MAX_MESSAGE_BYTES + 1)), "TOO_LONG");
        expectWireError(() => decodeMessage(new Uint8Array(1 << 20).fill(1)), "TOO_LONG");
        expectWireError(() => decodeMessage(new Uint8Array(MAX_MESSAGE_BYTES)), "UNSUPPORTED_VERSION");
      });
    });

    describe("when the header is wrong", function () {
      it("rejects a resume with amount 0 and a signature, as MALFORMED both ways", function () {
        const channelId = `0x${"11".repeat(32)}`;
        const signature = `0x${"22".repeat(65)}`;
        expectWireError(
          () => encodeMessage({ type: "resume", voucher: { channelId, amount: 0n, signature } }),
          "MALFORMED",
        );
        expectWireError(() => decodeMessage(bytes([2, 7], channelId, word(0n, 32), signature)), "MALFORMED");
      });

      it("rejects every type id but 1..13 as UNKNOWN_TYPE", function () {
        for (const t of [0, 14, 15, 0x7f, 0x80, 0xff])
          expectWireError(() => decodeMessage(bytes([PROTOCOL_VERSION, t])), "UNKNOWN_TYPE");
      });

      it("rejects every version but ours as UNSUPPORTED_VERSION", function () {
        const receipt = vectors[3].expected;
        for (let v = 0; v < 256; v++) {
          if (v === PROTOCOL_VERSION) continue;
          const other = Uint8Array.from(receipt);
          other[0] = v;
          expectWireError(() => decodeMessage(other), "UNSUPPORTED_VERSION");
        }
      });

      it("rejects what is not a Uint8Array", function () {
        for (const value of [undefined, null, "0104", [1, 4], new Uint16Array(66), {}]) {
          expectWireError(() => decodeMessage(value as unknown as Uint8Array), "MALFORMED");
        }
      });
    });

    describe("when a field is invalid", function () {
      it("rejects a notice whose reason is not valid UTF-8", function () {
        const invalid = [[0xff], [0xc3], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x61, 0x80]];
        for (const reason of invalid) {
          expectWireError(() => decodeMessage(bytes([2, 6, 1, reason.length], reason)), "MALFORMED");
        }
      });

      it("rejects a notice with an unknown code or a reason over 200 bytes", function () {
        for (const code of [0, 4, 0xff]) expectWireError(() => decodeMessage(bytes([2, 6, code, 0])), "MALFORMED");
        expectWireError(() => decodeMessage(bytes([2, 6, 1, 201], new Uint8Array(201).fill(0x61))), "MALFORMED");
        expect(decodeMessage(bytes([2, 6, 1, 200], new Uint8Array(200).fill(0x61)))).to.deep.equal({
          type: "notice",
          code: "refused",
          reason: "a".repeat(200),
        });
      });

      it("keeps a leading byte order mark, so the reason re-encodes to the same bytes", function () {
        const encoded = bytes([2, 6, 3, 4], [0xef, 0xbb, 0xbf, 0x61]);
        const notice = decodeMessage(encoded);
        expect(notice).to.deep.equal({ type: "notice", code: "bye", reason: "\ufeffa" });
        expect(encodeMessage(notice)).to.deep.equal(encoded);
      });

      it("rejects a close whose voucher flag is not 0 or 1, or whose absent voucher is not zeros", function () {
        const close = vectors[5].expected; // without a voucher
        const flagAt = 2 + 32 + 6 + 32;
        for (const flag of [2, 0x80, 0xff]) {
          const bad = Uint8Array.from(close);
          bad[flagAt] = flag;
          expectWireError(() => decodeMessage(bad), "MALFORMED");
        }
        for (const at of [flagAt + 1, flagAt + 32, flagAt + 32 + 65]) {
          const bad = Uint8Array.from(close);
          bad[at] = 1;
          expectWireError(() => decodeMessage(bad), "MALFORMED");
        }
      });
    });

    describe("when encoding a value that does not fit", function () {
      const propose = vectors[0].message as Extract<PaidMessage, { type: "propose" }>;
      const fixedPart = propose.fixedPart;
      const cases: [string, unknown][] = [
        ["a chainId of 2^256", { ...propose, chainId: 2n ** 256n }],
        ["a negative chainId", { ...propose, chainId: -1n }],
        ["a chainId as a number", { ...propose, chainId: 1 }],
        ["a channelNonce of 2^64", { ...propose, fixedPart: { ...fixedPart, channelNonce: 2n ** 64n } }],
        ["a challengeDuration of 2^48", { ...propose, fixedPart: { ...fixedPart, challengeDuration: 2n ** 48n } }],
        ["three participants", { ...propose, fixedPart: { ...fixedPart, participants: [payer, payee, payer] } }],
        ["one participant", { ...propose, fixedPart: { ...fixedPart, participants: [payer] } }],
        ["no fixedPart", { ...propose, fixedPart: undefined }],
        ["an adjudicator of 19 bytes", { ...propose, adjudicator: adjudicator.slice(0, -2) }],
        ["an address with a bad checksum", { ...propose, asset: asset.replace("f", "F") }],
        ["an ICAP address", { ...propose, asset: "XE7338O073KYGTWWZN0F2WZ0R8PX5ZPPZS" }],
        ["a deposit of 2^256", { ...propose, deposit: 2n ** 256n }],
        ["a 64-byte signature", { ...propose, payerSignature: sigA.slice(0, -2) }],
        ["a signature without 0x", { ...propose, payerSignature: sigA.slice(2) }],
        ["a channel id of 31 bytes", { type: "accept", channelId: id.slice(0, -2), payeeSignature: sigB }],
        [
          "a channel id with a non-hex digit",
          { type: "accept", channelId: `${id.slice(0, -1)}g`, payeeSignature: sigB },
        ],
        [
          "a voucher amount of 2^256",
          { type: "voucher", voucher: { channelId: id, amount: 2n ** 256n, signature: sigA } },
        ],
        ["a missing voucher", { type: "voucher" }],
        ["a negative receipt", { type: "receipt", channelId: id, amount: -1n }],
        ["a turnNum of 2^48", { type: "close", channelId: id, turnNum: 2n ** 48n, paid: 0n, signature: sigA }],
        [
          "a close voucher without signature",
          { type: "close", channelId: id, turnNum: 1n, paid: 0n, voucher: { amount: 1n }, signature: sigA },
        ],
        ["an unknown notice code", { type: "notice", code: "hello", reason: "" }],
        ["a reason of 201 bytes", { type: "notice", code: "bye", reason: `${"é".repeat(100)}a` }],
        ["a reason with a lone surrogate", { type: "notice", code: "bye", reason: "a\ud800b" }],
        ["an unknown type", { type: "piece" }],
        ["a type from Object.prototype", { type: "toString" }],
        ["null", null],
        ["a string", "voucher"],
      ];
      for (const [name, message] of cases) {
        it(`throws MALFORMED for ${name}`, function () {
          expectWireError(() => encodeMessage(message as PaidMessage), "MALFORMED");
        });
      }

      it("is a PiecepayError with a stable name and code", function () {
        const error = expectWireError(() => encodeMessage(null as unknown as PaidMessage), "MALFORMED");
        expect(error).to.be.instanceOf(PiecepayError);
        expect(error.name).to.equal("WireError");
        expect(error.shortMessage).to.be.a("string");
      });

      it("truncateReason fits any text into a notice on a character boundary", function () {
        const random = new Random(77);
        for (let i = 0; i < 200; i++) {
          const text = randomReason(random, 200) + randomReason(random, 200) + (random.bool() ? "\ud800" : "");
          const reason = truncateReason(text);
          expect(new TextEncoder().encode(reason).length).to.be.at.most(NOTICE_MAX_REASON_BYTES);
          expect(text.replace(/\p{Cs}/gu, "\ufffd").startsWith(reason)).to.equal(true);
          expect(decodeMessage(encodeMessage({ type: "notice", code: "refused", reason }))).to.deep.include({ reason });
        }
        expect(truncateReason("€".repeat(100))).to.equal("€".repeat(66)); // 198 bytes: a 67th does not fit
      });
    });

    it("survives 100,000 random and mutated messages: a value that re-encodes to the same bytes, or WireError", function () {
      this.timeout(10_000);
      const random = new Random(2026);
      const valid = Array.from({ length: 600 }, (_, i) =>
        encodeMessage(randomMessage(random, TYPES[i % TYPES.length])),
      );
      const next = fastRandom(0xf022);
      const inputs: Uint8Array[] = [];
      for (let i = 0; i < 100_000; i++) {
        const base = valid[next(valid.length)];
        let input: Uint8Array;
        switch (i % 6) {
          case 0: // random bytes of a random length
            input = new Uint8Array(next(601));
            for (let j = 0; j < input.length; j++) input[j] = next(256);
            break;
          case 1: // bit flips
            input = Uint8Array.from(base);
            for (let flips = 1 + next(8); flips > 0; flips--) input[next(input.length)] ^= 1 << next(8);
            break;
          case 2: // truncation
            input = base.slice(0, next(base.length));
            break;
          case 3: // extension
            input = new Uint8Array(base.length + 1 + next(400));
            input.set(base);
            for (let j = base.length; j < input.length; j++) input[j] = next(256);
            break;
          case 4: // type byte swapped (the payload of one type read as another)
            input = Uint8Array.from(base);
            input[1] = next(9);
            break;
          default: {
            // our header and a random payload of about the right length, to reach every field check
            const type = TYPES[next(TYPES.length)];
            const length = type === "notice" ? 4 + next(210) : MESSAGE_LENGTHS[type] - 2 + next(5);
            input = new Uint8Array(length);
            for (let j = 2; j < length; j++) input[j] = next(4) === 0 ? 0 : next(256);
            input[0] = PROTOCOL_VERSION;
            input[1] = MESSAGE_TYPE_IDS[type];
            if (type === "notice" && length >= 4) input[3] = length - 4 - next(2);
          }
        }
        inputs.push(input);
      }
      const outcomes: Record<string, number> = {};
      const start = performance.now();
      for (const input of inputs) {
        let outcome: string;
        try {
          const message = decodeMessage(input);
          const again = encodeMessage(message);
          if (Buffer.compare(again, input) !== 0) expect.fail(`${hexlify(input)} re-encodes as ${hexlify(again)}`);
          outcome = `ok ${message.type}`;
        } catch (error) {
          if (!(error instanceof WireError)) throw error;
          outcome = error.code;
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
      const ms = performance.now() - start;
      console.log(
        `      100,000 messages decoded (and re-encoded when valid) in ${ms.toFixed(0)} ms: ${JSON.stringify(outcomes)}`,
      );
      for (const type of TYPES) expect(outcomes[`ok ${type}`], type).to.be.above(0);
      for (const code of ["MALFORMED", "TOO_LONG", "UNKNOWN_TYPE", "UNSUPPORTED_VERSION"])
        expect(outcomes[code]).to.be.above(0);
    });
  });
});

// ---- handshake -----------------------------------------------------------------------------------------------------

function randomHandshake(random: Random): PaidHandshake {
  const h: PaidHandshake = { version: PROTOCOL_VERSION, chainId: random.uint(256), adjudicator: random.address() };
  if (random.bool()) {
    h.offer = { payee: random.address(), asset: random.address(), pricePerPiece: random.uint(256) };
    if (random.bool()) h.offer.payTo = random.address();
    if (random.bool()) {
      h.offer.hubs = Array.from({ length: 1 + random.int(3) }, () => ({
        hub: random.address(),
        ledger: random.bytes(32),
      }));
    }
  }
  if (random.bool()) h.payer = random.address();
  return h;
}

/** A test-local bencoder that can also write what a canonical one never would (unsorted or repeated keys). */
function bencodeLoose(value: unknown, next: (below: number) => number): Uint8Array {
  const parts: Uint8Array[] = [];
  const text = (s: string) => parts.push(new TextEncoder().encode(s));
  const walk = (v: unknown) => {
    if (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v))) text(`i${v}e`);
    else if (ArrayBuffer.isView(v) && v instanceof Uint8Array) {
      text(`${v.length}:`);
      parts.push(v);
    } else if (typeof v === "string") {
      const b = new TextEncoder().encode(v);
      text(`${b.length}:`);
      parts.push(b);
    } else if (Array.isArray(v)) {
      text("l");
      for (const item of v) walk(item);
      text("e");
    } else if (typeof v === "object" && v !== null) {
      text("d");
      const keys = Object.keys(v).sort();
      if (next(10) === 0) keys.reverse();
      if (next(10) === 0 && keys.length > 0) keys.push(keys[0]);
      for (const k of keys) {
        walk(k);
        walk((v as Record<string, unknown>)[k]);
      }
      text("e");
    } else text("i0e");
  };
  walk(value);
  return Uint8Array.from(Buffer.concat(parts));
}

/** Something that bencode could have produced, or nearly: each field valid or not, at random. */
function randomTree(next: (below: number) => number, depth = 0): unknown {
  const ascii = (s: string) => new TextEncoder().encode(s);
  const digits = (n: number) => ascii(Array.from({ length: n }, () => String(next(10))).join(""));
  const raw = (n: number) => Uint8Array.from({ length: n }, () => next(256));
  const values: (() => unknown)[] = [
    () => 1,
    () => next(3) - 1,
    () => [1.5, Number.NaN, 2 ** 60, -(2 ** 53), 1n, 2n ** 300n, -1n][next(7)],
    () => raw(20),
    () => raw([0, 1, 19, 21, 32][next(5)]),
    () => digits(1 + next(80)),
    () =>
      ascii(
        ["0", "00", "01", "-1", "1e3", " 1", "1 ", "+1", (2n ** 256n).toString(), (2n ** 256n - 1n).toString()][
          next(10)
        ],
      ),
    () => "31337",
    () => (depth < 2 ? randomTree(next, depth + 1) : null),
    () => (depth < 2 ? [randomTree(next, depth + 1)] : []),
    () => [null, undefined, true, {}, new Uint16Array(10)][next(5)],
  ];
  const dict: Record<string, unknown> = {};
  const keys = ["v", "c", "a", "o", "y", "p", "t", "x", "m", "__proto__", "constructor", "zz"];
  for (const key of keys) {
    if (next(3) === 0) continue;
    const pick = next(values.length + 4);
    // bias towards the right kind of value for the key, so that some trees get past the first checks
    const right =
      key === "v"
        ? () => 1
        : key === "c" || key === "x"
          ? () => digits(1 + next(5))
          : key === "o" && depth < 2
            ? () => randomTree(next, depth + 1)
            : () => raw(20);
    dict[key] = pick >= values.length ? right() : values[pick]();
  }
  return dict;
}

describe("client/wire/handshake", function () {
  it("round-trips 1,000 random handshakes (seeded), through bencode as bittorrent-protocol sends it", function () {
    const random = new Random(0xbeef);
    for (let i = 0; i < 1_000; i++) {
      const h = randomHandshake(random);
      const encoded = encodeHandshake(h);
      expect(encoded.length).to.be.at.most(MAX_HANDSHAKE_BYTES);
      expect(decodeHandshake(encoded)).to.deep.equal(h);
      const extended = bencode.decode(bencode.encode({ m: { piecepay: 3 }, piecepay: encoded, v: "test" }));
      expect(decodeHandshake(extended.piecepay)).to.deep.equal(h);
      // the same dictionary decoded in place (a peer that nests it rather than wrapping it)
      expect(decodeHandshake(bencode.decode(encoded))).to.deep.equal(h);
    }
  });

  it("lays out a known handshake byte by byte", function () {
    const h: PaidHandshake = {
      version: 2,
      chainId: 31337n,
      adjudicator,
      offer: { payee, asset, pricePerPiece: 1000n },
      payer,
    };
    const raw = (a: string) => Buffer.from(a.slice(2), "hex").toString("latin1");
    const expected = `d1:a20:${raw(adjudicator)}1:c5:313371:od1:p20:${raw(payee)}1:t20:${raw(asset)}1:x4:1000e1:vi2e1:y20:${raw(payer)}e`;
    const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");
    expect(latin1(encodeHandshake(h))).to.equal(expected);
    expect(latin1(encodeHandshake({ version: 2, chainId: 0n, adjudicator }))).to.equal(
      `d1:a20:${raw(adjudicator)}1:c1:01:vi2ee`,
    );
    expect(decodeHandshake(Buffer.from(expected, "latin1"))).to.deep.equal(h);
    // A seeder paid to a wallet apart from its participant: `d`, sorted before `p`.
    const paid: PaidHandshake = {
      version: 2,
      chainId: 1n,
      adjudicator,
      offer: { payee, payTo: app, asset, pricePerPiece: 1n },
    };
    const withPayTo = `d1:a20:${raw(adjudicator)}1:c1:11:od1:d20:${raw(app)}1:p20:${raw(payee)}1:t20:${raw(asset)}1:x1:1e1:vi2ee`;
    expect(latin1(encodeHandshake(paid))).to.equal(withPayTo);
    expect(decodeHandshake(Buffer.from(withPayTo, "latin1"))).to.deep.equal(paid);
    // A seeder paid through a hub: `h` holds the hub's address and the seeder's ledger id with it, sorted after `d`.
    const ledger = `0x${"cd".repeat(32)}`;
    const viaHub: PaidHandshake = {
      version: 2,
      chainId: 1n,
      adjudicator,
      offer: { payee, hubs: [{ hub: app, ledger }], asset, pricePerPiece: 1n },
    };
    const withHub = `d1:a20:${raw(adjudicator)}1:c1:11:od1:h52:${raw(app)}${raw(ledger)}1:p20:${raw(payee)}1:t20:${raw(asset)}1:x1:1e1:vi2ee`;
    expect(latin1(encodeHandshake(viaHub))).to.equal(withHub);
    expect(decodeHandshake(Buffer.from(withHub, "latin1"))).to.deep.equal(viaHub);
    // Three hubs at most (the fullest handshake then stays within MAX_HANDSHAKE_BYTES), whole entries only.
    const four = { ...viaHub, offer: { ...viaHub.offer, hubs: Array(4).fill({ hub: app, ledger }) } } as PaidHandshake;
    expectWireError(() => encodeHandshake(four), "MALFORMED");
    const cut = `d1:a20:${raw(adjudicator)}1:c1:11:od1:h51:${raw(app)}${raw(ledger).slice(1)}1:p20:${raw(payee)}1:t20:${raw(asset)}1:x1:1e1:vi2ee`;
    expectWireError(() => decodeHandshake(Buffer.from(cut, "latin1")), "MALFORMED");
    const empty = `d1:a20:${raw(adjudicator)}1:c1:11:od1:h0:1:p20:${raw(payee)}1:t20:${raw(asset)}1:x1:1e1:vi2ee`;
    expectWireError(() => decodeHandshake(Buffer.from(empty, "latin1")), "MALFORMED");
  });

  describe("when the handshake is malformed", function () {
    const a = Buffer.from(adjudicator.slice(2), "hex").toString("latin1");
    const cases: [string, string, WireErrorCode][] = [
      ["no version", `d1:a20:${a}1:c1:1e`, "MALFORMED"],
      ["version 1 (before payout addresses)", `d1:a20:${a}1:c1:11:vi1ee`, "UNSUPPORTED_VERSION"],
      ["version 0", `d1:a20:${a}1:c1:11:vi0ee`, "UNSUPPORTED_VERSION"],
      ["a version as a string", `d1:a20:${a}1:c1:11:v1:1e`, "MALFORMED"],
      ["no chain id", `d1:a20:${a}1:vi2ee`, "MALFORMED"],
      ["a chain id as an integer", `d1:a20:${a}1:ci1e1:vi2ee`, "MALFORMED"],
      ["a chain id with a leading zero", `d1:a20:${a}1:c2:011:vi2ee`, "MALFORMED"],
      ["a negative chain id", `d1:a20:${a}1:c2:-11:vi2ee`, "MALFORMED"],
      ["an empty chain id", `d1:a20:${a}1:c0:1:vi2ee`, "MALFORMED"],
      ["a chain id of 2^256", `d1:a20:${a}1:c78:${2n ** 256n}1:vi2ee`, "MALFORMED"],
      ["a chain id of 79 digits", `d1:a20:${a}1:c79:${"1".repeat(79)}1:vi2ee`, "MALFORMED"],
      ["a hex chain id", `d1:a20:${a}1:c3:0x11:vi2ee`, "MALFORMED"],
      ["a 19-byte adjudicator", `d1:a19:${a.slice(1)}1:c1:11:vi2ee`, "MALFORMED"],
      ["an adjudicator as hex text", `d1:a42:${adjudicator}1:c1:11:vi2ee`, "MALFORMED"],
      ["an offer without a price", `d1:a20:${a}1:c1:11:od1:p20:${a}1:t20:${a}e1:vi2ee`, "MALFORMED"],
      ["an offer as a list", `d1:a20:${a}1:c1:11:ol1:pe1:vi2ee`, "MALFORMED"],
      ["a price with a sign", `d1:a20:${a}1:c1:11:od1:p20:${a}1:t20:${a}1:x2:+1e1:vi2ee`, "MALFORMED"],
      [
        "a 19-byte payout address",
        `d1:a20:${a}1:c1:11:od1:d19:${a.slice(1)}1:p20:${a}1:t20:${a}1:x1:1e1:vi2ee`,
        "MALFORMED",
      ],
      [
        "a payout address after the payee",
        `d1:a20:${a}1:c1:11:od1:p20:${a}1:d20:${a}1:t20:${a}1:x1:1e1:vi2ee`,
        "MALFORMED",
      ],
      ["a 21-byte payer", `d1:a20:${a}1:c1:11:vi2e1:y21:${a}xe`, "MALFORMED"],
      ["unsorted keys", `d1:c1:11:a20:${a}1:vi2ee`, "MALFORMED"],
      ["a repeated key", `d1:a20:${a}1:a20:${a}1:c1:11:vi2ee`, "MALFORMED"],
      ["i-0e", `d1:a20:${a}1:c1:11:vi-0ee`, "MALFORMED"],
      ["i01e", `d1:a20:${a}1:c1:11:vi01ee`, "MALFORMED"],
      ["a length with a leading zero", `d1:a020:${a}1:c1:11:vi2ee`, "MALFORMED"],
      ["a string longer than the rest", `d1:a99:${a}e`, "MALFORMED"],
      ["trailing bytes", `d1:a20:${a}1:c1:11:vi2eex`, "MALFORMED"],
      ["no end", `d1:a20:${a}1:c1:11:vi2e`, "MALFORMED"],
      ["a list", "li1ee", "MALFORMED"],
      ["an integer", "i1e", "MALFORMED"],
      ["nothing", "", "MALFORMED"],
      ["deep nesting", `${"l".repeat(100)}${"e".repeat(100)}`, "MALFORMED"],
      ["too many bytes", `d1:a20:${a}1:c1:11:vi2e2:zz600:${"z".repeat(600)}e`, "TOO_LONG"],
    ];
    for (const [name, text, code] of cases) {
      it(`throws ${code} for ${name}`, function () {
        expectWireError(() => decodeHandshake(Buffer.from(text, "latin1")), code);
      });
    }

    it("ignores keys it does not know", function () {
      const text = `d1:a20:${a}1:c1:11:mli1ee1:vi2e2:zzd1:qi-5eee`;
      expect(decodeHandshake(Buffer.from(text, "latin1"))).to.deep.equal({ version: 2, chainId: 1n, adjudicator });
    });

    it("rejects values that are neither bytes nor a dictionary, and inherited fields", function () {
      for (const value of [undefined, null, 1, "d1:vi2ee", [], new Uint16Array(4)]) {
        expectWireError(() => decodeHandshake(value), "MALFORMED");
      }
      const inherited = Object.create({ v: 1, c: new TextEncoder().encode("1"), a: new Uint8Array(20) });
      expectWireError(() => decodeHandshake(inherited), "MALFORMED");
      // what bencode makes of a `__proto__` key
      const proto = bencode.decode(Buffer.from(`d9:__proto__d1:a20:${a}1:c1:11:vi2eee`, "latin1"));
      expectWireError(() => decodeHandshake(proto), "MALFORMED");
      // an object whose prototype is a Uint8Array passes `instanceof Uint8Array` but has no bytes
      const fakeBytes = bencode.decode(Buffer.from(`d9:__proto__20:${a}e`, "latin1"));
      expect(fakeBytes).to.be.instanceOf(Uint8Array);
      expectWireError(() => decodeHandshake(fakeBytes), "MALFORMED");
      expectWireError(() => decodeHandshake({ v: 2, c: fakeBytes, a: fakeBytes }), "MALFORMED");
      expectWireError(() => decodeMessage(fakeBytes as unknown as Uint8Array), "MALFORMED");
    });

    it("refuses to encode what does not fit", function () {
      const good: PaidHandshake = { version: 2, chainId: 1n, adjudicator };
      const bad: unknown[] = [
        { ...good, version: 0 },
        { ...good, version: 256 },
        { ...good, version: 1.5 },
        { ...good, chainId: -1n },
        { ...good, chainId: 2n ** 256n },
        { ...good, chainId: 1 },
        { ...good, adjudicator: "0x1234" },
        { ...good, adjudicator: adjudicator.replace("F", "f").replace("b", "B") },
        { ...good, offer: { payee, asset, pricePerPiece: -1n } },
        { ...good, offer: { payee, asset } },
        { ...good, offer: null },
        { ...good, payer: 42 },
        null,
      ];
      for (const h of bad) expectWireError(() => encodeHandshake(h as PaidHandshake), "MALFORMED");
      expect(getAddress(adjudicator)).to.equal(adjudicator);
    });
  });

  it("survives 10,000 random bencode-like values, as objects and as bytes: a handshake that round-trips, or WireError", function () {
    this.timeout(10_000);
    const next = fastRandom(0x4a5);
    const random = new Random(0x4a5);
    const valid = Array.from({ length: 100 }, () => encodeHandshake(randomHandshake(random)));
    const outcomes: Record<string, number> = {};
    const check = (input: unknown) => {
      let outcome: string;
      try {
        const h = decodeHandshake(input);
        expect(decodeHandshake(encodeHandshake(h))).to.deep.equal(h);
        outcome = "ok";
      } catch (error) {
        if (!(error instanceof WireError)) throw error;
        outcome = error.code;
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    };
    const inputs: unknown[] = [];
    for (let i = 0; i < 10_000; i++) {
      const tree = randomTree(next);
      const base = valid[next(valid.length)];
      const mutated = Uint8Array.from(base);
      for (let flips = 1 + next(4); flips > 0; flips--) mutated[next(mutated.length)] = next(256);
      inputs.push(tree, bencodeLoose(tree, next), next(2) === 0 ? mutated : base.subarray(0, next(base.length + 1)));
    }
    const start = performance.now();
    for (const input of inputs) check(input);
    const ms = performance.now() - start;
    console.log(
      `      30,000 handshake values decoded (and re-encoded when valid) in ${ms.toFixed(0)} ms: ${JSON.stringify(outcomes)}`,
    );
    expect(outcomes.ok).to.be.above(0);
    expect(outcomes.MALFORMED).to.be.above(0);
    expect(outcomes.UNSUPPORTED_VERSION).to.be.above(0);
  });
});
