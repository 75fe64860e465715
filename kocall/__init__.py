"""kocall: the roof of the project, the ``kocall`` command. Nothing imports it."""
