// The SDK has one entry point; adding or removing an export is a decision, so it must show up here.
import { expect } from "chai";
import * as sdk from "../../../sdk/index.js";

describe("sdk/index.ts", function () {
  it("exports exactly the documented names", function () {
    expect(Object.keys(sdk).sort()).to.deep.equal(
      [
        "adjudicatorInterface",
        "challengeHash",
        "channelId",
        "computePayouts",
        "ChannelWatcher",
        "ContractRevertError",
        "decodeContractError",
        "PiecepayClient",
        "createVoucher",
        "PiecepayError",
        "recoverPersonalSigner",
        "signatureBackend",
        "splitOutcome",
        "SqliteChannelStore",
        "useSignatureBackend",
        "VoucherError",
        "verifyVoucher",
        "decodeVoucher",
        "encodeVoucher",
        "fingerprint",
        "fixedPartType",
        "fundingState",
        "gasSpentSince",
        "isExternalDestination",
        "loadKeystore",
        "saveKeystore",
        "outcomeHash",
        "outcomeType",
        "packStatus",
        "signBy",
        "signChallenge",
        "signState",
        "signVoucher",
        "signedVariablePartType",
        "stateHash",
        "toDestination",
        "toSigned",
        "unpackStatus",
        "variablePartFromEvent",
        "variablePartType",
        "voucherHash",
        "VOUCHER_LENGTH",
      ].sort(),
    );
  });
});
