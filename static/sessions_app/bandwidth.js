// The video sender's limits during a call: it starts at a modest bitrate for metered
// mobile data, halves bitrate and resolution while getStats shows the connection limited,
// lossy or slow, and doubles them back after a while of good conditions.

const MAX_BITRATE = 300_000;
const MIN_BITRATE = 60_000;
const MAX_SCALE = 4;
const STATS_INTERVAL_MS = 4000;
const GOOD_POLLS_BEFORE_STEP_UP = 5; // 20 s of good conditions per step back up
const WARM_UP_POLLS = 1; // the bandwidth estimate starts low: ignore the first poll
const MAX_LOSS = 0.05;
const MAX_RTT_S = 0.6;

export class BandwidthControl {
  // peer: its `pc` and `videoSender()`; box: shows the limits in data-max-bitrate and
  // data-scale (#video-state); suggestAudio(visible): at the lowest step, offer audio only.
  constructor({ peer, box, suggestAudio }) {
    this.peer = peer;
    this.box = box;
    this.suggestAudio = suggestAudio;
    this.state = null;
  }

  start() {
    if (this.state) return;
    const sender = this.peer.videoSender();
    this.state = { timer: null, bitrate: MAX_BITRATE, scale: 1, goodPolls: 0, polls: 0, cooldown: 0 };
    // A failed measurement or setParameters must not end the call: warn and go on.
    this.state.timer = setInterval(() => {
      this.poll().catch((error) => console.warn("video: stats", error));
    }, STATS_INTERVAL_MS);
    if (sender?.track) this.applyEncoding(sender).catch((error) => console.warn("video: setParameters", error));
  }

  stop() {
    if (this.state) clearInterval(this.state.timer);
    this.state = null;
  }

  async applyEncoding(sender) {
    const params = sender.getParameters();
    if (!params.encodings || !params.encodings.length) params.encodings = [{}];
    params.encodings[0].maxBitrate = this.state.bitrate;
    params.encodings[0].scaleResolutionDownBy = this.state.scale;
    await sender.setParameters(params);
    if (this.box) {
      this.box.dataset.maxBitrate = String(this.state?.bitrate ?? "");
      this.box.dataset.scale = String(this.state?.scale ?? "");
    }
  }

  async poll() {
    const pc = this.peer.pc;
    const state = this.state;
    const sender = this.peer.videoSender();
    if (!pc || !state || pc.connectionState !== "connected" || !sender?.track) return;
    const report = await pc.getStats();
    if (pc !== this.peer.pc || state !== this.state) return;
    let limited = false;
    let loss = 0;
    let rtt = 0;
    let pairId = null;
    const pairs = new Map();
    report.forEach((entry) => {
      if (entry.type === "outbound-rtp" && entry.kind === "video" && entry.qualityLimitationReason === "bandwidth") limited = true;
      if (entry.type === "remote-inbound-rtp") {
        if (typeof entry.fractionLost === "number") loss = Math.max(loss, entry.fractionLost);
        if (typeof entry.roundTripTime === "number") rtt = Math.max(rtt, entry.roundTripTime);
      }
      if (entry.type === "transport" && entry.selectedCandidatePairId) pairId = entry.selectedCandidatePairId;
      if (entry.type === "candidate-pair") pairs.set(entry.id, entry);
    });
    const pair = pairs.get(pairId);
    if (pair && typeof pair.currentRoundTripTime === "number") rtt = Math.max(rtt, pair.currentRoundTripTime);
    state.polls += 1;
    if (state.polls <= WARM_UP_POLLS) return;
    const bad = limited || loss > MAX_LOSS || rtt > MAX_RTT_S;
    if (state.cooldown > 0) {
      state.cooldown -= 1;
      return;
    }
    if (bad) {
      state.goodPolls = 0;
      if (state.bitrate <= MIN_BITRATE && state.scale >= MAX_SCALE) {
        this.suggestAudio(true);
        return;
      }
      state.bitrate = Math.max(MIN_BITRATE, Math.round(state.bitrate / 2));
      state.scale = Math.min(MAX_SCALE, state.scale * 2);
      state.cooldown = 1; // let the encoder settle before judging again
      await this.applyEncoding(sender);
      return;
    }
    state.goodPolls += 1;
    if (state.goodPolls >= GOOD_POLLS_BEFORE_STEP_UP && (state.bitrate < MAX_BITRATE || state.scale > 1)) {
      state.goodPolls = 0;
      state.bitrate = Math.min(MAX_BITRATE, state.bitrate * 2);
      state.scale = Math.max(1, state.scale / 2);
      this.suggestAudio(false);
      await this.applyEncoding(sender);
    }
  }
}
