// The other side of the video call: what it told us (joined, audio only, camera), our
// RTCPeerConnection to it, the offer/answer/ICE that sets that up, and the signal frames
// kept while the room socket is down.
//
// Signaling as implemented (docs/realtime-protocol.md, "WebRTC signaling": the protocol's
// fields, plus two optional ones it ignores):
//   join   {audio_only, reply?}   reply: true when answering a join; a reply is never answered
//   offer  {sdp, type, call}      counselor -> student, once both have joined
//   answer {sdp, type, call}      student -> counselor
//   ice    {candidate, call}      candidate.toJSON()
//   media  {camera, microphone, audio_only}
//   leave  {}
// `call` is an id the counselor picks for each RTCPeerConnection, so that a late answer
// or candidate of an abandoned connection is not fed to the next one. "Audio only" means
// no video in either direction (the point is to save the student's data).

const OUTBOX_LIMIT = 200;
const CONNECT_TIMEOUT_MS = 45_000; // a connection that never gets through counts as failed
const ANNOUNCE_INTERVAL_MS = 2000;

export class Peer {
  // call: the VideoCall (our side), for its phase, local media, panel and error handling.
  constructor(call) {
    this.call = call;
    this.room = call.room;
    this.joined = false; // they are in the video call (or waiting in it for us)
    this.audioOnly = false; // they asked for audio only: no video either way
    this.cameraOn = true; // their camera, as their last media frame said
    this.pc = null;
    this.callId = null; // picked by the counselor for each connection
    this.pendingIce = []; // {call, candidate} that came before their connection could take them
    this.outbox = []; // signal frames that wait for the socket
    this.remoteStream = null;
    this.connectTimer = null;
    this.announcedAt = null;
  }

  send(kind, data) {
    const frame = { type: "signal", kind, data };
    if (this.room.send(frame)) return;
    if (kind !== "join" && kind !== "leave" && this.outbox.length < OUTBOX_LIMIT) this.outbox.push(frame);
  }

  // After a reconnect; frames of an abandoned connection are dropped.
  flushOutbox() {
    const frames = this.outbox;
    this.outbox = [];
    for (const frame of frames) {
      if (frame.data.call !== undefined && frame.data.call !== this.callId) continue;
      if (!this.room.send(frame)) this.outbox.push(frame);
    }
  }

  // Repeats our join for a side that may have missed it (at most every 2 s).
  announce() {
    const now = performance.now();
    if (this.announcedAt !== null && now - this.announcedAt < ANNOUNCE_INTERVAL_MS) return;
    this.announcedAt = now;
    this.room.send({ type: "signal", kind: "join", data: { audio_only: this.call.audioOnly } });
  }

  onSignal(frame) {
    const data = frame.data && typeof frame.data === "object" ? frame.data : {};
    switch (frame.kind) {
      case "join": return this.onJoin(data);
      case "leave": return this.onLeave();
      case "offer": return this.onOffer(data);
      case "answer": return this.onAnswer(data);
      case "ice": return this.onIce(data);
      case "media": return this.onMedia(data);
      default: return undefined;
    }
  }

  // They joined, or answered our join (`reply`). Once both are in, the counselor offers.
  onJoin(data) {
    const call = this.call;
    this.joined = true;
    this.audioOnly = Boolean(data.audio_only);
    if (!call.inCall()) {
      call.view.render(); // "… is waiting for you in the video call"
      return undefined;
    }
    if (call.phase === "failed") {
      call.phase = "call";
      call.view.clearMessage();
      call.view.render();
    }
    if (!data.reply) this.room.send({ type: "signal", kind: "join", data: { audio_only: call.audioOnly, reply: true } });
    if (call.isCounselor && (!data.reply || !this.pc)) return this.startOffer();
    if (!this.pc) call.view.setState("new", call.view.msg("state-connecting")); // the offer is on its way
    return undefined;
  }

  onLeave() {
    this.joined = false;
    if (this.call.inCall()) this.call.endCall({ message: "info-peer-left" });
    else this.call.view.render();
  }

  onMedia(data) {
    const call = this.call;
    if (!call.inCall()) return;
    if (typeof data.camera === "boolean") this.cameraOn = data.camera;
    if (typeof data.microphone === "boolean") call.view.show(call.el.remoteMicOff, !data.microphone);
    if (data.audio_only === true && !this.audioOnly) {
      this.audioOnly = true;
      if (call.local.videoTrack()) {
        call.switchToAudioOnly(false);
        call.view.message("info-peer-audio-only", { tone: "info" });
      }
    }
    call.view.renderRemote();
  }

