// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../../contracts/Adjudicator.sol";
import {VoucherPaymentApp} from "../../contracts/VoucherPaymentApp.sol";
import {
    Allocation,
    ChannelId,
    FixedPart,
    Registration,
    SignedVariablePart,
    SingleAssetExit,
    VariablePart
} from "../../contracts/interfaces/ChannelTypes.sol";
import {TestToken} from "../../contracts/test/TestToken.sol";
import {ChannelBuilder} from "./utils/ChannelBuilder.sol";
import {VM} from "./utils/Vm.sol";

/// @notice Drives the adjudicator at random for the invariant tests: deposits ETH and tokens into five channels,
/// signs states with known keys, challenges (as a participant or through a watchtower), checkpoints, answers
/// challenges with vouchers, concludes, lets time pass and pays out. Ghost variables record what went in and out
/// and anything that must never happen; MoneyInvariants.t.sol and StatusInvariants.t.sol check them after every call.
/// @dev Channels 0 and 1 are ETH, 2 and 3 token, 4 holds both and guarantees channel 0 with part of its ETH (the
/// last allocation) and channel 2 with part of its tokens (between the payer's and the payee's allocations). A
/// guarantee is never paid (ADR 0021, decision 3): it stays owed and keeps its place in the payout order, so the
/// payee after the token guarantee gets only what the payer and the guarantee leave. Channel 0's challenge duration
/// is 0, which the adjudicator clamps to MIN_CHALLENGE_DURATION.
/// The mirror follows ADR 0005: the first challenge of an open channel starts its only clock; a checkpoint, a
/// response or a newer challenge replaces the registered state and keeps the deadline and the ETH committed; nothing
/// reopens a channel, and no payout credits one.
/// Every call catches the adjudicator's reverts so that the ghosts only follow what succeeded.
// solhint-disable-next-line max-states-count
contract AdjudicatorHandler is ChannelBuilder {
    uint256 public constant CHANNELS = 5;
    uint256 internal constant MIXED = 4;
    /// @dev Allocation slots per asset in the flattened per-channel arrays (the mixed channel has three).
    uint256 internal constant SLOTS = 3;
    uint256 internal constant MAX_AMOUNT = 12 ether;
    /// @dev The payer's allocation in the funding state.
    uint256 internal constant FUNDING = 5 ether;

    Adjudicator public immutable adjudicator;
    VoucherPaymentApp public immutable app;
    TestToken public immutable token;

    FixedPart[CHANNELS] internal _fixedParts;
    ChannelId[CHANNELS] public channelIds;
    uint256[CHANNELS] internal _payerKeys;
    uint256[CHANNELS] internal _payeeKeys;

    // ---------------------------------------------------------------------------------- mirror of each channel

    /// @dev The handler's clock: cheatcode time changes are re-applied at the start of every call.
    uint256 public currentTime;
    /// @dev A state is registered (challenge or conclude); nothing reopens the channel afterwards.
    bool[CHANNELS] public registered;
    bytes32[CHANNELS] public registeredStateHash;
    bytes[CHANNELS] internal _registeredState; // abi.encode(VariablePart)
    uint256[CHANNELS] public registeredFinalizesAt;
    bytes[CHANNELS] internal _owed; // abi.encode(SingleAssetExit[]): the outcome still owed
    /// @dev The ETH committed in the fingerprint while registered (the adjudicator checks it on every read).
    uint256[CHANNELS] public committedEth;
    /// @dev abi.encode(VariablePart): the latest non-final state both signed, the funding state until one is
    /// registered on chain.
    bytes[CHANNELS] internal _lastBothSigned;
    /// @dev Flattened [asset * SLOTS + allocation]: the registered amounts and what was paid to each since.
    uint256[SLOTS * 2][CHANNELS] internal _registeredAmounts;
    uint256[SLOTS * 2][CHANNELS] internal _paidTotals;

    /// @dev The status seen when the channel was first seen finalized; it may never change afterwards (only the
    /// fingerprint, as payouts reduce what is owed).
    bool[CHANNELS] public frozen;
    uint48[CHANNELS] public frozenTurnNumRecord;
    uint48[CHANNELS] public frozenFinalizesAt;
    bytes32[CHANNELS] public frozenStateHash;
    uint48[CHANNELS] public maxTurnNumRecord;

    // ------------------------------------------------------------------------------------------------- ghosts

    mapping(address asset => uint256 amount) public totalDeposited;
    mapping(address asset => uint256 amount) public totalPaidOut;
    /// @dev Things that must never happen; each must stay 0.
    uint256 public channelPaidMoreThanHeld;
    uint256 public payoutNotMatchingDebit;
    uint256 public allocationPaidMoreThanOwed;
    uint256 public finalizedChannelChanged;
    uint256 public turnNumRecordDecreased;
    uint256 public owedOutcomeRefused;
    /// @dev A payout changed the holdings of a channel named as a destination (a guarantee was paid).
    uint256 public channelIdPaid;
    /// @dev A transfer naming a guarantee by index succeeded (it must revert with GuaranteeNotPayable).
    uint256 public guaranteeNamedPaid;
    /// @dev An allocation was paid other than min(amount, what every allocation before it left), guarantees
    /// included in the order, or an allocation not asked for (or a guarantee) was paid something.
    uint256 public payoutOutOfOrder;
    /// @dev The mirror of the ETH committed in a fingerprint did not match the adjudicator's.
    uint256 public ethMirrorWrong;
    /// @dev A registered channel's finalization time differs from the mirror's, which only the first challenge
    /// (or a conclusion) sets: an answer or a newer challenge moved the deadline.
    uint256 public deadlineMoved;
    /// @dev A checkpoint succeeded on an open channel (it may only answer a challenge).
    uint256 public openChannelCheckpointed;
    /// @dev Successful calls per action, to show the runs reach every part of the game.
    mapping(bytes32 action => uint256 count) public succeeded;

    struct Snapshot {
        uint256[SLOTS * 2] destination; // the destination's balance (or holdings for a channel) per allocation
        uint256[2] held; // the paying channel's holdings of each exit's asset
        uint256 ethHeld; // the paying channel's ETH, whether or not the outcome pays ETH
    }

    constructor() {
        adjudicator = new Adjudicator();
        app = new VoucherPaymentApp();
        token = new TestToken();
        uint48[CHANNELS] memory durations = [uint48(0), 1 hours, 1 days, 10 minutes, 12 hours];
        for (uint256 c; c < CHANNELS; ++c) {
            _payerKeys[c] = 0xA000 + c;
            _payeeKeys[c] = 0xB000 + c;
            FixedPart memory fixedPart = _fixedPart(
                VM.addr(_payerKeys[c]), VM.addr(_payeeKeys[c]), uint64(c), address(app), durations[c]
            );
            _fixedParts[c] = fixedPart;
            channelIds[c] = adjudicator.channelIdOf(fixedPart);
            // The funding state both sign off chain before depositing (turn 0, all to the payer): the base the
            // payee's vouchers build on until a newer state both signed is registered.
            if (c != MIXED) {
                address asset = c < 2 ? address(0) : address(token);
                SingleAssetExit[] memory outcome =
                    _twoParty(asset, fixedPart.participants[0], FUNDING, fixedPart.participants[1], 0);
                _lastBothSigned[c] = abi.encode(VariablePart(outcome, "", 0, false));
            }
        }
        token.approve(address(adjudicator), type(uint256).max);
        currentTime = block.timestamp;
    }

    /// @dev Time moves only in `warp`, which syncs itself; so one sync after each action is enough.
    modifier step() {
        VM.warp(currentTime);
        _;
        _sync();
    }

    // -------------------------------------------------------------------------------------------- actions

    /// @notice Deposits ETH into any channel (even one whose outcome never pays ETH: it then stays held).
    function depositEth(uint256 channelSeed, uint256 amount) external step {
        (uint256 c, ChannelId id) = _channel(channelSeed);
        amount = 1 + amount % 10 ether;
        VM.deal(address(this), address(this).balance + amount);
        // A registered channel's ETH is committed: the deposit must be refused, whatever `expectedHeld` says.
        uint256 held = registered[c] ? committedEth[c] : adjudicator.holdings(address(0), id);
        try adjudicator.deposit{value: amount}(address(0), id, held, amount) {
            if (registered[c]) ++ethMirrorWrong;
            totalDeposited[address(0)] += amount;
            ++succeeded["deposit"];
        } catch {}
    }

    /// @notice Deposits tokens into any channel.
    function depositToken(uint256 channelSeed, uint256 amount) external step {
        (, ChannelId id) = _channel(channelSeed);
        amount = 1 + amount % 10 ether;
        token.mint(address(this), amount);
        uint256 held = adjudicator.holdings(address(token), id);
        try adjudicator.deposit(address(token), id, held, amount) {
            totalDeposited[address(token)] += amount;
            ++succeeded["deposit"];
        } catch {}
    }

    /// @notice Challenges with a new state both signed, sent by the payer or by a watchtower with the payer's
    /// challenge signature. Turn numbers are drawn around the record, stale ones included. On an open channel it
    /// starts the clock; during a challenge it replaces the registered state and keeps the deadline.
    function challenge(uint256 channelSeed, uint256 turnSeed, uint256 amountSeed, bool viaWatchtower)
        external
        step
    {
        (uint256 c, ChannelId id) = _channel(channelSeed);
        bool wasFinalized = adjudicator.isFinalized(id);
        VariablePart memory state = _newState(c, _turnNum(id, turnSeed), amountSeed, false);
        SignedVariablePart memory signed = _signedByBoth(id, state, _payerKeys[c], _payeeKeys[c]);
        bytes32 stateHash = _stateHash(id, state);
        bytes memory challengerSig;
        Registration memory current = _registration(c);
        uint256 heldEth = _ethToCommit(c);
        uint256 finalizesAt = _deadline(c);
        if (viaWatchtower) challengerSig = _challengerSig(_payerKeys[c], stateHash);
        else VM.prank(_fixedParts[c].participants[0]);
        try adjudicator.challenge(_fixedParts[c], _noProof(), signed, challengerSig, current) {
            if (wasFinalized) ++finalizedChannelChanged;
            _register(c, state, stateHash, finalizesAt, heldEth);
            _lastBothSigned[c] = abi.encode(state);
            ++succeeded["challenge"];
        } catch {}
    }

    /// @notice Answers a challenge with a newer state both signed: it replaces the registered state, and the
    /// deadline and the ETH committed stay. Tried on open channels too, where it must be refused.
    function checkpoint(uint256 channelSeed, uint256 turnSeed, uint256 amountSeed) external step {
        (uint256 c, ChannelId id) = _channel(channelSeed);
        bool wasFinalized = adjudicator.isFinalized(id);
        VariablePart memory state = _newState(c, _turnNum(id, turnSeed), amountSeed, false);
        SignedVariablePart memory signed = _signedByBoth(id, state, _payerKeys[c], _payeeKeys[c]);
        bool wasOpen = !registered[c];
        uint256 heldEth = committedEth[c];
        uint256 finalizesAt = registeredFinalizesAt[c];
        try adjudicator.checkpoint(_fixedParts[c], _noProof(), signed, _registration(c)) {
            if (wasFinalized) ++finalizedChannelChanged;
            if (wasOpen) {
                ++openChannelCheckpointed;
                return;
            }
            _register(c, state, _stateHash(id, state), finalizesAt, heldEth);
            _lastBothSigned[c] = abi.encode(state);
            ++succeeded["checkpoint"];
        } catch {}
    }

    /// @notice The payee alone challenges with a voucher on top of the latest state both signed (starting the clock
    /// of an open channel, or replacing the registered state of a challenged one).
    function challengeWithVoucher(uint256 channelSeed, uint256 voucherSeed) external step {
        (uint256 c, ChannelId id) = _channel(channelSeed);
        if (c == MIXED || _lastBothSigned[c].length == 0) return;
        bool wasFinalized = adjudicator.isFinalized(id);
        VariablePart memory base = abi.decode(_lastBothSigned[c], (VariablePart));
        (uint48 record,,) = adjudicator.statusOf(id);
        VariablePart memory state = _voucherState(c, id, base, record + 1, voucherSeed);
        SignedVariablePart[] memory proof = new SignedVariablePart[](1);
        proof[0] = _signedByBoth(id, base, _payerKeys[c], _payeeKeys[c]);
        SignedVariablePart memory candidate = _signedByPayee(id, state, _payeeKeys[c], true);
        Registration memory current = _registration(c);
        uint256 heldEth = _ethToCommit(c);
        uint256 finalizesAt = _deadline(c);
        VM.prank(_fixedParts[c].participants[1]);
        try adjudicator.challenge(_fixedParts[c], proof, candidate, "", current) {
            if (wasFinalized) ++finalizedChannelChanged;
            _register(c, state, _stateHash(id, state), finalizesAt, heldEth);
            ++succeeded["challengeWithVoucher"];
        } catch {}
    }

    /// @notice The payee answers the ongoing challenge with a voucher move from the challenged state: the response
    /// becomes the registered state, with the same deadline and ETH committed.
    function respondWithVoucher(uint256 channelSeed, uint256 voucherSeed, bool payeeSends) external step {
        (uint256 c, ChannelId id) = _channel(channelSeed);
        if (c == MIXED || !registered[c]) return;
        bool wasFinalized = adjudicator.isFinalized(id);
        VariablePart memory challenged = abi.decode(_registeredState[c], (VariablePart));
        VariablePart memory response = _voucherState(c, id, challenged, challenged.turnNum + 1, voucherSeed);
        SignedVariablePart memory signed = _signedByPayee(id, response, _payeeKeys[c], payeeSends);
        uint256 heldEth = committedEth[c];
        uint256 finalizesAt = registeredFinalizesAt[c];
        if (payeeSends) VM.prank(_fixedParts[c].participants[1]);
        try adjudicator.respond(_fixedParts[c], channelIds[c], challenged, signed, heldEth) {
            if (wasFinalized) ++finalizedChannelChanged;
            _register(c, response, _stateHash(id, response), finalizesAt, heldEth);
            ++succeeded["respond"];
        } catch {}
    }

    /// @notice Concludes with a final state both signed, and in one case of two pays it out in the same call.
    function conclude(uint256 channelSeed, uint256 turnSeed, uint256 amountSeed, bool andTransfer) external step {
        (uint256 c, ChannelId id) = _channel(channelSeed);
        bool wasFinalized = adjudicator.isFinalized(id);
        VariablePart memory state = _newState(c, _turnNum(id, turnSeed), amountSeed, true);
        SignedVariablePart memory signed = _signedByBoth(id, state, _payerKeys[c], _payeeKeys[c]);
        bytes32 stateHash = _stateHash(id, state);
        uint256 heldEth = _ethToCommit(c);
        if (!andTransfer) {
            try adjudicator.conclude(_fixedParts[c], signed, _registration(c)) {
                if (wasFinalized) ++finalizedChannelChanged;
                _register(c, state, stateHash, block.timestamp, heldEth);
                ++succeeded["conclude"];
            } catch {}
            return;
        }
        Snapshot memory before = _snapshot(c, state.outcome);
        try adjudicator.concludeAndTransferAllAssets(_fixedParts[c], signed) {
            if (wasFinalized || registered[c]) ++finalizedChannelChanged;
            _register(c, state, stateHash, block.timestamp, heldEth);
            _account(c, state.outcome, before, 0, new uint256[](0), true);
            ++succeeded["concludeAndTransfer"];
        } catch {}
    }

    /// @notice Lets up to two days pass.
    function warp(uint256 secondsSeed) external {
        currentTime += secondsSeed % 2 days;
        VM.warp(currentTime);
        _sync();
    }

    /// @notice Pays some allocations of one asset of a finalized channel, by index (empty mask: all).
    function transfer(uint256 channelSeed, uint256 assetSeed, uint256 indexMask) external step {
        (uint256 c, ChannelId id) = _channel(channelSeed);
        if (!registered[c]) return;
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        uint256 assetIndex = assetSeed % owed.length;
        uint256[] memory indices = _indices(owed[assetIndex].allocations.length, indexMask);
        bool namesGuarantee = _namesGuarantee(owed[assetIndex].allocations, indices);
        Snapshot memory before = _snapshot(c, owed);
        try adjudicator.transfer(assetIndex, id, registeredStateHash[c], owed, committedEth[c], indices) {
            if (namesGuarantee) ++guaranteeNamedPaid;
            _account(c, owed, before, assetIndex, indices, false);
            ++succeeded["transfer"];
        } catch {
            // Naming a guarantee must be refused (GuaranteeNotPayable); any other refusal is checked.
            if (namesGuarantee) ++succeeded["guaranteeNamedRefused"];
            else _refused(c, owed);
        }
    }

    /// @notice Pays every allocation of every asset of a finalized channel.
    function transferAllAssets(uint256 channelSeed) external step {
        (uint256 c, ChannelId id) = _channel(channelSeed);
        if (!registered[c]) return;
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        Snapshot memory before = _snapshot(c, owed);
        try adjudicator.transferAllAssets(id, registeredStateHash[c], owed, committedEth[c]) {
            _account(c, owed, before, 0, new uint256[](0), true);
            ++succeeded["transferAllAssets"];
        } catch {
            _refused(c, owed);
        }
    }

    // --------------------------------------------------------------------------------------------- views

    /// @notice The fingerprint the adjudicator must hold for channel `c` given the mirror of what is owed.
    function expectedFingerprint(uint256 c) external view returns (uint160) {
        return _fingerprint(registeredStateHash[c], _owedHash(c), committedEth[c]);
    }

    /// @notice The holdings of `asset` in channel `c`; a registered channel's ETH through the mirror of its
    /// registration, which the adjudicator checks against the fingerprint (a mismatch reverts).
    function holdingsOf(address asset, uint256 c) public view returns (uint256) {
        if (asset != address(0) || !registered[c]) return adjudicator.holdings(asset, channelIds[c]);
        return adjudicator.ethHoldings(channelIds[c], _registration(c));
    }

    /// @notice Registered amount and total paid of allocation slot `k` (asset * 3 + allocation) of channel `c`.
    function allocationPaid(uint256 c, uint256 k) external view returns (uint256 amount, uint256 paid) {
        return (_registeredAmounts[c][k], _paidTotals[c][k]);
    }

    /// @notice Allocation slot `k` of channel `c` as the mirror says it is still owed: its destination and amount
    /// (zeros when the slot is empty or the channel unregistered).
    function owedAllocation(uint256 c, uint256 k) external view returns (bytes32 destination, uint256 amount) {
        if (!registered[c]) return (bytes32(0), 0);
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        (uint256 a, uint256 i) = (k / SLOTS, k % SLOTS);
        if (a >= owed.length || i >= owed[a].allocations.length) return (bytes32(0), 0);
        return (owed[a].allocations[i].destination, owed[a].allocations[i].amount);
    }

    // ------------------------------------------------------------------------------------------- internals

    function _channel(uint256 seed) internal view returns (uint256 c, ChannelId id) {
        c = seed % CHANNELS;
        id = channelIds[c];
    }

    /// @dev Around the record: mostly newer, sometimes equal, one time in eight one below it.
    function _turnNum(ChannelId id, uint256 seed) internal view returns (uint48) {
        (uint48 record,,) = adjudicator.statusOf(id);
        if (seed % 8 == 7 && record > 0) return record - 1;
        return record + uint48(seed % 3);
    }

    /// @dev A state both would sign: random amounts that may add up to more than the channel holds.
    function _newState(uint256 c, uint48 turnNum, uint256 amountSeed, bool isFinal)
        internal
        view
        returns (VariablePart memory state)
    {
        address payer = _fixedParts[c].participants[0];
        address payee = _fixedParts[c].participants[1];
        uint256 a0 = uint256(keccak256(abi.encode(amountSeed, 0))) % MAX_AMOUNT;
        uint256 a1 = uint256(keccak256(abi.encode(amountSeed, 1))) % MAX_AMOUNT;
        SingleAssetExit[] memory outcome;
        if (c == MIXED) {
            outcome = new SingleAssetExit[](2);
            for (uint256 a; a < 2; ++a) {
                // Part of each asset guarantees another channel: ETH channel 0 (last), tokens channel 2 (in the
                // middle, so that the payee after it is paid only what the guarantee leaves).
                uint256 g = a == 0 ? 2 : 1;
                Allocation[] memory allocations = new Allocation[](3);
                allocations[0] = Allocation(_destination(payer), a0 / (a + 1));
                allocations[3 - g] = Allocation(_destination(payee), a1 / (a + 1));
                allocations[g] = Allocation(ChannelId.unwrap(channelIds[a * 2]), (a0 + a1) / 4);
                outcome[a] = SingleAssetExit(a == 0 ? address(0) : address(token), allocations);
            }
        } else {
            outcome = _twoParty(c < 2 ? address(0) : address(token), payer, a0, payee, a1);
        }
        state = VariablePart(outcome, "", turnNum, isFinal);
    }

    /// @dev `base` with a voucher that moves up to the payer's allocation (sometimes more, which must fail).
    function _voucherState(uint256 c, ChannelId id, VariablePart memory base, uint48 turnNum, uint256 seed)
        internal
        view
        returns (VariablePart memory state)
    {
        uint256 previous = base.appData.length == 97 ? uint256(bytes32(base.appData)) : 0;
        Allocation[] memory allocations = base.outcome[0].allocations;
        uint256 payerAmount = allocations[0].amount;
        uint256 delta = seed % 16 == 15 ? payerAmount + 1 : _mulDiv(payerAmount, seed % 1001, 1000);
        uint256 payerAfter = delta > payerAmount ? 0 : payerAmount - delta;
        state = VariablePart(
            _twoParty(
                base.outcome[0].asset,
                _fixedParts[c].participants[0],
                payerAfter,
                _fixedParts[c].participants[1],
                allocations[1].amount + delta
            ),
            _voucher(_payerKeys[c], id, previous + delta),
            turnNum,
            false
        );
    }

    function _mulDiv(uint256 x, uint256 numerator, uint256 denominator) internal pure returns (uint256) {
        return x * numerator / denominator;
    }

    /// @dev The registration that answers and payouts present (zeros while open).
    function _registration(uint256 c) internal view returns (Registration memory) {
        if (!registered[c]) return Registration(bytes32(0), bytes32(0), 0);
        return Registration(registeredStateHash[c], _owedHash(c), committedEth[c]);
    }

    function _owedHash(uint256 c) internal view returns (bytes32) {
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        return _anythingOwed(owed) ? keccak256(_owed[c]) : bytes32(0);
    }

    /// @dev The ETH a registration would commit now: an open channel's, or what is committed already.
    function _ethToCommit(uint256 c) internal view returns (uint256) {
        return registered[c] ? committedEth[c] : adjudicator.holdings(address(0), channelIds[c]);
    }

    /// @dev The deadline a challenge would have now: the one already set, or (on an open channel) now plus the
    /// challenge duration clamped to the adjudicator's bounds.
    function _deadline(uint256 c) internal view returns (uint256) {
        if (registered[c]) return registeredFinalizesAt[c];
        uint256 duration = _fixedParts[c].challengeDuration;
        uint256 min = adjudicator.MIN_CHALLENGE_DURATION();
        uint256 max = adjudicator.MAX_CHALLENGE_DURATION();
        return block.timestamp + (duration < min ? min : duration > max ? max : duration);
    }

    function _register(uint256 c, VariablePart memory state, bytes32 stateHash, uint256 finalizesAt, uint256 heldEth)
        internal
    {
        registered[c] = true;
        committedEth[c] = heldEth;
        registeredStateHash[c] = stateHash;
        _registeredState[c] = abi.encode(state);
        registeredFinalizesAt[c] = finalizesAt;
        _owed[c] = abi.encode(state.outcome);
        for (uint256 k; k < SLOTS * 2; ++k) {
            _registeredAmounts[c][k] = 0;
            _paidTotals[c][k] = 0;
        }
        for (uint256 a; a < state.outcome.length; ++a) {
            Allocation[] memory allocations = state.outcome[a].allocations;
            for (uint256 i; i < allocations.length; ++i) {
                _registeredAmounts[c][a * SLOTS + i] = allocations[i].amount;
            }
        }
    }

    /// @dev Follows the status of every channel: the record must never go down, and a channel seen finalized has
    /// its status frozen for the invariants to compare against.
    function _sync() internal {
        for (uint256 c; c < CHANNELS; ++c) {
            ChannelId id = channelIds[c];
            (uint48 record, uint48 finalizesAt,) = adjudicator.statusOf(id);
            if (record < maxTurnNumRecord[c]) ++turnNumRecordDecreased;
            else maxTurnNumRecord[c] = record;
            if (registered[c] ? finalizesAt != registeredFinalizesAt[c] : finalizesAt != 0) ++deadlineMoved;
            if (!frozen[c] && adjudicator.isFinalized(id)) {
                frozen[c] = true;
                frozenTurnNumRecord[c] = record;
                frozenFinalizesAt[c] = finalizesAt;
                frozenStateHash[c] = registeredStateHash[c];
            }
        }
    }

    function _indices(uint256 count, uint256 mask) internal pure returns (uint256[] memory indices) {
        mask %= 1 << count;
        uint256 n;
        for (uint256 i; i < count; ++i) if ((mask >> i) & 1 == 1) ++n;
        indices = new uint256[](n);
        n = 0;
        for (uint256 i; i < count; ++i) if ((mask >> i) & 1 == 1) indices[n++] = i;
    }

    function _indexOf(ChannelId id) internal view returns (uint256 c) {
        for (; c < CHANNELS; ++c) if (ChannelId.unwrap(channelIds[c]) == ChannelId.unwrap(id)) return c;
        revert("not a handler channel");
    }

    function _balanceOf(address asset, bytes32 destination) internal view returns (uint256) {
        if (!_isExternal(destination)) return holdingsOf(asset, _indexOf(ChannelId.wrap(destination)));
        address account = address(uint160(uint256(destination)));
        return asset == address(0) ? account.balance : token.balanceOf(account);
    }

    function _snapshot(uint256 c, SingleAssetExit[] memory outcome) internal view returns (Snapshot memory snap) {
        snap.ethHeld = holdingsOf(address(0), c);
        for (uint256 a; a < outcome.length; ++a) {
            snap.held[a] = holdingsOf(outcome[a].asset, c);
            Allocation[] memory allocations = outcome[a].allocations;
            for (uint256 i; i < allocations.length; ++i) {
                snap.destination[a * SLOTS + i] = _balanceOf(outcome[a].asset, allocations[i].destination);
            }
        }
    }

    /// @dev After a payout of `owed` (asset `assetIndex` at `indices`, or every asset): measures what each
    /// destination received, checks it against what was owed and held and against the payout order (guarantees
    /// take their place but are never paid: a channel destination's holdings must not move), updates the mirror of
    /// what is owed and of the ETH committed, then checks the channel's debit on chain (reading a registered
    /// channel's ETH presents the mirror, which the adjudicator checks).
    function _account(
        uint256 c,
        SingleAssetExit[] memory owed,
        Snapshot memory before,
        uint256 assetIndex,
        uint256[] memory indices,
        bool allAssets
    ) internal {
        uint256[2] memory expected;
        uint256 ethPaid;
        for (uint256 a; a < owed.length; ++a) {
            address asset = owed[a].asset;
            uint256 paidTotal;
            Allocation[] memory allocations = owed[a].allocations;
            uint256[] memory due = allAssets || a == assetIndex
                ? _due(before.held[a], allocations, indices)
                : new uint256[](allocations.length);
            for (uint256 i; i < allocations.length; ++i) {
                uint256 balanceAfter = _balanceOf(asset, allocations[i].destination);
                uint256 balanceBefore = before.destination[a * SLOTS + i];
                if (!_isExternal(allocations[i].destination) && balanceAfter != balanceBefore) ++channelIdPaid;
                uint256 paid = balanceAfter > balanceBefore ? balanceAfter - balanceBefore : 0;
                if (paid != due[i]) ++payoutOutOfOrder;
                if (paid > allocations[i].amount) {
                    ++allocationPaidMoreThanOwed;
                    paid = allocations[i].amount;
                }
                allocations[i].amount -= paid;
                _paidTotals[c][a * SLOTS + i] += paid;
                paidTotal += paid;
                if (_isExternal(allocations[i].destination)) totalPaidOut[asset] += paid;
            }
            if (paidTotal > before.held[a]) {
                ++channelPaidMoreThanHeld;
                paidTotal = before.held[a];
            }
            expected[a] = before.held[a] - paidTotal;
            if (asset == address(0)) ethPaid += paidTotal;
        }
        _owed[c] = abi.encode(owed);
        // The payout commits what the channel held in ETH less what it paid in ETH.
        committedEth[c] = before.ethHeld - (ethPaid > before.ethHeld ? before.ethHeld : ethPaid);
        for (uint256 a; a < owed.length; ++a) {
            try this.holdingsOf(owed[a].asset, c) returns (uint256 held) {
                if (held != expected[a]) ++payoutNotMatchingDebit;
            } catch {
                ++ethMirrorWrong;
            }
        }
    }

    /// @dev What PayoutLib must pay each allocation from `held`: min(amount, what the allocations before it left),
    /// in order, guarantees taking their place; only the external allocations asked for (all when `indices` is
    /// empty) are paid.
    function _due(uint256 held, Allocation[] memory allocations, uint256[] memory indices)
        internal
        pure
        returns (uint256[] memory due)
    {
        due = new uint256[](allocations.length);
        uint256 next;
        for (uint256 i; i < allocations.length; ++i) {
            uint256 amount = allocations[i].amount;
            uint256 affordable = amount < held ? amount : held;
            bool named = next < indices.length && indices[next] == i;
            if (named) ++next;
            if (_isExternal(allocations[i].destination) && (indices.length == 0 || named)) due[i] = affordable;
            held -= affordable;
        }
    }

    function _namesGuarantee(Allocation[] memory allocations, uint256[] memory indices) internal pure returns (bool) {
        for (uint256 n; n < indices.length; ++n) if (!_isExternal(allocations[indices[n]].destination)) return true;
        return false;
    }

    function _isExternal(bytes32 destination) internal pure returns (bool) {
        return uint256(destination) >> 160 == 0;
    }

    /// @dev A payout of the registered state and the outcome still owed may only be refused when the channel has
    /// not finalized or nothing is owed (a transfer naming a guarantee is handled by the caller).
    function _refused(uint256 c, SingleAssetExit[] memory owed) internal {
        if (adjudicator.isFinalized(channelIds[c]) && _anythingOwed(owed)) ++owedOutcomeRefused;
    }

    function _anythingOwed(SingleAssetExit[] memory owed) internal pure returns (bool) {
        for (uint256 a; a < owed.length; ++a) {
            for (uint256 i; i < owed[a].allocations.length; ++i) if (owed[a].allocations[i].amount != 0) return true;
        }
        return false;
    }
}
