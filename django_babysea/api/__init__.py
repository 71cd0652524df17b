"""The REST API (Django REST framework), served under ``babysea/api/`` when
``rest_framework`` is installed. See ``docs/api.md``."""
