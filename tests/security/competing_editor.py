"""An editor that saves a mounted INI file by rename without elektrad's lock, as many do.

    python competing_editor.py FILE SAVES

Each save reads the file, checks that its previous save is still there, and writes the file
back with ``[editor] seq`` counting up (keeping the daemon's section as read), through a
temporary file renamed over FILE. Prints one JSON line: every save found missing at the next
read (its seq and the inode it was saved as) and the inode of each save.
"""

from __future__ import annotations

import configparser
import json
import os
import sys
import time
from pathlib import Path

# Pacing like a person's (or a build tool's) repeated saves; both writers then make progress.
PAUSE = 0.002


def main(file: Path, saves: int) -> None:
    temp = file.with_name(f"{file.name}.editor-swap")
    missing: list[list[int]] = []
    inodes: list[int] = []
    previous = 0
    for seq in range(1, saves + 1):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(file.read_text())
        if int(parser["editor"]["seq"]) != previous and previous:
            missing.append([previous, inodes[-1]])
        parser["editor"]["seq"] = str(seq)
        with temp.open("w") as stream:
            parser.write(stream)
        inodes.append(os.stat(temp).st_ino)
        os.replace(temp, file)
        previous = seq
        time.sleep(PAUSE)
    print(json.dumps({"missing": missing, "inodes": inodes}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
