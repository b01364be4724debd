"""Repository-wide pytest set-up: each chapter's practice checks run inside the
chapter's nbval kernel (the plugin tests/practice_plugin.py)."""

pytest_plugins = ["pytester", "tests.practice_plugin"]  # pytester: its own tests
