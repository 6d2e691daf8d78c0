// Every value the SDK exports carries JSDoc with an example: the SDK's documentation is its source.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import * as actions from "../../../sdk/actions/index.js";
import * as sdk from "../../../sdk/index.js";

const sdkDir = new URL("../../../sdk/", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [readFileSync(join(dir, entry.name), "utf8")]
        : [],
  );
}

/** The JSDoc block right before `export ... name`, if any. */
function docOf(name: string, files: string[]): string | undefined {
  const declaration = new RegExp(`export (?:async )?(?:function|class|const) ${name}\\b`);
  for (const text of files) {
    const at = text.search(declaration);
    if (at < 0) continue;
    const before = text.slice(0, at).trimEnd();
    if (!before.endsWith("*/")) return "";
    return before.slice(before.lastIndexOf("/**"));
  }
  return undefined;
}

describe("SDK documentation", function () {
  it("documents every exported value with JSDoc that has an @example", function () {
    const files = sources(sdkDir);
    const missing = [...Object.keys(sdk), ...Object.keys(actions)].filter(
      (name) => !docOf(name, files)?.includes("@example"),
    );
    expect(missing, `exports without an @example: ${missing.join(", ")}`).to.deep.equal([]);
  });
});
