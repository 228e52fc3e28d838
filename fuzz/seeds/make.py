#!/usr/bin/env python3
"""Writes the seed corpora of the harnesses listed on the command line
(all of them without one), from the top of the tree:
python3 fuzz/seeds/make.py [api boot_script ...].  fuzz/make-seeds.py
writes those of fuzz_ptable and fuzz_fat."""
import importlib
import os
import sys

sys.dont_write_bytecode = True

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ALL = ["api", "mcast_control", "text"]
for name in sys.argv[1:] or ALL:
    importlib.import_module(name).seeds()
