// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../../contracts/Adjudicator.sol";
import {IAdjudicator} from "../../contracts/interfaces/IAdjudicator.sol";
import {
    Allocation,
    ChannelId,
    FixedPart,
    Owed,
    Registration,
    SignedVariablePart,
    SingleAssetExit,
    VariablePart
} from "../../contracts/interfaces/ChannelTypes.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";
import {ChannelBuilder} from "./utils/ChannelBuilder.sol";
import {Vm, VM} from "./utils/Vm.sol";

/// @notice Drives a hub's channels at random for the hub invariants (ADR 0021, decisions 1, 3 and 8): leecher L,
/// hub H, seeder S; ledger A = [L, H] and ledger B = [S, H], each guaranteeing three virtual channels
/// V = [L, H, S] (V0 and V1 in ETH, V2 in tokens) with the same amount x. It deposits into any channel (the
/// virtual channels included, which nobody is meant to do), finalizes ledgers (conclusion, conclusion with payout,
/// challenges) and virtual channels (the final state [x - p - fee, fee, p] signed by all three, or a challenge with
/// V0 = [x, 0, 0] or with such a state), lets time pass, pays out any channel, reclaims each guarantee in any
/// order, and tries reclaims with one wrong argument. Ghost variables record what succeeded, measured on chain
/// (balances, holdings, statuses, PaidOut and Reclaimed events), and anything that must never happen;
/// HubInvariants.t.sol checks them after every call.
/// @dev Every state is signed by all its participants, so the app is never consulted (ADR 0021: a ledger state
/// always is; a virtual channel's voucher states are VirtualVoucherApp's, not yet on main), and APP is an address
/// with no code. Every call catches the adjudicator's reverts so that the mirrors only follow what succeeded.
// solhint-disable-next-line max-states-count
contract HubHandler is ChannelBuilder {
    uint256 public constant LEDGERS = 2;
    uint256 public constant VIRTUALS = 3;
    uint256 public constant CHANNELS = LEDGERS + VIRTUALS;
    /// @dev The hub's fee in basis points, packed in each virtual channel's nonce (ADR 0021, decision 1).
    uint256 public constant FEE_BPS = 250;
    uint256 internal constant ALL_THREE = 0x7;
    uint256 internal constant USER = 0;
    uint256 internal constant HUB = 1;
    uint256 internal constant PAYER = 0;
    uint256 internal constant PAYEE = 2;
    address internal constant APP = address(0xA99);
    uint256 internal constant L_KEY = 0xD001;
    uint256 internal constant H_KEY = 0xD002;
    uint256 internal constant S_KEY = 0xD003;
    uint256 internal constant MAX_BALANCE = 5 ether;

    Adjudicator public immutable adjudicator;
    TestToken public immutable token;
    address public immutable leecher;
    address public immutable hub;
    address public immutable seeder;

    /// @dev Channels 0 (A) and 1 (B) are the ledgers, 2 + k the virtual channel Vk.
    FixedPart[CHANNELS] internal _fixedParts;
    ChannelId[CHANNELS] public channelIds;
    /// @notice x: what each virtual channel's outcome adds up to, and each ledger's guarantee for it.
    uint256[VIRTUALS] public virtualAmount;

    // ---------------------------------------------------------------------------------- mirror of each channel

    uint256 public currentTime;
    bool[CHANNELS] public registered;
    bytes32[CHANNELS] public registeredStateHash;
    /// @dev abi.encode(SingleAssetExit[]): the registered outcome, and what is still owed of it.
    bytes[CHANNELS] internal _registeredOutcome;
    bytes[CHANNELS] internal _owed;
    uint256[CHANNELS] public committedEth;

    // ------------------------------------------------------------------------------------------------- ghosts

    mapping(address asset => uint256 amount) public totalDeposited;
    mapping(address asset => uint256 amount) public totalPaidOut;
    /// @notice Per channel and asset (0 ETH, 1 token): what went in by deposits and out by payouts.
    uint256[2][CHANNELS] public depositedInto;
    uint256[2][CHANNELS] public paidOutOf;
    /// @notice What each virtual channel's own payouts paid its payer, hub and payee.
    uint256[3][VIRTUALS] public paidByVirtual;

    /// @notice Per ledger and virtual channel, once its guarantee is reclaimed: what the ledger's user and hub
    /// gained, what the virtual channel still owed the user then, and what its payouts had paid the user by then.
    bool[VIRTUALS][LEDGERS] public reclaimed;
    uint256[VIRTUALS][LEDGERS] public userGain;
    uint256[VIRTUALS][LEDGERS] public hubGain;
    uint256[VIRTUALS][LEDGERS] public owedToUserAtReclaim;
    uint256[VIRTUALS][LEDGERS] public paidToUserBeforeReclaim;

    /// @dev Things that must never happen; each must stay 0.
    uint256 public reclaimMovedHoldings;
    uint256 public reclaimNotAsSpecified;
    uint256 public virtualStatusTouched;
    uint256 public wrongReclaimAccepted;
    uint256 public reclaimRefused;
    uint256 public paidToChannelId;
    uint256 public channelCredited;
    uint256 public guaranteeNamedPaid;
    uint256 public payoutNotMatchingDebit;
    uint256 public allocationPaidMoreThanOwed;
    uint256 public owedOutcomeRefused;
    uint256 public ethMirrorWrong;
    /// @dev Successful calls per action, to show the runs reach every part of the game.
    mapping(bytes32 action => uint256 count) public succeeded;

    /// @dev Everything a call may change: each channel's status and holdings, the adjudicator's and each party's
    /// balances (index 0 ETH, 1 token).
    struct Snapshot {
        uint256[CHANNELS] status;
        uint256[2][CHANNELS] held;
        uint256[2] adjudicatorBalance;
        uint256[2][3] party;
    }

    constructor() {
        adjudicator = new Adjudicator();
        token = new TestToken();
        leecher = VM.addr(L_KEY);
        hub = VM.addr(H_KEY);
        seeder = VM.addr(S_KEY);
        // Ledgers outlast the virtual channels (ADR 0021, decision 8).
        _fixedParts[0] = _fixedPart(leecher, hub, 1, APP, 1 days);
        _fixedParts[1] = _fixedPart(seeder, hub, 2, APP, 2 hours);
        for (uint256 k; k < VIRTUALS; ++k) {
            address[] memory participants = new address[](3);
            (participants[PAYER], participants[1], participants[PAYEE]) = (leecher, hub, seeder);
            _fixedParts[LEDGERS + k] = FixedPart(participants, uint64(FEE_BPS << 48 | k), APP, 1 hours);
            virtualAmount[k] = (k + 2) * 1 ether;
        }
        for (uint256 c; c < CHANNELS; ++c) {
            channelIds[c] = adjudicator.channelIdOf(_fixedParts[c]);
        }
        token.approve(address(adjudicator), type(uint256).max);
        currentTime = block.timestamp;
    }

    modifier step() {
        VM.warp(currentTime);
        _;
    }

    // -------------------------------------------------------------------------------------------- actions

    /// @notice Deposits ETH or tokens into any channel, a virtual channel included (refused for ETH once a state is
    /// registered: its ETH is committed).
    function deposit(uint256 channelSeed, uint256 amount, bool inToken) external step {
        uint256 c = channelSeed % CHANNELS;
        amount = 1 + amount % 8 ether;
        address asset = inToken ? address(token) : address(0);
        uint256 held;
        if (inToken) {
            token.mint(address(this), amount);
            held = adjudicator.holdings(asset, channelIds[c]);
        } else {
            VM.deal(address(this), address(this).balance + amount);
            held = registered[c] ? committedEth[c] : adjudicator.holdings(asset, channelIds[c]);
        }
        try adjudicator.deposit{value: inToken ? 0 : amount}(asset, channelIds[c], held, amount) {
            if (!inToken && registered[c]) ++ethMirrorWrong;
            totalDeposited[asset] += amount;
            depositedInto[c][inToken ? 1 : 0] += amount;
            ++succeeded["deposit"];
        } catch {}
    }

    /// @notice Finalizes or disputes a ledger with a state both signed (random balances, the three guarantees):
    /// a conclusion, a conclusion that pays out at once, or a challenge (which a later one may replace).
    function finalizeLedger(uint256 ledgerSeed, uint256 seed) external step {
        uint256 lg = ledgerSeed % LEDGERS;
        uint256 mode = seed % 4;
        (uint48 record,,) = adjudicator.statusOf(channelIds[lg]);
        VariablePart memory state = VariablePart(_ledgerOutcome(lg, seed >> 2), "", record + 1, mode < 2);
        SignedVariablePart memory signed = _signedByBoth(channelIds[lg], state, _userKey(lg), H_KEY);
        if (mode == 0) _conclude(lg, state, signed);
        else if (mode == 1) _concludeAndTransfer(lg, state, signed);
        else _challenge(lg, state, signed, (seed >> 2) % 2);
    }

    /// @notice Finalizes or disputes a virtual channel with a state all three signed: the final state
    /// [x - p - fee(p), fee(p), p], a challenge with V0 = [x, 0, 0], or a challenge with a non-final such state.
    function finalizeVirtual(uint256 virtualSeed, uint256 seed) external step {
        uint256 k = virtualSeed % VIRTUALS;
        uint256 c = LEDGERS + k;
        uint256 mode = seed % 4;
        (uint48 record,,) = adjudicator.statusOf(channelIds[c]);
        uint256 x = virtualAmount[k];
        uint256 p = mode == 1 ? 0 : x * ((seed >> 2) % 1001) / 1000;
        // Largest p with p + fee(p) <= x (fee rounds down).
        uint256 maxP = x * 10_000 / (10_000 + FEE_BPS);
        if (p > maxP) p = maxP;
        uint256 fee = p * FEE_BPS / 10_000;
        VariablePart memory state = VariablePart(
            _virtualOutcome(k, x - p - fee, fee, p), "", mode == 1 ? 0 : record + 1, mode == 0
        );
        SignedVariablePart memory signed = _signedByAll(channelIds[c], state);
        if (mode == 0) _conclude(c, state, signed);
        else _challenge(c, state, signed, (seed >> 12) % 3);
    }

    /// @notice Lets up to two days pass.
    function warp(uint256 secondsSeed) external {
        currentTime += secondsSeed % 2 days;
        VM.warp(currentTime);
    }

    /// @notice Pays out a finalized channel: every asset, or one asset at random indices (naming a guarantee must
    /// be refused).
    function payout(uint256 channelSeed, uint256 seed) external step {
        uint256 c = _pickFinalized(channelSeed);
        if (!registered[c]) return;
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        Snapshot memory before = _snapshot();
        bool finalized = adjudicator.isFinalized(channelIds[c]);
        VM.recordLogs();
        if (seed % 3 == 0) {
            try adjudicator.transferAllAssets(channelIds[c], registeredStateHash[c], owed, committedEth[c]) {
                _account(c, owed, before, VM.getRecordedLogs());
                ++succeeded["transferAllAssets"];
            } catch {
                if (finalized && _anythingOwed(owed)) ++owedOutcomeRefused;
            }
            return;
        }
        uint256 a = (seed >> 2) % owed.length;
        uint256[] memory indices = _indices(owed[a].allocations.length, seed >> 8);
        bool namesGuarantee;
        for (uint256 n; n < indices.length; ++n) {
            if (!_isExternal(owed[a].allocations[indices[n]].destination)) namesGuarantee = true;
        }
        try adjudicator.transfer(a, channelIds[c], registeredStateHash[c], owed, committedEth[c], indices) {
            if (namesGuarantee) ++guaranteeNamedPaid;
            _account(c, owed, before, VM.getRecordedLogs());
            ++succeeded["transfer"];
        } catch {
            if (namesGuarantee) ++succeeded["guaranteeNamedRefused"];
            else if (finalized && _anythingOwed(owed)) ++owedOutcomeRefused;
        }
    }

    /// @notice Reclaims ledger `lg`'s guarantee for Vk with the right arguments. It must succeed exactly when both
    /// channels are finalized and the guarantee is not yet reclaimed; then it must split the guarantee as ADR 0021
    /// says, rewrite only the ledger's fingerprint and move no holdings.
    function reclaim(uint256 ledgerSeed, uint256 virtualSeed) external step {
        (uint256 lg, uint256 k) = _pickLive(ledgerSeed, virtualSeed);
        uint256 v = LEDGERS + k;
        if (!registered[lg] || !registered[v]) return;
        (uint256 a, uint256 g) = _guaranteeOf(k);
        SingleAssetExit[] memory ledgerOwed = abi.decode(_owed[lg], (SingleAssetExit[]));
        SingleAssetExit[] memory virtualOwed = abi.decode(_owed[v], (SingleAssetExit[]));
        uint256 guarantee = ledgerOwed[a].allocations[g].amount;
        bool live = guarantee != 0 && adjudicator.isFinalized(channelIds[lg]) && adjudicator.isFinalized(channelIds[v]);
        uint256 side = lg == 0 ? PAYER : PAYEE;
        uint256 owedToUser = virtualOwed[0].allocations[side].amount;
        uint256 toUser = owedToUser < guarantee ? owedToUser : guarantee;
        Snapshot memory before = _snapshot();
        VM.recordLogs();
        try adjudicator.reclaim(
            _fixedParts[lg],
            Owed(registeredStateHash[lg], ledgerOwed, committedEth[lg]),
            a,
            g,
            _fixedParts[v],
            Owed(registeredStateHash[v], virtualOwed, committedEth[v])
        ) {
            if (!live) {
                ++wrongReclaimAccepted;
                return;
            }
            _afterReclaim(lg, k, a, g, toUser, guarantee - toUser, before, VM.getRecordedLogs());
            owedToUserAtReclaim[lg][k] = owedToUser;
            paidToUserBeforeReclaim[lg][k] = paidByVirtual[k][side];
            ++succeeded["reclaim"];
            if (!_anythingOwed(virtualOwed)) {
                ++succeeded[committedEth[v] == 0 ? bytes32("reclaimPaidOut") : bytes32("reclaimPaidOutEthLeft")];
            }
        } catch {
            if (live) ++reclaimRefused;
        }
    }

    /// @notice Tries a reclaim with one wrong argument (asset, guarantee index, the other virtual channel, the
    /// other ledger, a tampered owed outcome or ETH, swapped participants, a ledger as the virtual channel): it must
    /// be refused, and change nothing.
    function reclaimWrong(uint256 ledgerSeed, uint256 virtualSeed, uint256 mutationSeed) external step {
        (uint256 lg, uint256 k) = _pickLive(ledgerSeed, virtualSeed);
        uint256 v = LEDGERS + k;
        if (!registered[lg] || !registered[v]) return;
        (uint256 a, uint256 g) = _guaranteeOf(k);
        FixedPart memory ledger = _fixedParts[lg];
        FixedPart memory virtualChannel = _fixedParts[v];
        Owed memory ledgerOwed =
            Owed(registeredStateHash[lg], abi.decode(_owed[lg], (SingleAssetExit[])), committedEth[lg]);
        Owed memory virtualOwed =
            Owed(registeredStateHash[v], abi.decode(_owed[v], (SingleAssetExit[])), committedEth[v]);
        // Whether the right arguments would succeed now: then the refusal is due to the wrong one.
        bool live = ledgerOwed.outcome[a].allocations[g].amount != 0 && adjudicator.isFinalized(channelIds[lg])
            && adjudicator.isFinalized(channelIds[v]);
        uint256 mutation = mutationSeed % 10;
        if (mutation == 0) {
            a = (mutationSeed >> 8) % 2 == 0 ? 1 - a : 2;
        } else if (mutation == 1) {
            g = (mutationSeed >> 8) % 2;
        } else if (mutation == 2) {
            // Another virtual channel's guarantee in the same asset, or past the end.
            g = k == 0 ? 3 : k == 1 ? 2 : 3;
        } else if (mutation == 3) {
            virtualChannel = _fixedParts[LEDGERS + (k + 1) % VIRTUALS];
        } else if (mutation == 4) {
            ledger = _fixedParts[1 - lg];
        } else if (mutation == 5) {
            ledgerOwed.outcome[a].allocations[USER].amount += 1;
        } else if (mutation == 6) {
            ledgerOwed.heldEth += 1;
        } else if (mutation == 7) {
            // The virtual channel's owed outcome is read only while it owes something.
            if (!_anythingOwed(virtualOwed.outcome)) return;
            virtualOwed.outcome[0].allocations[PAYER].amount += 1;
        } else if (mutation == 8) {
            address[] memory swapped = new address[](3);
            (swapped[0], swapped[1], swapped[2]) = (seeder, hub, leecher);
            virtualChannel = FixedPart(swapped, virtualChannel.channelNonce, APP, virtualChannel.challengeDuration);
        } else {
            virtualChannel = _fixedParts[1 - lg];
            virtualOwed = Owed(registeredStateHash[1 - lg], _owedOrEmpty(1 - lg), committedEth[1 - lg]);
        }
        Snapshot memory before = _snapshot();
        try adjudicator.reclaim(ledger, ledgerOwed, a, g, virtualChannel, virtualOwed) {
            ++wrongReclaimAccepted;
        } catch {
            if (live) ++succeeded["wrongReclaimRefused"];
        }
        if (!_same(before, _snapshot())) ++wrongReclaimAccepted;
    }

    // --------------------------------------------------------------------------------------------- views

    /// @notice The holdings of `asset` in channel `c`; a registered channel's ETH through the mirror of its
    /// registration, which the adjudicator checks against the fingerprint (a mismatch reverts).
    function holdingsOf(address asset, uint256 c) public view returns (uint256) {
        if (asset != address(0) || !registered[c]) return adjudicator.holdings(asset, channelIds[c]);
        return adjudicator.ethHoldings(channelIds[c], _registration(c));
    }

    /// @notice The fingerprint the adjudicator must hold for channel `c` given the mirror of what is owed.
    function expectedFingerprint(uint256 c) external view returns (uint160) {
        return _fingerprint(registeredStateHash[c], _owedHash(c), committedEth[c]);
    }

    /// @notice Virtual channel k's registered allocation `i` (0 payer, 1 hub, 2 payee); 0 while unregistered.
    function virtualAllocation(uint256 k, uint256 i) external view returns (uint256) {
        if (!registered[LEDGERS + k]) return 0;
        return abi.decode(_registeredOutcome[LEDGERS + k], (SingleAssetExit[]))[0].allocations[i].amount;
    }

    // ------------------------------------------------------------------------------------------- internals

    /// @dev The first finalized channel from the seed's on, or the seed's channel if none is (so that the short
    /// runs reach payouts, while payouts of channels not yet finalized are still tried).
    function _pickFinalized(uint256 seed) internal view returns (uint256) {
        for (uint256 n; n < CHANNELS; ++n) {
            uint256 c = (seed + n) % CHANNELS;
            if (registered[c] && adjudicator.isFinalized(channelIds[c])) return c;
        }
        return seed % CHANNELS;
    }

    /// @dev Three times in four, the first (ledger, virtual channel) pair from the seeds' on whose reclaim would
    /// succeed; otherwise, or if none would, the seeds' pair (so that the short runs reach reclaims, while too
    /// early or repeated ones are still tried).
    function _pickLive(uint256 ledgerSeed, uint256 virtualSeed) internal view returns (uint256 lg, uint256 k) {
        if ((ledgerSeed >> 1) % 4 == 0) return (ledgerSeed % LEDGERS, virtualSeed % VIRTUALS);
        for (uint256 n; n < LEDGERS * VIRTUALS; ++n) {
            lg = (ledgerSeed + n) % LEDGERS;
            k = (virtualSeed + n / LEDGERS) % VIRTUALS;
            if (!registered[lg] || !registered[LEDGERS + k]) continue;
            (uint256 a, uint256 g) = _guaranteeOf(k);
            if (
                abi.decode(_owed[lg], (SingleAssetExit[]))[a].allocations[g].amount != 0
                    && adjudicator.isFinalized(channelIds[lg]) && adjudicator.isFinalized(channelIds[LEDGERS + k])
            ) return (lg, k);
        }
        return (ledgerSeed % LEDGERS, virtualSeed % VIRTUALS);
    }

    function _userKey(uint256 lg) internal pure returns (uint256) {
        return lg == 0 ? L_KEY : S_KEY;
    }

    /// @dev The asset index and allocation index of Vk's guarantee in either ledger.
    function _guaranteeOf(uint256 k) internal pure returns (uint256 assetIndex, uint256 guaranteeIndex) {
        return k < 2 ? (0, 2 + k) : (1, 2);
    }

    /// @dev [user, hub, g(V0), g(V1)] in ETH and [user, hub, g(V2)] in tokens, with random balances that the
    /// deposits may or may not cover.
    function _ledgerOutcome(uint256 lg, uint256 seed) internal view returns (SingleAssetExit[] memory outcome) {
        bytes32 user = _destination(_fixedParts[lg].participants[USER]);
        outcome = new SingleAssetExit[](2);
        for (uint256 a; a < 2; ++a) {
            uint256 guarantees = a == 0 ? 2 : 1;
            Allocation[] memory allocations = new Allocation[](2 + guarantees);
            allocations[USER] = Allocation(user, uint256(keccak256(abi.encode(seed, a, 0))) % MAX_BALANCE);
            allocations[HUB] = Allocation(_destination(hub), uint256(keccak256(abi.encode(seed, a, 1))) % MAX_BALANCE);
            for (uint256 n; n < guarantees; ++n) {
                uint256 k = a == 0 ? n : 2;
                allocations[2 + n] = Allocation(ChannelId.unwrap(channelIds[LEDGERS + k]), virtualAmount[k]);
            }
            outcome[a] = SingleAssetExit(a == 0 ? address(0) : address(token), allocations);
        }
    }

    function _virtualOutcome(uint256 k, uint256 toPayer, uint256 toHub, uint256 toPayee)
        internal
        view
        returns (SingleAssetExit[] memory outcome)
    {
        Allocation[] memory allocations = new Allocation[](3);
        allocations[PAYER] = Allocation(_destination(leecher), toPayer);
        allocations[1] = Allocation(_destination(hub), toHub);
        allocations[PAYEE] = Allocation(_destination(seeder), toPayee);
        outcome = new SingleAssetExit[](1);
        outcome[0] = SingleAssetExit(k < 2 ? address(0) : address(token), allocations);
    }

    function _signedByAll(ChannelId id, VariablePart memory state) internal pure returns (SignedVariablePart memory) {
        bytes32 hash = _stateHash(id, state);
        bytes[] memory sigs = new bytes[](3);
        sigs[0] = _personalSign(L_KEY, hash);
        sigs[1] = _personalSign(H_KEY, hash);
        sigs[2] = _personalSign(S_KEY, hash);
        return SignedVariablePart(state, ALL_THREE, sigs);
    }

    function _conclude(uint256 c, VariablePart memory state, SignedVariablePart memory signed) internal {
        uint256 heldEth = _ethToCommit(c);
        try adjudicator.conclude(_fixedParts[c], signed, _registration(c)) {
            _register(c, state, heldEth);
            _checkFingerprint(c);
            ++succeeded[c < LEDGERS ? bytes32("concludeLedger") : bytes32("concludeVirtual")];
        } catch {}
    }

    function _concludeAndTransfer(uint256 c, VariablePart memory state, SignedVariablePart memory signed) internal {
        uint256 heldEth = _ethToCommit(c);
        Snapshot memory before = _snapshot();
        VM.recordLogs();
        try adjudicator.concludeAndTransferAllAssets(_fixedParts[c], signed) {
            _register(c, state, heldEth);
            _account(c, state.outcome, before, VM.getRecordedLogs());
            ++succeeded["concludeAndTransferLedger"];
        } catch {}
    }

    /// @dev Sent by participant `who` (or, for `who` past the end, through a watchtower with participant 0's
    /// challenge signature).
    function _challenge(uint256 c, VariablePart memory state, SignedVariablePart memory signed, uint256 who)
        internal
    {
        address[] memory participants = _fixedParts[c].participants;
        uint256 heldEth = _ethToCommit(c);
        Registration memory current = _registration(c);
        bytes memory challengerSig;
        if (who < participants.length) VM.prank(participants[who]);
        else challengerSig = _challengerSig(c == 1 ? S_KEY : L_KEY, _stateHash(channelIds[c], state));
        try adjudicator.challenge(_fixedParts[c], _noProof(), signed, challengerSig, current) {
            _register(c, state, heldEth);
            _checkFingerprint(c);
            ++succeeded[c < LEDGERS ? bytes32("challengeLedger") : bytes32("challengeVirtual")];
        } catch {}
    }

    function _register(uint256 c, VariablePart memory state, uint256 heldEth) internal {
        registered[c] = true;
        registeredStateHash[c] = _stateHash(channelIds[c], state);
        _registeredOutcome[c] = abi.encode(state.outcome);
        _owed[c] = abi.encode(state.outcome);
        committedEth[c] = heldEth;
    }

    /// @dev The chain's fingerprint of channel `c` is the mirror's.
    function _checkFingerprint(uint256 c) internal {
        (,, uint160 fingerprint) = adjudicator.statusOf(channelIds[c]);
        if (fingerprint != _fingerprint(registeredStateHash[c], _owedHash(c), committedEth[c])) ++ethMirrorWrong;
    }

    function _registration(uint256 c) internal view returns (Registration memory) {
        if (!registered[c]) return Registration(bytes32(0), bytes32(0), 0);
        return Registration(registeredStateHash[c], _owedHash(c), committedEth[c]);
    }

    function _owedHash(uint256 c) internal view returns (bytes32) {
        return _anythingOwed(abi.decode(_owed[c], (SingleAssetExit[]))) ? keccak256(_owed[c]) : bytes32(0);
    }

    function _owedOrEmpty(uint256 c) internal view returns (SingleAssetExit[] memory) {
        return registered[c] ? abi.decode(_owed[c], (SingleAssetExit[])) : new SingleAssetExit[](0);
    }

    function _ethToCommit(uint256 c) internal view returns (uint256) {
        return registered[c] ? committedEth[c] : adjudicator.holdings(address(0), channelIds[c]);
    }

    function _snapshot() internal view returns (Snapshot memory snap) {
        for (uint256 c; c < CHANNELS; ++c) {
            (uint48 record, uint48 finalizesAt, uint160 fingerprint) = adjudicator.statusOf(channelIds[c]);
            snap.status[c] = uint256(record) << 208 | uint256(finalizesAt) << 160 | fingerprint;
            // A registered channel's ETH is read through the mirror; should the mirror be wrong (the read reverts),
            // the impossible maximum makes every comparison with it fail instead of reverting the action.
            try this.holdingsOf(address(0), c) returns (uint256 held) {
                snap.held[c][0] = held;
            } catch {
                snap.held[c][0] = type(uint256).max;
            }
            snap.held[c][1] = holdingsOf(address(token), c);
        }
        snap.adjudicatorBalance[0] = address(adjudicator).balance;
        snap.adjudicatorBalance[1] = token.balanceOf(address(adjudicator));
        snap.party = _partyBalances();
    }

    function _partyBalances() internal view returns (uint256[2][3] memory party) {
        address[3] memory parties = [leecher, hub, seeder];
        for (uint256 i; i < 3; ++i) {
            party[i][0] = parties[i].balance;
            party[i][1] = token.balanceOf(parties[i]);
        }
    }

    function _same(Snapshot memory x, Snapshot memory y) internal pure returns (bool) {
        return keccak256(abi.encode(x)) == keccak256(abi.encode(y));
    }

    function _partyIndex(bytes32 destination) internal view returns (uint256) {
        address account = address(uint160(uint256(destination)));
        return account == leecher ? 0 : account == hub ? 1 : 2;
    }

    /// @dev After a payout of `owed` by channel `c`: each allocation was paid what its destination received
    /// (at most what it was owed; a channel destination nothing, its holdings unmoved), the paying channel was
    /// debited by exactly that, no other channel moved, and the PaidOut events name external destinations only
    /// and add up to the same. Updates the mirror of what is owed and of the ETH committed.
    function _account(uint256 c, SingleAssetExit[] memory owed, Snapshot memory before, Vm.Log[] memory logs)
        internal
    {
        // The parties' balances first: the paying channel's ETH can be read only once the mirror follows it.
        uint256[2][3] memory party = _partyBalances();
        uint256[2] memory paidTotal;
        for (uint256 a; a < owed.length; ++a) {
            uint256 assetSlot = owed[a].asset == address(0) ? 0 : 1;
            Allocation[] memory allocations = owed[a].allocations;
            for (uint256 i; i < allocations.length; ++i) {
                if (!_isExternal(allocations[i].destination)) continue;
                uint256 p = _partyIndex(allocations[i].destination);
                uint256 paid = party[p][assetSlot] - before.party[p][assetSlot];
                if (paid > allocations[i].amount) {
                    ++allocationPaidMoreThanOwed;
                    paid = allocations[i].amount;
                }
                allocations[i].amount -= paid;
                paidTotal[assetSlot] += paid;
                if (c >= LEDGERS) paidByVirtual[c - LEDGERS][i] += paid;
            }
        }
        _owed[c] = abi.encode(owed);
        committedEth[c] = before.held[c][0] - (paidTotal[0] > before.held[c][0] ? before.held[c][0] : paidTotal[0]);
        _checkFingerprint(c);
        Snapshot memory now_ = _snapshot();
        uint256[2] memory logged;
        for (uint256 n; n < logs.length; ++n) {
            if (logs[n].emitter != address(adjudicator) || logs[n].topics[0] != IAdjudicator.PaidOut.selector) continue;
            if (!_isExternal(logs[n].topics[3])) ++paidToChannelId;
            if (logs[n].topics[1] != ChannelId.unwrap(channelIds[c])) ++payoutNotMatchingDebit;
            logged[logs[n].topics[2] == bytes32(0) ? 0 : 1] += abi.decode(logs[n].data, (uint256));
        }
        for (uint256 s; s < 2; ++s) {
            address asset = s == 0 ? address(0) : address(token);
            totalPaidOut[asset] += paidTotal[s];
            paidOutOf[c][s] += paidTotal[s];
            if (logged[s] != paidTotal[s]) ++payoutNotMatchingDebit;
            if (before.adjudicatorBalance[s] - now_.adjudicatorBalance[s] != paidTotal[s]) ++payoutNotMatchingDebit;
            for (uint256 d; d < CHANNELS; ++d) {
                uint256 heldNow = now_.held[d][s];
                if (d == c) {
                    if (before.held[d][s] - paidTotal[s] != heldNow) ++payoutNotMatchingDebit;
                } else if (heldNow != before.held[d][s]) {
                    ++channelCredited;
                }
            }
        }
    }

    /// @dev After a successful reclaim: the ledger's owed outcome is the mirror's with the guarantee at 0 and its
    /// amount split (toUser, toHub), and the chain holds exactly that fingerprint (same record, deadline and
    /// ETH); no other status changed (the virtual channel's in particular); no holdings or balance moved; the
    /// Reclaimed event says the same.
    function _afterReclaim(
        uint256 lg,
        uint256 k,
        uint256 a,
        uint256 g,
        uint256 toUser,
        uint256 toHub,
        Snapshot memory before,
        Vm.Log[] memory logs
    ) internal {
        SingleAssetExit[] memory owed = abi.decode(_owed[lg], (SingleAssetExit[]));
        Allocation[] memory allocations = owed[a].allocations;
        uint256 totalBefore = _total(allocations);
        allocations[USER].amount += toUser;
        allocations[HUB].amount += toHub;
        allocations[g].amount = 0;
        if (_total(allocations) != totalBefore) ++reclaimNotAsSpecified;
        _owed[lg] = abi.encode(owed);

        Snapshot memory now_ = _snapshot();
        uint256 v = LEDGERS + k;
        if (now_.status[v] != before.status[v]) ++virtualStatusTouched;
        for (uint256 c; c < CHANNELS; ++c) {
            if (c != lg && c != v && now_.status[c] != before.status[c]) ++reclaimNotAsSpecified;
            for (uint256 s; s < 2; ++s) if (now_.held[c][s] != before.held[c][s]) ++reclaimMovedHoldings;
        }
        for (uint256 s; s < 2; ++s) {
            if (now_.adjudicatorBalance[s] != before.adjudicatorBalance[s]) ++reclaimMovedHoldings;
            for (uint256 i; i < 3; ++i) if (now_.party[i][s] != before.party[i][s]) ++reclaimMovedHoldings;
        }
        // Same record and deadline, and the fingerprint of the mirror's outcome with the same ETH.
        uint256 expected = before.status[lg] >> 160 << 160
            | _fingerprint(registeredStateHash[lg], keccak256(_owed[lg]), committedEth[lg]);
        if (now_.status[lg] != expected) ++reclaimNotAsSpecified;

        uint256 events;
        for (uint256 n; n < logs.length; ++n) {
            if (logs[n].emitter != address(adjudicator)) continue;
            if (logs[n].topics[0] != IAdjudicator.Reclaimed.selector) {
                ++reclaimNotAsSpecified;
                continue;
            }
            ++events;
            (uint256 ea, uint256 eg, uint256 eu, uint256 eh) =
                abi.decode(logs[n].data, (uint256, uint256, uint256, uint256));
            if (
                logs[n].topics[1] != ChannelId.unwrap(channelIds[lg])
                    || logs[n].topics[2] != ChannelId.unwrap(channelIds[v]) || ea != a || eg != g || eu != toUser
                    || eh != toHub
            ) ++reclaimNotAsSpecified;
        }
        if (events != 1) ++reclaimNotAsSpecified;

        reclaimed[lg][k] = true;
        userGain[lg][k] = toUser;
        hubGain[lg][k] = toHub;
    }

    function _total(Allocation[] memory allocations) internal pure returns (uint256 total) {
        for (uint256 i; i < allocations.length; ++i) total += allocations[i].amount;
    }

    function _indices(uint256 count, uint256 mask) internal pure returns (uint256[] memory indices) {
        mask %= 1 << count;
        uint256 n;
        for (uint256 i; i < count; ++i) if ((mask >> i) & 1 == 1) ++n;
        indices = new uint256[](n);
        n = 0;
        for (uint256 i; i < count; ++i) if ((mask >> i) & 1 == 1) indices[n++] = i;
    }

    function _isExternal(bytes32 destination) internal pure returns (bool) {
        return uint256(destination) >> 160 == 0;
    }

    function _anythingOwed(SingleAssetExit[] memory owed) internal pure returns (bool) {
        for (uint256 a; a < owed.length; ++a) {
            for (uint256 i; i < owed[a].allocations.length; ++i) if (owed[a].allocations[i].amount != 0) return true;
        }
        return false;
    }
}
