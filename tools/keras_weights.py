"""Move weights between a Keras seed-stack model and an ActionLab checkpoint.

    from keras_weights import keras_to_actionlab, actionlab_to_keras
    keras_to_actionlab(model, "model.safetensors", labels=["run", "walk", ...])
    actionlab_to_keras(model, "best.safetensors")

`model` is the Keras Sequential seed stack (ConvLSTM2D, MaxPool3D, BatchNormalization
three times, Flatten, Dense, Dense). Needs numpy and safetensors; ActionLab itself
needs neither.
"""
import json

import numpy as np
from safetensors.numpy import load_file, save_file

# Keras layer type -> (ActionLab name prefix, names of layer.get_weights() in order).
KERAS_NAMES = {
    "ConvLSTM2D": ("convlstm", ["kernel", "recurrent_kernel", "bias"]),
    "BatchNormalization": ("batchnorm", ["gamma", "beta", "moving_mean", "moving_variance"]),
    "Dense": ("dense", ["kernel", "bias"]),
}


def _weighted_layers(model):
    counts = {}
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in KERAS_NAMES:
            prefix, parts = KERAS_NAMES[kind]
            counts[prefix] = counts.get(prefix, 0) + 1
            yield layer, f"{prefix}{counts[prefix]}", parts


def keras_to_actionlab(model, path, labels=None):
    """Writes the model's weights as an ActionLab checkpoint at `path`."""
    tensors = {}
    for layer, name, parts in _weighted_layers(model):
        for part, weight in zip(parts, layer.get_weights()):
            tensors[f"{name}.{part}"] = np.ascontiguousarray(weight, dtype=np.float32)
    frames, height, width, channels = model.input_shape[1:]
    convs = [l for l in model.layers if type(l).__name__ == "ConvLSTM2D"]
    denses = [l for l in model.layers if type(l).__name__ == "Dense"]
    config = {"frames": frames, "height": height, "width": width, "channels": channels,
              "filters": [l.filters for l in convs], "dense_units": denses[0].units,
              "classes": denses[-1].units}
    metadata = {"config": json.dumps(config)}
    if labels:
        metadata["labels"] = json.dumps(list(labels))
    save_file(tensors, path, metadata=metadata)


def actionlab_to_keras(model, path):
    """Loads an ActionLab checkpoint's weights into a Keras model of the same config."""
    weights = load_file(path)
    for layer, name, parts in _weighted_layers(model):
        layer.set_weights([weights[f"{name}.{part}"] for part in parts])
