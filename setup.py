"""The compiled part of the package: lichain.core._hotpath, the hot path of bulk ingest (canonical payload, field
screen and rules of runs and shipments), and lichain.storage._hotrows (the rows and hash chain of bulk ingest).

Everything else is configured in pyproject.toml. The extensions are optional: where they cannot be compiled, the
package installs without them and the Python code does the same work, slower (lichain.core.fastcodec,
lichain.storage.fastrows).
"""

from setuptools import Extension, setup

_FLAGS = ["-O2", "-Wall", "-Wno-unused-parameter"]

_COMMON = ["src/lichain/core/_hotcommon.h"]  # shared by both: a change rebuilds both

setup(ext_modules=[Extension("lichain.core._hotpath", ["src/lichain/core/_hotpath.c"], optional=True,
                             extra_compile_args=_FLAGS, depends=_COMMON),
                   Extension("lichain.storage._hotrows", ["src/lichain/storage/_hotrows.c"], optional=True,
                             extra_compile_args=_FLAGS, libraries=["crypto"], depends=_COMMON)])
