// Every benchmark, one after another, each measured in this one run: voucher verifications per second
// (bench-vouchers.ts), paid vs unpaid torrenting (bench-client.ts), how fast two peers find each other through the
// DHT (bench-discovery.ts), the paying swarm's origin share and each downloader's net (bench-swarm.ts), then a free
// download from a plain aria2 seeder against aria2's own (bench-plain.ts).
// Usage: tsx scripts/bench.ts [--json] [bench-client flags]; with --json, one JSON object { vouchers, client,
// discovery, swarm, plain }.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
if (args.includes("--help")) {
  console.log(
    "Usage: npm run bench -- [--json] [flags of bench:client]\n\n" +
      "Runs bench:vouchers, bench:client (see npm run bench:client -- --help), bench:discovery, bench:swarm, then\n" +
      "bench:plain (with its defaults; it needs Debian's aria2 and transmission-cli); --json prints one object.",
  );
  process.exit(0);
}
const json = args.includes("--json");

/** Runs one benchmark script under this Node with tsx; returns its stdout (or streams it, without --json). */
function run(script: string, flags: string[]): string {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawnSync(process.execPath, ["--import", "tsx", path, ...flags], {
    stdio: ["ignore", json ? "pipe" : "inherit", "inherit"],
    encoding: "utf8",
  });
  if (child.status !== 0) process.exit(child.status ?? 1);
  return child.stdout ?? "";
}

const vouchers = run("./bench-vouchers.ts", json ? ["--json"] : []);
if (!json) console.log("");
const client = run("./bench-client.ts", args);
if (!json) console.log("");
const discovery = run("./bench-discovery.ts", json ? ["--json"] : []);
if (!json) console.log("");
const swarm = run("./bench-swarm.ts", json ? ["--json"] : []);
if (!json) console.log("");
const plain = run("./bench-plain.ts", json ? ["--json"] : []);
if (json) {
  console.log(
    JSON.stringify({
      vouchers: JSON.parse(vouchers),
      client: JSON.parse(client),
      discovery: JSON.parse(discovery),
      swarm: JSON.parse(swarm),
      plain: JSON.parse(plain),
    }),
  );
}
