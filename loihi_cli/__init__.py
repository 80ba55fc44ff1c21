"""The ``loihi-emu`` command line: a thin layer over the public Python API.

It lives outside the three library packages because it drives all of them;
``loihi_emu`` itself never imports ``compiler``.
"""
