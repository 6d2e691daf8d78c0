// What `piecepay/sdk/actions` resolves to under Node's resolver: the actions, with libsecp256k1 installed for
// voucher checks (as `piecepay/sdk` does), so that an app that imports only the actions still gets the fast verifier.
import "../native-recover.js";

export * from "./index.js";
