// The house rule, enforced: imports flow one way, contracts -> typechain-types -> sdk -> client, with scripts/ and
// test/ on top. Read from the real import graph (static, type-only, `import()` and `require()` with a string
// literal), over sdk/, client/, scripts/, examples/ and test/ and wherever their imports lead. Beside exports.test.ts:
// together they pin what the SDK offers and who may reach what. See docs/adr/0009-sdk-entry-points-and-import-boundaries.md.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import {
  cycles,
  diskSources,
  type Edge,
  importGraph,
  importsOf,
  memorySources,
  reachable,
  type Sources,
} from "../helpers/import-graph.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The SDK's entry points: the only sdk/ files the client may import. */
const ENTRY_POINTS = ["sdk/index.ts", "sdk/node.ts", "sdk/actions/index.ts", "sdk/hub/index.ts"];
/** The entry points that load in a browser: nothing they reach is Node's. */
const UNIVERSAL_ENTRY_POINTS = ["sdk/index.ts", "sdk/actions/index.ts", "sdk/hub/index.ts"];
/**
 * The client's code that runs in a browser page as well as in Node: the paid sessions, the wire codec and guard,
 * and what a page imports (client/web/). Nothing any of their files reaches is Node's (see
 * test/ts/browser/session-bundle.test.ts for the packages they bring, webtorrent's browser build included).
 */
const UNIVERSAL_CLIENT_DIRS = ["client/session", "client/wire", "client/web"];
/** The one module of client/ that loads Hardhat (the embedded chain of `demo` and `simulate`), by `import()` only. */
const EMBEDDED_CHAIN = "client/embedded-chain.ts";
/**
 * Imports across the top layer allowed by name. scripts/fuzz-wire.ts is the wire tests' harness run at scale: it
 * drives the same raw-peer helpers as test/ts/client/wire-crash.test.ts. scripts/bench-sdk.ts measures in the
 * browser tests' Chromium, through their harness, and the bundle the browser-bundle test holds to its budget.
 * scripts/bench-web-pages.ts measures the browser tests' own pages (paid seeder and leecher), on their chain, tracker
 * and Node seeder; scripts/profile-web.ts runs the same pages unpaid, to see where their CPU goes;
 * scripts/bench-web-app.ts measures the web app as its tests start and drive it, with the CLI's seeder.
 * scripts/bench-discovery.ts joins the DHT through the tests' loopback bootstrap node; scripts/bench-hub.ts starts
 * anvil as the tests do; scripts/bench-plain.ts drives
 * the same plain clients (aria2) and CLI processes as the free-torrent tests.
 */
const TOP_LAYER_EXCEPTIONS = [
  "scripts/fuzz-wire.ts -> test/ts/helpers/wire.ts",
  "scripts/bench-sdk.ts -> test/ts/browser/harness.ts",
  "scripts/bench-sdk.ts -> test/ts/helpers/browser-bundle.ts",
  ...[
    "browser/anvil-contracts.ts",
    "browser/harness.ts",
    "browser/pages/paid-leecher.ts",
    "browser/pages/paid-seeder.ts",
    "helpers/nodes.ts",
    "helpers/webrtc-peers.ts",
  ].map((file) => `scripts/bench-web-pages.ts -> test/ts/${file}`),
  ...["browser/anvil-contracts.ts", "browser/harness.ts", "browser/web-app.ts", "client/cli-process.ts"].map(
    (file) => `scripts/bench-web-app.ts -> test/ts/${file}`,
  ),
  ...[
    "browser/harness.ts",
    "browser/pages/paid-leecher.ts",
    "browser/pages/paid-seeder.ts",
    "helpers/nodes.ts",
    "helpers/webrtc-peers.ts",
  ].map((file) => `scripts/profile-web.ts -> test/ts/${file}`),
  "scripts/bench-discovery.ts -> test/ts/helpers/dht.ts",
  "scripts/bench-hub.ts -> test/ts/helpers/nodes.ts",
  ...["client/cli-process.ts", "helpers/nodes.ts", "helpers/plain-clients.ts"].map(
    (file) => `scripts/bench-plain.ts -> test/ts/${file}`,
  ),
];

const isHardhat = (to: string) => to === "hardhat" || to.startsWith("@nomicfoundation/");
const under = (file: string, ...dirs: string[]) => dirs.some((dir) => file.startsWith(`${dir}/`));

