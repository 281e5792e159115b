"""Is a task's motion information in the flow the quick preset sees? A probe without the network.

    python tools/flow_probe.py TRAIN_DIR TEST_DIR

Each clip of two ActionLab projects with labels.csv (as the development-set scripts
write them) is sampled as quick samples it (24 frames over the clip, 48x48 gray); the
optical flow between consecutive frames (scikit-image's iterative Lucas-Kanade, 5x5
windows, like ActionLab's own) is reduced to a few numbers: per direction, the largest
flow summed over time at a pixel (an object's path adds up, shake cancels), the mean over
time of each frame's largest flow, the largest divergence (approaching), and the mean
flow (the camera's). A logistic regression on them is trained on TRAIN and scored on
TEST. If it does well where the network does not, the information is there and the
network or its training loses it; if it fails too, the flow itself does not separate
the classes. Needs numpy, scikit-image and scikit-learn (pip), and ffmpeg.
"""

import csv
import os
import sys

import numpy as np
from skimage.registration import optical_flow_ilk
from skimage.transform import resize

from footage import load_gray_video

FRAMES, SIZE = 24, 48   # what the quick preset samples


def sampled_frames(path):
    """FRAMES gray frames (T, SIZE, SIZE) in [0, 1], spread over the clip."""
    frames = load_gray_video(path)
    chosen = np.linspace(0, len(frames) - 1, FRAMES).round().astype(int)
    return np.stack([resize(frames[i], (SIZE, SIZE), anti_aliasing=True) for i in chosen])


def features(path):
    frames = sampled_frames(path)
    flows = [optical_flow_ilk(frames[t - 1], frames[t], radius=2) for t in range(1, FRAMES)]
    dy = np.array([f[0] for f in flows])
    dx = np.array([f[1] for f in flows])
    steps = FRAMES - 1
    values = []
    for summed in (dx.sum(0), -dx.sum(0), dy.sum(0), -dy.sum(0)):   # a path adds up, shake cancels
        values += [np.percentile(summed, 99), summed.max()]
    for field in (dx, -dx, dy, -dy):                                 # each frame's largest, over time
        values.append(field.reshape(steps, -1).max(1).mean())
    divergence = np.gradient(dx, axis=2) + np.gradient(dy, axis=1)   # an object coming closer
    values += [divergence.reshape(steps, -1).max(1).mean(), np.percentile(divergence.sum(0), 99)]
    values += [dx.mean(), dy.mean()]                                  # the camera's own motion
    return np.array(values)


def load(project):
    with open(os.path.join(project, "labels.csv")) as f:
        rows = list(csv.reader(f))[1:]
    return np.array([features(os.path.join(project, path)) for path, _ in rows]), np.array([label for _, label in rows])


def main():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    x_train, y_train = load(sys.argv[1])
    x_test, y_test = load(sys.argv[2])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x_train, y_train)
    print(f"training accuracy {model.score(x_train, y_train):.2f}, test accuracy {model.score(x_test, y_test):.2f}")
    classes = sorted(set(y_train))
    print("confusion (rows: true, columns: predicted):", " ".join(classes))
    print(confusion_matrix(y_test, model.predict(x_test), labels=classes))


if __name__ == "__main__":
    main()
