// The session room's video call (docs/realtime-protocol.md, "WebRTC signaling"): a
// pre-call check (camera preview, microphone level, round trip to the server), then a 1:1
// WebRTC call whose signaling goes through the room socket. Video is kept small for
// students on metered mobile data and steps down further when the connection degrades.
//
// Nothing here may break the chat: every handler is wrapped, errors end up in the
// panel's message area (#video-error), never thrown at the caller.
//
// Signaling as implemented (the protocol's fields, plus two optional ones it ignores):
//   join   {audio_only, reply?}   reply: true when answering a join; a reply is never answered
//   offer  {sdp, type, call}      counselor -> student, once both have joined
//   answer {sdp, type, call}      student -> counselor
//   ice    {candidate, call}      candidate.toJSON()
//   media  {camera, microphone, audio_only}
//   leave  {}
// `call` is an id the counselor picks for each RTCPeerConnection, so that a late answer
// or candidate of an abandoned connection is not fed to the next one. "Audio only" means
// no video in either direction (the point is to save the student's data).

const VIDEO_CONSTRAINTS = { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15, max: 15 } };
const MAX_BITRATE = 300_000;
const MIN_BITRATE = 60_000;
const MAX_SCALE = 4;
const STATS_INTERVAL_MS = 4000;
const GOOD_POLLS_BEFORE_STEP_UP = 5; // 20 s of good conditions per step back up
const WARM_UP_POLLS = 1; // the bandwidth estimate starts low: ignore the first poll
const MAX_LOSS = 0.05;
const MAX_RTT_S = 0.6;
const PING_COUNT = 3;
const PING_SPACING_MS = 600;
const PING_TIMEOUT_MS = 5000;
const GOOD_PING_MS = 400;
const PEER_GRACE_MS = 8000; // a connected call survives the other side's socket blip this long
const OUTBOX_LIMIT = 200;
const CONNECT_TIMEOUT_MS = 45_000; // a connection that never gets through counts as failed

export function setupVideo({ room, panel }) {
  try {
    if (!room || !panel || !panel.querySelector("#video-call")) return null;
    return new VideoCall(room, panel);
  } catch (error) {
    console.error("video: setup failed", error);
    return null;
  }
}

class VideoCall {
  constructor(room, panel) {
    this.room = room;
    this.panel = panel;
    this.root = panel.querySelector("#video-call");
    this.el = new Proxy({}, { get: (_, id) => panel.querySelector(`#${id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`) });
    this.mode = panel.dataset.mode === "chat" ? "chat" : "video";

    this.phase = "idle"; // idle | precheck | call (joined; with or without a peer connection) | failed
    this.stream = null; // local MediaStream
    this.audioOnly = false;
    this.peerAudioOnly = false;
    this.peerJoined = false;
    this.pc = null;
    this.callId = null;
    this.pendingIce = [];
    this.outbox = [];
    this.remoteStream = null;
    this.remoteCamera = true;
    this.lastReason = "";
    this.peerGrace = null;
    this.meter = null;
    this.pings = new Map(); // t -> sent at
    this.rtts = [];
    this.pingTimers = [];
    this.stats = null;
    this.role = null;
    this.connectTimer = null;
    this.announcedAt = null;

    this.listen();
    this.el.videoIntroVideo?.classList.toggle("d-none", this.mode !== "video");
    this.el.videoIntroChat?.classList.toggle("d-none", this.mode !== "chat");
    this.render();
  }

  // --- plumbing ------------------------------------------------------------------------
  msg(key) {
    return this.root.dataset["msg" + key.replace(/(^|-)([a-z])/g, (_, __, c) => c.toUpperCase())] || "";
  }

  safe(fn) {
    return (...args) => {
      try {
        const result = fn.apply(this, args);
        if (result && typeof result.catch === "function") result.catch((error) => this.crash(error));
      } catch (error) {
        this.crash(error);
      }
    };
  }

  crash(error) {
    console.error("video:", error);
    try {
      if (this.phase === "call" || this.phase === "failed") this.endCall({ message: "err-generic", tone: "danger" });
      else if (this.phase === "precheck") this.stopPrecheck("err-generic");
    } catch (again) {
      console.error("video:", again);
    }
  }

