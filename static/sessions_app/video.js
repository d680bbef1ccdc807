// The session room's video call (docs/realtime-protocol.md, "WebRTC signaling"): a
// pre-call check (camera preview, microphone level, round trip to the server), then a 1:1
// WebRTC call whose signaling goes through the room socket. Video is kept small for
// students on metered mobile data and steps down further when the connection degrades.
//
// This module is our side: the call's phases, the room socket's events and the controls.
// peer.js is the other side (its signals, our RTCPeerConnection to it, the signaling
// frames); panel.js what is on screen; media.js the camera and microphone; precall.js
// the microphone meter and the round trip; bandwidth.js the step-down.
//
// Nothing here may break the chat: every handler is wrapped, errors end up in the
// panel's message area (#video-error), never thrown at the caller.

import { BandwidthControl } from "./bandwidth.js";
import { LocalMedia, cameraErrorKey, mediaErrorKey, missingSupportKey, openCameraAndMicrophone, stopTracks } from "./media.js";
import { VideoPanel } from "./panel.js";
import { Peer } from "./peer.js";
import { MicrophoneMeter, RoundTripCheck } from "./precall.js";

const PEER_GRACE_MS = 8000; // a connected call survives the other side's socket blip this long

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
    this.view = new VideoPanel(panel, this);
    this.el = this.view.el;

    this.phase = "idle"; // idle | precheck | call (joined; with or without a peer connection) | failed
    this.local = new LocalMedia(this.el.localVideo);
    this.audioOnly = false;
    this.lastReason = "";
    this.peerGrace = null;
    this.role = null;
    this.peer = new Peer(this);
    this.bandwidth = new BandwidthControl({
      peer: this.peer,
      box: this.el.videoState,
      suggestAudio: (visible) => this.view.show(this.el.videoSuggestAudio, visible && this.phase === "call"),
    });
    this.meter = new MicrophoneMeter(this.el.videoMicLevel);
    this.roundTrip = new RoundTripCheck({
      room,
      output: this.el.videoNet,
      msg: (key) => this.view.msg(key),
      safe: (fn) => this.safe(fn),
    });

    this.listen();
    this.view.render();
  }

  // --- plumbing ------------------------------------------------------------------------
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
      if (this.inCall()) this.endCall({ message: "err-generic", tone: "danger" });
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
    room.on("signal", this.safe((frame) => this.peer.onSignal(frame)));
    room.on("pong", this.safe((frame) => this.roundTrip.onPong(frame)));
    room.on("error", this.safe(this.onServerError));
    const click = (element, handler) => element?.addEventListener("click", this.safe(handler));
    click(this.el.videoStart, this.openPrecheck);
    click(this.el.videoJoin, () => this.join(false));
    click(this.el.videoJoinAudio, () => this.join(true));
    click(this.el.videoCancel, () => this.stopPrecheck());
    click(this.el.videoHangup, this.hangUp);
    click(this.el.videoCamera, () => this.toggle(this.local.videoTrack()));
    click(this.el.videoMicrophone, () => this.toggle(this.local.audioTrack()));
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

  hasVideo() {
    return Boolean(this.local.videoTrack()) && !this.audioOnly;
  }

  // --- pre-call check -----------------------------------------------------------------
  async openPrecheck() {
    if (this.phase !== "idle" || this.room.roomState !== "open") return;
    this.view.clearMessage();
    const unsupported = missingSupportKey();
    if (unsupported) {
      this.view.message(unsupported);
      return;
    }
    this.phase = "precheck";
    this.audioOnly = false;
    this.view.render();
    this.roundTrip.start();
    const { stream, cameraError, error } = await openCameraAndMicrophone();
    if (this.phase !== "precheck") {
      stopTracks(stream); // cancelled meanwhile
      return;
    }
    if (!stream) {
      this.stopPrecheck(mediaErrorKey(error));
      return;
    }
    this.local.attach(stream);
    if (cameraError) this.view.message(cameraErrorKey(cameraError), { tone: "warning" });
    this.meter.start(stream);
    this.view.render();
    (this.hasVideo() ? this.el.videoJoin : this.el.videoJoinAudio)?.focus();
  }

  stopPrecheck(errorKey) {
    this.meter.stop();
    this.roundTrip.stop();
    this.local.stop();
    this.phase = "idle";
    if (errorKey) this.view.message(errorKey);
    else this.view.clearMessage();
    this.view.render();
  }

  // --- joining and leaving ------------------------------------------------------------
  join(audioOnly) {
    if (this.phase !== "precheck" || !this.local.stream || this.room.roomState !== "open") return;
    if (audioOnly || !this.local.videoTrack()) {
      this.audioOnly = true;
      this.local.dropVideo();
    }
    const sent = this.room.send({ type: "signal", kind: "join", data: { audio_only: this.audioOnly } });
    if (!sent) {
      this.view.message("err-not-connected");
      return;
    }
    this.meter.stop();
    this.roundTrip.stop();
    this.view.clearMessage();
    this.phase = "call";
    this.peer.outbox = [];
    this.view.render();
    this.view.setState("new");
    this.el.videoHangup?.focus();
  }

  hangUp() {
    if (!this.inCall()) return;
    this.room.send({ type: "signal", kind: "leave", data: {} });
    this.peer.joined = false;
    this.endCall();
  }

  // Ends the call locally (the other side is told only by hangUp).
  endCall({ message = null, tone = "info" } = {}) {
    clearTimeout(this.peerGrace);
    this.peerGrace = null;
    this.bandwidth.stop();
    this.peer.close();
    this.meter.stop();
    this.roundTrip.stop();
    this.local.stop();
    this.peer.outbox = [];
    this.peer.pendingIce = [];
    this.audioOnly = false;
    this.peer.audioOnly = false;
    this.peer.cameraOn = true;
    if (this.el.remoteVideo) this.el.remoteVideo.srcObject = null;
    this.view.show(this.el.remoteMicOff, false);
    this.phase = "idle";
    if (message) this.view.message(message, { tone });
    else this.view.clearMessage();
    this.view.render();
  }

  // Hang up locally and join again with the same camera and microphone: the other side
  // answers the new join and the counselor makes a fresh connection.
  tryAgain(audioOnly) {
    if (!this.inCall() || this.room.roomState !== "open") return;
    if (!this.local.audioTrack()) {
      this.endCall();
      return;
    }
    if (audioOnly) {
      this.audioOnly = true;
      this.local.dropVideo();
    }
    this.bandwidth.stop();
    this.peer.close();
    this.peer.pendingIce = [];
    this.phase = "call";
    this.view.clearMessage();
    if (!this.room.send({ type: "signal", kind: "join", data: { audio_only: this.audioOnly } })) {
      this.phase = "failed";
      this.view.message("err-not-connected", { retry: true });
    }
    this.view.render();
    this.view.setState(this.phase === "failed" ? "failed" : "new");
  }

  // The connection is given up (ICE failed, or never got through): keep the camera and
  // microphone so that "Try again" is quick.
  failed() {
    this.bandwidth.stop();
    this.phase = "failed";
    this.peer.close();
    this.view.message("err-failed", { retry: true, retryAudio: !this.audioOnly });
    this.view.render();
    this.view.setState("failed");
  }

  // --- room socket events -------------------------------------------------------------
  onHello(hello) {
    this.role = hello.role;
    const counselorWithoutTurn = hello.role === "counselor" && hello.turn_configured === false;
    this.view.show(this.el.turnWarning, counselorWithoutTurn);
  }

  onRoomState(frame) {
    this.lastReason = frame.reason || "";
    if (frame.state === "closed" && this.phase !== "idle") {
      if (this.phase === "precheck") this.stopPrecheck();
      else this.endCall({ message: "info-room-closed" });
      return;
    }
    this.view.renderAvailability();
  }

  onSocketOpen() {
    if (this.phase === "precheck") this.roundTrip.start();
    if (!this.inCall()) return;
    if (this.view.isShowing("info-socket-offline")) this.view.clearMessage();
    this.peer.flushOutbox();
    if (this.phase === "call" && !this.peer.pc) this.peer.announce(); // they may have joined meanwhile
  }

  onSocketOffline() {
    this.roundTrip.stop();
    if (this.phase === "precheck") this.roundTrip.show(true);
    if (this.inCall() && this.peer.pc) this.view.message("info-socket-offline", { tone: "warning" });
    this.view.renderAvailability();
  }

  onSocketStopped() {
    if (this.phase === "precheck") this.stopPrecheck();
    else if (this.inCall()) this.endCall();
    this.peer.joined = false;
    this.view.render();
  }

  onPresence(frame) {
    if (frame.local) return; // our own socket dropped: see onSocketOffline
    if (frame.online) {
      if (this.peerGrace) {
        clearTimeout(this.peerGrace);
        this.peerGrace = null;
        if (this.view.isShowing("info-peer-away")) this.view.clearMessage();
      }
      if (this.phase === "call" && !this.peer.pc) this.peer.announce(); // still waiting: tell them again
      return;
    }
    this.peer.joined = false;
    if (this.inCall() && this.peer.pc) {
      if (this.peer.pc.connectionState === "connected" && !this.peerGrace) {
        // The media goes peer to peer: a short socket blip on the other side need not end it.
        this.view.message("info-peer-away", { tone: "warning" });
        this.peerGrace = setTimeout(this.safe(() => {
          this.peerGrace = null;
          if (!this.room.peerOnline && this.inCall()) this.endCall({ message: "info-peer-offline" });
        }), PEER_GRACE_MS);
      } else if (!this.peerGrace) {
        this.endCall({ message: "info-peer-offline" });
      }
      return;
    }
    this.view.render();
  }

  onServerError(frame) {
    if (frame.ref !== "signal" || !this.inCall()) return;
    if (["room_not_open", "room_closed", "consent_missing", "session_over"].includes(frame.code)) {
      this.endCall();
      this.view.message(null, { tone: "warning", text: frame.message || this.view.msg("err-generic") });
    }
  }

  // From the current RTCPeerConnection's connectionstatechange.
  onConnectionState(state) {
    this.view.setState(state);
    if (state === "connected") {
      if (this.view.isShowing("err-failed")) this.view.clearMessage();
      this.bandwidth.start();
      this.sendMedia(); // the other side learns a camera or microphone turned off earlier
      this.view.renderRemote();
    } else if (state === "failed") {
      this.failed();
    }
  }

  // --- controls -----------------------------------------------------------------------
  sendMedia() {
    const video = this.local.videoTrack();
    const audio = this.local.audioTrack();
    this.peer.send("media", {
      camera: Boolean(video && video.enabled),
      microphone: Boolean(audio && audio.enabled),
      audio_only: this.audioOnly,
    });
  }

  // Turns the camera or microphone off or on again (track.enabled: no renegotiation).
  toggle(track) {
    if (!track) return;
    track.enabled = !track.enabled;
    this.view.renderToggles();
    if (this.inCall()) this.sendMedia();
  }

  // Stops the camera and sends no more video, without renegotiating. `tell`: let the other
  // side know, so it stops its video too.
  switchToAudioOnly(tell) {
    this.audioOnly = true;
    this.local.dropVideo();
    const sender = this.peer.videoSender();
    if (sender) sender.replaceTrack(null).catch((error) => console.warn("video:", error));
    this.bandwidth.stop();
    this.view.show(this.el.videoSuggestAudio, false);
    if (tell && this.inCall()) this.sendMedia();
    this.view.render();
  }
}
