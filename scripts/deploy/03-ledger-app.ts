// Step 03: the ledger app, named as `appDefinition` by the hub's ledger channels [user, hub] (ADR 0021, decision 1).
// Stateless: no constructor arguments, no immutables, and it does not depend on the other contracts' addresses.
import { type DeployContext, deployOrReuse } from "./lib.js";

export default async function deployLedgerApp(ctx: DeployContext): Promise<string> {
  return (await deployOrReuse(ctx, "contracts/LedgerApp.sol:LedgerApp")).address;
}
