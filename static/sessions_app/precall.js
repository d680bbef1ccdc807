// The pre-call check besides the camera preview: the microphone's level, and the round
// trip to the server over the room socket.

const PING_COUNT = 3;
const PING_SPACING_MS = 600;
const PING_TIMEOUT_MS = 5000;
const GOOD_PING_MS = 400;

// Moves a <meter> (#video-mic-level) with the microphone's loudness.
export class MicrophoneMeter {
  constructor(meter) {
    this.meter = meter;
    this.running = null; // {context, timer}
  }

  start(stream) {
    this.stop();
    const meter = this.meter;
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!meter || !AudioContextClass || !stream?.getAudioTracks().length) return;
    try {
      const context = new AudioContextClass();
      const analyser = context.createAnalyser();
      analyser.fftSize = 1024;
      context.createMediaStreamSource(stream).connect(analyser);
      const samples = new Uint8Array(analyser.fftSize);
      let level = 0;
      const timer = setInterval(() => {
        analyser.getByteTimeDomainData(samples);
        let peak = 0;
        for (const sample of samples) peak = Math.max(peak, Math.abs(sample - 128) / 128);
        level = Math.max(peak, level * 0.85); // falls back slowly so it is readable
        meter.value = Math.min(1, level * 1.5);
        meter.dataset.level = meter.value.toFixed(2);
      }, 100);
      context.resume?.().catch(() => {});
      this.running = { context, timer };
    } catch (error) {
      console.warn("video: no microphone meter", error);
    }
  }

  stop() {
    if (!this.running) return;
    clearInterval(this.running.timer);
    this.running.context.close().catch(() => {});
    this.running = null;
    if (this.meter) this.meter.value = 0;
  }
}

// Sends a few pings over the room socket and shows the median round trip on `output`
// (#video-net: data-quality good | weak | none, data-rtt in ms).
export class RoundTripCheck {
  constructor({ room, output, msg, safe }) {
    this.room = room;
    this.output = output;
    this.msg = msg;
    this.safe = safe;
    this.pending = new Set(); // the `t` of each ping awaiting its pong
    this.rtts = [];
    this.timers = [];
  }

  start() {
    this.stop();
    this.rtts = [];
    const net = this.output;
    if (net) {
      net.textContent = this.msg("net-measuring");
      net.dataset.quality = "";
    }
    for (let i = 0; i < PING_COUNT; i += 1) {
      this.timers.push(setTimeout(this.safe(() => {
        const t = performance.now();
        if (this.room.send({ type: "ping", t })) this.pending.add(t);
      }), i * PING_SPACING_MS));
    }
    this.timers.push(setTimeout(this.safe(() => this.show(true)), (PING_COUNT - 1) * PING_SPACING_MS + PING_TIMEOUT_MS));
  }

  stop() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    this.pending.clear();
  }

  onPong(frame) {
    if (!this.pending.has(frame.t)) return; // the socket's own heartbeat, or too late
    this.pending.delete(frame.t);
    this.rtts.push(performance.now() - frame.t);
    if (this.rtts.length >= PING_COUNT) this.stop();
    this.show(false);
  }

  // `final`: no more answers are awaited, so no answer means no connection.
  show(final) {
    const net = this.output;
    if (!net) return;
    if (!this.rtts.length) {
      if (!final) return;
      net.textContent = this.msg("net-none");
      net.dataset.quality = "none";
      return;
    }
    const sorted = [...this.rtts].sort((a, b) => a - b);
    const ms = Math.round(sorted[Math.floor(sorted.length / 2)]);
    const quality = ms <= GOOD_PING_MS ? "good" : "weak";
    net.textContent = `${this.msg(`net-${quality}`)} (${ms} ms)`;
    net.dataset.quality = quality;
    net.dataset.rtt = String(ms);
  }
}
