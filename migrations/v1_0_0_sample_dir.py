"""Template 1.0.0: the config key `data.cache_dir` is now `data.sample_dir`.

`copier update` runs this inside the project, before it merges the new template
version in (copier.yml, `_migrations`, stage "before"), and only when the update
crosses 1.0.0. It renames the key in every configs/*.toml, keeping its value and
everything else in the file, and stages the change: copier merges the user's
changes from git's index, so the renamed key then meets the template's renamed key
as the same edit instead of a conflict.
"""

import re
import subprocess
import sys
from pathlib import Path

OLD, NEW = "cache_dir", "sample_dir"
# The key at the start of a line, alone (inside [data]) or dotted (data.cache_dir = ...).
KEY = re.compile(rf"^(\s*(?:data\.)?){OLD}(\s*=)", re.MULTILINE)


def main() -> None:
    """Rename the key in the project's config files and stage them."""
    changed = []
    for path in sorted(Path("configs").glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        renamed = KEY.sub(rf"\g<1>{NEW}\g<2>", text)
        if renamed != text:
            path.write_text(renamed, encoding="utf-8")
            changed.append(str(path))
    if changed:
        subprocess.run(["git", "add", "--", *changed], check=True)
    where = ", ".join(changed) or "no config file"
    print(f"migration 1.0.0: renamed data.{OLD} to data.{NEW} in {where}", file=sys.stderr)


if __name__ == "__main__":
    main()
