// The import graph of the repository's TypeScript, read from the sources as written: static imports and re-exports
// (`import type` included: a type import is a dependency too), side-effect imports, `import("...")` and
// `require("...")` with a string literal. Comments, template literals and strings other than specifiers are blanked
// first, so that an example in a JSDoc block or code held in a string is not taken for an import. For test/ts/sdk/import-boundaries.test.ts.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";

export type ImportKind = "static" | "type" | "dynamic" | "require";

export interface Import {
  /** The specifier as written. */
  specifier: string;
  kind: ImportKind;
  /** 1-based line of the import in its file. */
  line: number;
}

export interface Edge extends Import {
  /** The importing file, relative to the root. */
  from: string;
  /** A file relative to the root, or a package: "ethers", "@noble/curves", "node:fs" (built-ins always so). */
  to: string;
  /** Whether `to` is a file of the repository. */
  local: boolean;
}

/** Where the sources are: a directory on disk, or files given as text (a fixture). */
export interface Sources {
  read(file: string): string | undefined;
  exists(file: string): boolean;
  /** The files under `dir` (relative to the root), recursively. */
  list(dir: string): string[];
}

/** The repository (or any directory) on disk. */
export function diskSources(root: string): Sources {
  const list = (dir: string): string[] => {
    const abs = path.join(root, dir);
    if (!existsSync(abs)) return [];
    return readdirSync(abs, { withFileTypes: true }).flatMap((entry) => {
      const rel = path.posix.join(dir, entry.name);
      return entry.isDirectory() ? list(rel) : [rel];
    });
  };
  return {
    read: (file) => (existsSync(path.join(root, file)) ? readFileSync(path.join(root, file), "utf8") : undefined),
    exists: (file) => existsSync(path.join(root, file)) && statSync(path.join(root, file)).isFile(),
    list,
  };
}

/** Files given as text, by path: for showing that a rule catches what it is meant to. */
export function memorySources(files: Record<string, string>): Sources {
  return {
    read: (file) => files[file],
    exists: (file) => file in files,
    list: (dir) => Object.keys(files).filter((file) => file.startsWith(`${dir}/`)),
  };
}

const KEYWORDS_BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "instanceof",
  "yield",
  "await",
]);

/**
 * `source` with every comment, every template literal's text and every quoted string that is not a module specifier
 * replaced by spaces (line breaks kept, so lines still count).
 */
