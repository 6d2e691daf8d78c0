// The parent's side of a seeder (payee) process (processes/seeder.ts), for scenario 4 and the crash tests: send commands, read answers, kill it with SIGKILL.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { fromJson, toJson } from "../../../sdk/index.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSX = `${ROOT}node_modules/tsx/dist/cli.mjs`;
const SCRIPT = fileURLToPath(new URL("./seeder.ts", import.meta.url));

export interface Answer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** A seeder process: `call` sends a command and resolves with its result; `onAnswer` sees every answer. */
export class SeederProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, (answer: Answer) => void>();
  readonly ready: Promise<void>;
  onAnswer: (answer: Answer) => void = () => {};
  #next = 0;

  constructor(args: string[], key: string) {
    this.#child = spawn(process.execPath, [TSX, SCRIPT, ...args], {
      cwd: ROOT,
      env: { ...process.env, PIECEPAY_SIM_KEY: key },
    });
    let stderr = "";
    this.#child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once("exit", (code) => reject(new Error(`the seeder process exited (${code}): ${stderr}`)));
      createInterface({ input: this.#child.stdout }).on("line", (line) => {
        const message = fromJson(line) as Answer & { ready?: boolean };
        if (message.ready) return resolve();
        this.onAnswer(message);
        this.#waiting.get(message.id)?.(message);
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Sends a command without waiting; returns its id. */
  post(op: string, arg?: unknown): number {
    const id = this.#next++;
    this.#child.stdin.write(`${toJson({ id, op, arg })}\n`);
    return id;
  }

  /** Sends a command and resolves with its answer, failed or not. */
  send(op: string, arg?: unknown): Promise<Answer> {
    const answered = new Promise<Answer>((resolve) => this.#waiting.set(this.#next, resolve));
    this.post(op, arg);
    return answered;
  }

  async call(op: string, arg?: unknown): Promise<unknown> {
    const answer = await this.send(op, arg);
    if (!answer.ok) throw new Error(`${op}: ${answer.error}`);
    return answer.result;
  }

  /** SIGKILL: no cleanup, no flush, as when the machine loses power. */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.kill("SIGKILL");
    await exited;
  }
}
