// Our patch of webrtc-polyfill (patches/webrtc-polyfill+1.2.2.patch), the WebRTC that webtorrent's peers use in Node
// (node-datachannel): the ICE gathering ends with a null candidate, as in a browser. Without it simple-peer, which
// sends its offer or answer only at the end of candidates, waited for its 5 s timeout on every connection between a
// Node peer and anyone. Checked by events, not by time: each side sees the null candidate, its local description
// then holds its candidates, and the offer and answer taken at that moment connect a data channel.
import { expect } from "chai";
import { RTCPeerConnection } from "webrtc-polyfill";

/** Resolves with the local SDP once `pc` reports the end of its candidates (a null icecandidate). */
function endOfCandidates(pc: RTCPeerConnection): Promise<string> {
  return new Promise((resolve) => {
    pc.addEventListener("icecandidate", (event) => {
      const { candidate } = event as RTCPeerConnectionIceEvent;
      if (candidate === null) resolve(pc.localDescription?.sdp ?? "");
    });
  });
}

describe("webrtc-polyfill (patched): the end of ICE candidates", function () {
  this.timeout(20_000);

  it("each side gets a null candidate once gathering completes, and the descriptions taken then connect", async function () {
    const [a, b] = [new RTCPeerConnection(), new RTCPeerConnection()];
    try {
      const channel = a.createDataChannel("piecepay");
      const opened = new Promise<void>((resolve) => channel.addEventListener("open", () => resolve()));
      const received = new Promise<string>((resolve) =>
        b.addEventListener("datachannel", (event) => {
          const theirs = (event as RTCDataChannelEvent).channel;
          theirs.addEventListener("message", (m) => resolve(String((m as MessageEvent).data)));
        }),
      );

      const offerDone = endOfCandidates(a);
      await a.setLocalDescription(await a.createOffer());
      const offer = await offerDone;
      expect(offer).to.match(/a=candidate:/);
      expect(a.iceGatheringState).to.equal("complete");

      const answerDone = endOfCandidates(b);
      await b.setRemoteDescription({ type: "offer", sdp: offer });
      await b.setLocalDescription(await b.createAnswer());
      const answer = await answerDone;
      expect(answer).to.match(/a=candidate:/);
      await a.setRemoteDescription({ type: "answer", sdp: answer });

      await opened;
      channel.send("hello");
      expect(await received).to.equal("hello");
    } finally {
      a.close();
      b.close();
    }
  });
});
