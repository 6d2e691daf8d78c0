// What `piecepay/sdk` resolves to under Node's resolver (the "node" condition of package.json "exports"): the
// universal entry point, with libsecp256k1 installed for voucher checks, so that the runtime, not the app, picks the
// fast verifier. Bundlers for the browser resolve `piecepay/sdk` to sdk/index.ts itself.
import "./native-recover.js";

export * from "./index.js";
