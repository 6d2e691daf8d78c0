// Fails unless every line of production Solidity (contracts/ outside contracts/test/) was executed, reading the
// lcov report that `hardhat test --coverage` writes.
//
//   npm run coverage            runs every test with coverage, then this gate
import { readFileSync } from "node:fs";

const report = readFileSync(new URL("../coverage/lcov.info", import.meta.url), "utf8");
let failed = false;
let files = 0;
for (const record of report.split("end_of_record")) {
  const file = /^SF:(.*)$/m.exec(record)?.[1]?.trim();
  if (file === undefined) continue;
  const relative = file.slice(file.indexOf("contracts/"));
  if (!relative.startsWith("contracts/") || relative.startsWith("contracts/test/")) continue;
  files++;
  const uncovered = [...record.matchAll(/^DA:(\d+),(\d+)/gm)].filter((m) => m[2] === "0").map((m) => Number(m[1]));
  const found = Number(/^LF:(\d+)/m.exec(record)?.[1] ?? 0);
  const hit = Number(/^LH:(\d+)/m.exec(record)?.[1] ?? 0);
  const line = `${relative}: ${hit}/${found} lines`;
  if (uncovered.length > 0 || hit < found) {
    failed = true;
    console.error(`${line}; not covered: ${uncovered.join(", ")}`);
  } else {
    console.log(line);
  }
}
if (files === 0) {
  console.error("no production contract in coverage/lcov.info");
  process.exit(1);
}
if (failed) {
  console.error("coverage gate: every line of contracts/ (outside contracts/test/) must be covered");
  process.exit(1);
}
console.log(`coverage gate: 100% of lines in ${files} production files`);
