// Step 04: the virtual voucher app, named as `appDefinition` by the hub's virtual channels [payer, hub, payee]
// (ADR 0021, decisions 1 and 2). Stateless: no constructor arguments, no immutables, no other contract's address.
import { type DeployContext, deployOrReuse } from "./lib.js";

export default async function deployVirtualVoucherApp(ctx: DeployContext): Promise<string> {
  return (await deployOrReuse(ctx, "contracts/VirtualVoucherApp.sol:VirtualVoucherApp")).address;
}
