// The documentation stays a front door with rooms behind it, and stays true: README.md small, tables readable,
// every relative link and anchor resolving inside the repository, nothing pointing outside it, the gas table equal
// to gas-snapshot.json, and every row of the security checklist naming tests that exist. Reads files only (fast).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";

const root = path.resolve(new URL("../../../", import.meta.url).pathname);
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

/** The front door and the documents it leads to: the files held to the short-table-row rule. */
const written = [
  "README.md",
  "sdk/README.md",
  "client/README.md",
  ...readdirSync(path.join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** Every Markdown file of the repository (tracked or new, not ignored): the files whose links must resolve. */
const markdown = repoFiles().filter((f) => f.endsWith(".md"));

function repoFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root });
  return out
    .toString()
    .split("\0")
    .filter((f) => f !== "" && existsSync(path.join(root, f)) && !f.startsWith("node_modules"));
}

/** Markdown text outside fenced code blocks, where links and tables live. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\- _]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** `a/{b,c}.ts` -> `a/b.ts`, `a/c.ts`. */
function expandBraces(p: string): string[] {
  const m = p.match(/^(.*?)\{([^}]*)\}(.*)$/);
  return m ? m[2].split(",").flatMap((alt) => expandBraces(`${m[1]}${alt}${m[3]}`)) : [p];
}

/** Whether a repository path, possibly ending in a `*` file pattern, names at least one existing file. */
function exists(p: string): boolean {
  if (!p.includes("*")) return existsSync(path.join(root, p));
  const dir = path.dirname(p);
  const pattern = new RegExp(`^${path.basename(p).replace(/[.]/g, "\\.").replace(/\*/g, "[^/]*")}$`);
  return existsSync(path.join(root, dir)) && readdirSync(path.join(root, dir)).some((f) => pattern.test(f));
}

