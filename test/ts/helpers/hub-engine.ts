// The hub's engine on Hardhat's in-process chain, behind its WebSocket API on a free port: what the hub's tests
// (hub-exit, hub-hostile, hub-topup) start, each with its own store, fee and capacity. Its deposits are sent by the
// hub's key, a token's approved first, as `piecepay hub` does.
import { Contract, type Signer, ZeroAddress } from "ethers";
import { Hub, type HubOptions } from "../../../client/hub/hub.js";
import { type RpcHandler, type RpcServer, startRpcServer } from "../../../client/hub/rpc-server.js";
import type { Adjudicator } from "../../../typechain-types/index.js";

/** What the engine needs of a test's fixture: the chain, the deployed apps and the hub's key. */
export interface HubChainFixture {
  adjudicator: Adjudicator;
  adjudicatorAddress: string;
  chainId: bigint;
  ledgerApp: string;
  virtualApp: string;
  hubKey: Signer;
}

/** Starts the engine on `f`'s chain with `options`; `handlers` replace some of its API (a hostile hub). */
export async function startHubEngine(
  f: HubChainFixture,
  options: Omit<HubOptions, "signer" | "chainId" | "adjudicator" | "ledgerApp" | "virtualApp" | "chain"> & {
    handlers?: Record<string, RpcHandler>;
  },
): Promise<{ hub: Hub; server: RpcServer }> {
  const { handlers, ...rest } = options;
  const hub = new Hub({
    ...rest,
    signer: f.hubKey,
    chainId: f.chainId,
    adjudicator: f.adjudicatorAddress,
    ledgerApp: f.ledgerApp,
    virtualApp: f.virtualApp,
    chain: {
      holdings: (asset, id) => f.adjudicator.holdings(asset, id),
      deposit: async (asset, id, expectedHeld, amount) => {
        if (asset !== ZeroAddress) {
          const token = new Contract(asset, ["function approve(address, uint256) returns (bool)"], f.hubKey);
          await (await token.approve(f.adjudicatorAddress, amount)).wait();
        }
        const value = asset === ZeroAddress ? amount : 0n;
        await (await f.adjudicator.connect(f.hubKey).deposit(asset, id, expectedHeld, amount, { value })).wait();
      },
    },
  });
  await hub.start();
  const server = await startRpcServer({
    host: "127.0.0.1",
    port: 0,
    handlers: { ...hub.handlers(), ...handlers },
    log: () => {},
    onClose: (connection) => hub.disconnected(connection),
  });
  return { hub, server };
}
