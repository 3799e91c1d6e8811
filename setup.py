"""What pyproject.toml cannot say: the top-level curriculum/ folder ships inside the wheel as bot/curriculum.

Folders of data (the curriculum's locales, state/store/migrations) are listed as namespace packages
so setuptools ships their files instead of warning that they would be ignored.
"""

from setuptools import find_namespace_packages, setup

CODE = find_namespace_packages(include=["bot", "bot.*", "state", "state.*"], exclude=["*__pycache__"])
CURRICULUM = ["bot.curriculum", *(f"bot.curriculum.{name}" for name in find_namespace_packages("curriculum"))]

setup(packages=[*CODE, *CURRICULUM], package_dir={"bot.curriculum": "curriculum"})
