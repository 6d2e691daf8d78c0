// The keystore password: from PIECEPAY_PASSWORD, else asked on the terminal without echo. Never printed, never
// logged, never part of an error message.
import { CliError } from "./command.js";

/**
 * Returns the password for a keystore: PIECEPAY_PASSWORD when set, else a prompt on the terminal (typed twice
 * when `confirm`, e.g. for a new keystore).
 * @throws CliError when there is neither the variable nor a terminal, or the two entries differ
 */
export async function readPassword(prompt: string, options: { confirm?: boolean } = {}): Promise<string> {
  const fromEnv = process.env.PIECEPAY_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!process.stdin.isTTY || typeof process.stdin.setRawMode !== "function") {
    throw new CliError(
      "the keystore needs a password and there is no terminal to ask for it",
      "set PIECEPAY_PASSWORD in the environment, or run the command in a terminal",
    );
  }
  const password = await askHidden(`${prompt}: `);
  if (options.confirm && (await askHidden("repeat it: ")) !== password) {
    throw new CliError("the two passwords differ", "run the command again");
  }
  return password;
}

/** Reads one line from the terminal in raw mode, echoing nothing. Ctrl-C cancels (exit code 130). */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let typed = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n" || char === "\u0004") return finish();
        if (char === "\u0003") return finish(new CliError("cancelled", undefined, { exitCode: 130 }));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else if (char >= " ") typed += char;
      }
    };
    stdin.on("data", onData);
  });
}
