// The local camera and microphone of the video call: asking for them (with the microphone
// alone as a fallback), the panel message that explains a refusal, and the stream that the
// preview shows and the call sends.

// Small on purpose: students are often on metered mobile data.
const VIDEO_CONSTRAINTS = { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15, max: 15 } };
const DENIED = new Set(["NotAllowedError", "SecurityError"]);
const UNAVAILABLE = new Set(["NotFoundError", "NotReadableError", "OverconstrainedError"]);

// The message key when this browser cannot make a call at all, else null.
export function missingSupportKey() {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) return "err-insecure";
  if (typeof window.RTCPeerConnection !== "function") return "err-unsupported";
  return null;
}

// Resolves to {stream}, {stream, cameraError} when only the microphone could be opened,
// or {error} when neither could.
export async function openCameraAndMicrophone() {
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

// The message for {error}: neither the camera nor the microphone can be used.
export function mediaErrorKey(error) {
  if (DENIED.has(error?.name)) return "err-media-denied";
  if (UNAVAILABLE.has(error?.name)) return "err-mic-unavailable";
  return "err-media-other";
}

// The message for {cameraError}: the microphone works, the camera does not.
export function cameraErrorKey(error) {
  return DENIED.has(error.name) ? "err-camera-denied" : "err-camera-unavailable";
}

export function stopTracks(stream) {
  for (const track of stream?.getTracks() || []) track.stop();
}

// Our camera and microphone stream, shown in the preview (#local-video).
export class LocalMedia {
  constructor(preview) {
    this.preview = preview;
    this.stream = null;
  }

  videoTrack() {
    return this.stream?.getVideoTracks()[0] || null;
  }

  audioTrack() {
    return this.stream?.getAudioTracks()[0] || null;
  }

  attach(stream) {
    this.stream = stream;
    if (!this.preview) return;
    this.preview.srcObject = stream;
    this.preview.play?.().catch(() => {});
  }

  stop() {
    stopTracks(this.stream);
    this.stream = null;
    if (this.preview) this.preview.srcObject = null;
  }

  // Stops the camera for good: audio only.
  dropVideo() {
    const track = this.videoTrack();
    if (!track) return;
    track.stop();
    this.stream.removeTrack(track);
    if (this.preview) this.preview.srcObject = this.stream;
  }
}