describe("the documentation", function () {
  it("README.md is a front door: under 12 KiB, with the two quick-start commands exactly as .ci/run and users type them", function () {
    const readme = read("README.md");
    expect(Buffer.byteLength(readme), "README.md bytes").to.be.below(12 * 1024);
    expect(readme).to.include("npx -y -p node@24 -- sh -c 'npm ci && npm run demo'\n");
    expect(readme).to.include("npx -y -p node@24 -- sh -c 'npm ci && npm test'\n");
    const ci = read(".ci/run");
    expect(ci).to.match(/^with_node npm ci /m);
    expect(ci).to.match(/^with_node npm test$/m);
  });

  it("keeps every table row short (at most 200 characters) in README.md, sdk/README.md, client/README.md, docs/*.md", function () {
    expect(written).to.include.members(["docs/security.md", "docs/gas.md", "docs/benchmarks.md", "docs/testing.md"]);
    for (const file of written) {
      for (const [i, line] of read(file).split("\n").entries()) {
        if (line.startsWith("|")) expect(line.length, `${file}:${i + 1}`).to.be.at.most(200);
      }
    }
  });

  it("resolves every relative link, and its anchor, to a file inside the repository", function () {
    expect(markdown).to.include.members(written);
    let checked = 0;
    for (const file of markdown) {
      for (const [, target] of prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [rel, anchor] = target.split("#");
        const resolved = rel === "" ? path.join(root, file) : path.resolve(path.dirname(path.join(root, file)), rel);
        const where = `${file}: ${target}`;
        expect(resolved.startsWith(`${root}${path.sep}`), `${where} points outside the repository`).to.equal(true);
        expect(existsSync(resolved), `${where} does not exist`).to.equal(true);
        if (anchor !== undefined && resolved.endsWith(".md")) {
          expect([...anchors(readFileSync(resolved, "utf8"))], `${where}: no such heading`).to.include(anchor);
        }
        checked++;
      }
    }
    expect(checked, "links checked").to.be.greaterThan(50);
  });

  it("has nothing that points outside the repository (a sibling checkout, a machine's home or work directory)", function () {
    const outside = [/\.\.\/shared\b/, /(^|[\s"'`(])\/work\//, /\/home\/[a-z]/, /\/Users\/[A-Za-z]/, /\/root\//];
    const text = /\.(ts|mts|mjs|js|json|sol|md|yml|yaml|sh|toml)$|(^|\/)run$/;
    for (const file of repoFiles().filter((f) => text.test(f) && !f.endsWith("package-lock.json"))) {
      const body = read(file);
      for (const pattern of outside) expect(pattern.test(body), `${file} matches ${pattern}`).to.equal(false);
    }
  });

  it("docs/gas.md's tables are gas-snapshot.json's figures, with the lifecycles' sums and the ratios computed", function () {
    const snapshot = JSON.parse(read("gas-snapshot.json")) as Record<string, number>;
    const gas = read("docs/gas.md");
    const num = (s: string) => Number(s.replace(/,/g, ""));
    const rows = [...gas.matchAll(/^\| ([a-z-]+)[^|]*\|\s*([\d,]+) \|\s*([\d,]+|-) \|\s*([\d.]+|-) \|/gm)];
    const stories = new Map(rows.map(([, story, ours, anchor, ratio]) => [story, { ours, anchor, ratio }]));
    for (const [story, used] of Object.entries(snapshot)) {
      const row = stories.get(story);
      expect(row, `docs/gas.md has a row for ${story}`).to.not.equal(undefined);
      if (row === undefined) continue;
      expect(num(row.ours), story).to.equal(used);
      if (row.anchor !== "-")
        expect(Number(row.ratio), story).to.equal(Math.round((used / num(row.anchor)) * 1000) / 1000);
    }
    // The direct channel's two lifecycles against the anchor, and ADR 0021's two exits (go-nitro's published total
    // beside the seeder's, none beside the hub's).
    const lifecycles = [
      ...gas.matchAll(
        /^\| (happy|dispute|seeder-forced-exit|hub-recovery): ([a-z+ -]+?)\s*\|\s*([\d,]+) \|\s*([\d,]+|-) \|\s*([\d.]+|-) \|/gm,
      ),
    ];
    expect(lifecycles.map(([, name]) => name).sort(), "the four lifecycles").to.deep.equal([
      "dispute",
      "happy",
      "hub-recovery",
      "seeder-forced-exit",
    ]);
    for (const [, name, parts, ours, anchor, ratio] of lifecycles) {
      const sum = parts.split(" + ").reduce((total, story) => total + (snapshot[story.trim()] ?? Number.NaN), 0);
      expect(num(ours), `${name}: ${parts}`).to.equal(sum);
      if (anchor !== "-") expect(Number(ratio), name).to.equal(Math.round((sum / num(anchor)) * 1000) / 1000);
    }
  });

  it("docs/security.md: rows numbered 1, 2, 3, ... each with a 'Tested' line, and every test it names exists", function () {
    const security = read("docs/security.md");
    const numbers = [...security.matchAll(/^(\d+)\. /gm)].map(([, n]) => Number(n));
    expect(numbers.length).to.be.greaterThan(60);
    expect(numbers, "consecutive row numbers").to.deep.equal(numbers.map((_, i) => i + 1));
    const covered = new Set<number>();
    // Each row's own text runs to the next row; a "Tested (rows a to b)" line covers a..b, a plain one its row.
    const items = security.split(/^(?=\d+\. )/m).slice(1);
    for (const item of items) {
      const row = Number(item.match(/^(\d+)\./)?.[1]);
      for (const [, range, a, b] of item.matchAll(
        /^\s+- Tested(?: through [^:]*)?(?: \((rows (\d+) (?:to|and) (\d+))\))?/gm,
      )) {
        if (range === undefined) covered.add(row);
        else for (let n = Number(a); n <= Number(b); n++) covered.add(n);
      }
    }
    expect(
      numbers.filter((n) => !covered.has(n)),
      "rows without a 'Tested' line",
    ).to.deep.equal([]);
    const named = [...security.matchAll(/`((?:test|scripts|contracts|client|sdk)\/[^`\s]+)`/g)].flatMap(([, p]) =>
      expandBraces(p),
    );
    expect(named.length).to.be.greaterThan(60);
    for (const p of named) expect(exists(p), `docs/security.md names ${p}`).to.equal(true);
  });
});
