// Node's `path` (POSIX) for webtorrent's browser build, which imports it (webtorrent, parse-torrent and
// create-torrent join and split the file paths inside a torrent). webtorrent's own build maps it to `path-esm`;
// this is the part those modules call, with Node's semantics: `..` and `.` resolved, one separator. A bundle for a
// page maps `path` here (test/ts/helpers/browser-bundle.ts; docs/adr/0015-the-paid-session-in-a-browser.md).

export const sep = "/";
export const delimiter = ":";

/** `path` with `.` and `..` resolved and repeated separators merged, as Node's posix `normalize`. */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else out.push(part);
  }
  let joined = out.join("/");
  if (joined === "" && !absolute) joined = ".";
  if (trailing && joined !== "") joined += "/";
  return absolute ? `/${joined}` : joined;
}

export function join(...parts: string[]): string {
  const nonEmpty = parts.filter((part) => part !== "");
  return nonEmpty.length === 0 ? "." : normalize(nonEmpty.join("/"));
}

/** Joins from the right until the path is absolute; a page has no working directory, so "/" stands for it. */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !path.startsWith("/"); i--) {
    if (parts[i] !== "") path = path === "" ? parts[i] : `${parts[i]}/${path}`;
  }
  const resolved = normalize(`/${path}`);
  return resolved.length > 1 && resolved.endsWith("/") ? resolved.slice(0, -1) : resolved;
}

export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

export function dirname(path: string): string {
  if (/^\/+$/.test(path)) return "/";
  const trimmed = path.replace(/\/+$/, "");
  const at = trimmed.lastIndexOf("/");
  if (at < 0) return ".";
  return at === 0 ? "/" : trimmed.slice(0, at);
}

export function basename(path: string, extension?: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return extension !== undefined && extension !== base && base.endsWith(extension)
    ? base.slice(0, -extension.length)
    : base;
}

export function extname(path: string): string {
  const base = basename(path);
  const at = base.lastIndexOf(".");
  return at <= 0 || base === ".." ? "" : base.slice(at);
}

const path = { sep, delimiter, normalize, join, resolve, isAbsolute, dirname, basename, extname };
export const posix = path;
export default path;
