"""Wagtail: BabySea generations straight into the image library, from the admin and the
image chooser (``INSTALLED_APPS += ["django_babysea.contrib.wagtail"]``, extra ``[wagtail]``).

Parts, each registering its own Wagtail hooks:

- :mod:`.library`: outputs imported into the image library (and wagtailmedia's media model),
  deduplicated by file hash, linked to their generation; who may generate into a collection.
- :mod:`.chooser`: the Generate tab of the image chooser, with live status in the modal.
- :mod:`.area`: the Generations area of the Wagtail admin (history, inspect, actions, report,
  bulk actions on images, homepage panel, audit log).
"""
