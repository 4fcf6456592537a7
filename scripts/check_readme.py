#!/usr/bin/env python3
"""Check that the C example in README.md is examples/example.c (less its first comment line)."""
import sys

readme_path, example_path = sys.argv[1], sys.argv[2]
with open(readme_path, encoding="utf-8") as f:
    readme = f.read()
with open(example_path, encoding="utf-8") as f:
    example = f.read().splitlines()

start = readme.find("\n## Example")
block = readme.find("```c\n", start)
if start < 0 or block < 0:
    sys.exit("README.md: no ```c block under '## Example'")
end = readme.find("```", block + 5)
shown = readme[block + 5:end].splitlines()

if example and example[0].startswith("/*"):
    example = example[1:]
if shown != example:
    for i, (a, b) in enumerate(zip(shown, example)):
        if a != b:
            print(f"line {i + 1} differs:\n  README:  {a}\n  example: {b}")
            break
    else:
        print(f"README has {len(shown)} lines, example.c {len(example)}")
    sys.exit("README.md's example differs from examples/example.c: update one from the other")
print(f"README example matches examples/example.c ({len(shown)} lines)")
