"""Resize a COCO folder's images to non-square sizes, scaling boxes and areas with them.

    python3 docs/scripts/nonsquare_coco.py SRC DST

SRC is a COCO folder as `pisa data export builtin:shapes SRC` writes it (annotations/instances_{split}.json and
{split}/*.png). Image i of a split gets the size SIZES[i % len(SIZES)] (landscape and portrait, aspect ratios 4:3 to
2:1), resized bilinearly; boxes are scaled per axis, areas by both factors. Needs Pillow (Debian: python3-pil).
"""
import json
import os
import sys

from PIL import Image

SIZES = [(192, 128), (128, 192), (256, 128), (160, 120), (120, 160), (224, 144)]


def convert(src, dst, split):
    with open(os.path.join(src, "annotations", f"instances_{split}.json")) as f:
        coco = json.load(f)
    os.makedirs(os.path.join(dst, split), exist_ok=True)
    factors = {}
    for i, image in enumerate(coco["images"]):
        width, height = SIZES[i % len(SIZES)]
        pixels = Image.open(os.path.join(src, split, image["file_name"])).convert("RGB")
        pixels.resize((width, height), Image.BILINEAR).save(os.path.join(dst, split, image["file_name"]))
        factors[image["id"]] = (width / image["width"], height / image["height"])
        image["width"], image["height"] = width, height
    for annotation in coco["annotations"]:
        sx, sy = factors[annotation["image_id"]]
        x, y, w, h = annotation["bbox"]
        annotation["bbox"] = [x * sx, y * sy, w * sx, h * sy]
        annotation["area"] = annotation["area"] * sx * sy
    os.makedirs(os.path.join(dst, "annotations"), exist_ok=True)
    with open(os.path.join(dst, "annotations", f"instances_{split}.json"), "w") as f:
        json.dump(coco, f)


if __name__ == "__main__":
    for split in ("train", "val"):
        convert(sys.argv[1], sys.argv[2], split)
