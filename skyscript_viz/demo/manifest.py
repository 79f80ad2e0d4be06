"""What a generated demo root says about itself: the manifest, its version and the fault kinds.

``DemoManifest`` is written as ``.skyscript_demo.json`` by :func:`skyscript_viz.demo.generate`; its presence
(at the current ``DEMO_VERSION``) marks a folder as the synthetic demo.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEMO_VERSION = 1
"""Bump when the generated content changes; the cache folder is ``demo-v{DEMO_VERSION}``."""


MANIFEST_NAME = ".skyscript_demo.json"


DEFAULT_N_OBJECTS = 1400
"""Focus objects ("sites") at the default size; with extra sources/years this gives > 2,000 images."""


FAULT_KINDS: dict[str, str] = {
    "missing_meta": "image without its meta pickle (path: the image)",
    "missing_image": "meta pickle without its image (path: the meta pickle, e.g. meta3/x.pickle)",
    "corrupt_meta": "truncated meta pickle (path: the meta pickle)",
    "unsafe_meta": "meta pickle that would run os.system if loaded with plain pickle (path: the meta pickle)",
    "bad_name": "image + meta whose file name does not parse (path: the image)",
    "invalid_box": "meta box with west > east, south > north or latitude 95 (path: the image)",
    "year_mismatch": "year in the file name differs from the year in meta time (path: the image)",
    "csv_row_without_image": "caption CSV row whose image does not exist (path: the CSV filepath)",
    "image_without_csv_row": "image + meta present but in no caption CSV (path: the image)",
    "path_escape": "caption CSV filepath escaping the root, ../ or absolute (path: the CSV filepath as written)",
    "duplicate_caption_conflict": "same filepath in the unfiltered and the top50 openai CSV with different "
    "captions (path: the image)",
    "corrupt_image": "truncated JPEG (path: the image)",
    "blank_image": "all-black JPEG (path: the image)",
    "low_contrast": "hazy/cloudy JPEG with very low contrast (path: the image)",
    "duplicate_content": "byte-identical JPEGs under different names (paths: both images of each pair)",
    "caption_misses_tag": "captions that do not mention the focus object (path: the image)",
    "unknown_source": "image + meta with a source code that is not in SOURCES (path: the image)",
    "hostile_text": "tag value / caption with HTML or script that must be shown as text (path: the image)",
}
"""Fault kind -> what it is and which relative path the manifest lists for it.  Paths are logical
dataset paths (``images3/x.jpg``) even when the part is a zip; use :meth:`DemoManifest.physical`."""


@dataclass(frozen=True)
class DemoManifest:
    """What :func:`generate` wrote: where, how many images, and every planted fault.

    ``faults`` maps each kind of ``FAULT_KINDS`` to the logical relative paths it affects.
    ``layout`` maps a part folder name (``images3``) to ``{"storage": "dir"|"zip", "file": ...,
    "prefix": ...}``.  ``stats`` holds counts (per source, year, type, CSV ...) and timings.
    """

    root: Path
    n_images: int
    faults: dict[str, list[str]]
    seed: int = 0
    n_objects: int = DEFAULT_N_OBJECTS
    version: int = DEMO_VERSION
    layout: dict[str, dict[str, str]] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """JSON text of the manifest (``root`` as a string)."""
        d = asdict(self)
        d["root"] = str(self.root)
        return json.dumps(d, indent=1, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, root: Path | None = None) -> DemoManifest:
        """Parse :meth:`to_json` output; ``root`` overrides the stored root (which may be ``.``)."""
        d = json.loads(text)
        return cls(
            root=Path(root) if root is not None else Path(d.get("root", ".")),
            n_images=int(d["n_images"]),
            faults={str(k): [str(p) for p in v] for k, v in d["faults"].items()},
            seed=int(d.get("seed", 0)),
            n_objects=int(d.get("n_objects", DEFAULT_N_OBJECTS)),
            version=int(d.get("version", 0)),
            layout={str(k): dict(v) for k, v in d.get("layout", {}).items()},
            stats=dict(d.get("stats", {})),
        )

    def physical(self, relpath: str) -> str:
        """Where a logical path lives: ``images2/x.jpg`` or ``images3.zip::x.jpg`` (zip member)."""
        folder, _, rest = relpath.partition("/")
        part = self.layout.get(folder)
        if not rest or part is None or part.get("storage") != "zip":
            return relpath
        return f"{part['file']}::{part.get('prefix', '')}{rest}"


def read_manifest(root: Path) -> DemoManifest:
    """The manifest of a demo root, with ``root`` set to ``root``.  Raises if it is not a demo root."""
    root = Path(root)
    return DemoManifest.from_json((root / MANIFEST_NAME).read_text(encoding="utf-8"), root=root)


def is_demo_root(root: Path) -> bool:
    """True if ``root`` holds a complete demo dataset of the current ``DEMO_VERSION``."""
    try:
        m = read_manifest(Path(root))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return m.version == DEMO_VERSION
