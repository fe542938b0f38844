"""Excel workbooks of the reporting app: the per-unit template, import (preview and atomic
commit) and the quarterly export. See the modules for the details."""