export function blankCommentsAndTemplates(source: string): string {
  const out = source.split("");
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== "\n") out[i] = " ";
  };
  // Each open template literal's `${` nesting: when a `}` closes it, the template's text resumes.
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  let previous = ""; // the last significant character or word of code, to tell a regex from a division
  let beforePrevious = ""; // the one before it (`import` in `import(`)
  const n = source.length;
  const template = () => {
    // from just after a backtick or a `}` that resumes the text, to the closing backtick or a `${`
    const start = i;
    while (i < n) {
      if (source[i] === "\\") i += 2;
      else if (source[i] === "`") {
        blank(start, i);
        i++;
        previous = "`";
        return;
      } else if (source[i] === "$" && source[i + 1] === "{") {
        blank(start, i);
        i += 2;
        templates.push(depth);
        depth = 0;
        previous = "{";
        return;
      } else i++;
    }
    blank(start, n);
  };
  while (i < n) {
    const c = source[i];
    if (c === "/" && source[i + 1] === "/") {
      const end = source.indexOf("\n", i);
      blank(i, end < 0 ? n : end);
      i = end < 0 ? n : end;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      blank(i, end < 0 ? n : end + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      // A module specifier is kept (after `from`, `import`, `import(`, `require(`); any other string is blanked, so
      // that code held in a string (a child process's script, say) is not taken for an import.
      const specifier =
        previous === "from" ||
        previous === "import" ||
        (previous === "(" && (beforePrevious === "import" || beforePrevious === "require"));
      const start = i + 1;
      i++;
      while (i < n && source[i] !== c && source[i] !== "\n") i += source[i] === "\\" ? 2 : 1;
      if (!specifier) blank(start, Math.min(i, n));
      i++;
      previous = c;
    } else if (c === "`") {
      i++;
      template();
    } else if (
      c === "/" &&
      (previous === "" || /[(,=:[!&|?{};+\-*%<>~^]/.test(previous) || KEYWORDS_BEFORE_REGEX.has(previous))
    ) {
      // a regular expression literal: to its closing slash outside a character class, then its flags
      let inClass = false;
      i++;
      while (i < n && source[i] !== "\n") {
        if (source[i] === "\\") i++;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        else if (source[i] === "/" && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /[a-z]/i.test(source[i])) i++;
      previous = "/regex";
    } else if (c === "{") {
      depth++;
      previous = c;
      i++;
    } else if (c === "}") {
      if (depth === 0 && templates.length > 0) {
        depth = templates.pop() as number;
        i++;
        template();
      } else {
        depth--;
        previous = c;
        i++;
      }
    } else if (/[A-Za-z_$]/.test(c)) {
      const start = i;
      while (i < n && /[\w$]/.test(source[i])) i++;
      beforePrevious = previous;
      previous = source.slice(start, i);
    } else {
      if (!/\s/.test(c)) {
        beforePrevious = previous;
        previous = c;
      }
      i++;
    }
  }
  return out.join("");
}

const STATIC =
  /^[ \t]*(import|export)\s+(type\s+)?((?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+))\s*from\s*(["'])([^"'\n]+)\4/gm;
const SIDE_EFFECT = /^[ \t]*import\s*(["'])([^"'\n]+)\1/gm;
const DYNAMIC = /\bimport\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g;
const ANY_DYNAMIC = /\bimport\s*\(/g;
const REQUIRE = /\brequire\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g;

/** The imports of one file's source. */
export function importsOf(source: string): { imports: Import[]; nonLiteralDynamic: number[] } {
  const code = blankCommentsAndTemplates(source);
  const lineAt = (index: number) => code.slice(0, index).split("\n").length;
  const imports: Import[] = [];
  for (const m of code.matchAll(STATIC)) {
    const names = m[3].startsWith("{")
      ? m[3]
          .slice(1, -1)
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
    const typeOnly = m[2] !== undefined || (names.length > 0 && names.every((name) => name.startsWith("type ")));
    imports.push({ specifier: m[5], kind: typeOnly ? "type" : "static", line: lineAt(m.index) });
  }
  for (const m of code.matchAll(SIDE_EFFECT)) imports.push({ specifier: m[2], kind: "static", line: lineAt(m.index) });
  const literal = new Set<number>();
  for (const m of code.matchAll(DYNAMIC)) {
    literal.add(m.index);
    imports.push({ specifier: m[2], kind: "dynamic", line: lineAt(m.index) });
  }
  for (const m of code.matchAll(REQUIRE)) imports.push({ specifier: m[2], kind: "require", line: lineAt(m.index) });
  const nonLiteralDynamic = [...code.matchAll(ANY_DYNAMIC)]
    .filter((m) => !literal.has(m.index))
    .map((m) => lineAt(m.index));
  return { imports: imports.sort((a, b) => a.line - b.line), nonLiteralDynamic };
}

const BUILTINS = new Set(builtinModules);

/** The package a bare specifier names: "ethers", "@noble/curves", or "node:fs" for a built-in. */
export function packageOf(specifier: string): string {
  if (specifier.startsWith("node:")) return `node:${specifier.slice(5).split("/")[0]}`;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  return BUILTINS.has(name) ? `node:${name}` : name;
}

/**
 * The repository's import graph from the files under `dirs`, following local imports wherever they lead (into
 * typechain-types/, say). `selfName` and `selfExports` map the package's own name (`piecepay/sdk`) to its files.
 * Throws on a local import that names no file: a broken import is not a boundary to judge.
 */
export function importGraph(
  sources: Sources,
  dirs: string[],
  self: { name: string; exports: Record<string, string> } = { name: "", exports: {} },
): { edges: Edge[]; files: string[]; nonLiteralDynamic: { file: string; line: number }[] } {
  const edges: Edge[] = [];
  const nonLiteralDynamic: { file: string; line: number }[] = [];
  const isSource = (file: string) => /\.(ts|tsx|mts|mjs|js)$/.test(file) && !file.endsWith(".d.ts");
  const queue = dirs.flatMap((dir) => sources.list(dir)).filter(isSource);
  const seen = new Set(queue);
  const resolveLocal = (from: string, specifier: string): string | undefined => {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
    const candidates = [
      base,
      base.replace(/\.js$/, ".ts"),
      base.replace(/\.js$/, ".tsx"),
      base.replace(/\.mjs$/, ".mts"),
      `${base}.ts`,
      `${base}/index.ts`,
    ];
    return candidates.find((file) => sources.exists(file));
  };
  while (queue.length > 0) {
    const file = queue.shift() as string;
    const source = sources.read(file) ?? "";
    const found = importsOf(source);
    for (const line of found.nonLiteralDynamic) nonLiteralDynamic.push({ file, line });
    for (const imported of found.imports) {
      const { specifier } = imported;
      let to: string | undefined;
      if (specifier.startsWith(".")) to = resolveLocal(file, specifier);
      else if (self.name && (specifier === self.name || specifier.startsWith(`${self.name}/`))) {
        const target = self.exports[`.${specifier.slice(self.name.length)}`];
        to = target === undefined ? undefined : path.posix.normalize(target);
      } else {
        edges.push({ ...imported, from: file, to: packageOf(specifier), local: false });
        continue;
      }
      if (to === undefined) throw new Error(`${file}:${imported.line}: "${specifier}" names no file`);
      edges.push({ ...imported, from: file, to, local: true });
      if (!seen.has(to) && isSource(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return { edges, files: [...seen].sort(), nonLiteralDynamic };
}

/** The files reachable from `start` over the edges that `follow` accepts (start included). */
export function reachable(edges: Edge[], start: string[], follow: (edge: Edge) => boolean = () => true): Set<string> {
  const out = new Set(start);
  const queue = [...start];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const edge of edges) {
      if (edge.from !== file || !edge.local || !follow(edge) || out.has(edge.to)) continue;
      out.add(edge.to);
      queue.push(edge.to);
    }
  }
  return out;
}

/** The import cycles among `files` (strongly connected components of more than one file, or a file importing itself). */
export function cycles(edges: Edge[], files: string[]): string[][] {
  const inside = new Set(files);
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (e.local && inside.has(e.from) && inside.has(e.to)) next.get(e.from)?.push(e.to);
  // Tarjan's algorithm
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, order.get(w) as number));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)?.includes(v)) found.push(component.sort());
    }
  };
  for (const f of files) if (!order.has(f)) visit(f);
  return found;
}
