// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Adjudicator} from "../../contracts/Adjudicator.sol";
import {VoucherPaymentApp} from "../../contracts/VoucherPaymentApp.sol";
import {
    ChannelId,
    FixedPart,
    Registration,
    SignedVariablePart,
    SingleAssetExit,
    VariablePart
} from "../../contracts/interfaces/ChannelTypes.sol";
import {VoucherLib} from "../../contracts/libraries/VoucherLib.sol";
import {ChallengeProbe} from "./utils/ChallengeProbe.sol";
import {ChannelBuilder} from "./utils/ChannelBuilder.sol";
import {VM} from "./utils/Vm.sol";

/// @notice Plays the dispute game of two ETH voucher channels [payer, payee] as two hostile participants (ADR
/// 0005; docs/security.md rows 29 and 30): each keeps every signature it ever saw, builds states from them at any turn
/// number, and calls any function of the adjudicator with them, in any order, sending the transaction itself (its own
/// signature slot empty or filled) or through a stranger. The payer is honest only in what she signs: the funding
/// state, cumulative vouchers, and close offers (final states that pay the payee at most her largest voucher, which the
/// payee may countersign). The payee signs whatever it builds. HostileMoneyInvariants.t.sol and
/// HostileExitInvariants.t.sol check what each honest side is owed, whatever the other one does.
/// @dev Channel 0 is funded at turn 0 with a challenge duration of an hour; channel 1 at turn 1 with a duration
/// of 0, which the adjudicator must clamp to MIN_CHALLENGE_DURATION. Every call catches the adjudicator's reverts
/// so that the mirrors and ghosts only follow what succeeded. Seeds are split into bits; see `_move`. After every
/// call `_sync` follows each channel's clock and, when an open channel's record changes, tries the payer's exit.
// solhint-disable-next-line max-states-count
contract HostileHandler is ChannelBuilder {
    uint256 public constant CHANNELS = 2;
    uint256 public constant DEPOSIT = 10 ether;
    uint256 internal constant PAYER = 0;
    uint256 internal constant PAYEE = 1;
    uint256 internal constant PAYER_ONLY = 0x1;
    /// @dev Signed states each channel keeps, so that picking one stays cheap.
    uint256 internal constant MAX_RECORDED = 24;

    Adjudicator public immutable adjudicator;
    VoucherPaymentApp public immutable app;
    ChallengeProbe internal immutable _probe;

    /// @dev A state and who signed it, as both parties have seen it (abi.encode(VariablePart)).
    struct Recorded {
        bytes state;
        uint256 signers;
        bool isFinal;
    }

    /// @dev Who acts, who sends the transaction, and how the actor fills the signature slots (see `_move`).
    struct Move {
        uint256 actor;
        uint256 dropMask;
        bool viaStranger;
        bool emptyOwnSlot;
        bool emptyOtherSlot;
    }

    FixedPart[CHANNELS] internal _fixedParts;
    ChannelId[CHANNELS] public channelIds;
    /// @notice The challenge each channel gets: its duration clamped to [MIN, MAX] (ADR 0005).
    uint256[CHANNELS] public challengeDuration;
    /// @dev The funding state of each channel, all the deposit to the payer, signed by both (turn = channel index):
    /// abi.encode(VariablePart), and abi.encode(SignedVariablePart) with both signatures.
    bytes[CHANNELS] internal _funding;
    bytes[CHANNELS] internal _fundingSigned;

    // --------------------------------------------------------------------------- what the parties have seen

    Recorded[][CHANNELS] internal _recorded;
    /// @dev State hash (which names its channel) => 1 + its index in `_recorded`.
    mapping(bytes32 stateHash => uint256 position) internal _positionOf;
    /// @dev The payer's vouchers per channel, increasing; the last one is the largest she signed.
    uint256[][CHANNELS] internal _vouchers;
    /// @dev Signatures already made (signing is most of the cost of a call, and the same states come back).
    mapping(uint256 key => mapping(bytes32 hash => bytes signature)) internal _signatures;

    // ------------------------------------------------------------------------------- mirror of each channel

    /// @dev The handler's clock: cheatcode time changes are re-applied at the start of every call.
    uint256 public currentTime;
    /// @dev A state is registered (finalizesAt != 0 on chain).
    bool[CHANNELS] public registered;
    bytes[CHANNELS] internal _registeredState;
    bytes32[CHANNELS] public registeredStateHash;
    bytes[CHANNELS] internal _owed; // abi.encode(SingleAssetExit[]): the outcome still owed
    uint256[CHANNELS] public committedEth;

    // ------------------------------------------------------------------------------------------------- ghosts

    /// @dev When the channel was first registered (challenge or conclusion): its one clock started then.
    bool[CHANNELS] public everRegistered;
    uint256[CHANNELS] public firstRegisteredAt;
    /// @dev Things that must never happen; each must stay 0.
    uint256 public deadlinePastBound;
    uint256 public finalizedLate;
    uint256 public openRecordRaised;
    uint256 public allocationOverpaid;
    /// @dev Per open channel: the record when the payer's challenge with her funding state was last tried, and
    /// the adjudicator's refusal then (empty: it succeeds). Tried again whenever the record changes or the channel
    /// was registered meanwhile: nothing else of an open channel's status changes here (no deposits), and the time
    /// does not matter to an open channel.
    bool[CHANNELS] public exitProbed;
    uint48[CHANNELS] public exitProbedRecord;
    bytes[CHANNELS] internal _exitRefusal;
    /// @dev Successful calls per action, to show the runs reach every part of the game.
    mapping(bytes32 action => uint256 count) public succeeded;

    constructor() {
        adjudicator = new Adjudicator();
        app = new VoucherPaymentApp();
        _probe = new ChallengeProbe();
        currentTime = block.timestamp;
        VM.deal(address(this), CHANNELS * DEPOSIT);
        for (uint256 c; c < CHANNELS; ++c) {
            uint48 duration = c == 0 ? 1 hours : 0;
            address payerOf = VM.addr(_key(c, PAYER));
            address payeeOf = VM.addr(_key(c, PAYEE));
            FixedPart memory fixedPart = _fixedPart(payerOf, payeeOf, uint64(c), address(app), duration);
            _fixedParts[c] = fixedPart;
            challengeDuration[c] = _clamped(duration);
            ChannelId id = adjudicator.channelIdOf(fixedPart);
            channelIds[c] = id;
            VariablePart memory funding =
                VariablePart(_twoParty(address(0), payerOf, DEPOSIT, payeeOf, 0), "", uint48(c), false);
            _funding[c] = abi.encode(funding);
            _fundingSigned[c] = abi.encode(_signedByBoth(id, funding, _key(c, PAYER), _key(c, PAYEE)));
            _record(c, funding, BOTH);
            adjudicator.deposit{value: DEPOSIT}(address(0), id, 0, DEPOSIT);
        }
        _sync();
    }

    /// @dev Time moves only in `warp`, which syncs itself; so one sync after each action is enough.
    modifier step() {
        VM.warp(currentTime);
        _;
        _sync();
    }

    // ------------------------------------------------------------------------------------- what the payer signs

    /// @notice The payer of each channel signs her next cumulative voucher (never above the deposit): she pays
    /// for pieces whatever happens on chain.
    function payerSignsVoucher(uint256 amountSeed) external step {
        for (uint256 c; c < CHANNELS; ++c) {
            uint256 largest = maxVoucher(c);
            if (largest == DEPOSIT) continue;
            uint256 amount = largest + 1 + amountSeed % (DEPOSIT / 8);
            _vouchers[c].push(amount > DEPOSIT ? DEPOSIT : amount);
        }
    }

    /// @notice The payer offers to close: a final state at any turn paying the payee at most her largest voucher
    /// (often exactly it), which the payee may countersign at once.
    function payerOffersClose(uint256 channelSeed, uint256 amountSeed, uint256 turnSeed, bool countersigned)
        external
        step
    {
        uint256 c = channelSeed % CHANNELS;
        uint256 largest = maxVoucher(c);
        uint256 amount = amountSeed % 2 == 0 ? largest : (amountSeed >> 1) % (largest + 1);
        address[] memory participants = _fixedParts[c].participants;
        VariablePart memory offer = VariablePart(
            _twoParty(address(0), participants[0], DEPOSIT - amount, participants[1], amount),
            "",
            uint48(turnSeed % 8),
            true
        );
        _record(c, offer, countersigned ? BOTH : PAYER_ONLY);
    }

    // ---------------------------------------------------------------------------------------- chain actions

    /// @notice Challenges with any supported state the actor can build: a recorded state (with or without a
    /// proof), or, for the payee, a voucher state on top of any recorded state.
    function challenge(uint256 channelSeed, uint256 moveSeed, uint256 stateSeed, uint256 turnSeed) external step {
        uint256 c = channelSeed % CHANNELS;
        Move memory m = _move(moveSeed);
        (SignedVariablePart[] memory proof, SignedVariablePart memory candidate) =
            _buildSupported(c, m, stateSeed, turnSeed);
        // Through a stranger, the actor signs the challenge (a watchtower); otherwise it sends it.
        bytes memory challengerSig;
        if (m.viaStranger) {
            challengerSig = _challengerSig(_key(c, m.actor), _stateHash(channelIds[c], candidate.variablePart));
        }
        Registration memory current = _registration(c);
        uint256 ethBefore = _ethToCommit(c);
        _prankUnlessStranger(c, m);
        try adjudicator.challenge(_fixedParts[c], proof, candidate, challengerSig, current) {
            _afterRegistration(c, candidate.variablePart, ethBefore);
            ++succeeded["challenge"];
        } catch {}
    }

    /// @notice Checkpoints any supported state the actor can build, as for `challenge`.
    function checkpoint(uint256 channelSeed, uint256 moveSeed, uint256 stateSeed, uint256 turnSeed) external step {
        uint256 c = channelSeed % CHANNELS;
        Move memory m = _move(moveSeed);
        (SignedVariablePart[] memory proof, SignedVariablePart memory candidate) =
            _buildSupported(c, m, stateSeed, turnSeed);
        Registration memory current = _registration(c);
        uint256 ethBefore = _ethToCommit(c);
        _prankUnlessStranger(c, m);
        try adjudicator.checkpoint(_fixedParts[c], proof, candidate, current) {
            _afterRegistration(c, candidate.variablePart, ethBefore);
            ++succeeded["checkpoint"];
        } catch {}
    }

    /// @notice Answers the registered state: the payee with a voucher move on top of it (mostly at the next
    /// turn), or either party with a recorded state.
    function respond(uint256 channelSeed, uint256 moveSeed, uint256 stateSeed, uint256 turnSeed) external step {
        uint256 c = channelSeed % CHANNELS;
        if (!registered[c]) return;
        Move memory m = _move(moveSeed);
        VariablePart memory challenged = abi.decode(_registeredState[c], (VariablePart));
        VariablePart memory response;
        uint256 signers;
        if (m.actor == PAYEE && stateSeed % 4 != 0 && _vouchers[c].length != 0) {
            uint48 turnNum =
                turnSeed % 8 == 0 ? _turnNum(c, challenged.turnNum, turnSeed >> 3) : _next(challenged.turnNum);
            response = _voucherOn(c, challenged, stateSeed >> 2, turnNum);
        } else {
            (response, signers) = _pickSignedBy(c, 0, stateSeed >> 2);
        }
        SignedVariablePart memory signed = _sign(c, m, response, signers);
        uint256 heldEth = committedEth[c];
        _prankUnlessStranger(c, m);
        try adjudicator.respond(_fixedParts[c], channelIds[c], challenged, signed, heldEth) {
            _afterRegistration(c, response, heldEth);
            ++succeeded["respond"];
        } catch {}
    }

    /// @notice Concludes with a recorded state (mostly a close offer), countersigned by the payee if it acts;
    /// one time in two paying it out in the same call.
    function conclude(uint256 channelSeed, uint256 moveSeed, uint256 stateSeed, bool andTransfer) external step {
        uint256 c = channelSeed % CHANNELS;
        Move memory m = _move(moveSeed);
        (VariablePart memory state, uint256 signers) =
            stateSeed % 4 == 0 ? _pickSignedBy(c, 0, stateSeed >> 2) : _pickFinal(c, stateSeed >> 2);
        SignedVariablePart memory candidate = _sign(c, m, state, signers);
        uint256 ethBefore = _ethToCommit(c);
        if (!andTransfer) {
            Registration memory current = _registration(c);
            _prankUnlessStranger(c, m);
            try adjudicator.conclude(_fixedParts[c], candidate, current) {
                _afterRegistration(c, state, ethBefore);
                ++succeeded["conclude"];
            } catch {}
            return;
        }
        (uint256 payerBefore, uint256 payeeBefore) = _balances(c);
        _prankUnlessStranger(c, m);
        try adjudicator.concludeAndTransferAllAssets(_fixedParts[c], candidate) {
            _afterRegistration(c, state, ethBefore);
            _afterPayout(c, payerBefore, payeeBefore);
            ++succeeded["concludeAndTransfer"];
        } catch {}
    }

    /// @notice Pays some allocations of the registered outcome still owed, by index (empty mask: all).
    function transfer(uint256 channelSeed, uint256 indexMask) external step {
        uint256 c = channelSeed % CHANNELS;
        if (!registered[c]) return;
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        uint256[] memory indices = _indices(indexMask);
        (uint256 payerBefore, uint256 payeeBefore) = _balances(c);
        try adjudicator.transfer(0, channelIds[c], registeredStateHash[c], owed, committedEth[c], indices) {
            _afterPayout(c, payerBefore, payeeBefore);
            ++succeeded["transfer"];
        } catch {}
    }

    /// @notice Pays all of the registered outcome still owed.
    function transferAllAssets(uint256 channelSeed) external step {
        uint256 c = channelSeed % CHANNELS;
        if (!registered[c]) return;
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        (uint256 payerBefore, uint256 payeeBefore) = _balances(c);
        try adjudicator.transferAllAssets(channelIds[c], registeredStateHash[c], owed, committedEth[c]) {
            _afterPayout(c, payerBefore, payeeBefore);
            ++succeeded["transferAllAssets"];
        } catch {}
    }

    /// @notice Lets time pass: a few seconds (to act just before a deadline), up to 20 minutes, or one time in
    /// four up to two hours.
    function warp(uint256 secondsSeed) external {
        uint256 mode = secondsSeed % 4;
        currentTime += mode == 0 ? secondsSeed % 16 : mode == 1 ? secondsSeed % 2 hours : secondsSeed % 20 minutes;
        VM.warp(currentTime);
        _sync();
    }

    // --------------------------------------------------------------------------------------------- views

    /// @notice The payer of channel `c` (participant 0); her balance is what the channel paid her.
    function payer(uint256 c) public view returns (address) {
        return _fixedParts[c].participants[PAYER];
    }

    /// @notice The payee of channel `c` (participant 1); its balance is what the channel paid it.
    function payee(uint256 c) public view returns (address) {
        return _fixedParts[c].participants[PAYEE];
    }

    /// @notice The largest voucher the payer signed in channel `c` (0 before the first).
    function maxVoucher(uint256 c) public view returns (uint256) {
        uint256 n = _vouchers[c].length;
        return n == 0 ? 0 : _vouchers[c][n - 1];
    }

    /// @notice The ETH channel `c` holds; a registered channel's through the mirror of its registration, which
    /// the adjudicator checks against the fingerprint (a mismatch reverts).
    function holdingsOf(uint256 c) public view returns (uint256) {
        if (!registered[c]) return adjudicator.holdings(address(0), channelIds[c]);
        return adjudicator.ethHoldings(channelIds[c], _registration(c));
    }

    /// @notice What channel `c` still owes each party: the registered outcome still owed, or, while the channel
    /// is open, all it holds to the payer (her funding state gives her everything).
    function stillOwed(uint256 c) external view returns (uint256 toPayer, uint256 toPayee) {
        if (!registered[c]) return (holdingsOf(c), 0);
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        return (owed[0].allocations[PAYER].amount, owed[0].allocations[PAYEE].amount);
    }

    /// @notice The payer's funding state signed by both, with the fixed part: what she challenges with to exit.
    function fundingChallenge(uint256 c) external view returns (FixedPart memory, SignedVariablePart memory) {
        return (_fixedParts[c], abi.decode(_fundingSigned[c], (SignedVariablePart)));
    }

    /// @notice Why the payer's challenge with her funding state is refused in open channel `c` (empty: it would
    /// succeed), as last tried (see `exitProbedRecord`).
    function exitRefusal(uint256 c) external view returns (bytes memory) {
        return _exitRefusal[c];
    }

    // ------------------------------------------------------------------------------------------- internals

    function _clamped(uint256 duration) internal view returns (uint256) {
        uint256 min = adjudicator.MIN_CHALLENGE_DURATION();
        uint256 max = adjudicator.MAX_CHALLENGE_DURATION();
        return duration < min ? min : duration > max ? max : duration;
    }

    /// @dev Keys 0xA000 + c (payer) and 0xB000 + c (payee): each channel has its own parties, so each party's
    /// balance is exactly what its channel paid it.
    function _key(uint256 c, uint256 party) internal pure returns (uint256) {
        return (party == PAYER ? 0xA000 : 0xB000) + c;
    }

    /// @dev Bit 0: the actor (payer or payee). Bits 1-2: one time in four a stranger sends the transaction (all
    /// signatures filled, the actor's challenge signature). Bit 3: the actor leaves its own slot empty when it
    /// sends. Bits 4-8: one time in eight it leaves out signatures it could give (mask in bits 7-8). Bits 9-12: one
    /// time in sixteen it claims the other side's signature with an empty slot (only the sender's counts).
    function _move(uint256 seed) internal pure returns (Move memory m) {
        m.actor = seed & 1;
        m.viaStranger = (seed >> 1) % 4 == 0;
        m.emptyOwnSlot = !m.viaStranger && (seed >> 3) & 1 == 1;
        m.dropMask = (seed >> 4) % 8 == 0 ? (seed >> 7) & BOTH : 0;
        m.emptyOtherSlot = (seed >> 9) % 16 == 15;
    }

    /// @dev `_personalSign`, made once per key and hash.
    function _signature(uint256 key, bytes32 hash) internal returns (bytes memory signature) {
        signature = _signatures[key][hash];
        if (signature.length != 0) return signature;
        signature = _personalSign(key, hash);
        _signatures[key][hash] = signature;
    }

    function _prankUnlessStranger(uint256 c, Move memory m) internal {
        if (!m.viaStranger) VM.prank(_fixedParts[c].participants[m.actor]);
    }

    /// @dev A candidate and proof the actor can sign. Two times in three, if the payee acts and there is a voucher:
    /// its voucher state on top of a recorded state (half the time the funding state, mostly one the payer signed,
    /// final or not), with that state as the proof. Otherwise a recorded state: half the time alone, one that the
    /// actor can have signed by both; half the time one the payee signed, with a proof the actor can have signed
    /// by both. One time in eight, any recorded state instead.
    function _buildSupported(uint256 c, Move memory m, uint256 stateSeed, uint256 turnSeed)
        internal
        returns (SignedVariablePart[] memory proof, SignedVariablePart memory candidate)
    {
        proof = new SignedVariablePart[](1);
        if (m.actor == PAYEE && stateSeed % 3 != 0 && _vouchers[c].length != 0) {
            (VariablePart memory base, uint256 baseSigners) = _pickBase(c, stateSeed >> 2);
            VariablePart memory state = _voucherOn(c, base, stateSeed >> 13, _turnNum(c, base.turnNum, turnSeed));
            proof[0] = _sign(c, m, base, baseSigners);
            return (proof, _sign(c, m, state, 0));
        }
        // What the actor can have signed by both: what the other side signed (the payee signs anything).
        uint256 bothMask = m.actor == PAYER ? BOTH : PAYER_ONLY;
        bool anyState = (stateSeed >> 2) % 8 == 0;
        // With a proof, a state only the payee signed (its voucher states), if there is one; alone, one both can
        // have signed.
        bool withProof = (stateSeed >> 5) % 2 == 1 && _payeeOnlyCount(c) != 0;
        (VariablePart memory picked, uint256 signers) = anyState
            ? _pickSignedBy(c, 0, stateSeed >> 6)
            : withProof ? _pickWhere(c, BOTH, PAYEE_ONLY, stateSeed >> 6) : _pickSignedBy(c, bothMask, stateSeed >> 6);
        candidate = _sign(c, m, picked, signers);
        if (!withProof) return (new SignedVariablePart[](0), candidate);
        (VariablePart memory proofState, uint256 proofSigners) = _pickSignedBy(c, bothMask, stateSeed >> 14);
        proof[0] = _sign(c, m, proofState, proofSigners);
    }

    /// @dev The payee's voucher state on top of `base` (there is a voucher): one of the payer's vouchers (mostly
    /// the largest), moving what it adds to what `base` already holds from the payer's allocation to the payee's,
    /// as the app requires. `base` may be anything (a final state, a state signed by one side): the adjudicator
    /// and the app decide. One time in sixteen the payee forges a voucher above the largest, signing it itself.
    function _voucherOn(uint256 c, VariablePart memory base, uint256 voucherSeed, uint48 turnNum)
        internal
        returns (VariablePart memory)
    {
        uint256[] storage vouchers = _vouchers[c];
        uint256 n = vouchers.length;
        uint256 amount = voucherSeed % 4 == 0 ? vouchers[(voucherSeed >> 2) % n] : vouchers[n - 1];
        bool forged = (voucherSeed >> 8) % 16 == 15;
        if (forged) amount = vouchers[n - 1] + 1;
        uint256 previous = base.appData.length == 97 ? uint256(bytes32(base.appData)) : 0;
        uint256 delta = amount > previous ? amount - previous : 0;
        uint256 payerAmount = base.outcome[0].allocations[PAYER].amount;
        uint256 payeeAmount = base.outcome[0].allocations[PAYEE].amount;
        // A voucher beyond the payer's allocation is built anyway (the app must refuse it), capped to stay in range.
        uint256 payerAfter = delta > payerAmount ? 0 : payerAmount - delta;
        bytes32 voucherHash = VoucherLib.voucherHash(channelIds[c], amount);
        return VariablePart(
            _twoParty(address(0), payer(c), payerAfter, payee(c), payeeAmount + delta),
            abi.encodePacked(amount, _signature(_key(c, forged ? PAYEE : PAYER), voucherHash)),
            turnNum,
            false
        );
    }

    /// @dev Any turn number around the record and the base: mostly the first one above both (+0..2), else the
    /// record itself, the base's own turn, or the top of uint48 (after which nothing can follow).
    function _turnNum(uint256 c, uint48 baseTurn, uint256 seed) internal view returns (uint48) {
        (uint48 record,,) = adjudicator.statusOf(channelIds[c]);
        uint256 mode = seed % 8;
        if (mode == 5) return record;
        if (mode == 6) return baseTurn;
        if (mode == 7) return type(uint48).max;
        uint256 above = record > baseTurn ? uint256(record) + 1 : uint256(baseTurn) + 1;
        uint256 turnNum = above + (seed >> 3) % 3;
        return turnNum > type(uint48).max ? type(uint48).max : uint48(turnNum);
    }

    /// @dev The next turn number, or the top of uint48 again (the adjudicator must refuse it).
    function _next(uint48 turnNum) internal pure returns (uint48) {
        return turnNum == type(uint48).max ? turnNum : turnNum + 1;
    }

    /// @dev Signs `state` as the actor can: the signatures recorded in `signers`, plus the payee's own if the
    /// payee acts (it signs anything); minus the dropped ones. The actor's own slot is left empty when it sends
    /// and chose to; the other side's slot is empty when the actor claims it without its signature. The payer sees
    /// every signature the payee gives, and records it.
    function _sign(uint256 c, Move memory m, VariablePart memory state, uint256 signers)
        internal
        returns (SignedVariablePart memory)
    {
        uint256 other = 1 - m.actor;
        uint256 signedBy = signers;
        if (m.actor == PAYEE) signedBy |= PAYEE_ONLY;
        signedBy &= ~m.dropMask;
        bool forged = m.emptyOtherSlot && (signedBy >> other) & 1 == 0;
        if (forged) signedBy |= 1 << other;
        bytes32 stateHash = _stateHash(channelIds[c], state);
        bytes[] memory sigs = new bytes[]((signedBy & 1) + (signedBy >> 1));
        uint256 k;
        for (uint256 i; i < 2; ++i) {
            if ((signedBy >> i) & 1 == 0) continue;
            bool empty = i == m.actor ? m.emptyOwnSlot : forged;
            sigs[k++] = empty ? bytes("") : _signature(_key(c, i), stateHash);
        }
        if (m.actor == PAYEE && signedBy & PAYEE_ONLY != 0 && !m.emptyOwnSlot) _record(c, state, PAYEE_ONLY);
        return SignedVariablePart(state, signedBy, sigs);
    }

    /// @dev What the payee builds on: half the time the funding state (the honest base), one time in four a close
    /// offer (the base that pays twice if taken), else a state the payer signed or anything recorded.
    function _pickBase(uint256 c, uint256 seed) internal view returns (VariablePart memory, uint256) {
        uint256 mode = seed % 8;
        if (mode < 4) return (abi.decode(_funding[c], (VariablePart)), BOTH);
        if (mode < 6) return _pickFinal(c, seed >> 3);
        return _pickSignedBy(c, mode == 6 ? PAYER_ONLY : 0, seed >> 3);
    }

    /// @dev A recorded state signed by `mask` at least (any recorded state if there is none).
    function _pickSignedBy(uint256 c, uint256 mask, uint256 seed) internal view returns (VariablePart memory, uint256) {
        return _pickWhere(c, mask, mask, seed);
    }

    /// @dev A recorded state whose `signers & mask` is `value` (any recorded state if there is none).
    function _pickWhere(uint256 c, uint256 mask, uint256 value, uint256 seed)
        internal
        view
        returns (VariablePart memory, uint256)
    {
        Recorded[] storage all = _recorded[c];
        uint256[] memory matching = new uint256[](all.length);
        uint256 n;
        for (uint256 i; i < all.length; ++i) if (all[i].signers & mask == value) matching[n++] = i;
        Recorded storage r = n == 0 ? all[seed % all.length] : all[matching[seed % n]];
        return (abi.decode(r.state, (VariablePart)), r.signers);
    }

    /// @dev How many recorded states only the payee signed (its voucher states the payer saw).
    function _payeeOnlyCount(uint256 c) internal view returns (uint256 n) {
        Recorded[] storage all = _recorded[c];
        for (uint256 i; i < all.length; ++i) if (all[i].signers == PAYEE_ONLY) ++n;
    }

    /// @dev A recorded final state (a close offer), or any recorded state if there is none.
    function _pickFinal(uint256 c, uint256 seed) internal view returns (VariablePart memory, uint256) {
        Recorded[] storage all = _recorded[c];
        uint256[] memory finals = new uint256[](all.length);
        uint256 n;
        for (uint256 i; i < all.length; ++i) if (all[i].isFinal) finals[n++] = i;
        if (n == 0) return _pickSignedBy(c, 0, seed);
        Recorded storage r = all[finals[seed % n]];
        return (abi.decode(r.state, (VariablePart)), r.signers);
    }

    /// @dev Adds `state` to what both parties have seen, or adds `signers` to it.
    function _record(uint256 c, VariablePart memory state, uint256 signers) internal {
        bytes32 stateHash = _stateHash(channelIds[c], state);
        uint256 position = _positionOf[stateHash];
        if (position != 0) {
            _recorded[c][position - 1].signers |= signers;
            return;
        }
        if (_recorded[c].length == MAX_RECORDED) return;
        _recorded[c].push(Recorded(abi.encode(state), signers, state.isFinal));
        _positionOf[stateHash] = _recorded[c].length;
    }

    /// @dev The registration that answers and payouts present (zeros while open).
    function _registration(uint256 c) internal view returns (Registration memory) {
        if (!registered[c]) return Registration(bytes32(0), bytes32(0), 0);
        return Registration(registeredStateHash[c], _owedHash(c), committedEth[c]);
    }

    function _owedHash(uint256 c) internal view returns (bytes32) {
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        bool anything = owed[0].allocations[PAYER].amount != 0 || owed[0].allocations[PAYEE].amount != 0;
        return anything ? keccak256(_owed[c]) : bytes32(0);
    }

    /// @dev The ETH a registration would commit now: an open channel's, or what is committed already.
    function _ethToCommit(uint256 c) internal view returns (uint256) {
        return registered[c] ? committedEth[c] : adjudicator.holdings(address(0), channelIds[c]);
    }

    /// @dev After a successful challenge, checkpoint, response or conclusion: `state` is registered with
    /// `heldEth`, unless the call left the channel open (a checkpoint of an open channel, or an answer that
    /// reopened it, before ADR 0005).
    function _afterRegistration(uint256 c, VariablePart memory state, uint256 heldEth) internal {
        (, uint48 finalizesAt,) = adjudicator.statusOf(channelIds[c]);
        if (finalizesAt == 0) {
            registered[c] = false;
            return;
        }
        registered[c] = true;
        committedEth[c] = heldEth;
        _registeredState[c] = abi.encode(state);
        registeredStateHash[c] = _stateHash(channelIds[c], state);
        _owed[c] = abi.encode(state.outcome);
    }

    function _balances(uint256 c) internal view returns (uint256, uint256) {
        return (payer(c).balance, payee(c).balance);
    }

    /// @dev After a payout: what each party received comes off what it is owed and off the ETH committed.
    function _afterPayout(uint256 c, uint256 payerBefore, uint256 payeeBefore) internal {
        SingleAssetExit[] memory owed = abi.decode(_owed[c], (SingleAssetExit[]));
        uint256 toPayer = payer(c).balance - payerBefore;
        uint256 toPayee = payee(c).balance - payeeBefore;
        owed[0].allocations[PAYER].amount = _deduct(owed[0].allocations[PAYER].amount, toPayer);
        owed[0].allocations[PAYEE].amount = _deduct(owed[0].allocations[PAYEE].amount, toPayee);
        _owed[c] = abi.encode(owed);
        committedEth[c] = _deduct(committedEth[c], toPayer + toPayee);
    }

    /// @dev `amount - paid`; a payment above what was owed is counted as a violation.
    function _deduct(uint256 amount, uint256 paid) internal returns (uint256) {
        if (paid <= amount) return amount - paid;
        ++allocationOverpaid;
        return 0;
    }

    /// @dev Tries the payer's challenge with her funding state, sent by herself, and rolls it back.
    function _probeExit(uint256 c, uint48 record) internal {
        SignedVariablePart memory funding = abi.decode(_fundingSigned[c], (SignedVariablePart));
        _exitRefusal[c] = _probe.refusal(adjudicator, payer(c), _fixedParts[c], funding);
        exitProbed[c] = true;
        exitProbedRecord[c] = record;
    }

    /// @dev The allocation indices [0, 1] whose bit is set in `mask` (none: the adjudicator pays all).
    function _indices(uint256 mask) internal pure returns (uint256[] memory indices) {
        mask %= 4;
        indices = new uint256[]((mask & 1) + (mask >> 1));
        uint256 n;
        for (uint256 i; i < 2; ++i) if ((mask >> i) & 1 == 1) indices[n++] = i;
    }

    /// @dev Follows the clock of every channel (ADR 0005): an open channel's record stays 0 and the payer can
    /// start an exit from it, and from its first registration a channel finalizes at the latest one challenge
    /// duration later.
    function _sync() internal {
        for (uint256 c; c < CHANNELS; ++c) {
            ChannelId id = channelIds[c];
            (uint48 record, uint48 finalizesAt,) = adjudicator.statusOf(id);
            if (finalizesAt == 0 && record != 0) ++openRecordRaised;
            if (finalizesAt != 0) exitProbed[c] = false;
            else if (!exitProbed[c] || exitProbedRecord[c] != record) _probeExit(c, record);
            if (!everRegistered[c] && finalizesAt != 0) {
                everRegistered[c] = true;
                firstRegisteredAt[c] = currentTime;
            }
            if (!everRegistered[c]) continue;
            uint256 bound = firstRegisteredAt[c] + challengeDuration[c];
            if (finalizesAt == 0 || finalizesAt > bound) ++deadlinePastBound;
            if (currentTime >= bound && !adjudicator.isFinalized(id)) ++finalizedLate;
        }
    }
}
