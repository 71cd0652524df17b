"""The Generate tab of the image chooser."""
