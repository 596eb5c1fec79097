"""`retrain history` and `retrain releases --json`: the release history read from the tags (collect.py) into one
dataclass tree (model.py), rendered as a self-contained static page (page.py, svg.py) or serialized as JSON."""