  listen() {
    const room = this.room;
    room.on("hello", this.safe(this.onHello));
    room.on("open", this.safe(this.onSocketOpen));
    room.on("offline", this.safe(this.onSocketOffline));
    room.on("stopped", this.safe(this.onSocketStopped));
    room.on("room.state", this.safe(this.onRoomState));
    room.on("presence", this.safe(this.onPresence));
    room.on("signal", this.safe(this.onSignal));
    room.on("pong", this.safe(this.onPong));
    room.on("error", this.safe(this.onServerError));
    const click = (element, handler) => element?.addEventListener("click", this.safe(handler));
    click(this.el.videoStart, this.openPrecheck);
    click(this.el.videoJoin, () => this.join(false));
    click(this.el.videoJoinAudio, () => this.join(true));
    click(this.el.videoCancel, () => this.stopPrecheck());
    click(this.el.videoHangup, this.hangUp);
    click(this.el.videoCamera, this.toggleCamera);
    click(this.el.videoMicrophone, this.toggleMicrophone);
    click(this.el.videoAudioOnly, () => this.switchToAudioOnly(true));
    click(this.el.videoSuggestAudioButton, () => this.switchToAudioOnly(true));
    click(this.el.videoRetry, () => this.tryAgain(false));
    click(this.el.videoRetryAudio, () => this.tryAgain(true));
    window.addEventListener("pagehide", this.safe(() => {
      if (this.inCall()) this.room.send({ type: "signal", kind: "leave", data: {} });
    }));
  }

  inCall() {
    return this.phase === "call" || this.phase === "failed";
  }

  get isCounselor() {
    return (this.role || this.room.role) === "counselor"; // room.role is null while offline
  }

  // --- what is on screen --------------------------------------------------------------
  show(element, visible) {
    element?.classList.toggle("d-none", !visible);
  }

  render() {
    const { phase } = this;
    const el = this.el;
    this.root.dataset.phase = phase;
    this.show(el.videoIdle, phase === "idle");
    this.show(el.videoPrecheck, phase === "precheck");
    this.show(el.videoStage, phase !== "idle");
    this.show(el.videoRemote, this.inCall());
    this.show(el.videoControls, this.inCall());
    this.el.videoStage?.classList.toggle("is-call", this.inCall());
    this.show(el.videoLocal, phase !== "idle" && this.hasVideo());
    this.show(el.videoPeerWaiting, this.peerJoined && (phase === "idle" || phase === "precheck"));
    if (phase !== "call") this.show(el.videoSuggestAudio, false);
    if (el.videoStart) el.videoStart.textContent = this.peerJoined ? this.msg("start-rejoin") : this.msg(`start-${this.mode}`);
    el.videoStart?.classList.toggle("btn-lg", this.mode === "video" || this.peerJoined);
    el.videoStart?.classList.toggle("btn-primary", this.mode === "video" || this.peerJoined);
    el.videoStart?.classList.toggle("btn-outline-primary", this.mode === "chat" && !this.peerJoined);
    this.renderAvailability();
    this.renderToggles();
    this.renderRemote();
    if (phase === "idle") this.setState("idle");
    else if (phase === "precheck") this.setState("idle", this.msg("state-precheck"));
  }

  renderAvailability() {
    const state = this.room.roomState;
    const open = state === "open";
    let reason = "";
    if (!open) {
      if (!state) reason = this.msg("reason-connecting");
      else if (state === "closed") reason = this.msg("reason-closed");
      else reason = this.lastReason || this.msg("reason-not-open");
    }
    const el = this.el;
    if (el.videoStart) el.videoStart.disabled = !open || this.phase !== "idle";
    if (el.videoStartReason) el.videoStartReason.textContent = reason;
    const hasMedia = Boolean(this.stream && this.stream.getAudioTracks().length);
    if (el.videoJoin) el.videoJoin.disabled = !open || !hasMedia || !this.hasVideo();
    if (el.videoJoinAudio) el.videoJoinAudio.disabled = !open || !hasMedia;
    if (el.videoJoinReason) el.videoJoinReason.textContent = reason;
  }

