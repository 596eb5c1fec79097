"""The pipeline: the code that DVC's stages run (params, dataset and validation, digits, model, evaluation, and the
stage entry points). Every stage in dvc.yaml depends on this whole folder, so a change anywhere in it re-runs the
stages. It never imports the release engine (`retrain`)."""
