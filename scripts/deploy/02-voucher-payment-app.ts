// Step 02: the voucher payment app, named as `appDefinition` by voucher channels. Stateless: no constructor
// arguments, no immutables, and it does not depend on the adjudicator's address.
import { type DeployContext, deployOrReuse } from "./lib.js";

export default async function deployVoucherPaymentApp(ctx: DeployContext): Promise<string> {
  return (await deployOrReuse(ctx, "contracts/VoucherPaymentApp.sol:VoucherPaymentApp")).address;
}
