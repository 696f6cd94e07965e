"""Rewrites one marked block of features.md (`<!-- NAME:begin -->` … `<!-- NAME:end -->`)."""

import re
from pathlib import Path

FEATURES = Path(__file__).resolve().parent.parent / "features.md"


def replace_block(name, body):
    """Puts `body` between the `name` markers, appending the block when absent."""
    block = f"<!-- {name}:begin -->\n{body}\n<!-- {name}:end -->"
    text = FEATURES.read_text()
    pattern = rf"<!-- {name}:begin -->.*?<!-- {name}:end -->"
    if re.search(pattern, text, flags=re.S):
        text = re.sub(pattern, lambda _: block, text, flags=re.S)
    else:
        text += "\n" + block + "\n"
    FEATURES.write_text(text)
