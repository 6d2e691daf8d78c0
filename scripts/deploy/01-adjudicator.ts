// Step 01: the adjudicator, which holds every channel's funds and runs the dispute game. No constructor
// arguments, no immutables.
import { type DeployContext, deployOrReuse } from "./lib.js";

export default async function deployAdjudicator(ctx: DeployContext): Promise<string> {
  return (await deployOrReuse(ctx, "contracts/Adjudicator.sol:Adjudicator")).address;
}
