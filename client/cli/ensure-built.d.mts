// Types of ensure-built.mjs (plain JavaScript: it runs before anything imports the SDK).
/** The line printed before a compile. */
export declare const COMPILING: string;
/** Whether typechain-types/ or the artifacts are missing, or older than a contract or the Hardhat config. */
export declare function needsBuild(): boolean;
/** Runs `hardhat build --quiet` when needed (or always), printing COMPILING first when needed. */
export declare function ensureBuilt(options?: { always?: boolean }): void;
/** Records that a build just succeeded. */
export declare function markBuilt(): void;