  videoSender() {
    return this.pc?.getTransceivers().find((t) => t.receiver.track.kind === "video" && t.sender)?.sender || null;
  }

  // Replaces the connection (if any) with a new one for `callId`.
  open(callId) {
    const call = this.call;
    this.close();
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
    call.bandwidth.stop(); // a new connection starts again at the full (modest) bitrate
    this.remoteStream = new MediaStream();
    this.cameraOn = true;
    if (call.el.remoteVideo) call.el.remoteVideo.srcObject = this.remoteStream;
    pc.addEventListener("icecandidate", call.safe((event) => {
      if (pc !== this.pc || !event.candidate) return;
      this.send("ice", { candidate: event.candidate.toJSON(), call: callId });
    }));
    pc.addEventListener("track", call.safe((event) => {
      if (pc !== this.pc) return;
      this.remoteStream.addTrack(event.track);
      for (const name of ["mute", "unmute", "ended"]) event.track.addEventListener(name, call.safe(() => call.view.renderRemote()));
      const video = call.el.remoteVideo;
      if (video) {
        if (video.srcObject !== this.remoteStream) video.srcObject = this.remoteStream;
        video.play?.().catch(() => {});
      }
      call.view.renderRemote();
    }));
    pc.addEventListener("connectionstatechange", call.safe(() => {
      if (pc !== this.pc) return;
      const state = pc.connectionState;
      if (state === "connected") clearTimeout(this.connectTimer);
      call.onConnectionState(state);
    }));
    this.connectTimer = setTimeout(call.safe(() => {
      if (pc === this.pc && pc.connectionState !== "connected" && pc.connectionState !== "disconnected") call.failed();
    }), CONNECT_TIMEOUT_MS);
    call.view.setState("connecting");
    call.view.renderRemote();
    return pc;
  }

  close() {
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

  // The counselor's side: a new connection with our tracks, and its offer.
  async startOffer() {
    const call = this.call;
    if (!call.local.stream) return;
    const callId = Math.random().toString(36).slice(2, 10);
    this.pendingIce = [];
    const pc = this.open(callId);
    if (call.audioOnly || this.audioOnly) call.local.dropVideo();
    for (const track of call.local.stream.getTracks()) pc.addTrack(track, call.local.stream);
    call.view.render();
    const offer = await pc.createOffer();
    if (pc !== this.pc) return;
    await pc.setLocalDescription(offer);
    if (pc !== this.pc) return;
    const { sdp, type } = pc.localDescription;
    this.send("offer", { sdp, type, call: callId });
  }

  // The student's side: each offer replaces the connection.
  async onOffer(data) {
    const call = this.call;
    if (call.isCounselor || !call.inCall() || typeof data.sdp !== "string") return;
    call.phase = "call";
    const callId = data.call ?? null;
    this.pendingIce = this.pendingIce.filter((item) => item.call === callId);
    const pc = this.open(callId);
    call.view.render();
    await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
    if (pc !== this.pc) return;
    const offersVideo = pc.getTransceivers().some((t) => t.receiver.track.kind === "video");
    if (!offersVideo || call.audioOnly) call.local.dropVideo();
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      const track = kind === "video" ? call.local.videoTrack() : call.local.audioTrack();
      if (kind === "video" && call.audioOnly) {
        transceiver.direction = "inactive"; // nor receive: audio only saves the data both ways
      } else if (track) {
        await transceiver.sender.replaceTrack(track);
        transceiver.sender.setStreams?.(call.local.stream);
        transceiver.direction = "sendrecv";
      }
    }
    if (pc !== this.pc) return;
    call.view.render();
    const answer = await pc.createAnswer();
    if (pc !== this.pc) return;
    await pc.setLocalDescription(answer);
    if (pc !== this.pc) return;
    const { sdp, type } = pc.localDescription;
    this.send("answer", { sdp, type, call: callId });
    await this.flushIce(pc);
  }

  async onAnswer(data) {
    const pc = this.pc;
    if (!this.call.isCounselor || !pc || typeof data.sdp !== "string") return;
    if ((data.call ?? null) !== this.callId || pc.signalingState !== "have-local-offer") return;
    await pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
    if (pc !== this.pc) return;
    await this.flushIce(pc);
  }

  async onIce(data) {
    if (!data.candidate || typeof data.candidate !== "object") return;
    const callId = data.call ?? null;
    const pc = this.pc;
    if (pc && callId === this.callId && pc.remoteDescription) {
      await pc.addIceCandidate(data.candidate).catch((error) => console.warn("video: candidate", error));
    } else if (this.call.inCall() && this.pendingIce.length < OUTBOX_LIMIT) {
      this.pendingIce.push({ call: callId, candidate: data.candidate });
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
}
