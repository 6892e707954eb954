"""The screens of the main window, one module (or small package) each; shared widgets stay in ``desktop/``."""
