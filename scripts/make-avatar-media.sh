#!/usr/bin/env bash
# Regenerates assets/avatar/: the digital-human avatar's pre-encoded clips that the clip player
# (src/realtime/media/clip-player.ts) sends as RTP without transcoding. Documentation for regenerating; CI never runs it.
#
# Needs ffmpeg built with libvpx, libopus and libflite (Debian's `ffmpeg` package has all three).
#
#   idle.ivf, speaking.ivf  VP8 in IVF, 320x240, 15 fps, 4 s (60 frames), a keyframe every 30 frames.
#                           Every frame is displayable (no alt-ref, no lag), as RTP forwarding needs.
#                           A face on a rotating gradient; the background turns once per 4 s and the mouth
#                           cycles 10 times in 4 s, so frame 59 runs smoothly into frame 0 when the clip loops.
#   speech.ogg              Opus in Ogg, 48 kHz mono, 20 ms frames, 4 s: a synthesized voice.
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/assets/avatar"
mkdir -p "$out"

fps=15
secs=4
# speed is radians per frame: one full turn of the gradient per clip, so the loop is seamless.
background="gradients=s=320x240:r=$fps:d=$secs:c0=0x1f3b73:c1=0x3a8fb7:x0=0:y0=0:x1=320:y1=240:seed=1:speed=0.104719755,format=yuv420p"
face="drawbox=x=100:y=50:w=120:h=150:color=0xf1c27d:t=fill"
eyes="drawbox=x=125:y=90:w=20:h=14:color=black:t=fill,drawbox=x=175:y=90:w=20:h=14:color=black:t=fill"
closed_mouth="drawbox=x=130:y=157:w=60:h=6:color=0x8b1a1a:t=fill"
# drawbox's w/h are fixed in ffmpeg 5, so the moving mouth is three boxes switched on by time (`enable`):
# |sin| at 1.25 Hz gives closed, half, wide, wide, wide, half every 6 frames.
open_level="abs(sin(2*PI*1.25*t))"
half_mouth="drawbox=x=132:y=151:w=56:h=18:color=0x5a0f0f:t=fill:enable='between($open_level,0.3,0.75)'"
wide_mouth="drawbox=x=130:y=145:w=60:h=30:color=0x5a0f0f:t=fill:enable='gt($open_level,0.75)'"
# The idle face blinks once (frames 30-32): lids are face-coloured boxes over the eyes.
blink="drawbox=x=120:y=86:w=80:h=22:color=0xf1c27d:t=fill:enable='between(n,30,32)'"

# -g/-keyint_min 30: a keyframe at frames 0 and 30. -auto-alt-ref 0 -lag-in-frames 0 -deadline realtime:
# no hidden alt-ref frames, so each IVF frame is one displayable frame.
vp8=(-c:v libvpx -b:v 150k -maxrate 150k -g 30 -keyint_min 30 -auto-alt-ref 0 -lag-in-frames 0
  -deadline realtime -cpu-used 8 -f ivf)

ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$background,$face,$eyes,$closed_mouth,$blink" \
  "${vp8[@]}" "$out/idle.ivf"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$background,$face,$eyes,$closed_mouth,$half_mouth,$wide_mouth" \
  "${vp8[@]}" "$out/speaking.ivf"

# flite ships inside Debian's ffmpeg; `espeak-ng -w voice.wav "..."` as the input works as well.
# apad pads the ~3.4 s sentence to 4 s; -frame_duration 20 gives one 20 ms frame per Opus packet.
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "flite=text='Hello, I am the T R T C D digital human.':voice=slt" \
  -af "aresample=48000,apad=whole_dur=$secs" -t "$secs" -ac 1 -ar 48000 \
  -c:a libopus -b:a 32k -application voip -frame_duration 20 -vbr on "$out/speech.ogg"

ls -l "$out"
