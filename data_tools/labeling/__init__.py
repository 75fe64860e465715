"""The transcription labeling tool's store, its imports (files, turn log, Label Studio) and exports, and progress."""
