"""The plan of a demo dataset: sites, images, captions, splits, CLIP-like scores and planted faults."""

from __future__ import annotations

import math
import random
from typing import Any

from skyscript_viz.sources import SOURCES

from .captions import _article, _captions, _phrase, _prefix
from .manifest import FAULT_KINDS
from .osm import _Img, _load_osm, _local, _Obj, _offset, _Placed, _rec_shape, _Shape, _Site
from .places import _AERIAL, _ANCHORS, _COARSE, _SHARE, _TEMPLATES, _YEARS, SOURCE_RASTER, Template
from .styles import _ROADS, _style

_HOSTILE_TAG = "<img src=x onerror=alert(1)>"


_HOSTILE_CAPTION = "<script>alert(2)</script>"


class _Planner:
    """Chooses sites, images, captions, splits and faults; everything from one seeded RNG."""

    def __init__(self, n_objects: int, seed: int) -> None:
        self.seed = seed
        self.n_objects = n_objects
        self.rng = random.Random(f"skyscript-demo/{seed}")
        self.recs = _load_osm()
        self._objs: dict[int, _Obj] = {}
        self.used_ids: set[tuple[str, int]] = set()
        self.stems: set[str] = set()
        self.images: list[_Img] = []
        self.extras: list[_Img] = []  # fault images that are not part of the normal set
        self.csv_only: list[tuple[str, str, str, str]] = []  # (kind, filepath, title, multi)
        self.faults: dict[str, list[str]] = {k: [] for k in FAULT_KINDS}
        # candidate pools
        self.fi_pool = list(range(len(self.recs)))
        self.rng.shuffle(self.fi_pool)
        self.fi_pool.sort(key=lambda i: self._weight(self.recs[i]) >= self.rng.random())  # preferred last
        self.urban_pool = [i for i, r in enumerate(self.recs) if r["x"] == 0]
        self.rural_pool = [i for i, r in enumerate(self.recs) if r["x"] != 0]
        self.big_pool = [i for i, r in enumerate(self.recs) if self._is_big(r)]

    # -- objects -------------------------------------------------------------------------------
    @staticmethod
    def _is_big(rec: dict[str, Any]) -> bool:
        """Large enough to be the focus of a 10-30 m satellite image."""
        k, _, v = rec["p"].partition("=")
        if k in ("barrier", "man_made", "power", "shop", "office", "amenity") and v != "parking":
            return False
        if k == "highway" and v not in _ROADS:
            return False
        size: float = max(rec["w"], rec["h"])
        return size >= 150 if rec["t"] == "w" else size >= 80

    @staticmethod
    def _weight(rec: dict[str, Any]) -> float:
        k = rec["p"].split("=")[0]
        if k in ("shop", "office", "craft"):
            return 0.15
        if rec["t"] == "n":
            return 0.45
        return 0.9

    def _obj(self, idx: int) -> _Obj:
        o = self._objs.get(idx)
        if o is None:
            rec = self.recs[idx]
            o = _Obj(rec["t"], int(rec["id"]), dict(rec["tags"]), _rec_shape(rec), _style(rec["t"], rec["tags"]))
            self._objs[idx] = o
        return o

    def _new_id(self, t: str) -> int:
        lo, hi = {
            "n": (30_000_000, 11_500_000_000),
            "w": (4_000_000, 1_200_000_000),
            "a": (8_000_000, 2_400_000_000),
        }[t]
        while True:
            oid = self.rng.randrange(lo, hi)
            if (t, oid) not in self.used_ids:
                self.used_ids.add((t, oid))
                return oid

    def _template_obj(self, tpl: Template) -> _Obj:
        t, tags, (lo, hi), aspect, _setting, _regions = tpl
        rng = self.rng
        ang = rng.random() * math.pi
        ca, sa = math.cos(ang), math.sin(ang)
        if t == "a":
            L = rng.uniform(lo, hi)
            W = L * aspect * rng.uniform(0.85, 1.15)
            style = _style(t, tags)
            if style in ("water", "forest", "scrub", "grass", "snow", "rock", "sand", "dirt", "golf"):
                n = 14
                pts = []
                for i in range(n):
                    a = 2 * math.pi * i / n
                    r = rng.uniform(0.8, 1.15)
                    x, y = L / 2 * r * math.cos(a), W / 2 * r * math.sin(a)
                    pts.append((x * ca - y * sa, x * sa + y * ca))
            else:
                pts = [
                    ((x * ca - y * sa), (x * sa + y * ca))
                    for x, y in ((-L / 2, -W / 2), (L / 2, -W / 2), (L / 2, W / 2), (-L / 2, W / 2))
                ]
            shape = _Shape("poly", pts, max(L, W))
        elif t == "w":
            width = rng.uniform(lo, hi)
            length = 3200.0
            winding = tags.get("waterway") in ("river", "stream", "ditch")
            lam = rng.uniform(250, 700)
            amp = rng.uniform(0.08, 0.25) * lam if winding else 0.0
            phase = rng.random() * math.tau
            bend = rng.uniform(-0.00012, 0.00012) if not winding else 0.0
            pts = []
            step = 16.0
            x = -length / 2
            while x <= length / 2:
                y = amp * math.sin(2 * math.pi * x / lam + phase) + bend * x * x
                pts.append((x * ca - y * sa, x * sa + y * ca))
                x += step
            shape = _Shape("line", pts, length, width)
        else:
            shape = _Shape("point", [(0.0, 0.0)], 0.0)
        return _Obj(t, self._new_id(t), dict(tags), shape, _style(t, tags))

    def _templates_for(self, setting: str, src: str, big: bool = False) -> list[Template]:
        out = []
        for tpl in _TEMPLATES:
            _t, _tags, (_lo, hi), _a, s, regions = tpl
            if s not in ("any", setting):
                continue
            if regions and src in _AERIAL and src not in regions.split():
                continue
            if big and _t == "a" and hi < 100:
                continue
            if big and _t == "n":
                continue
            out.append(tpl)
        return out

    # -- sites ---------------------------------------------------------------------------------
    def _extract_site(self, idx: int, src: str, lon: float, lat: float, setting: str, real: bool) -> _Site:
        rec = self.recs[idx]
        base = self._obj(idx)
        if real:
            focus = base
            self.used_ids.add((base.t, base.oid))
        else:
            focus = _Obj(base.t, self._new_id(base.t), dict(base.tags), base.shape, base.style)
        around = []
        for j in rec["nb"]:
            nb = self.recs[j]
            dx, dy = _local(nb["lon"], nb["lat"], rec["lon"], rec["lat"])
            around.append(_Placed(self._obj(j), dx, dy))
        return _Site(focus, lon, lat, setting, around, src)

    def _template_site(self, src: str, lon: float, lat: float, setting: str, big: bool) -> _Site:
        rng = self.rng
        pool = self._templates_for(setting, src, big)
        focus = self._template_obj(rng.choice(pool))
        native, _up = SOURCE_RASTER[src]
        span = max(native * SOURCES[src].resolution_m, 60.0)
        around: list[_Placed] = []
        candidates = [
            self._template_obj(rng.choice(self._templates_for(setting, src))) for _ in range(rng.randint(2, 12))
        ]
        if setting == "rural" and self.rural_pool and rng.random() < 0.5:
            candidates += [self._obj(rng.choice(self.rural_pool)) for _ in range(rng.randint(1, 4))]
        for o in candidates:
            placed = self._place(focus, o, around, span)
            if placed is not None:
                around.append(placed)
        return _Site(focus, lon, lat, setting, around, src)

    @staticmethod
    def _line_frame(shape: _Shape) -> tuple[float, float, float]:
        """(ux, uy, half thickness) of a line shape: chord direction and sideways reach incl. width."""
        (x0, y0), (x1, y1) = shape.pts[0], shape.pts[-1]
        L = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / L, (y1 - y0) / L
        dev = max(abs(-uy * x + ux * y) for x, y in shape.pts)
        return ux, uy, dev + shape.width / 2 + 4.0

    def _place(self, focus: _Obj, o: _Obj, placed: list[_Placed], span: float) -> _Placed | None:
        """An offset for neighbour ``o`` that does not cover the focus object or earlier areas."""
        rng = self.rng
        r_f = focus.shape.size / 2 if focus.shape.kind != "line" else 0.0
        if o.shape.kind == "line":  # keep the line (and its bends) clear of the focus object
            ux, uy, reach = self._line_frame(o.shape)
            d = (reach + r_f * 0.9 + rng.uniform(2.0, 0.5 * span)) * rng.choice((-1, 1))
            along = rng.uniform(-1, 1) * span
            return _Placed(o, -uy * d + ux * along, ux * d + uy * along)
        r_o = o.shape.size / 2 * 0.8
        for _ in range(8):
            if focus.shape.kind == "line":
                ux, uy, reach = self._line_frame(focus.shape)
                d = (reach + r_o + rng.uniform(2.0, 0.5 * span)) * rng.choice((-1, 1))
                along = rng.uniform(-1, 1) * span
                dx, dy = -uy * d + ux * along, ux * d + uy * along
            else:
                ang = rng.random() * math.tau
                dist = r_f * 0.85 + r_o + rng.uniform(2.0, 0.6 * span)
                dx, dy = dist * math.cos(ang), dist * math.sin(ang)
            if all(
                p.obj.shape.kind == "line" or math.hypot(dx - p.dx, dy - p.dy) >= r_o + p.obj.shape.size * 0.4
                for p in placed
            ):
                return _Placed(o, dx, dy)
        return None

    def _anchor(self, src: str) -> tuple[float, float, str]:
        rng = self.rng
        if src in _COARSE:
            choices = [a for k in ("US", "DE", "CH", "ES", "P3") for a in _ANCHORS[k]]
            lon, lat, setting = rng.choice(choices)
        else:
            lon, lat, setting = rng.choice(_ANCHORS[src])
        spread = 0.03 if setting == "urban" else 0.12
        lon += rng.uniform(-spread, spread)
        lat += rng.uniform(-spread, spread) * 0.7
        if src in SOURCES and src not in _COARSE:
            w, s, e, n = SOURCES[src].coverage_bbox
            lon = min(max(lon, w + 0.05), e - 0.05)
            lat = min(max(lat, s + 0.05), n - 0.05)
        return lon, lat, setting

    def _pick(self, pool: list[int]) -> int:
        rng = self.rng
        while True:
            i = rng.choice(pool)
            if rng.random() < self._weight(self.recs[i]):
                return i

    def make_site(self, src: str) -> _Site:
        rng = self.rng
        if src == "FI":
            idx = self.fi_pool.pop()
            rec = self.recs[idx]
            return self._extract_site(idx, src, rec["lon"], rec["lat"], "urban" if rec["x"] == 0 else "rural", True)
        lon, lat, setting = self._anchor(src)
        if src in _COARSE:
            if rng.random() < 0.55:
                return self._template_site(src, lon, lat, setting, big=True)
            return self._extract_site(rng.choice(self.big_pool), src, lon, lat, setting, False)
        if setting == "urban":
            if rng.random() < 0.75:
                return self._extract_site(self._pick(self.urban_pool), src, lon, lat, setting, False)
            return self._template_site(src, lon, lat, setting, big=False)
        if rng.random() < 0.35:
            return self._extract_site(self._pick(self.rural_pool), src, lon, lat, setting, False)
        return self._template_site(src, lon, lat, setting, big=False)

    # -- images --------------------------------------------------------------------------------
    def make_image(
        self,
        site: _Site,
        src: str,
        year: int | None = None,
        *,
        stem: str | None = None,
        register: bool = True,
    ) -> _Img | None:
        rng = self.rng
        lo, hi = _YEARS.get(src, (2016, 2023))
        if year is None:
            years = [
                y for y in range(lo, hi + 1) if f"{site.focus.t}{site.focus.oid}_{src}_{y % 100:02d}" not in self.stems
            ]
            if not years:
                return None
            year = rng.choice(years)
        if stem is None:
            stem = f"{site.focus.t}{site.focus.oid}_{src}_{year % 100:02d}"
        if stem in self.stems:
            return None
        self.stems.add(stem)
        month = rng.randint(5, 9) if src in _AERIAL else rng.randint(3, 10)
        hour = rng.randint(9, 13) if src in _AERIAL else rng.randint(8, 11)
        ttuple = (year, month, rng.randint(1, 28), hour, rng.randint(0, 59))
        native = SOURCE_RASTER.get(src, (256, 1))[0]
        res = SOURCES[src].resolution_m if src in SOURCES else 0.1
        foot = native * res
        cx, cy = rng.uniform(-0.2, 0.2) * foot, rng.uniform(-0.2, 0.2) * foot
        img = _Img(stem, src, year, site, ttuple, cx, cy, raster=src)
        self._finish(img, foot)
        if register:
            self.images.append(img)
        return img

    def _finish(self, img: _Img, foot: float) -> None:
        """Box, surrounding objects and captions of a planned image."""
        site = img.site
        half = foot / 2
        lon_c, lat_c = _offset(site.lon, site.lat, img.cx, img.cy)
        w, s = _offset(lon_c, lat_c, -half, -half)
        e, n = _offset(lon_c, lat_c, half, half)
        img.box = (round(w, 7), round(s, 7), round(e, 7), round(n, 7))
        img.center_tags = dict(site.focus.tags)
        inside = []
        for p in site.around:
            r = p.obj.shape.size / 2
            ox, oy = p.dx - img.cx, p.dy - img.cy
            if abs(ox) - r <= half and abs(oy) - r <= half:
                inside.append((math.hypot(ox, oy), p))
        inside.sort(key=lambda t: t[0])
        img.surrounding = [p for _d, p in inside[:15]]
        cap_rng = random.Random(f"{self.seed}/cap/{img.stem}")
        img.title, img.multi = _captions(img, cap_rng)

    def plan(self) -> None:
        rng = self.rng
        counts = {k: max(1, round(v * self.n_objects)) for k, v in _SHARE.items()}
        order = [s for s in _SHARE for _ in range(counts[s])]
        rng.shuffle(order)
        for src in order:
            if src == "FI" and not self.fi_pool:
                src = "S2"
            site = self.make_site(src)
            first = self.make_image(site, src)
            if first is None:
                continue
            # the same object again: another year of the same source, and/or a coarse satellite
            r = rng.random()
            for _ in range(2 if r < 0.1 else 1 if r < 0.34 else 0):
                self.make_image(site, src)
            big = site.focus.shape.size >= 60 or site.focus.style in (
                "water",
                "river",
                "forest",
                "farmland",
                "runway",
                "solar",
                "golf",
                "builtup",
                "road",
                "rail",
                "snow",
                "orchard",
                "greenhouse",
            )
            if src not in _COARSE and big and rng.random() < 0.5:
                self.make_image(site, rng.choices(_COARSE, weights=(5, 3, 2))[0])
            elif src in _COARSE and rng.random() < 0.3:
                self.make_image(site, rng.choice([c for c in _COARSE if c != src]))
        # parts and splits
        rng.shuffle(self.images)
        for i, img in enumerate(self.images):
            img.part = 2 + i % 6
            r = rng.random()
            img.split = "test" if r < 0.04 else "val" if r < 0.06 else "train"
        self.images.sort(key=lambda im: (im.part, im.stem))

    # -- faults --------------------------------------------------------------------------------
    def plant_faults(self) -> None:
        """Damage chosen train images, one block per fault kind (missing meta, corrupt JPEG, bad CSV row...).

        The blocks share one random stream in a fixed order that the demo's bytes depend on; kept in one
        function so that order stays visible.
        """
        rng = self.rng
        k = 3 if self.n_objects >= 200 else 1
        by_part: dict[int, list[_Img]] = {}
        for img in self.images:
            if img.split == "train":
                by_part.setdefault(img.part, []).append(img)
        for lst in by_part.values():
            rng.shuffle(lst)
        pool: list[_Img] = []
        parts = sorted(by_part)
        while any(by_part.values()):
            for p in parts:
                if by_part[p]:
                    pool.append(by_part[p].pop())
        pool.reverse()

        def take(n: int) -> list[_Img]:
            return [pool.pop() for _ in range(min(n, len(pool)))]

        for img in take(k):
            img.fault, img.write_meta = "missing_meta", False
            self.faults["missing_meta"].append(img.image_path)
        for img in take(k):
            img.fault = "corrupt_meta"
            self.faults["corrupt_meta"].append(img.meta_path)
        for i, img in enumerate(take(k)):
            img.fault, img.variant = "unsafe_meta", i
            self.faults["unsafe_meta"].append(img.meta_path)
        for i, img in enumerate(take(k)):
            img.fault, img.variant = "invalid_box", i
            w, s, e, n = img.box
            img.box = [(e, s, w, n), (w, s, e, 95.0), (w, n, e, s)][i % 3]
            self.faults["invalid_box"].append(img.image_path)
        for img in take(k):
            img.fault = "year_mismatch"
            y = img.time[0]
            img.time = (y + (2 if y <= 2021 else -3), *img.time[1:])
            self.faults["year_mismatch"].append(img.image_path)
        for img in take(k):
            img.fault, img.in_csv = "image_without_csv_row", False
            self.faults["image_without_csv_row"].append(img.image_path)
        for img in take(k):
            img.fault = "duplicate_caption_conflict"
            self.faults["duplicate_caption_conflict"].append(img.image_path)
        for kind in ("corrupt_image", "blank_image", "low_contrast"):
            for img in take(k):
                img.fault = kind
                self.faults[kind].append(img.image_path)
        for _ in range(k):
            pair = take(2)
            if len(pair) == 2:
                pair[0].fault, pair[1].fault = "duplicate_content", "duplicate_content"
                pair[1].dup_of = pair[0]
                self.faults["duplicate_content"] += [pair[0].image_path, pair[1].image_path]
        wrong = [
            "swimming pool",
            "baseball field",
            "wind turbine",
            "harbour",
            "railway station",
            "golf course",
            "vineyard",
            "airport terminal",
        ]
        for img in take(k):
            img.fault = "caption_misses_tag"
            ph = _phrase(img.center_tags)
            other = rng.choice([w for w in wrong if w != ph and w not in img.title])
            img.title = f"{_prefix(img.src)} {_article(other)}"
            img.multi = f"{img.title}, with {_article(rng.choice(['lighthouse', 'ski lift', 'oil rig']))} nearby"
            self.faults["caption_misses_tag"].append(img.image_path)

        # extra files: meta without image, bad names, unknown source, hostile text
        srcs = ["CH", "DE", "ES", "US", "S2"]
        for i in range(k):
            src = srcs[i % len(srcs)]
            ex = self.make_image(self.make_site(src), src, register=False)
            if ex is not None:
                ex.part, ex.fault, ex.write_image, ex.in_csv = (
                    2 + (i * 2 + 1) % 6,
                    "missing_image",
                    False,
                    False,
                )
                self.extras.append(ex)
                self.faults["missing_image"].append(ex.meta_path)
        bad_stems = [("x{}_CH_19", 2), ("a{}_CH_2019", 3), ("n{}-DE-21", 5)]
        for i in range(max(2, k)):
            fmt, part = bad_stems[i % len(bad_stems)]
            site = self.make_site("CH" if "CH" in fmt else "DE")
            ex = self.make_image(
                site,
                "CH" if "CH" in fmt else "DE",
                2019 if "CH" in fmt else 2021,
                stem=fmt.format(site.focus.oid),
                register=False,
            )
            if ex is not None:
                ex.part, ex.fault = part, "bad_name"
                self.extras.append(ex)
                self.faults["bad_name"].append(ex.image_path)
        for i in range(k):
            site = self.make_site("DE")
            site.src = "XX"
            stem = f"{site.focus.t}{site.focus.oid}_XX_{20 + i}"
            ex = self.make_image(site, "DE", 2020 + i, stem=stem, register=False)
            if ex is not None:
                ex.src, ex.part, ex.fault = "XX", 2 + (i * 3) % 6, "unknown_source"
                ex.title, ex.multi = _captions(ex, random.Random(f"{self.seed}/xx/{i}"))
                self.extras.append(ex)
                self.faults["unknown_source"].append(ex.image_path)
        hostile = [
            (
                {"amenity": "cafe", "name": _HOSTILE_TAG, "outdoor_seating": "yes"},
                f"aerial image of a cafe named {_HOSTILE_CAPTION}",
            ),
            (
                {"leisure": "park", "name": '"><svg onload=alert(3)>', "note:en": "Tom & Jerry's <b>"},
                'aerial image of a park & <b>garden</b> "quoted" <ex src=y onerror=alert(4)>',
            ),
        ]
        for i in range(min(2, max(1, k))):
            tags, caption = hostile[i]
            site = self.make_site("CH")
            site.focus = _Obj(
                "n" if i == 0 else "a",
                self._new_id("n" if i == 0 else "a"),
                tags,
                _Shape("point", [(0.0, 0.0)], 0.0) if i == 0 else site.focus.shape,
                _style("n", tags),
            )
            ex = self.make_image(site, "CH", 2021, register=False)
            if ex is not None:
                ex.part, ex.fault = 2 + (i * 4) % 6, "hostile_text"
                ex.center_tags = dict(tags)
                ex.title = caption
                ex.multi = f"{caption}, with {_HOSTILE_CAPTION} nearby"
                self.extras.append(ex)
                self.faults["hostile_text"].append(ex.image_path)
        # CSV-only rows
        for i in range(k):
            part = [5, 3, 7][i % 3]
            t = "awn"[i % 3]
            stem = f"{t}{self._new_id(t)}_{['DE', 'US', 'ES'][i % 3]}_{20 + i}"
            path = f"images{part}/{stem}.jpg"
            self.csv_only.append(
                (
                    "csv_row_without_image",
                    path,
                    f"aerial image of a building {i}",
                    f"aerial image of a building {i}, with a road nearby",
                )
            )
            self.faults["csv_row_without_image"].append(path)
        escapes = ["../../etc/passwd", "/etc/passwd", "images2/../../../etc/hosts"]
        for path in escapes[: max(2, k)]:
            self.csv_only.append(("path_escape", path, "aerial image of a building", "aerial image of a building"))
            self.faults["path_escape"].append(path)

    def score(self) -> None:
        rng = self.rng
        for img in [*self.images, *self.extras]:
            q = 1.0
            if img.fault in ("blank_image", "low_contrast", "corrupt_image"):
                q = 0.0
            elif img.fault == "caption_misses_tag":
                q = 0.25
            a = rng.random()
            img.s_openai = 0.5 * a + 0.5 * q
            img.s_laion = 0.6 * img.s_openai + 0.4 * rng.random()
            if img.fault in ("duplicate_caption_conflict", "hostile_text"):
                img.s_openai = img.s_laion = 1.0 + a
