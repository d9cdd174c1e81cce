"""The compiled part of the package: lichain.core._hotpath, the hot path of bulk ingest (canonical payload, field
screen and rules of runs and shipments).

Everything else is configured in pyproject.toml. The extension is optional: where it cannot be compiled, the package
installs without it and the Python writers do the same work, slower (lichain.core.fastcodec).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("lichain.core._hotpath", ["src/lichain/core/_hotpath.c"], optional=True,
                             extra_compile_args=["-O2", "-Wall", "-Wno-unused-parameter"])])
