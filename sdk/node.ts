// The SDK's Node entry point (`piecepay/sdk/node`): everything of the universal entry point (sdk/index.ts), plus
// what only Node has: the SQLite channel store, the encrypted keystore on disk, and libsecp256k1 for voucher checks
// (installed on import; see native-recover.ts). A Node app imports from here, or from both entry points: the
// classes and functions are the same objects.
import "./native-recover.js";

export * from "./index.js";
export { loadKeystore, saveKeystore } from "./keystore.js";
export { SqliteChannelStore } from "./store/sqlite.js";
