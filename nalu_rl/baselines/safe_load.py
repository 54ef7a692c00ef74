"""Reading a Stable-Baselines3 ``model.zip`` without running code from it.

SB3 stores some of a model's attributes (its policy class, spaces, schedules, last observation, episode
buffers) as cloudpickled objects inside the zip's ``data`` document and unpickles them when it loads the
model: a ``model.zip`` from a stranger can run any code on load. SB3 skips unpickling an attribute it is
given in ``custom_objects``, so nalu-rl unpickles each one itself with an unpickler that builds only the
types those attributes are made of (numpy arrays and scalars, Gymnasium's Box/Dict/Discrete, deques,
SB3's schedule classes and sb3-contrib's recurrent policy class) and hands SB3 the results. Anything else
is refused before SB3 opens the file. The weights (``*.pth``) SB3 reads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

from nalu_rl.common import files

# (module, name) of every global the pickled attributes of a RecurrentPPO model.zip refer to (numpy 1.x and 2.x).
ALLOWED_GLOBALS = frozenset({
    ("builtins", "dict"), ("builtins", "list"), ("builtins", "tuple"), ("builtins", "float"), ("builtins", "int"),
    ("collections", "deque"), ("collections", "OrderedDict"),
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"), ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy.random._pickle", "__generator_ctor"), ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pcg64", "PCG64"), ("numpy.random.bit_generator", "SeedSequence"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("gymnasium.spaces.box", "Box"), ("gymnasium.spaces.dict", "Dict"), ("gymnasium.spaces.discrete", "Discrete"),
    ("stable_baselines3.common.utils", "ConstantSchedule"), ("stable_baselines3.common.utils", "FloatSchedule"),
    ("stable_baselines3.common.utils", "LinearSchedule"),
    ("sb3_contrib.common.recurrent.policies", "RecurrentMultiInputActorCriticPolicy"),
    ("sb3_contrib.common.recurrent.policies", "RecurrentActorCriticPolicy"),
})  # fmt: skip
MAX_ZIP_BYTES = 256 * files.MiB  # a RecurrentPPO model of this task is well under 1 MiB
MAX_DATA_BYTES = 16 * files.MiB


class UnsafeModel(ValueError):
    """A model.zip whose pickled attributes would need other types than a RecurrentPPO model is made of."""


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise UnsafeModel(f"{module}.{name}")
        return super().find_class(module, name)


def custom_objects(path: Path) -> dict[str, Any]:
    """Every pickled attribute of the SB3 model in ``path``, unpickled safely, for ``load(custom_objects=...)``.

    :param path: an SB3 ``model.zip`` (or a checkpoint in that format)
    :return: attribute name -> object, for every attribute SB3 would otherwise unpickle itself
    :raises UnsafeModel: an attribute would need a type outside :data:`ALLOWED_GLOBALS` (the file may carry code)
    :raises ValueError: the file is larger than a model is, or not an SB3 zip
    """
    path = Path(path)
    files.check_size(path, MAX_ZIP_BYTES)
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("data")
            if info.file_size > MAX_DATA_BYTES:
                raise files.TooLarge(f"{path}'s data document is larger than a model's: not read")
            doc = json.loads(archive.read(info))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError, RecursionError, EOFError) as err:
        raise ValueError(f"{path} is not a Stable-Baselines3 model ({type(err).__name__})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a Stable-Baselines3 model (its data is not a JSON object)")
    objects = {}
    for key, item in doc.items():
        if not (isinstance(item, dict) and ":serialized:" in item):
            continue
        try:
            objects[key] = _Restricted(io.BytesIO(base64.b64decode(str(item[":serialized:"])))).load()
        except UnsafeModel as err:
            raise UnsafeModel(
                f"{path}: its {key!r} would run {err} to load, which no RecurrentPPO model needs (a pickle can carry "
                "code): not loaded"
            ) from None
        except (pickle.UnpicklingError, binascii.Error, EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
            raise ValueError(f"{path}: its {key!r} cannot be read ({type(err).__name__})") from None
    return objects
