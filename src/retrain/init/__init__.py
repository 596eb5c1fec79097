"""`retrain init` (command.py): the settings it derives and writes into params.yaml (settings.py), and the other
files it writes (templates.py; aws/ holds the AWS policies the day-one checklist names)."""
