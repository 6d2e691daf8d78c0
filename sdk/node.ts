// The SDK's Node entry point (`piecepay/sdk/node`): everything of the universal entry point (sdk/index.ts), plus
// what only Node has: the SQLite channel store, the encrypted keystore on disk, libsecp256k1 for voucher checks
// (installed on import; see native-recover.ts), and state hashes and signatures for a busy server (state-signer.ts).
// A Node app imports from here, or from both entry points: the classes and functions are the same objects.
import "./native-recover.js";

export * from "./index.js";
export { loadKeystore, saveKeystore } from "./keystore.js";
export { fastChannelId, fastSignState, fastStateHash, stateHashBytes, useStateSignerBackend } from "./state-signer.js";
export { SqliteChannelStore, type SqliteStoreOptions } from "./store/sqlite.js";
