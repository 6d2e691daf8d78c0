// The sessions' emitter (client/session/emitter.ts) behaves as Node's EventEmitter did for them: the same script of
// on, once, prepend, off and emit, including changes made while an emit runs, gives the same calls in the same order
// on both.
import { EventEmitter } from "node:events";
import { expect } from "chai";
import { Emitter } from "../../../client/session/emitter.js";

type Events = { a: [n: number]; b: [] };

/** What a script of calls does on `emitter`: every listener call, in order, and what each emit returned. */
function run(emitter: Emitter<Events> | EventEmitter): string[] {
  const e = emitter as Emitter<Events>;
  const log: string[] = [];
  const first = (n: number) => log.push(`first ${n}`);
  const second = (n: number) => log.push(`second ${n}`);
  const once = (n: number) => log.push(`once ${n}`);
  const adder = (n: number) => {
    log.push(`adder ${n}`);
    e.on("a", (m) => log.push(`added by ${n}: ${m}`)); // not called by the emit that adds it
    e.off("a", second); // still called by this emit: the list was copied
  };
  e.on("a", first);
  e.on("a", adder);
  e.on("a", second);
  e.once("a", once);
  e.prependListener("a", (n) => log.push(`prepended ${n}`));
  log.push(`emit 1: ${e.emit("a", 1)}`);
  e.off("a", adder);
  log.push(`emit 2: ${e.emit("a", 2)}`);
  e.once("a", once);
  e.off("a", once); // a once listener is removed by the function given
  log.push(`emit 3: ${e.emit("a", 3)}`);
  log.push(`b: ${e.emit("b")}, count a: ${e.listenerCount("a")}`);
  e.on("a", first);
  e.off("a", first); // the most recent registration goes
  log.push(`count after on/off: ${e.listenerCount("a")}`);
  e.removeAllListeners("a");
  log.push(`emit 4: ${e.emit("a", 4)}`);
  return log;
}

describe("client/session/emitter", function () {
  it("calls what Node's EventEmitter calls, in the same order, for the same script", function () {
    const ours = run(new Emitter<Events>());
    expect(ours).to.deep.equal(run(new EventEmitter()));
    expect(ours.slice(0, 6)).to.deep.equal(["prepended 1", "first 1", "adder 1", "second 1", "once 1", "emit 1: true"]);
  });

  it("lets a listener's error reach the caller of emit, and stops the emit there", function () {
    const e = new Emitter<Events>();
    const called: number[] = [];
    e.on("a", () => {
      throw new Error("listener failed");
    });
    e.on("a", (n) => called.push(n));
    expect(() => e.emit("a", 1)).to.throw("listener failed");
    expect(called).to.deep.equal([]);
  });
});