  renderToggles() {
    const video = this.videoTrack();
    const audio = this.audioTrack();
    const set = (button, pressed, disabled) => {
      if (!button) return;
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
      button.disabled = disabled;
    };
    set(this.el.videoCamera, Boolean(video && video.enabled), !video);
    set(this.el.videoMicrophone, Boolean(audio && audio.enabled), !audio);
    if (this.el.videoAudioOnly) this.el.videoAudioOnly.disabled = !video;
  }

  renderRemote() {
    const overlay = this.el.remoteOverlay;
    if (!overlay) return;
    let text = "";
    if (this.phase === "failed") {
      text = this.msg("state-failed");
    } else if (this.inCall()) {
      const hasRemoteVideo = Boolean(this.remoteStream?.getVideoTracks().some((t) => t.readyState === "live" && !t.muted));
      if (!this.pc || !this.remoteStream) text = this.msg("remote-waiting");
      else if (this.audioOnly || this.peerAudioOnly) text = this.msg("remote-audio-only");
      else if (!this.remoteCamera) text = this.msg("remote-camera-off");
      else if (!hasRemoteVideo) text = this.msg(this.pc.connectionState === "connected" ? "remote-camera-off" : "remote-waiting");
    }
    overlay.textContent = text;
    this.show(overlay, Boolean(text));
  }

  setState(state, text) {
    const box = this.el.videoState;
    if (!box) return;
    box.dataset.state = state;
    box.textContent = text ?? this.msg(`state-${state}`);
  }

  message(key, { tone = "danger", retry = false, retryAudio = false, text = null } = {}) {
    const box = this.el.videoError;
    if (!box) return;
    const body = text ?? (key ? this.msg(key) : "");
    box.className = `alert alert-${tone}${body ? "" : " d-none"}`;
    box.dataset.message = body ? key || "server" : "";
    if (this.el.videoErrorText) this.el.videoErrorText.textContent = body;
    this.show(this.el.videoRetry, retry);
    this.show(this.el.videoRetryAudio, retryAudio);
    this.show(this.el.videoErrorActions, retry || retryAudio);
  }

  clearMessage() {
    this.message(null);
  }

  // --- media --------------------------------------------------------------------------
  videoTrack() {
    return this.stream?.getVideoTracks()[0] || null;
  }

  audioTrack() {
    return this.stream?.getAudioTracks()[0] || null;
  }

  hasVideo() {
    return Boolean(this.videoTrack()) && !this.audioOnly;
  }

  async getMedia() {
    const media = navigator.mediaDevices;
    try {
      return { stream: await media.getUserMedia({ audio: true, video: VIDEO_CONSTRAINTS }) };
    } catch (error) {
      if (error.name === "TypeError") return { error }; // no constraints satisfiable at all
      // Find out whether the microphone alone works: then only the camera is the problem.
      try {
        const stream = await media.getUserMedia({ audio: true, video: false });
        return { stream, cameraError: error };
      } catch (audioError) {
        return { error: error.name === "NotAllowedError" ? error : audioError };
      }
    }
  }

  stopStream() {
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    if (this.el.localVideo) this.el.localVideo.srcObject = null;
  }

  dropVideoTrack() {
    const track = this.videoTrack();
    if (!track) return;
    track.stop();
    this.stream.removeTrack(track);
    if (this.el.localVideo) this.el.localVideo.srcObject = this.stream;
  }