/** The package's own entry points by name ("piecepay/sdk"), as tsc resolves them (the "types" condition). */
function selfReference(): { name: string; exports: Record<string, string> } {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8"));
  const exports: Record<string, string> = {};
  for (const [key, value] of Object.entries(pkg.exports as Record<string, string | { types: string }>)) {
    exports[key] = (typeof value === "string" ? value : value.types).replace(/^\.\//, "");
  }
  return { name: pkg.name, exports };
}

/** Every import that breaks the flow, as "file:line imports target (kind): why". */
function violations(edges: Edge[]): string[] {
  const found: string[] = [];
  const flag = (e: Edge, why: string) => found.push(`${e.from}:${e.line} imports ${e.to} (${e.kind}): ${why}`);
  for (const e of edges) {
    const below = under(e.from, "sdk", "typechain-types", "client");
    if (below && under(e.to, "scripts", "test", "examples")) flag(e, "nothing below the top imports scripts/ or test/");
    if (under(e.from, "sdk", "typechain-types") && under(e.to, "client")) flag(e, "the SDK sits below the client");
    if (under(e.from, "sdk", "typechain-types") && isHardhat(e.to)) flag(e, "the SDK runs without Hardhat");
    if (under(e.from, "client") && under(e.to, "sdk") && !ENTRY_POINTS.includes(e.to)) {
      flag(e, `the client reaches the SDK only through its entry points (${ENTRY_POINTS.join(", ")})`);
    }
    if (under(e.from, "client") && e.from !== EMBEDDED_CHAIN && (isHardhat(e.to) || under(e.to, "typechain-types"))) {
      flag(e, `the client reaches the chain through the SDK; Hardhat only through ${EMBEDDED_CHAIN}`);
    }
    if (e.to === EMBEDDED_CHAIN && e.kind !== "dynamic") {
      flag(e, `${EMBEDDED_CHAIN} loads Hardhat: only \`await import()\` it, from the command that needs the chain`);
    }
    const crossing = `${e.from} -> ${e.to}`;
    const top =
      (under(e.from, "scripts", "examples") && under(e.to, "test")) ||
      (under(e.from, "test") && under(e.to, "scripts"));
    if (top && !TOP_LAYER_EXCEPTIONS.includes(crossing)) flag(e, "nothing imports scripts/ or test/");
  }
  // The universal entry point loads in a browser: nothing it reaches, by any kind of import, is Node's.
  for (const entry of UNIVERSAL_ENTRY_POINTS) {
    const universal = reachable(edges, [entry]);
    for (const e of edges) {
      if (universal.has(e.from) && e.to.startsWith("node:")) flag(e, `${entry} is universal: no node:* in its graph`);
    }
  }
  for (const dir of UNIVERSAL_CLIENT_DIRS) {
    const files = [...new Set(edges.flatMap((e) => [e.from, e.to]))].filter((file) => under(file, dir));
    const universal = reachable(edges, files);
    for (const e of edges) {
      if (universal.has(e.from) && e.to.startsWith("node:")) {
        flag(e, `${dir}/ runs in browsers too: no node:* in its graph`);
      }
    }
  }
  return found;
}

/** The graph of `sources`, its violations, its import cycles within sdk/ and client/, and unfollowable imports. */
function judge(sources: Sources) {
  const graph = importGraph(sources, ["sdk", "client", "scripts", "examples", "test"], selfReference());
  const layered = graph.files.filter((file) => under(file, "sdk", "client"));
  return {
    graph,
    violations: violations(graph.edges),
    cycles: cycles(graph.edges, layered).map((cycle) => cycle.join(" <-> ")),
    unfollowable: graph.nonLiteralDynamic
      .filter(({ file }) => under(file, "sdk", "client"))
      .map(({ file, line }) => `${file}:${line}`),
  };
}

describe("import boundaries", function () {
  describe("in this repository", function () {
    const house = judge(diskSources(ROOT));

    it("reads a real graph: the SDK's files, the client's, and the TypeChain factories the SDK imports", function () {
      expect(house.graph.files).to.include.members([
        "sdk/index.ts",
        "sdk/node.ts",
        "client/cli/main.ts",
        "client/simulate/context.ts",
        "typechain-types/index.ts",
      ]);
      const fromSdk = house.graph.edges.filter((e) => e.from.startsWith("sdk/"));
      expect(fromSdk.some((e) => e.to === "ethers")).to.equal(true);
    });

    it("has no import against the flow contracts -> typechain-types -> sdk -> client, scripts/ and test/ on top", function () {
      expect(house.violations).to.deep.equal([]);
    });

    it("names no Node global in the code that runs in browsers: no Buffer, __dirname or require (a page has none)", function () {
      const { edges } = house.graph;
      const starts = [
        ...UNIVERSAL_ENTRY_POINTS,
        ...house.graph.files.filter((file) => under(file, ...UNIVERSAL_CLIENT_DIRS)),
      ];
      const universal = [...reachable(edges, starts)].filter(
        (file) => under(file, "sdk", "client") && !under(file, "client/web/shims") && /\.tsx?$/.test(file),
      );
      expect(universal).to.include.members(["sdk/index.ts", "client/session/extension.ts", "client/web/app/app.tsx"]);
      const found: string[] = [];
      for (const file of universal) {
        const code = readFileSync(`${ROOT}${file}`, "utf8")
          .replace(/\/\*[\s\S]*?\*\//g, "")
          .replace(/(^|[^:])\/\/.*$/gm, "$1");
        for (const [i, line] of code.split("\n").entries()) {
          if (/\bBuffer\b|\b__dirname\b|\brequire\(/.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
        }
      }
      expect(found).to.deep.equal([]);
    });

    it("has no import cycle in sdk/ or client/ (client/simulate included)", function () {
      expect(house.cycles).to.deep.equal([]);
    });

    it("follows every import() of sdk/ and client/: each names its module with a string literal", function () {
      expect(house.unfollowable).to.deep.equal([]);
    });

    it("loads Hardhat in the client only where an embedded chain runs: demo and simulate, on demand", function () {
      const importers = house.graph.edges.filter((e) => e.to === EMBEDDED_CHAIN).map((e) => `${e.from} (${e.kind})`);
      expect(importers.sort()).to.deep.equal([
        "client/cli/commands/demo.ts (dynamic)",
        "client/simulate/context.ts (dynamic)",
        // its own test, which checks the contracts it deploys
        "test/ts/client/embedded-chain.test.ts (dynamic)",
      ]);
      // What `piecepay <command>` loads before any command runs reaches neither Hardhat nor the TypeChain factories.
      const startup = reachable(
        house.graph.edges,
        ["client/cli/bin.mjs"],
        (e) => e.kind !== "dynamic" || e.from === "client/cli/bin.mjs",
      );
      const hardhat = house.graph.edges.filter(
        (e) =>
          startup.has(e.from) && (isHardhat(e.to) || (under(e.from, "client") && e.to.startsWith("typechain-types/"))),
      );
      expect(hardhat.map((e) => `${e.from} -> ${e.to}`)).to.deep.equal([]);
    });
  });

  describe("catches what it is meant to", function () {
    // The three breaks of the house before this test existed, as they were written.
    const before = judge(
      memorySources({
        "package.json": "",
        "sdk/index.ts": 'export { toJson } from "./store/json.js";\n',
        "sdk/node.ts": 'export * from "./index.js";\n',
        "sdk/store/json.ts": "export const toJson = 1;\n",
        "typechain-types/index.ts": "export const Adjudicator__factory = 1;\n",
        "client/simulate/context.ts": [
          'import type { Check } from "./types.js";',
          "export async function embedded() {",
          '  const { network } = await import("hardhat");',
          '  const { Adjudicator__factory } = await import("../../typechain-types/index.js");',
          '  const { commonChecks } = await import("./invariants.js");',
          "}",
        ].join("\n"),
        "client/simulate/invariants.ts":
          'import type { Honest } from "./context.js";\nimport type { Check } from "./types.js";\n',
        "client/simulate/types.ts": 'import type { ScenarioContext } from "./context.js";\n',
        "client/simulate/processes/seeder.ts": 'import { fromJson, toJson } from "../../../sdk/store/json.js";\n',
        "client/cli/commands/demo.ts": 'const { network } = await import("hardhat");\n',
      }),
    );

    it("Hardhat and the TypeChain factories loaded by client/simulate/context.ts and demo.ts through import()", function () {
      expect(before.violations).to.include.members([
        "client/simulate/context.ts:3 imports hardhat (dynamic): the client reaches the chain through the SDK; Hardhat only through client/embedded-chain.ts",
        "client/simulate/context.ts:4 imports typechain-types/index.ts (dynamic): the client reaches the chain through the SDK; Hardhat only through client/embedded-chain.ts",
        "client/cli/commands/demo.ts:1 imports hardhat (dynamic): the client reaches the chain through the SDK; Hardhat only through client/embedded-chain.ts",
      ]);
    });

    it("client/simulate/processes importing sdk/store/json.ts around the entry point", function () {
      expect(before.violations).to.include(
        "client/simulate/processes/seeder.ts:1 imports sdk/store/json.ts (static): the client reaches the SDK only through its entry points (sdk/index.ts, sdk/node.ts, sdk/actions/index.ts, sdk/hub/index.ts)",
      );
    });

    it("the circle of context.ts, invariants.ts and types.ts, type-only imports included", function () {
      expect(before.cycles).to.deep.equal([
        "client/simulate/context.ts <-> client/simulate/invariants.ts <-> client/simulate/types.ts",
      ]);
    });

    it("Node and Hardhat below the client, the embedded chain imported statically, and an unfollowable import()", function () {
      const broken = judge(
        memorySources({
          "sdk/index.ts": 'import { readFileSync } from "node:fs";\nexport { x } from "./helper.js";\n',
          "sdk/helper.ts":
            'import "hardhat";\nimport type { Output } from "../client/cli/output.js";\nexport const x = 1;\n',
          "client/cli/output.ts": "export interface Output {}\n",
          "client/embedded-chain.ts": 'import { network } from "hardhat";\n',
          "client/cli/main.ts":
            'import { startEmbeddedChain } from "../embedded-chain.js";\nawait import(process.argv[2]);\n',
        }),
      );
      expect(broken.violations).to.have.members([
        "sdk/helper.ts:1 imports hardhat (static): the SDK runs without Hardhat",
        "sdk/helper.ts:2 imports client/cli/output.ts (type): the SDK sits below the client",
        "client/cli/main.ts:1 imports client/embedded-chain.ts (static): client/embedded-chain.ts loads Hardhat: only `await import()` it, from the command that needs the chain",
        "sdk/index.ts:1 imports node:fs (static): sdk/index.ts is universal: no node:* in its graph",
      ]);
      expect(broken.unfollowable).to.deep.equal(["client/cli/main.ts:2"]);
    });

    it("Node reached from the client's universal code: node:events in a session, Buffer's module through the wire", function () {
      const broken = judge(
        memorySources({
          "client/session/seeder.ts":
            'import { EventEmitter } from "node:events";\nimport { x } from "../wire/codec.js";\n',
          "client/wire/codec.ts": 'export { x } from "../cli/bytes.js";\n',
          "client/cli/bytes.ts": 'import { Buffer } from "buffer";\nexport const x = Buffer;\n',
          "client/cli/main.ts": 'import { readFileSync } from "node:fs";\n',
        }),
      );
      expect(broken.violations).to.have.members([
        "client/session/seeder.ts:1 imports node:events (static): client/session/ runs in browsers too: no node:* in its graph",
        "client/cli/bytes.ts:1 imports node:buffer (static): client/session/ runs in browsers too: no node:* in its graph",
        "client/cli/bytes.ts:1 imports node:buffer (static): client/wire/ runs in browsers too: no node:* in its graph",
      ]);
    });

    it("reads imports, not text that looks like them: comments, templates and strings are no imports", function () {
      const source = [
        '// import { a } from "commented";',
        '/** @example import { b } from "jsdoc" */',
        'const script = `import("templated")`;',
        "run('await import(\"quoted\")');",
        'const slash = /"/.test(script) ? 1 : 2 / 3;',
        'import type { C } from "./types.js";',
        'import { type D, e } from "./mixed.js";',
        'export * from "./all.js";',
        'const later = await import("./later.js");',
      ].join("\n");
      const { imports } = importsOf(source);
      expect(imports.map((i) => `${i.line} ${i.kind} ${i.specifier}`)).to.deep.equal([
        "6 type ./types.js",
        "7 static ./mixed.js",
        "8 static ./all.js",
        "9 dynamic ./later.js",
      ]);
    });
  });
});