  // --- pre-call check -----------------------------------------------------------------
  async openPrecheck() {
    if (this.phase !== "idle" || this.room.roomState !== "open") return;
    this.clearMessage();
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      this.message("err-insecure");
      return;
    }
    if (typeof window.RTCPeerConnection !== "function") {
      this.message("err-unsupported");
      return;
    }
    this.phase = "precheck";
    this.audioOnly = false;
    this.render();
    this.measureConnection();
    const { stream, cameraError, error } = await this.getMedia();
    if (this.phase !== "precheck") {
      for (const track of stream?.getTracks() || []) track.stop(); // cancelled meanwhile
      return;
    }
    if (!stream) {
      this.stopPrecheck(error?.name === "NotAllowedError" || error?.name === "SecurityError"
        ? "err-media-denied"
        : error?.name === "NotFoundError" || error?.name === "NotReadableError" || error?.name === "OverconstrainedError"
          ? "err-mic-unavailable"
          : "err-media-other");
      return;
    }
    this.stream = stream;
    if (cameraError) {
      this.message(cameraError.name === "NotAllowedError" || cameraError.name === "SecurityError" ? "err-camera-denied" : "err-camera-unavailable", { tone: "warning" });
    }
    this.attachLocal();
    this.startMeter();
    this.render();
    (this.hasVideo() ? this.el.videoJoin : this.el.videoJoinAudio)?.focus();
  }

  stopPrecheck(errorKey) {
    this.stopMeter();
    this.stopPings();
    this.stopStream();
    this.phase = "idle";
    if (errorKey) this.message(errorKey);
    else this.clearMessage();
    this.render();
  }

  attachLocal() {
    const video = this.el.localVideo;
    if (!video) return;
    video.srcObject = this.stream;
    video.play?.().catch(() => {});
  }

  startMeter() {
    this.stopMeter();
    const meter = this.el.videoMicLevel;
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!meter || !AudioContextClass || !this.stream?.getAudioTracks().length) return;
    try {
      const context = new AudioContextClass();
      const analyser = context.createAnalyser();
      analyser.fftSize = 1024;
      context.createMediaStreamSource(this.stream).connect(analyser);
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
      this.meter = { context, timer };
    } catch (error) {
      console.warn("video: no microphone meter", error);
    }
  }

  stopMeter() {
    if (!this.meter) return;
    clearInterval(this.meter.timer);
    this.meter.context.close().catch(() => {});
    this.meter = null;
    if (this.el.videoMicLevel) this.el.videoMicLevel.value = 0;
  }

  measureConnection() {
    this.stopPings();
    this.rtts = [];
    const net = this.el.videoNet;
    if (net) {
      net.textContent = this.msg("net-measuring");
      net.dataset.quality = "";
    }
    for (let i = 0; i < PING_COUNT; i += 1) {
      this.pingTimers.push(setTimeout(this.safe(() => {
        const t = performance.now();
        if (this.room.send({ type: "ping", t })) this.pings.set(t, t);
      }), i * PING_SPACING_MS));
    }
    this.pingTimers.push(setTimeout(this.safe(() => this.showConnection(true)), (PING_COUNT - 1) * PING_SPACING_MS + PING_TIMEOUT_MS));
  }

  stopPings() {
    for (const timer of this.pingTimers) clearTimeout(timer);
    this.pingTimers = [];
    this.pings.clear();
  }

  onPong(frame) {
    if (!this.pings.has(frame.t)) return; // the socket's own heartbeat, or too late
    this.pings.delete(frame.t);
    this.rtts.push(performance.now() - frame.t);
    if (this.rtts.length >= PING_COUNT) this.stopPings();
    this.showConnection(false);
  }

  showConnection(final) {
    const net = this.el.videoNet;
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

  // --- joining and leaving ------------------------------------------------------------
  join(audioOnly) {
    if (this.phase !== "precheck" || !this.stream || this.room.roomState !== "open") return;
    if (audioOnly || !this.videoTrack()) {
      this.audioOnly = true;
      this.dropVideoTrack();
    }
    const sent = this.room.send({ type: "signal", kind: "join", data: { audio_only: this.audioOnly } });
    if (!sent) {
      this.message("err-not-connected");
      return;
    }
    this.stopMeter();
    this.stopPings();
    this.clearMessage();
    this.phase = "call";
    this.outbox = [];
    this.render();
    this.setState("new");
    this.el.videoHangup?.focus();
  }

  hangUp() {
    if (!this.inCall()) return;
    this.room.send({ type: "signal", kind: "leave", data: {} });
    this.peerJoined = false;
    this.endCall();
  }

  // Ends the call locally (the other side is told only by hangUp).
  endCall({ message = null, tone = "info" } = {}) {
    clearTimeout(this.peerGrace);
    this.peerGrace = null;
    this.stopStats();
    this.closePc();
    this.stopMeter();
    this.stopPings();
    this.stopStream();
    this.outbox = [];
    this.pendingIce = [];
    this.audioOnly = false;
    this.peerAudioOnly = false;
    this.remoteCamera = true;
    if (this.el.remoteVideo) this.el.remoteVideo.srcObject = null;
    this.show(this.el.remoteMicOff, false);
    this.phase = "idle";
    if (message) this.message(message, { tone });
    else this.clearMessage();
    this.render();
  }

  // Hang up locally and join again with the same camera and microphone: the other side
  // answers the new join and the counselor makes a fresh connection.
  tryAgain(audioOnly) {
    if (!this.inCall() || this.room.roomState !== "open") return;
    if (!this.stream || !this.audioTrack()) {
      this.endCall();
      return;
    }
    if (audioOnly) {
      this.audioOnly = true;
      this.dropVideoTrack();
    }
    this.stopStats();
    this.closePc();
    this.pendingIce = [];
    this.phase = "call";
    this.clearMessage();
    if (!this.room.send({ type: "signal", kind: "join", data: { audio_only: this.audioOnly } })) {
      this.phase = "failed";
      this.message("err-not-connected", { retry: true });
    }
    this.render();
    this.setState(this.phase === "failed" ? "failed" : "new");
  }

  // Repeats our join for a side that may have missed it (at most every 2 s).
  announce() {
    const now = performance.now();
    if (this.announcedAt !== null && now - this.announcedAt < 2000) return;
    this.announcedAt = now;
    this.room.send({ type: "signal", kind: "join", data: { audio_only: this.audioOnly } });
  }

  sendSignal(kind, data) {
    const frame = { type: "signal", kind, data };
    if (this.room.send(frame)) return true;
    if (kind !== "join" && kind !== "leave" && this.outbox.length < OUTBOX_LIMIT) this.outbox.push(frame);
    return false;
  }

  flushOutbox() {
    const frames = this.outbox;
    this.outbox = [];
    for (const frame of frames) {
      if (frame.data.call !== undefined && frame.data.call !== this.callId) continue;
      if (!this.room.send(frame)) this.outbox.push(frame);
    }
  }

  // --- room socket events -------------------------------------------------------------
  onHello(hello) {
    this.role = hello.role;
    const counselorWithoutTurn = hello.role === "counselor" && hello.turn_configured === false;
    this.show(this.el.turnWarning, counselorWithoutTurn);
  }

  onRoomState(frame) {
    this.lastReason = frame.reason || "";
    if (frame.state === "closed" && this.phase !== "idle") {
      if (this.phase === "precheck") this.stopPrecheck();
      else this.endCall({ message: "info-room-closed" });
      return;
    }
    this.renderAvailability();
  }

  onSocketOpen() {
    if (this.phase === "precheck") this.measureConnection();
    if (!this.inCall()) return;
    if (this.el.videoError?.dataset.message === "info-socket-offline") this.clearMessage();
    this.flushOutbox();
    if (this.phase === "call" && !this.pc) this.announce(); // they may have joined meanwhile
  }

  onSocketOffline() {
    this.stopPings();
    if (this.phase === "precheck") this.showConnection(true);
    if (this.inCall() && this.pc) this.message("info-socket-offline", { tone: "warning" });
    this.renderAvailability();
  }

  onSocketStopped() {
    if (this.phase === "precheck") this.stopPrecheck();
    else if (this.inCall()) this.endCall();
    this.peerJoined = false;
    this.render();
  }

  onPresence(frame) {
    if (frame.local) return; // our own socket dropped: see onSocketOffline
    if (frame.online) {
      if (this.peerGrace) {
        clearTimeout(this.peerGrace);
        this.peerGrace = null;
        if (this.el.videoError?.dataset.message === "info-peer-away") this.clearMessage();
      }
      if (this.phase === "call" && !this.pc) this.announce(); // still waiting: tell them again
      return;
    }
    this.peerJoined = false;
    if (this.inCall() && this.pc) {
      if (this.pc.connectionState === "connected" && !this.peerGrace) {
        // The media goes peer to peer: a short socket blip on the other side need not end it.
        this.message("info-peer-away", { tone: "warning" });
        this.peerGrace = setTimeout(this.safe(() => {
          this.peerGrace = null;
          if (!this.room.peerOnline && this.inCall()) this.endCall({ message: "info-peer-offline" });
        }), PEER_GRACE_MS);
      } else if (!this.peerGrace) {
        this.endCall({ message: "info-peer-offline" });
      }
      return;
    }
    this.render();
  }

  onServerError(frame) {
    if (frame.ref !== "signal" || !this.inCall()) return;
    if (["room_not_open", "room_closed", "consent_missing", "session_over"].includes(frame.code)) {
      this.endCall({ message: null });
      this.message(null, { tone: "warning", text: frame.message || this.msg("err-generic") });
    }
  }

  onSignal(frame) {
    const data = frame.data && typeof frame.data === "object" ? frame.data : {};
    switch (frame.kind) {
      case "join": return this.onPeerJoin(data);
      case "leave": return this.onPeerLeave();
      case "offer": return this.onOffer(data);
      case "answer": return this.onAnswer(data);
      case "ice": return this.onIce(data);
      case "media": return this.onMedia(data);
      default: return undefined;
    }
  }

  onPeerJoin(data) {
    this.peerJoined = true;
    this.peerAudioOnly = Boolean(data.audio_only);
    if (!this.inCall()) {
      this.render(); // "… is waiting for you in the video call"
      return;
    }
    if (this.phase === "failed") {
      this.phase = "call";
      this.clearMessage();
      this.render();
    }
    if (!data.reply) this.room.send({ type: "signal", kind: "join", data: { audio_only: this.audioOnly, reply: true } });
    if (this.isCounselor && (!data.reply || !this.pc)) return this.startOffer();
    if (!this.pc) this.setState("new", this.msg("state-connecting")); // the offer is on its way
    return undefined;
  }

  onPeerLeave() {
    this.peerJoined = false;
    if (this.inCall()) this.endCall({ message: "info-peer-left" });
    else this.render();
  }

  createPc(callId) {
    this.closePc();
    const servers = Array.isArray(this.room.hello?.ice_servers) ? this.room.hello.ice_servers : [];
    let pc;
    try {
      pc = new RTCPeerConnection({ iceServers: servers });
    } catch (error) {
      console.warn("video: ICE servers refused, trying without", error);
      pc = new RTCPeerConnection();
    }
    this.pc = pc;
    this.callId = callId;
    this.stopStats(); // a new connection starts again at the full (modest) bitrate
    this.remoteStream = new MediaStream();
    this.remoteCamera = true;
    if (this.el.remoteVideo) this.el.remoteVideo.srcObject = this.remoteStream;
    pc.addEventListener("icecandidate", this.safe((event) => {
      if (pc !== this.pc || !event.candidate) return;
      this.sendSignal("ice", { candidate: event.candidate.toJSON(), call: callId });
    }));
    pc.addEventListener("track", this.safe((event) => {
      if (pc !== this.pc) return;
      this.remoteStream.addTrack(event.track);
      for (const name of ["mute", "unmute"]) event.track.addEventListener(name, this.safe(() => this.renderRemote()));
      event.track.addEventListener("ended", this.safe(() => this.renderRemote()));
      const video = this.el.remoteVideo;
      if (video) {
        if (video.srcObject !== this.remoteStream) video.srcObject = this.remoteStream;
        video.play?.().catch(() => {});
      }
      this.renderRemote();
    }));
    pc.addEventListener("connectionstatechange", this.safe(() => this.onPcState(pc)));
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(this.safe(() => {
      if (pc === this.pc && pc.connectionState !== "connected" && pc.connectionState !== "disconnected") this.failed();
    }), CONNECT_TIMEOUT_MS);
    this.setState("connecting");
    this.renderRemote();
    return pc;
  }

  closePc() {
    clearTimeout(this.connectTimer);
    const pc = this.pc;
    this.pc = null;
    this.callId = null;
    this.remoteStream = null;
    if (!pc) return;
    try {
      pc.close();
    } catch (error) {
      console.warn("video:", error);
    }
  }

  async startOffer() {
    if (!this.stream) return;
    const callId = Math.random().toString(36).slice(2, 10);
    this.pendingIce = [];
    const pc = this.createPc(callId);
    const withVideo = !this.audioOnly && !this.peerAudioOnly;
    if (!withVideo) this.dropVideoTrack();
    for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
    this.renderToggles();
    this.render();
    const offer = await pc.createOffer();
    if (pc !== this.pc) return;
    await pc.setLocalDescription(offer);
    if (pc !== this.pc) return;
    const { sdp, type } = pc.localDescription;
    this.sendSignal("offer", { sdp, type, call: callId });
  }

  async onOffer(data) {
    if (this.isCounselor || !this.inCall() || typeof data.sdp !== "string") return;
    this.phase = "call";
    const callId = data.call ?? null;
    this.pendingIce = this.pendingIce.filter((item) => item.call === callId);
    const pc = this.createPc(callId);
    this.render();
    await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
    if (pc !== this.pc) return;
    const offersVideo = pc.getTransceivers().some((t) => t.receiver.track.kind === "video");
    if (!offersVideo || this.audioOnly) this.dropVideoTrack();
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      const track = kind === "video" ? this.videoTrack() : this.audioTrack();
      if (kind === "video" && this.audioOnly) {
        transceiver.direction = "inactive"; // nor receive: audio only saves the data both ways
      } else if (track) {
        await transceiver.sender.replaceTrack(track);
        transceiver.sender.setStreams?.(this.stream);
        transceiver.direction = "sendrecv";
      }
    }
    if (pc !== this.pc) return;
    this.renderToggles();
    this.render();
    const answer = await pc.createAnswer();
    if (pc !== this.pc) return;
    await pc.setLocalDescription(answer);
    if (pc !== this.pc) return;
    const { sdp, type } = pc.localDescription;
    this.sendSignal("answer", { sdp, type, call: callId });
    await this.flushIce(pc);
  }

  async onAnswer(data) {
    const pc = this.pc;
    if (!this.isCounselor || !pc || typeof data.sdp !== "string") return;
    if ((data.call ?? null) !== this.callId || pc.signalingState !== "have-local-offer") return;
    await pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
    if (pc !== this.pc) return;
    await this.flushIce(pc);
  }

  async onIce(data) {
    if (!data.candidate || typeof data.candidate !== "object") return;
    const call = data.call ?? null;
    const pc = this.pc;
    if (pc && call === this.callId && pc.remoteDescription) {
      await pc.addIceCandidate(data.candidate).catch((error) => console.warn("video: candidate", error));
    } else if (this.inCall() && this.pendingIce.length < OUTBOX_LIMIT) {
      this.pendingIce.push({ call, candidate: data.candidate });
    }
  }

  async flushIce(pc) {
    const waiting = this.pendingIce.filter((item) => item.call === this.callId);
    this.pendingIce = [];
    for (const { candidate } of waiting) {
      if (pc !== this.pc) return;
      await pc.addIceCandidate(candidate).catch((error) => console.warn("video: candidate", error));
    }
  }

  onMedia(data) {
    if (!this.inCall()) return;
    if (typeof data.camera === "boolean") this.remoteCamera = data.camera;
    if (typeof data.microphone === "boolean") this.show(this.el.remoteMicOff, !data.microphone);
    if (data.audio_only === true && !this.peerAudioOnly) {
      this.peerAudioOnly = true;
      if (this.videoTrack()) {
        this.switchToAudioOnly(false);
        this.message("info-peer-audio-only", { tone: "info" });
      }
    }
    this.renderRemote();
  }

  onPcState(pc) {
    if (pc !== this.pc) return;
    const state = pc.connectionState;
    this.setState(state);
    if (state === "connected") {
      clearTimeout(this.connectTimer);
      if (this.el.videoError?.dataset.message === "err-failed") this.clearMessage();
      this.startStats();
      this.sendMedia(); // the other side learns a camera or microphone turned off earlier
      this.renderRemote();
    } else if (state === "failed") {
      this.failed();
    }
  }

  // The connection is given up (ICE failed, or never got through): keep the camera and
  // microphone so that "Try again" is quick.
  failed() {
    this.stopStats();
    this.phase = "failed";
    this.closePc();
    this.message("err-failed", { retry: true, retryAudio: !this.audioOnly });
    this.render();
    this.setState("failed");
  }

  // --- controls -----------------------------------------------------------------------
  sendMedia() {
    const video = this.videoTrack();
    const audio = this.audioTrack();
    this.sendSignal("media", {
      camera: Boolean(video && video.enabled),
      microphone: Boolean(audio && audio.enabled),
      audio_only: this.audioOnly,
    });
  }

  toggleCamera() {
    const track = this.videoTrack();
    if (!track) return;
    track.enabled = !track.enabled;
    this.renderToggles();
    if (this.inCall()) this.sendMedia();
  }

  toggleMicrophone() {
    const track = this.audioTrack();
    if (!track) return;
    track.enabled = !track.enabled;
    this.renderToggles();
    if (this.inCall()) this.sendMedia();
  }

  // Stops the camera and sends no more video, without renegotiating. `tell`: let the other
  // side know, so it stops its video too.
  switchToAudioOnly(tell) {
    this.audioOnly = true;
    this.dropVideoTrack();
    const sender = this.videoSender();
    if (sender) sender.replaceTrack(null).catch((error) => console.warn("video:", error));
    this.stopStats();
    this.show(this.el.videoSuggestAudio, false);
    if (tell && this.inCall()) this.sendMedia();
    this.render();
  }

  videoSender() {
    return this.pc?.getTransceivers().find((t) => t.receiver.track.kind === "video" && t.sender)?.sender || null;
  }

  // --- bandwidth: start small, step down when the connection degrades -----------------
  startStats() {
    const sender = this.videoSender();
    if (this.stats) return;
    this.stats = { timer: null, bitrate: MAX_BITRATE, scale: 1, goodPolls: 0, polls: 0, cooldown: 0 };
    // A failed measurement or setParameters must not end the call: warn and go on.
    this.stats.timer = setInterval(() => {
      this.pollStats().catch((error) => console.warn("video: stats", error));
    }, STATS_INTERVAL_MS);
    if (sender?.track) this.applyEncoding(sender).catch((error) => console.warn("video: setParameters", error));
  }

  stopStats() {
    if (this.stats) clearInterval(this.stats.timer);
    this.stats = null;
  }

  async applyEncoding(sender) {
    const params = sender.getParameters();
    if (!params.encodings || !params.encodings.length) params.encodings = [{}];
    params.encodings[0].maxBitrate = this.stats.bitrate;
    params.encodings[0].scaleResolutionDownBy = this.stats.scale;
    await sender.setParameters(params);
    const box = this.el.videoState;
    if (box) {
      box.dataset.maxBitrate = String(this.stats?.bitrate ?? "");
      box.dataset.scale = String(this.stats?.scale ?? "");
    }
  }

  async pollStats() {
    const pc = this.pc;
    const stats = this.stats;
    const sender = this.videoSender();
    if (!pc || !stats || pc.connectionState !== "connected" || !sender?.track) return;
    const report = await pc.getStats();
    if (pc !== this.pc || stats !== this.stats) return;
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
    stats.polls += 1;
    if (stats.polls <= WARM_UP_POLLS) return;
    const bad = limited || loss > MAX_LOSS || rtt > MAX_RTT_S;
    if (stats.cooldown > 0) {
      stats.cooldown -= 1;
      return;
    }
    if (bad) {
      stats.goodPolls = 0;
      if (stats.bitrate <= MIN_BITRATE && stats.scale >= MAX_SCALE) {
        this.show(this.el.videoSuggestAudio, this.phase === "call");
        return;
      }
      stats.bitrate = Math.max(MIN_BITRATE, Math.round(stats.bitrate / 2));
      stats.scale = Math.min(MAX_SCALE, stats.scale * 2);
      stats.cooldown = 1; // let the encoder settle before judging again
      await this.applyEncoding(sender);
      return;
    }
    stats.goodPolls += 1;
    if (stats.goodPolls >= GOOD_POLLS_BEFORE_STEP_UP && (stats.bitrate < MAX_BITRATE || stats.scale > 1)) {
      stats.goodPolls = 0;
      stats.bitrate = Math.min(MAX_BITRATE, stats.bitrate * 2);
      stats.scale = Math.max(1, stats.scale / 2);
      this.show(this.el.videoSuggestAudio, false);
      await this.applyEncoding(sender);
    }
  }
}
